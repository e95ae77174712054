"""The plan side of the daemon: topology → scorer → incidents → dispatch.

Runs after every probe round (time alone can end a maintenance window or a
spread window), keeps the spread history, hands the Assessment to the incident
engine (which writes notice requests in its own transaction) and nudges the
dispatcher. The monitor's own uplink is judged before every round
(`monitor.runtime.uplink.SelfMonitor`): while it is blind, or while nodes it
could not see are not judged again, the district is not scored and no incident
moves (so its own outage is never mistaken for 情形1).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import datetime

from prometheus_client.core import Metric
from sqlalchemy import Engine

from dispatch.dispatcher import Dispatcher
from monitor.config import Config
from monitor.incidents.engine import IncidentEngine
from monitor.nodes.flapping import FlapState
from monitor.nodes.state import Status
from monitor.plan.assessment import Assessment
from monitor.plan.blindness import blind_assessment
from monitor.plan.situation import score_round
from monitor.plan.spread import SpreadHistory
from monitor.runtime.flap_notices import FlapNotices
from monitor.runtime.metrics import DaemonMetrics, counter, gauge
from monitor.runtime.partial_notices import PartialNotices
from monitor.runtime.uplink import SelfMonitor

log = logging.getLogger(__name__)
LEVEL_CODES = {"I": 1, "II": 2}


class PlanRuntime:
    """Runs the scorer on node statuses and hands Assessments to the incident engine."""

    def __init__(self, config: Config, engine: Engine, metrics: DaemonMetrics) -> None:
        self.config = config
        self.history = SpreadHistory(config)
        self.incidents = IncidentEngine(engine, config)
        self.dispatcher = Dispatcher(config, engine)
        self.assessment = Assessment()
        self.self_monitor = SelfMonitor(config, self.incidents.sink)
        self.flap_notices = FlapNotices(self.incidents.sink)
        self.partial_notices = PartialNotices(self.incidents.sink)
        self.open_incidents = 0
        metrics.collector.add_source(self._families)
        metrics.collector.add_source(self.self_monitor.families)

    async def start(self, statuses: Mapping[str, Status]) -> None:
        """Rebuild open incidents from the database and start dispatch."""
        opened = await self.incidents.start()
        self.open_incidents = len(opened)
        self.dispatcher.start()
        log.info("plan engine started", extra={"fields": {"open_incidents": len(opened)}})

    async def evaluate(
        self, statuses: Mapping[str, Status], flaps: Mapping[str, FlapState], now: datetime
    ) -> None:
        """Score the current statuses and advance incidents (not while the monitor is blind)."""
        if self.flap_notices.update(self.config, flaps, now):
            self.dispatcher.nudge()
        if self.self_monitor.holding:
            state, unseen = self.self_monitor.state, self.self_monitor.unseen
            previous, self.assessment = self.assessment, blind_assessment(state, unseen)
            if previous != self.assessment:
                self.dispatcher.nudge()
            return
        result = score_round(self.config, statuses, flaps, self.history, now)
        previous, self.assessment = self.assessment, result.assessment
        if previous != result.assessment:
            log.warning(
                "assessment changed",
                extra={
                    "fields": {
                        "scenario": result.assessment.scenario,
                        "response_level": result.assessment.level,
                        "reasons": "；".join(result.assessment.reasons),
                    }
                },
            )
        incident = await self.incidents.on_assessment(result.assessment, now)
        told = self.partial_notices.update(self.config, result.assessment, now)
        if incident is not None or previous != result.assessment or told:
            self.dispatcher.nudge()

    def reconfigure(self, config: Config) -> None:
        """Adopt a reloaded config."""
        self.config = config
        self.history.reconfigure(config)
        self.self_monitor.reconfigure(config)
        self.incidents.reconfigure(config)
        self.dispatcher.reconfigure(config)

    async def stop(self, drain_seconds: float) -> None:
        """Drain dispatch for at most drain_seconds."""
        await self.dispatcher.stop(drain_seconds)
        await self.self_monitor.close()

    def _families(self) -> Iterator[Metric]:
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
        current = self.incidents.current
        yield gauge(
            "commwatch_incidents_open", "Open monitor incidents", float(current is not None)
        )
        stats = self.dispatcher.stats
        yield gauge(
            "commwatch_outbox_pending", "Deliveries waiting or being sent", float(stats.queued)
        )
        yield gauge(
            "commwatch_outbox_oldest_pending_seconds",
            "Age of the oldest undelivered notice",
            float(stats.oldest_pending_age_seconds),
        )
        yield counter(
            "commwatch_notices", "Notices accepted into the outbox", {(): float(stats.notices)}, []
        )
        deliveries: dict[tuple[str, ...], float] = {}
        for channel, count in stats.sent_by_channel.items():
            deliveries[(channel, "sent")] = float(count)
        for channel, count in stats.failed_by_channel.items():
            deliveries[(channel, "permanent")] = float(count)
        yield counter(
            "commwatch_deliveries",
            "Deliveries by channel and result",
            deliveries,
            ["channel", "result"],
        )
        yield counter(
            "commwatch_delivery_retries",
            "Transient delivery failures retried",
            {(c,): float(n) for c, n in stats.retries_by_channel.items()},
            ["channel"],
        )
