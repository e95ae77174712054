"""The daemon's view of the 保障期 entered on duty (`commwatch guarantee add`).

plan.toml's [[guarantee]] periods arrive with the config; those entered on duty
live in the database. `GuaranteeSync.refresh` reads them at most once per
`every` and, when they (or the config) changed, returns the config that holds
both — the node table (thresholds) and the scorer (reasons) then run on it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine

from monitor.config import Config
from monitor.incidents import guarantees
from monitor.incidents.guarantees import GuaranteeRecord


class GuaranteeSync:
    """Merges stored 保障期 into the running config when they change."""

    def __init__(self, engine: Engine, every: timedelta = timedelta(seconds=15)) -> None:
        self.engine = engine
        self.every = every
        self._next: datetime | None = None
        self._seen: tuple[GuaranteeRecord, ...] | None = None
        self._base: Config | None = None

    def due(self, base: Config, now: datetime) -> bool:
        """True when `refresh` would read the database (cheap: callers skip a thread hop)."""
        return self._next is None or now >= self._next or base is not self._base

    def refresh(self, base: Config, now: datetime) -> Config | None:
        """The merged config when something changed since the last call; None otherwise."""
        if not self.due(base, now):
            return None
        self._next = now + self.every
        with self.engine.connect() as connection:
            stored = tuple(guarantees.records(connection))
        if stored == self._seen and base is self._base:
            return None
        self._seen, self._base = stored, base
        return guarantees.with_periods(base, stored)
