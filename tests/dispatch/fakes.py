"""An in-memory channel for outbox tests, injected through `Dispatcher(notifiers=…)`."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime

from dispatch.base import Delivery, Message, NotifyError


class FakeChannel:
    """Accepts messages, or raises the scripted failures first (in order)."""

    def __init__(self, name: str, channel: str) -> None:
        self.name = name
        self.channel = channel
        self.sent: list[Message] = []
        self.attempts: list[Message] = []
        self.failures: deque[NotifyError] = deque()
        self.refuse: Callable[[Message], NotifyError | None] = lambda _m: None

    async def send(self, message: Message) -> Delivery:
        self.attempts.append(message)
        await asyncio.sleep(0)
        if self.failures:
            raise self.failures.popleft()
        refused = self.refuse(message)
        if refused is not None:
            raise refused
        self.sent.append(message)
        return Delivery(datetime.now(UTC), message.key, "accepted")

    async def close(self) -> None:
        return None

    def to(self, address: str) -> list[Message]:
        return [m for m in self.sent if m.address == address]


async def eventually(check: Callable[[], bool], within: float = 15.0) -> None:
    """Wait (bounded) until `check()` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not check():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)
