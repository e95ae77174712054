"""The plan side of the daemon: topology → scorer → incidents → dispatch.

Called after every probe round with the node statuses; keeps the recent
history the scorer needs for spread, and feeds the incident engine.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Engine

from monitor.config import Config
from monitor.metrics import DaemonMetrics
from monitor.state import Status

log = logging.getLogger(__name__)


class PlanRuntime:
    """Runs the scorer on node statuses and hands Assessments to the incident engine."""

    def __init__(self, config: Config, engine: Engine, metrics: DaemonMetrics) -> None:
        self.config = config
        self.engine = engine
        self.metrics = metrics

    async def start(self, statuses: Mapping[str, Status]) -> None:
        """Rebuild open incidents and start dispatch."""

    async def evaluate(self, statuses: Mapping[str, Status], now: datetime, changed: bool) -> None:
        """Score the current statuses and advance incidents."""

    def reconfigure(self, config: Config) -> None:
        """Adopt a reloaded config."""
        self.config = config

    async def stop(self, drain_seconds: float) -> None:
        """Drain dispatch for at most drain_seconds."""
