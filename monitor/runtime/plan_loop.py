"""The plan side of the daemon: topology → scorer → incidents → the notice pump.

Runs after every probe round (time alone can end a maintenance window or a
spread window), keeps the spread history, hands the Assessment to the incident
engine (which writes notice requests in its own transaction) and nudges the
notice pump (the dispatcher, built and injected by app.py). The monitor's own
uplink is judged before every round (`monitor.runtime.uplink.SelfMonitor`):
while it is blind, or while nodes it could not see are not judged again, the
district is not scored and no incident moves (so its own outage is never
mistaken for 情形1).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Protocol

from prometheus_client.core import Metric
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from monitor.config import Config
from monitor.incidents.engine import IncidentEngine
from monitor.nodes.flapping import FlapState
from monitor.nodes.state import Status
from monitor.plan.assessment import Assessment
from monitor.plan.blindness import blind_assessment
from monitor.plan.names import LEVEL_CODES
from monitor.plan.situation import RoundResult, score_round
from monitor.plan.spread import SpreadHistory
from monitor.runtime.flap_notices import FlapNotices
from monitor.runtime.metrics import counter, gauge
from monitor.runtime.partial_notices import PartialNotices
from monitor.runtime.plan_clock import PlanClock
from monitor.runtime.uplink import SelfMonitor

log = logging.getLogger(__name__)


class NoticePump(Protocol):
    """What the plan loop needs of dispatch: start, wake, reconfigure, drain and stop."""

    def start(self) -> None: ...

    def nudge(self) -> None: ...

    def reconfigure(self, config: Config) -> None: ...

    async def stop(self, drain_timeout: float) -> None: ...


class PlanRuntime:
    """Runs the scorer on node statuses and hands Assessments to the incident engine."""

    def __init__(self, config: Config, engine: Engine, notices: NoticePump) -> None:
        self.config = config
        self.history = SpreadHistory(config)
        self.incidents = IncidentEngine(engine, config)
        self.notices = notices
        self.assessment = Assessment()
        self.clock = PlanClock(config)
        self._history_lock = threading.Lock()  # scoring runs in a worker thread
        self.self_monitor = SelfMonitor(config, self.incidents.sink)
        self.flap_notices = FlapNotices(self.incidents.sink)
        self.partial_notices = PartialNotices(self.incidents.sink)
        self.store_errors = 0  # incident engine writes that failed (database down, disk full)
        self.store_failing = False

    async def start(self, statuses: Mapping[str, Status]) -> None:
        """Rebuild open incidents from the database and start dispatch."""
        opened = await self.incidents.start()
        self.notices.start()
        log.info("plan engine started", extra={"fields": {"open_incidents": len(opened)}})

    def due(self, now: datetime, *, changed: bool) -> bool:
        """True when evaluate() must run after a round (monitor.runtime.plan_clock)."""
        current = self.incidents.current
        engaged = (
            self.self_monitor.holding
            or self.assessment.affected
            or (current is not None and current.restored_at is None)
        )
        return self.clock.due(now, changed=changed, engaged=engaged)

    async def evaluate(
        self, statuses: Mapping[str, Status], flaps: Mapping[str, FlapState], now: datetime
    ) -> None:
        """Score the current statuses and advance incidents (not while the monitor is blind)."""
        if self.flap_notices.update(self.config, flaps, now):
            self.notices.nudge()
        if self.self_monitor.holding:
            state, unseen = self.self_monitor.state, self.self_monitor.unseen
            previous, self.assessment = self.assessment, blind_assessment(state, unseen)
            if previous != self.assessment:
                self.notices.nudge()
            return
        result = await asyncio.to_thread(self._score, self.config, statuses, flaps, now)
        previous, self.assessment = self.assessment, result.assessment
        if previous != result.assessment:
            # a warning only when the plan has something to say (a 情形); all clear is info
            level = logging.WARNING if result.assessment.scenario is not None else logging.INFO
            log.log(
                level,
                "assessment changed",
                extra={
                    "fields": {
                        "scenario": result.assessment.scenario,
                        "response_level": result.assessment.level,
                        "reasons": "；".join(result.assessment.reasons),
                    }
                },
            )
        unknown = [node for node, status in statuses.items() if status is Status.UNKNOWN]
        try:
            incident = await self.incidents.on_assessment(result.assessment, now, unknown=unknown)
        except SQLAlchemyError as exc:
            self._store_failed(exc)
            self.clock.stale = True  # the next round scores again and retries the write
            return
        if self.store_failing:
            self.store_failing = False
            log.warning("incident store writable again")
        told = self.partial_notices.update(self.config, result.assessment, now)
        if incident is not None or previous != result.assessment or told:
            self.notices.nudge()
        self.clock.stale = False

    def _score(
        self,
        config: Config,
        statuses: Mapping[str, Status],
        flaps: Mapping[str, FlapState],
        now: datetime,
    ) -> RoundResult:
        """score_round off the event loop (it reads every node: ~0.1-0.3 s at 10k)."""
        with self._history_lock:
            return score_round(config, statuses, flaps, self.history, now)

    def _store_failed(self, exc: SQLAlchemyError) -> None:
        """A database failure is the store's, not the probes': own counter, one line per outage."""
        self.store_errors += 1
        if self.store_failing:
            return
        self.store_failing = True
        log.error(
            "incident store unavailable: the assessment is applied again next round",
            extra={"fields": {"error": type(exc).__name__, "detail": str(exc).splitlines()[0]}},
        )

    def reconfigure(self, config: Config) -> None:
        """Adopt a reloaded config."""
        self.config = config
        self.clock.reconfigure(config)
        with self._history_lock:
            self.history.reconfigure(config)
        self.self_monitor.reconfigure(config)
        self.incidents.reconfigure(config)
        self.notices.reconfigure(config)

    async def stop(self, drain_seconds: float) -> None:
        """Drain dispatch for at most drain_seconds."""
        await self.notices.stop(drain_seconds)
        await self.self_monitor.close()

    def metric_families(self) -> Iterator[Metric]:
        """The plan's view, at scrape time."""
        a = self.assessment
        yield gauge("commwatch_scenario", "Current 预警情形 (0 none, 1-3)", float(a.scenario or 0))
        yield gauge(
            "commwatch_response_level_proposed",
            "Proposed 响应级别 (0 none, 1 Ⅰ级, 2 Ⅱ级)",
            float(LEVEL_CODES.get(a.level or "", 0)),
        )
        yield gauge("commwatch_spread", "1 when the outage is spreading (扩散性)", float(a.spread))
        affected = gauge(
            "commwatch_affected_systems", "Affected systems by kind", 0.0, {"kind": "operator"}
        )
        affected.samples.clear()
        affected.add_metric(["operator"], float(len(a.operator_networks)))  # type: ignore[attr-defined]
        affected.add_metric(["key_system"], float(len(a.key_systems)))  # type: ignore[attr-defined]
        yield affected
        yield gauge(
            "commwatch_partial_systems",
            "Systems with part of their business down (部分业务受影响, never a scenario)",
            float(len(a.partial_systems)),
        )
        yield gauge(
            "commwatch_uplink_ok",
            "1 while the monitor's own uplink answers",
            float(not self.self_monitor.state.blind),
        )
        yield from self.self_monitor.families()
        yield gauge(
            "commwatch_incidents_open",
            "Open monitor incidents (a drill incident, §6.1, never counts)",
            float(self.incidents.current is not None and not self.incidents.current.drill),
        )
        yield counter(
            "commwatch_incident_store_errors",
            "Incident engine writes that failed (database down, disk full, lock timeout);"
            " storage, not probing",
            {(): float(self.store_errors)},
            [],
        )
