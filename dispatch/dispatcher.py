"""The Dispatcher: the daemon's notice pipeline (intake → route → send → record).

    dispatcher = Dispatcher(config, engine)      # injected: http_client, notifiers, clock, rng
    dispatcher.start()                           # inside the running loop
    dispatcher.submit(request)                   # NoticeSink: any thread, never blocks
    dispatcher.nudge()                           # wake now (e.g. after the incident engine ran)
    await dispatcher.stop(drain_timeout=10)      # SIGTERM: drain for a bounded time

One loop task runs cycles, woken by work rather than by a clock (`dispatch.wakeups`:
a submit or reload wakes it at once, a retry or held notice at its due time, work
another process wrote within `[dispatch] poll_interval` through one cheap read,
and a full cycle runs at least every 30 s idle, 5 s while deliveries or incidents
are open). A cycle: take requests (submitted ones, the `notice_requests`
table written by the incident engine and the CLI, the §4.1 report clock) into
the outbox; route the notices now due; claim due deliveries per channel up to
`[dispatch] concurrency` and send each in its own task under the notifier's
timeout; record the outcome (`dispatch.sending`). Every CLOCK_EVERY, recipients
not reached within `fallback_after` get their next channel too and the HQ office
duty is told (`dispatch.fallthrough`). Every database step runs in a worker
thread, so the event loop — and probing — never waits on the database or a gateway.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from prometheus_client.core import Metric
from sqlalchemy import Engine

from dispatch import wakeups
from dispatch.base import Notifier
from dispatch.duty_clocks import duty_clock_requests
from dispatch.events import EventSink
from dispatch.outbox import Outbox, Snapshot
from dispatch.planner import plan_notice
from dispatch.registry import Notifiers, needs_http
from dispatch.render import Renderer
from dispatch.report_clock import clock_requests
from dispatch.sending import CHANNELS, Sender
from dispatch.smpp_metrics import smpp_families
from dispatch.sms_smpp import SmppNotifier
from dispatch.stats import DispatchStats
from dispatch.wakeups import IDLE_CAP
from monitor.config import Config
from monitor.incidents.notices import NoticeRequest
from monitor.incidents.tables import utcnow

if TYPE_CHECKING:  # httpx loads when a notifier that speaks HTTP is configured
    import httpx

log = logging.getLogger(__name__)

CLOCK_EVERY = timedelta(seconds=5)


class Dispatcher:
    """Delivers notices durably; see the module docstring."""

    def __init__(
        self,
        config: Config,
        engine: Engine,
        *,
        http_client: httpx.AsyncClient | None = None,
        notifiers: Mapping[str, Notifier] | None = None,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        on_event: EventSink | None = None,
    ) -> None:
        self.config = config
        self.on_event = on_event  # receipts and replies from channels (dispatch.events)
        self.outbox = Outbox(engine)
        self.stats = DispatchStats()
        self.clock = clock
        self.rng = rng or random.Random()
        self.renderer = Renderer.for_config(config)
        self._client = http_client
        self._own_client = http_client is None
        self._injected = notifiers
        self.notifiers: Notifiers | None = None
        self._submitted: list[NoticeRequest] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._drained = asyncio.Event()
        self._draining = False
        self._task: asyncio.Task[None] | None = None
        self.sender = Sender(config, self.outbox, self.stats, clock, self.rng, self._wake.set)
        self._sending = self.sender.tasks  # sends, and notifiers closing after a reload
        self._last_clock: datetime | None = None
        self._last_fall_through: datetime | None = None
        self._incidents_open = False  # as the last signal() saw: clocks every 5 s while open
        self.on_cycle: list[Callable[[], None]] = []  # told after every cycle (the follow-up)

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        """Start the loop task; call from inside the running event loop."""
        self._loop = asyncio.get_running_loop()
        self.notifiers = self.sender.notifiers = self._build_notifiers(self.config)
        self._task = self._loop.create_task(self._run(), name="dispatcher")

    def reconfigure(self, config: Config) -> None:
        """Adopt a reloaded config: routes and templates now, notifiers rebuilt if changed."""
        old = self.config
        self.config = self.sender.config = config
        self.renderer = Renderer.for_config(config)
        if self.notifiers is not None and old.daemon.notifier != config.daemon.notifier:
            stale, self.notifiers = self.notifiers, self._build_notifiers(config)
            self.sender.notifiers = self.notifiers
            if self._loop is not None:
                closing = self._loop.create_task(stale.close())
                self._sending.add(closing)  # awaited by stop() like a send
                closing.add_done_callback(self._sending.discard)
        self.nudge()

    async def stop(self, drain_timeout: float) -> None:
        """Deliver what is due for at most `drain_timeout` seconds, then stop and close."""
        if self._task is None:
            return
        self._draining = True
        self.nudge()
        try:
            async with asyncio.timeout(drain_timeout):
                await self._drained.wait()
        except TimeoutError:
            log.warning("dispatch drain timed out", extra={"fields": {"queued": self.stats.queued}})
        self._task.cancel()
        for task in list(self._sending):
            task.cancel()
        await asyncio.gather(self._task, *self._sending, return_exceptions=True)
        self._task = None
        with self._lock:
            late, self._submitted = self._submitted, []
        if late:  # submitted after the last cycle: persisted for the next start
            window = self.config.daemon.dispatch.coalesce_window
            await asyncio.to_thread(self.outbox.accept, late, self.clock(), window)
        if self.notifiers is not None:
            await self.notifiers.close()
        if self._own_client and self._client is not None:
            await self._client.aclose()

    def metric_families(self) -> Iterator[Metric]:
        """The dispatcher's figures (see DispatchStats) and its SMPP binds', at scrape time."""
        yield from self.stats.metric_families()
        built = self.notifiers.by_name.values() if self.notifiers is not None else ()
        yield from smpp_families([n for n in built if isinstance(n, SmppNotifier)])

    # -- NoticeSink -------------------------------------------------------------------

    def submit(self, request: NoticeRequest) -> None:
        """Queue a request for the outbox (persisted within one cycle); thread-safe."""
        with self._lock:
            self._submitted.append(request)
        self.nudge()

    def nudge(self) -> None:
        """Wake the loop now; thread-safe."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    # -- the loop ---------------------------------------------------------------------

    async def _run(self) -> None:
        recovered = await self._recover()
        if recovered:
            log.warning(
                "deliveries in flight at the last stop: sending again",
                extra={"fields": {"count": recovered}},
            )
        while True:
            self._wake.clear()
            try:
                snapshot = await self.cycle()
            except Exception:
                self.stats.errors += 1
                log.exception("dispatch cycle failed; retrying")
                snapshot = None
            for listener in self.on_cycle:
                listener()
            if self._draining and snapshot and not snapshot.due_now and not self._sending:
                self._drained.set()
                return
            await self._sleep(snapshot)

    async def _recover(self) -> int:
        """Deliveries left `sending` are due again; a database error here is retried (before:
        it ended the loop task, and nothing was sent until a restart)."""
        while True:
            try:
                return await asyncio.to_thread(self.outbox.recover, self.clock())
            except Exception:
                self.stats.errors += 1
                log.exception("dispatch could not recover the outbox at start; retrying")
                await self._sleep(None)

    async def cycle(self) -> Snapshot:
        """One pass: intake, routing, claiming (sends continue in their own tasks)."""
        now = self.clock()
        window = self.config.daemon.dispatch.coalesce_window
        with self._lock:
            batch, self._submitted = self._submitted, []
        try:
            await asyncio.to_thread(self._intake, batch, now, window)
        except Exception:
            with self._lock:  # not persisted: keep them for the next cycle
                self._submitted[:0] = batch
            raise
        config, renderer = self.config, self.renderer
        routed, created = await asyncio.to_thread(
            self.outbox.route_due, now, lambda r: plan_notice(r, config, renderer)
        )
        self.stats.routed += routed
        self.stats.deliveries_created += created
        await self._fall_through(now)
        for channel in CHANNELS:
            await self.sender.claim_and_send(channel, now)
        snapshot = await asyncio.to_thread(self.outbox.snapshot, self.clock())
        self.stats.queued = snapshot.queued
        self.stats.oldest_pending_age_seconds = snapshot.oldest_pending_age_seconds
        return snapshot

    async def _fall_through(self, now: datetime) -> None:
        """Every CLOCK_EVERY: recipients not reached within fallback_after: next channel too,
        and the HQ office duty is told (one 通知改发 per incident, `dispatch.fallthrough`)."""
        if self._last_fall_through is not None and now - self._last_fall_through < CLOCK_EVERY:
            return
        self._last_fall_through = now
        settings = self.config.daemon.dispatch
        after, window = settings.fallback_after, settings.coalesce_window
        opened, told = await asyncio.to_thread(self.outbox.fall_through, now, after, window)
        if not opened:
            return
        self.stats.fallbacks += opened
        self.stats.notices += told
        log.warning(
            "first channel still failing: the recipients' next channel is tried too",
            extra={"fields": {"opened": opened, "after_s": after.total_seconds(), "told": told}},
        )

    def _intake(self, batch: list[NoticeRequest], now: datetime, window: timedelta) -> None:
        results = [self.outbox.accept(batch, now, window), self.outbox.take_table(now, window)]
        if self._last_clock is None or now - self._last_clock >= CLOCK_EVERY:
            self._last_clock = now
            report = self.config.plan.report
            with self.outbox.engine.connect() as connection:
                due = clock_requests(connection, now, report.deadline, list(report.reminders))
                due += duty_clock_requests(connection, now, report)  # 续报, 催报 (§4.1)
            results.append(self.outbox.accept(due, now, window))
        self.stats.notices += sum(r[0] for r in results)
        self.stats.coalesced += sum(r[1] for r in results)

    async def _sleep(self, snapshot: Snapshot | None) -> None:
        """Until woken, the next due time, a cheap signal of work written by another
        process (checked every poll_interval), or a full cycle's bound: CLOCK_EVERY while
        deliveries are open or an incident's clocks run, else IDLE_CAP (dispatch.wakeups)."""
        poll = self.config.daemon.dispatch.poll_interval.total_seconds()
        if snapshot is None:  # the cycle failed: try again after poll_interval
            await wakeups.wait(self._wake, poll)
            return
        busy = snapshot.queued > 0 or self._incidents_open or self._draining
        deadline = self.clock() + (CLOCK_EVERY if busy else IDLE_CAP)
        if snapshot.next_due is not None:
            deadline = min(deadline, snapshot.next_due)
        first = True
        while True:
            left = (deadline - self.clock()).total_seconds()
            if left <= 0 and not first:
                return
            if await wakeups.wait(self._wake, max(min(poll, left), 0.01)):
                return
            first = False
            if deadline <= self.clock():
                return
            try:
                seen = await asyncio.to_thread(wakeups.signal, self.outbox.engine, self.clock())
            except Exception:  # the full cycle reports database errors
                return
            if seen.work:
                return
            if seen.incidents_open and not self._incidents_open:
                deadline = min(deadline, self.clock() + CLOCK_EVERY)
            self._incidents_open = seen.incidents_open

    def _build_notifiers(self, config: Config) -> Notifiers:
        if self._injected is not None:
            return Notifiers(self._injected, config.daemon.notifier)
        if self._client is None and needs_http(config.daemon.notifier):
            import httpx  # only for sms_http and the robots (their module docstrings)

            self._client = httpx.AsyncClient()
        credentials = config.daemon.cloud.credential
        return Notifiers.build(
            config.daemon.notifier, self._client, credentials=credentials, on_event=self.on_event
        )
