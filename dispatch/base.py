"""Contracts of the delivery channels.

`Notifier` is a delivery channel plugin: `send(message) -> Delivery`, raising
`NotifyError(permanent=...)`. What to announce (`NoticeRequest`) is the core's
interface: `monitor.incidents.notices`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class NotifyError(Exception):
    """A delivery failed; permanent errors (bad address, auth refused) are not retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Message:
    """A rendered notice for one recipient address on one channel."""

    notice_id: int
    address: str
    subject: str
    text: str
    html: str | None = None
    key: str = ""  # stable per delivery: the Message-ID, the outbox file name, the DLR id


@dataclass(frozen=True)
class Delivery:
    """The gateway's acceptance of a message."""

    accepted_at: datetime
    gateway_id: str | None = None
    detail: str = ""


class Notifier(Protocol):
    """A delivery channel (email, sms_http, file, …)."""

    name: str
    channel: str

    async def send(self, message: Message) -> Delivery: ...

    async def close(self) -> None: ...
