"""The `fax_email` channel: the notice in 公文 form as a PDF, mailed to an email-to-fax gateway.

The address is the fax number (digits, with the area code: 03562039294); the
message goes to `gateway` with `{number}` replaced (e.g. 03562039294@fax.example.net),
subject = the notice's subject (gateways print it on the cover or use it as the
job name), a short text part, and the PDF (`dispatch.official_pdf`) attached.
Accepted = the gateway's SMTP server took it; the fax job's own result comes
back from the gateway by mail and is not read here.
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import TYPE_CHECKING

from dispatch.base import Delivery, Message, NotifyError
from dispatch.email import EmailNotifier
from dispatch.mime import build_mime
from dispatch.official_pdf import PdfError, html_to_pdf_async

if TYPE_CHECKING:
    from monitor.config.notifiers import FaxEmailNotifierConfig


def fax_digits(address: str) -> str:
    """The fax number as the gateway wants it: digits only (0356-2039294 → 03562039294)."""
    digits = "".join(c for c in address if c.isdigit())
    if len(digits) < 7:
        raise NotifyError(f"not a fax number: {address!r}", permanent=True)
    return digits


def fax_mail(config: FaxEmailNotifierConfig, message: Message, pdf: bytes) -> EmailMessage:
    """The MIME message to the gateway: text part plus the PDF attachment."""
    number = fax_digits(message.address)
    to = config.gateway.replace("{number}", number)
    cover = (
        f"{message.subject}\n传真号码：{number}\n正文见附件（PDF，{len(pdf) // 1024 + 1} KB）。\n"
    )
    base = Message(message.notice_id, to, message.subject, cover, None, message.key)
    mail = build_mime(base, config.sender, config.sender_name)
    name = f"notice-{message.notice_id:06d}.pdf"
    mail.add_attachment(pdf, maintype="application", subtype="pdf", filename=name)
    return mail


class FaxEmailNotifier:
    """Renders the PDF, then sends it through the gateway's SMTP server."""

    channel = "fax"

    def __init__(self, config: FaxEmailNotifierConfig) -> None:
        self.name = config.name
        self.config = config
        self.smtp = EmailNotifier(config)

    async def send(self, message: Message) -> Delivery:
        """One fax job: the gateway accepted the mail."""
        if not message.html:
            raise NotifyError("fax: the notice has no printable page", permanent=True)
        try:
            pdf = await html_to_pdf_async(message.html)
        except PdfError as exc:
            raise NotifyError(f"fax: {exc}", permanent=True) from exc
        delivery = await self.smtp.deliver(fax_mail(self.config, message, pdf))
        return Delivery(
            delivery.accepted_at, delivery.gateway_id, f"fax gateway: {delivery.detail}"
        )

    async def close(self) -> None:
        """Nothing is kept open."""
