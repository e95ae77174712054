"""Restart safety for the plan: rebuild the spread memory from the stored state changes.

The node states come back from `node_states` and the open incident (with the
Assessment it last announced) from `incidents`; what lived only in memory is
the spread history (`monitor.plan.spread.SpreadHistory`). Without it the first
round after a restart would judge a spreading outage as not spreading and
announce that as a change. `seed_spread` replays the state changes of the
spread window onto the restored statuses, so the history holds what it would
have held had the daemon kept running.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from monitor.config import Config
from monitor.nodes.state import Status
from monitor.plan.situation import situation
from monitor.plan.spread import SpreadHistory
from monitor.storage.store import ChangeRow


def statuses_at_start(
    current: Mapping[str, Status], changes: Sequence[ChangeRow]
) -> dict[str, Status]:
    """The raw statuses before the first of `changes` (oldest first), undone from `current`."""
    statuses = dict(current)
    for change in reversed(changes):
        if change.node_id in statuses:
            statuses[change.node_id] = change.previous
    return statuses


def seed_spread(
    config: Config,
    history: SpreadHistory,
    current: Mapping[str, Status],
    changes: Sequence[ChangeRow],
    now: datetime,
) -> int:
    """Record the window's history into `history`; returns the snapshots replayed."""
    window_start = now - history.window
    statuses = statuses_at_start(current, changes)
    history.record(window_start, _scored(config, statuses, window_start))
    replayed = 1
    for index, change in enumerate(changes):
        if change.node_id not in statuses:
            continue
        statuses[change.node_id] = change.current
        following = changes[index + 1] if index + 1 < len(changes) else None
        if following is not None and following.at == change.at:
            continue  # one snapshot per moment
        at = min(max(change.at, window_start), now)
        history.record(at, _scored(config, statuses, at))
        replayed += 1
    return replayed


def _scored(config: Config, raw: Mapping[str, Status], at: datetime) -> dict[str, Status]:
    return situation(config, raw, {}, at).scored
