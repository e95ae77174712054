"""Live updates: one poller notices any change and wakes every server-sent-events stream.

Every `period` (0.5 s) the poller takes a fingerprint of what the pages show —
the node table's change sequence (bumped by every status or flapping change:
O(1), not a pass over the nodes), the Assessment, the incidents and their
timelines, the deliveries — in one cheap pass (three aggregate queries,
whatever the number of browsers). A different fingerprint bumps `version`; each open stream then
sends `event: change`, and the page fetches its live part again. A state
change therefore reaches the screen within period + one fetch (well under 2 s).
The poller runs only while a stream is open: an idle console costs the daemon no
queries. When the first stream opens again it compares with the last fingerprint
it took, so a change made meanwhile still wakes the page (at worst once too often).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Hashable

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from dispatch.models import deliveries
from monitor.console.live import Live
from monitor.incidents.tables import incident_events, incidents

log = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15.0


def database_digest(engine: Engine) -> Hashable:
    """Counts and latest times of incidents, events and deliveries."""
    with engine.connect() as connection:
        return (
            tuple(connection.execute(select(func.count(), func.max(incidents.c.updated_at))).one()),
            connection.execute(select(func.count()).select_from(incident_events)).scalar_one(),
            tuple(
                connection.execute(select(func.count(), func.max(deliveries.c.updated_at))).one()
            ),
        )


class Feed:
    """The change counter behind /events."""

    def __init__(
        self,
        live: Live,
        digest: Callable[[], Hashable],
        period: float = 0.5,
    ) -> None:
        self.live = live
        self.digest = digest
        self.period = period
        self.version = 0
        self.closed = False
        self._last: Hashable = None
        self._changed = asyncio.Event()
        self._watched = asyncio.Event()  # set while at least one stream is open
        self.watchers = 0
        self._task: asyncio.Task[None] | None = None

    def fingerprint(self, stored: Hashable) -> Hashable:
        """What the pages show, in one hashable value."""
        return (
            self.live.sequence(),
            self.live.assessment(),
            self.live.uplink_ok(),
            stored,
        )

    async def poll_once(self) -> None:
        """Take a fingerprint; bump the version and wake the streams when it changed."""
        try:
            stored = await asyncio.to_thread(self.digest)
        except SQLAlchemyError as exc:
            log.warning(
                "console feed cannot read the database", extra={"fields": {"error": str(exc)}}
            )
            stored = self._last[-1] if isinstance(self._last, tuple) else None
        current = self.fingerprint(stored)
        if self._last is None:  # the first look: the pages were rendered from this
            self._last = current
            return
        if current != self._last:
            self._last = current
            self.bump()

    def bump(self) -> None:
        """Wake every stream now (also called right after an action)."""
        self.version += 1
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def _run(self) -> None:
        await self.poll_once()  # the baseline, whether or not a page is open
        while not self.closed:
            await asyncio.sleep(self.period)
            await self._watched.wait()
            await self.poll_once()

    def start(self) -> None:
        """Start polling in the running loop."""
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop polling and end every stream."""
        self.closed = True
        self._watched.set()
        self.bump()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def stream(self) -> AsyncIterator[str]:
        """Server-sent events: the current version, then one event per change."""
        self.watchers += 1
        self._watched.set()
        try:
            async for event in self._events():
                yield event
        finally:
            self.watchers -= 1
            if self.watchers == 0 and not self.closed:
                self._watched.clear()

    async def _events(self) -> AsyncIterator[str]:
        seen = self.version
        yield f"retry: 1000\nevent: version\ndata: {seen}\n\n"
        while not self.closed:
            waiter = self._changed
            if self.version == seen:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiter.wait(), KEEPALIVE_SECONDS)
            if self.closed:
                return
            if self.version == seen:
                yield ": keep-alive\n\n"
                continue
            seen = self.version
            yield f"event: change\ndata: {seen}\n\n"
