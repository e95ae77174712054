"""Time windows at work: maintenance (nodes.toml) and guarantee periods (plan.toml). Pure.

Maintenance windows (`[[maintenance]]`) cover nodes named directly, the nodes
of named systems and the nodes serving named streets. The scorer leaves the
nodes inside an active window out of its judgement (neither down nor up; see
`monitor.plan.overlays`). A node still down when its window ends counts from
that moment.

Guarantee periods (`[[guarantee]]`, 保障期, §3.1.2 (4)) make the thresholds of
their systems' nodes stricter while active: `thresholds_for(config, node, now)`
is what the state machine should be fed with every round.

Times: `now` must be timezone-aware (a naive `now` is taken as UTC). One-off
windows written without an offset, and recurring ones, are read in the
window's `timezone` (default Asia/Shanghai). A window is active on
[start, end).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from monitor.config import Config
from monitor.nodes.state import Thresholds

if TYPE_CHECKING:  # annotations only: `status` reads a cached config without pydantic
    from monitor.config.inventory import NodeConfig
    from monitor.config.windows import GuaranteePeriod, MaintenanceWindow, WindowSchedule

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _aware(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def window_active(window: WindowSchedule, now: datetime) -> bool:
    """True when `now` falls inside the window (one-off or recurring)."""
    zone = ZoneInfo(window.timezone)
    now = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    if window.start is not None and window.end is not None:
        return _aware(window.start, zone) <= now < _aware(window.end, zone)
    if window.at is None or window.duration is None:
        return False
    local = now.astimezone(zone)
    days = set(window.weekdays)
    for back in range(8):  # a recurring window lasts at most 7 days
        day = local.date() - timedelta(days=back)
        if _WEEKDAYS[day.weekday()] not in days:
            continue
        start = datetime.combine(day, window.at.replace(tzinfo=None), tzinfo=zone)
        if start <= local < start + window.duration:
            return True
    return False


def covers(window: MaintenanceWindow, node: NodeConfig) -> bool:
    """True when the maintenance window's scope includes the node."""
    return (
        node.id in window.nodes
        or node.system in window.systems
        or (node.street is not None and node.street in window.streets)
    )


def maintenance_windows(config: Config, node_id: str, now: datetime) -> list[MaintenanceWindow]:
    """The maintenance windows active now that cover the node (empty for an unknown id)."""
    node = config.nodes.get(node_id)
    if node is None:
        return []
    return [w for w in config.inventory.maintenance if covers(w, node) and window_active(w, now)]


def in_maintenance(config: Config, node_id: str, now: datetime) -> bool:
    """True when an active maintenance window covers the node."""
    return bool(maintenance_windows(config, node_id, now))


def maintained_nodes(config: Config, now: datetime) -> frozenset[str]:
    """Every node inside an active maintenance window."""
    active = [w for w in config.inventory.maintenance if window_active(w, now)]
    if not active:
        return frozenset()
    return frozenset(n.id for n in config.inventory.node if any(covers(w, n) for w in active))


def active_guarantees(
    config: Config, now: datetime, systems: Iterable[str] | None = None
) -> list[GuaranteePeriod]:
    """Guarantee periods active now, optionally only those naming one of `systems`."""
    wanted = None if systems is None else set(systems)
    return [
        g
        for g in config.plan.guarantee
        if window_active(g, now) and (wanted is None or wanted & set(g.systems))
    ]


def base_thresholds(config: Config, node: NodeConfig) -> Thresholds:
    """The node's own overrides, else commwatch.toml [state]."""
    defaults = config.daemon.state
    return Thresholds(
        fail_after=node.fail_after or defaults.fail_after,
        recover_after=node.recover_after or defaults.recover_after,
        degraded_loss=node.degraded_loss or defaults.degraded_loss,
        degraded_rtt=node.degraded_rtt or defaults.degraded_rtt,
    )


def thresholds_for(config: Config, node_id: str, now: datetime) -> Thresholds:
    """The node's limits now: its base thresholds made stricter by active guarantee periods.

    Stricter means: the smaller fail_after, degraded_loss and degraded_rtt; a
    period's recover_after, when given, replaces the base (the larger of
    several wins: recovery is trusted later). Unknown ids get the defaults.
    """
    node = config.nodes.get(node_id)
    if node is None:
        return Thresholds()
    limits = base_thresholds(config, node)
    periods = active_guarantees(config, now, (node.system,))
    if not periods:
        return limits
    recover = [g.recover_after for g in periods if g.recover_after is not None]
    losses = [g.degraded_loss for g in periods if g.degraded_loss is not None]
    rtts = [g.degraded_rtt for g in periods if g.degraded_rtt is not None]
    return Thresholds(
        fail_after=min([limits.fail_after, *(g.fail_after for g in periods)]),
        recover_after=max(recover) if recover else limits.recover_after,
        degraded_loss=min([limits.degraded_loss, *losses]),
        degraded_rtt=min([limits.degraded_rtt, *rtts]),
    )
