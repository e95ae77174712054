"""The §4.1 clocks on /metrics: how many run, how many are overdue, per clock.

Read from the database at scrape time (a handful of rows: the open incidents
and their unanswered queries), so a CLI action shows up at the next scrape.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Protocol

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy.exc import SQLAlchemyError

from monitor.incidents.clocks import CLOCK_NAMES, Clock

log = logging.getLogger(__name__)


class ClockLister(Protocol):
    """What lists the running clocks: the IncidentEngine."""

    def clocks(self) -> list[Clock]: ...


class ClockSource:
    """A metrics source over the running §4.1 clocks."""

    def __init__(self, engine: ClockLister) -> None:
        self.engine = engine

    def metric_families(self) -> Iterator[Metric]:
        """commwatch_duty_clocks{clock,state} and commwatch_duty_clock_overdue_seconds{clock}."""
        try:
            running = self.engine.clocks()
        except SQLAlchemyError as exc:
            log.error("clock metrics unavailable", extra={"fields": {"error": str(exc)}})
            return
        yield from clock_families(running, datetime.now(UTC))


def clock_families(running: list[Clock], now: datetime) -> Iterator[Metric]:
    """The two families for these clocks at `now`."""
    counts = GaugeMetricFamily(
        "commwatch_duty_clocks",
        "Running §4.1 clocks (brief report, follow-up, query answer) by state",
        labels=["clock", "state"],
    )
    worst = GaugeMetricFamily(
        "commwatch_duty_clock_overdue_seconds",
        "How long the most overdue §4.1 clock of each kind is past its deadline (0 none)",
        labels=["clock"],
    )
    for clock in CLOCK_NAMES:
        mine = [c for c in running if c.clock == clock and not c.drill]  # drills never count
        late = [(now - c.due_at).total_seconds() for c in mine if c.overdue(now)]
        counts.add_metric([clock, "running"], float(len(mine) - len(late)))
        counts.add_metric([clock, "overdue"], float(len(late)))
        worst.add_metric([clock], max(late, default=0.0))
    yield counts
    yield worst
