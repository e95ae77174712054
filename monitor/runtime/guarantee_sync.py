"""The daemon's view of the 保障期 and maintenance windows entered on duty.

plan.toml's [[guarantee]] periods and nodes.toml's [[maintenance]] windows arrive
with the config; those entered on duty (`commwatch guarantee add`, the console)
live in the database. `GuaranteeSync.refresh` reads them at most once per
`every` and, when they (or the config) changed, returns the config that holds
both — the node table (thresholds, maintenance) and the scorer (reasons) then
run on it; `current(base)` is that config for others (the console's board).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine

from monitor.config import Config
from monitor.incidents import guarantees, maintenance
from monitor.incidents.guarantees import GuaranteeRecord
from monitor.incidents.maintenance import MaintenanceRecord

Stored = tuple[tuple[GuaranteeRecord, ...], tuple[MaintenanceRecord, ...]]


class GuaranteeSync:
    """Merges stored 保障期 into the running config when they change."""

    def __init__(self, engine: Engine, every: timedelta = timedelta(seconds=15)) -> None:
        self.engine = engine
        self.every = every
        self._next: datetime | None = None
        self._seen: Stored | None = None
        self._base: Config | None = None
        self._last: tuple[Config, Config] | None = None  # (base, merged): replaced whole

    def due(self, base: Config, now: datetime) -> bool:
        """True when `refresh` would read the database (cheap: callers skip a thread hop)."""
        return self._next is None or now >= self._next or base is not self._base

    def refresh(self, base: Config, now: datetime) -> Config | None:
        """The merged config when something changed since the last call; None otherwise."""
        if not self.due(base, now):
            return None
        self._next = now + self.every
        with self.engine.connect() as connection:
            stored = (
                tuple(guarantees.records(connection)),
                tuple(maintenance.records(connection)),
            )
        if stored == self._seen and base is self._base:
            return None
        merged = maintenance.with_windows(guarantees.with_periods(base, stored[0]), stored[1])
        self._seen, self._base = stored, base
        self._last = (base, merged)
        return merged

    def current(self, base: Config) -> Config:
        """The merged config of the last refresh on `base` (else `base` itself)."""
        last = self._last
        return last[1] if last is not None and last[0] is base else base
