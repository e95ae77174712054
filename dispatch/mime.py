"""The one MIME builder: what the email channel sends and the file channel writes as `.eml`.

Headers are UTF-8 encoded-words and the body UTF-8 base64, from Python's
default email policy; SMTPUTF8 is never required (many servers lack it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from dispatch.base import Message

_DOMAIN = "commwatch.invalid"


def build_mime(message: Message, sender: str, sender_name: str = "") -> EmailMessage:
    """text/plain, plus text/html when there is HTML; a stable Message-ID from the key."""
    mail = EmailMessage()
    mail["From"] = Address(display_name=sender_name, addr_spec=sender)
    mail["To"] = message.address
    mail["Subject"] = message.subject
    mail["Date"] = format_datetime(datetime.now(UTC))
    if message.key:
        domain = sender.rpartition("@")[2] or _DOMAIN
        mail["Message-ID"] = f"<{message.key}@{domain}>"
    mail.set_content(message.text, charset="utf-8", cte="base64")
    if message.html:
        mail.add_alternative(message.html, subtype="html", charset="utf-8", cte="base64")
    return mail
