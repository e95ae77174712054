"""The daemon's follow-up loop: chains begin, calls are listed, escalations step on time.

    followup = FollowUp(config, engine, nudge=dispatcher.nudge)
    followup.start()                  # inside the running loop
    await followup.stop()

Woken by the dispatcher after each of its cycles (a notice routed, a delivery
sent or failed), and by a timer to the first escalation's due time, the next
RECHECK while notices are recent, or at most IDLE_CAP (`dispatch.wakeups`); each
pass runs in a worker thread, like the dispatcher's:
notices routed since the last look get their escalation rows and call tasks
(`dispatch.escalation.start`, `dispatch.calls.create_for`); every
RECHECK the recent ones are looked at again (a unit whose deliveries have all
failed since needs a call); then every escalation whose time is up takes one
step. Everything it decides is in the database, so a restart just goes on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import Engine

from dispatch import calls, escalation, wakeups
from dispatch.followup_reads import failing_contacts, next_step_at, open_calls, open_counts
from dispatch.models import aware
from dispatch.render import Renderer
from monitor.config import Config
from monitor.incidents.engine import IncidentEngine
from monitor.incidents.store import lock_for_write
from monitor.incidents.tables import utcnow
from monitor.runtime.metrics import counter, gauge

log = logging.getLogger(__name__)

WINDOW = timedelta(hours=6)  # how far back routed notices are looked at (after a restart)
RECHECK = timedelta(seconds=15)  # how often recent notices are looked at again
RECHECK_WINDOW = timedelta(hours=1)  # …and how recent they must be


class FollowUp:
    """Starts escalations and call tasks for routed notices, and steps escalations."""

    def __init__(
        self,
        config: Config,
        engine: Engine,
        *,
        nudge: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.config = config
        self.engine = engine
        self.incidents = IncidentEngine(engine, config, clock=clock)
        self.renderer = Renderer.for_config(config)
        self.nudge = nudge
        self.clock = clock
        self._seen: set[int] = set()
        self._last_recheck: datetime | None = None
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._recent = False  # notices routed within RECHECK_WINDOW: look again every RECHECK
        self.steps = {"escalated": 0, "exhausted": 0}
        self.errors = 0
        self.figures = {"waiting": 0, "escalated": 0, "calls_open": 0, "calls_overdue": 0}
        self.failing = 0

    def start(self) -> None:
        """Start the loop task; call from inside the running event loop."""
        self._loop = asyncio.get_running_loop()
        self._task = self._loop.create_task(self._run(), name="follow-up")

    def wake(self) -> None:
        """Look again now (the dispatcher finished a cycle); thread-safe."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    def reconfigure(self, config: Config) -> None:
        """Adopt a reloaded config (chains, calls, templates, people)."""
        self.config = config
        self.incidents.reconfigure(config)
        self.renderer = Renderer.for_config(config)

    async def stop(self) -> None:
        """Stop the loop (a step in progress finishes: it is one transaction)."""
        if self._task is None:
            return
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            wait = self.config.daemon.dispatch.poll_interval.total_seconds()
            try:
                until = await asyncio.to_thread(self.cycle, self.clock())
                wait = max((until - self.clock()).total_seconds(), 0.01)
            except Exception:
                self.errors += 1
                log.exception("follow-up cycle failed; retrying")
            await wakeups.wait(self._wake, wait)

    def cycle(self, now: datetime) -> datetime:
        """One pass (synchronous; see the module docstring); returns when to look again."""
        recheck = self._last_recheck is None or now - self._last_recheck >= RECHECK
        if recheck:
            self._last_recheck = now
        self._begin(now, recheck)
        stepped = 0
        for escalation_id in escalation.due(self.engine, now):
            outcome = escalation.step(self.incidents, self.config, self.renderer, escalation_id)
            if outcome:
                self.steps[outcome] += 1
                stepped += 1
        if stepped:
            self.nudge()
        if recheck:
            self._refresh(now)
        until = now + wakeups.IDLE_CAP
        if self._recent and self._last_recheck is not None:
            until = min(until, self._last_recheck + RECHECK)
        step_at = next_step_at(self.engine)
        return until if step_at is None else min(until, step_at)

    def _begin(self, now: datetime, recheck: bool) -> None:
        with self.engine.connect() as connection:
            recent = escalation.routed_since(connection, now - WINDOW)
        self._recent = any(aware(n.routed_at) >= now - RECHECK_WINDOW for n in recent)
        for notice in recent:
            again = recheck and aware(notice.routed_at) >= now - RECHECK_WINDOW
            if notice.id in self._seen and not again:
                continue
            with self.engine.begin() as connection:
                lock_for_write(connection)
                if notice.id not in self._seen:
                    escalation.start(connection, self.config, notice, now)
                calls.create_for(connection, self.config, self.renderer, notice, now)
            self._seen.add(notice.id)

    def _refresh(self, now: datetime) -> None:
        self.figures.update(open_counts(self.engine))
        open_now = open_calls(self.engine)
        self.figures["calls_open"] = len(open_now)
        self.figures["calls_overdue"] = sum(1 for c in open_now if c.due <= now)
        self.failing = len(failing_contacts(self.engine, self.config))

    def metric_families(self) -> Iterator[Metric]:
        """Escalations, call tasks and failing contacts, at scrape time."""
        family = GaugeMetricFamily(
            "commwatch_escalations_open",
            "Notices awaiting 收到 under an escalation chain "
            "(waiting: first recipient only; escalated: past it)",
            labels=["phase"],
        )
        for phase in ("waiting", "escalated"):
            family.add_metric([phase], self.figures[phase])
        yield family
        yield counter(
            "commwatch_escalation_steps",
            "Escalation steps taken by this process (escalated: next person told; exhausted: "
            "chain ended unacknowledged)",
            {(k,): float(v) for k, v in self.steps.items()},
            ["outcome"],
        )
        yield gauge(
            "commwatch_calls_open", "Call tasks (电话通知) not yet done", self.figures["calls_open"]
        )
        yield gauge(
            "commwatch_calls_overdue",
            "Call tasks past their due time and not done",
            self.figures["calls_overdue"],
        )
        yield gauge(
            "commwatch_contacts_failing",
            "Addresses in contacts.toml whose last delivery failed for good (a receipt said so)",
            self.failing,
        )
        yield counter(
            "commwatch_followup_errors", "Follow-up cycles that failed", {(): self.errors}, []
        )
