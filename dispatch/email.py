"""The `email` channel: SMTP through aiosmtplib.

- Security is explicit, never guessed from the port and never opportunistic:
  `tls` = implicit TLS (465), `starttls` = STARTTLS required (587), `none` =
  plain text (aiosmtplib's default `start_tls=None` would upgrade only when
  offered — and otherwise send the password in clear; we never use it).
- The message is built by `dispatch.mime` (shared with the file channel).
- One overall deadline per message (`timeout`), because aiosmtplib's own
  timeout applies per command.
- Errors: auth refused and 5xx replies are permanent (not retried); connection
  problems, timeouts and 4xx replies are transient (retried with backoff).
"""

from __future__ import annotations

import asyncio
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import TYPE_CHECKING

import aiosmtplib

from dispatch.base import Delivery, Message, NotifyError
from dispatch.mime import build_mime

if TYPE_CHECKING:
    from monitor.config.notifiers import SmtpNotifierConfig


def build_message(config: SmtpNotifierConfig, message: Message) -> EmailMessage:
    """The MIME message this notifier sends (see dispatch.mime)."""
    return build_mime(message, config.sender, config.sender_name)


def tls_context(config: SmtpNotifierConfig) -> ssl.SSLContext:
    """Verifying context: the system CAs, or `ca_file` when given."""
    return ssl.create_default_context(cafile=config.ca_file)


class EmailNotifier:
    """Sends one message per SMTP connection; see the module docstring for error mapping."""

    channel = "email"

    def __init__(self, config: SmtpNotifierConfig) -> None:
        self.name = config.name
        self.config = config
        self._context = tls_context(config) if config.security != "none" else None

    async def send(self, message: Message) -> Delivery:
        """Deliver to the SMTP server; returns when it accepted the message."""
        return await self.deliver(build_message(self.config, message))

    async def deliver(self, mail: EmailMessage) -> Delivery:
        """Send a built MIME message (also used by the email-to-fax channel)."""
        limit = self.config.timeout.total_seconds()
        try:
            async with asyncio.timeout(limit):
                errors, reply = await self._send(mail)
        except TimeoutError:
            raise NotifyError(f"SMTP: no answer within {limit:g}s") from None
        except aiosmtplib.SMTPException as exc:
            raise _translate(exc) from exc
        except ssl.SSLError as exc:
            raise NotifyError(f"SMTP TLS: {exc}", permanent=True) from exc
        except OSError as exc:
            raise NotifyError(f"SMTP connection: {exc}") from exc
        if errors:
            refused = "; ".join(f"{addr}: {code} {text}" for addr, (code, text) in errors.items())
            raise NotifyError(f"SMTP refused recipient: {refused}", permanent=True)
        return Delivery(datetime.now(UTC), mail["Message-ID"], reply.strip()[:200])

    async def _send(self, mail: EmailMessage) -> tuple[dict[str, tuple[int, str]], str]:
        security = self.config.security
        password = self.config.password.get_secret_value() if self.config.password else None
        errors, reply = await aiosmtplib.send(
            mail,
            hostname=self.config.host,
            port=self.config.port,
            username=self.config.username,
            password=password,
            use_tls=security == "tls",
            start_tls=security == "starttls",
            tls_context=self._context,
            timeout=self.config.timeout.total_seconds(),
        )
        return {k: (v.code, v.message) for k, v in errors.items()}, reply

    async def close(self) -> None:
        """Nothing is kept open between messages."""


def _translate(exc: aiosmtplib.SMTPException) -> NotifyError:
    """aiosmtplib's exceptions → NotifyError with the permanent/transient verdict."""
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return NotifyError(f"SMTP auth refused: {exc.code} {exc.message}", permanent=True)
    if isinstance(exc, aiosmtplib.SMTPConnectTimeoutError | aiosmtplib.SMTPTimeoutError):
        return NotifyError(f"SMTP timeout: {exc}")
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        details = "; ".join(f"{e.recipient}: {e.code} {e.message}" for e in exc.recipients)
        permanent = all(500 <= e.code < 600 for e in exc.recipients)
        return NotifyError(f"SMTP refused recipient: {details}", permanent=permanent)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        permanent = 500 <= exc.code < 600
        return NotifyError(f"SMTP {exc.code}: {exc.message}", permanent=permanent)
    if isinstance(exc, aiosmtplib.SMTPConnectError | aiosmtplib.SMTPServerDisconnected):
        return NotifyError(f"SMTP connection: {exc}")
    # No STARTTLS offered, AUTH not offered, …: the server does not match the config.
    return NotifyError(f"SMTP: {exc}", permanent=True)
