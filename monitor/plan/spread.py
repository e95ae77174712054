"""扩散性, measured (§3.3 "有继续扩散的可能性" / "无扩散性"; §4.2 (3)). Pure.

`measure()` decides spread when some system's whole business is down, from
plan.toml [spread]:

- growth (`growth = true`): within `window`, the number of affected systems
  grew from a non-empty earlier set, or the streets (镇、街道) those systems'
  out nodes serve grew from a non-empty earlier set — a fresh outage alone is
  not growth;
- reach (`min_streets` > 0): the affected systems' out nodes serve at least
  that many streets ("以上" includes the number, §7.1).

The number of operator networks is never spread by itself (§4.3.2 ① gives
1至2家 without spread Ⅱ级).

`SpreadHistory` is the daemon's memory. The daemon records the scored
statuses after every round; `earlier(now)` gives the statuses the scorer
compares with:

- the candidates are the state at the start of the window (the last snapshot
  recorded at or before now − window) and every snapshot inside the window;
- of those with something affected, the one with the *fewest* affected
  systems, then streets (the earliest of equals) is returned — so an outage that started
  inside the window and then grew is seen as growth (1 → 3), while a fresh
  outage is not spread merely because nothing was down before it;
- nothing affected in any candidate → {} (nothing was down then).

A snapshot is stored only when the affected set or its streets change. The history lives
in memory: after a restart spread by growth is judged from the first round
on (the incident engine keeps the incident itself).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.config import Config
from monitor.nodes.state import Status
from monitor.nodes.topology import effective_statuses, parents_of
from monitor.plan.impact import impacts, streets_of, whole


@dataclass(frozen=True)
class Spread:
    """Which spread rules hold, with the counts compared."""

    systems_growth: bool = False
    streets_growth: bool = False
    reach: bool = False
    earlier_systems: int = 0
    now_systems: int = 0
    earlier_streets: int = 0
    now_streets: int = 0

    @property
    def any(self) -> bool:
        return self.systems_growth or self.streets_growth or self.reach


@dataclass(frozen=True)
class Footprint:
    """The systems whose whole business is down and the streets their out nodes serve."""

    systems: frozenset[str] = frozenset()
    streets: tuple[str, ...] = ()


def normalise(config: Config, statuses: Mapping[str, Status] | None) -> dict[str, Status]:
    """Statuses of exactly the configured nodes, with topology applied (live reading)."""
    given = statuses or {}
    raw = {node.id: given.get(node.id, Status.UNKNOWN) for node in config.inventory.node}
    return effective_statuses(raw, parents_of(config), trust_children=True)


def footprint(
    config: Config, statuses: Mapping[str, Status] | None, left_out: Collection[str] = ()
) -> Footprint:
    """The Footprint of these statuses (topology applied, `left_out` nodes not judged)."""
    found = impacts(config, normalise(config, statuses), left_out)
    systems = whole(found)
    out = [n for sid in systems for n in found[sid].out]
    return Footprint(systems, streets_of(config, out))


def measure(config: Config, now: Footprint, earlier: Footprint) -> Spread:
    """Spread of `now` against the Footprint at the start of the window."""
    if not now.systems:
        return Spread()
    rules = config.plan.spread
    before, after = len(earlier.systems), len(now.systems)
    streets_before, streets_after = len(earlier.streets), len(now.streets)
    return Spread(
        systems_growth=rules.growth and 0 < before < after,
        streets_growth=rules.growth and before > 0 and 0 < streets_before < streets_after,
        reach=rules.min_streets > 0 and streets_after >= rules.min_streets,
        earlier_systems=before,
        now_systems=after,
        earlier_streets=streets_before,
        now_streets=streets_after,
    )


@dataclass(frozen=True)
class Snapshot:
    """Statuses as scored at one moment, with the Footprint they leave."""

    at: datetime
    statuses: Mapping[str, Status]
    footprint: Footprint

    @property
    def affected(self) -> frozenset[str]:
        return self.footprint.systems


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

    def record(
        self, now: datetime, statuses: Mapping[str, Status], left_out: Collection[str] = ()
    ) -> None:
        """Remember the statuses of this round if their Footprint changed."""
        seen = footprint(self._config, statuses, left_out)
        last = self._snapshots[-1] if self._snapshots else None
        if last is None or last.footprint != seen:
            self._snapshots.append(Snapshot(now, dict(statuses), seen))
        self._prune(now)

    def earlier(self, now: datetime) -> dict[str, Status]:
        """The statuses to compare with now (see the module docstring)."""
        start = now - self.window
        before = [s for s in self._snapshots if s.at <= start]
        candidates = before[-1:] + [s for s in self._snapshots if s.at > start]
        affected = [s for s in candidates if s.affected]
        if not affected:
            return {}
        smallest = min(affected, key=lambda s: (len(s.affected), len(s.footprint.streets)))
        return dict(smallest.statuses)

    def reconfigure(self, config: Config) -> None:
        """Adopt a reloaded config: re-judge every remembered snapshot under it."""
        self._config = config
        self._snapshots = [
            Snapshot(s.at, s.statuses, footprint(config, s.statuses)) for s in self._snapshots
        ]

    def _prune(self, now: datetime) -> None:
        start = now - self.window
        keep_from = 0
        for index, snapshot in enumerate(self._snapshots):
            if snapshot.at <= start:
                keep_from = index
        self._snapshots = self._snapshots[keep_from:]
