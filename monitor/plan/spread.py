"""The daemon's memory for spread (扩散性): affected sets within plan.toml [spread] window.

Pure data, no I/O. The daemon records the scored statuses after every round;
`earlier(now)` gives the statuses the scorer compares with:

- the candidates are the state at the start of the window (the last snapshot
  recorded at or before now − window) and every snapshot inside the window;
- of those with something affected, the one with the *fewest* affected
  systems (the earliest of equals) is returned — so an outage that started
  inside the window and then grew is seen as growth (1 → 3), while a fresh
  outage is not spread merely because nothing was down before it;
- nothing affected in any candidate → {} (nothing was down then).

A snapshot is stored only when the affected set changes. The history lives
in memory: after a restart spread by growth is judged from the first round
on (the incident engine keeps the incident itself).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.config import Config
from monitor.nodes.state import Status
from monitor.plan.scorer import affected_systems


@dataclass(frozen=True)
class Snapshot:
    """Statuses as scored at one moment, with the systems they affect."""

    at: datetime
    statuses: Mapping[str, Status]
    affected: frozenset[str]


class SpreadHistory:
    """Snapshots of the affected set covering the spread window."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._snapshots: list[Snapshot] = []

    @property
    def window(self) -> timedelta:
        return self._config.plan.spread.window

    @property
    def snapshots(self) -> tuple[Snapshot, ...]:
        return tuple(self._snapshots)

    def record(self, now: datetime, statuses: Mapping[str, Status]) -> None:
        """Remember the statuses of this round if the affected set changed."""
        affected = affected_systems(self._config, statuses)
        last = self._snapshots[-1] if self._snapshots else None
        if last is None or last.affected != affected:
            self._snapshots.append(Snapshot(now, dict(statuses), affected))
        self._prune(now)

    def earlier(self, now: datetime) -> dict[str, Status]:
        """The statuses to compare with now (see the module docstring)."""
        start = now - self.window
        before = [s for s in self._snapshots if s.at <= start]
        candidates = before[-1:] + [s for s in self._snapshots if s.at > start]
        affected = [s for s in candidates if s.affected]
        if not affected:
            return {}
        return dict(min(affected, key=lambda s: len(s.affected)).statuses)

    def reconfigure(self, config: Config) -> None:
        """Adopt a reloaded config: re-judge every remembered snapshot under it."""
        self._config = config
        self._snapshots = [
            Snapshot(s.at, s.statuses, affected_systems(config, s.statuses))
            for s in self._snapshots
        ]

    def _prune(self, now: datetime) -> None:
        start = now - self.window
        keep_from = 0
        for index, snapshot in enumerate(self._snapshots):
            if snapshot.at <= start:
                keep_from = index
        self._snapshots = self._snapshots[keep_from:]
