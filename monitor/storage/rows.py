"""Rows ⇄ domain objects for the monitor's tables (`monitor.storage.tables`).

Values are cleaned on the way in so that one odd probe result can never make a
whole batch fail: NaN and infinities become NULL (PostgreSQL's JSON rejects
NaN), NUL characters are dropped (PostgreSQL text cannot hold them) and probe
values that are not plain JSON are stored as their text.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from monitor.nodes.state import NodeState, Status, Transition

if TYPE_CHECKING:  # annotations only: `status` starts without the models and probes
    from monitor.config.inventory import NodeConfig
    from probes.base import ProbeResult

log = logging.getLogger(__name__)


def node_row(node: NodeConfig, now: datetime) -> dict[str, Any]:
    """A `nodes` row for a configured node, synced at `now`."""
    return {
        "id": node.id,
        "name": node.name,
        "system": node.system,
        "address": node.address,
        "street": node.street,
        "critical": node.critical,
        "probes": list(node.probes),
        "primary_probe": _primary_probe(node),
        "updated_at": now,
        "removed_at": None,
    }


def sample_row(result: ProbeResult) -> dict[str, Any]:
    """A `probe_samples` row."""
    values = jsonable(result.values) if result.values else None
    return {
        "node_id": result.node,
        "probe": result.probe,
        "at": result.at,
        "ok": result.ok,
        "rtt_ms": finite(result.rtt_ms),
        "loss": finite(result.loss),
        "error": text(result.error),
        "degraded": result.degraded,
        "detail": text(result.detail),
        "values": values,
    }


def change_row(change: Transition) -> dict[str, Any]:
    """A `state_changes` row."""
    return {
        "node_id": change.node,
        "at": change.at,
        "previous": change.previous.value,
        "current": change.current.value,
        "reason": text(change.reason) or "",
    }


def state_row(node: str, state: NodeState, now: datetime) -> dict[str, Any]:
    """A `node_states` row, saved at `now`."""
    return {
        "node_id": node,
        "status": state.status.value,
        "since": state.since,
        "reason": text(state.reason) or "",
        "failed_streak": state.failed_streak,
        "bad_streak": state.bad_streak,
        "good_streak": state.good_streak,
        "answered_streak": state.answered_streak,
        "updated_at": now,
    }


def node_state(row: Any) -> NodeState:
    """The NodeState a `node_states` row holds."""
    return NodeState(
        status=status_of(row.status),
        since=row.since,
        reason=row.reason,
        failed_streak=row.failed_streak,
        bad_streak=row.bad_streak,
        good_streak=row.good_streak,
        answered_streak=row.answered_streak,
    )


def status_of(value: str) -> Status:
    """A stored status; UNKNOWN (logged) for a value this version does not know."""
    try:
        return Status(value)
    except ValueError:
        log.warning("unknown status in the database", extra={"fields": {"status": value}})
        return Status.UNKNOWN


def finite(value: float | None) -> float | None:
    """The value, or None for NaN and infinities."""
    return value if value is None or math.isfinite(value) else None


def text(value: str | None) -> str | None:
    """PostgreSQL text cannot hold NUL (an SNMP string may)."""
    return value.replace("\x00", "") if value and "\x00" in value else value


def jsonable(value: Any) -> Any:
    """Probe values as plain JSON: no NaN (PostgreSQL rejects it), odd types as text."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        return text(value)
    if isinstance(value, float):
        return finite(value)
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item) for item in value]
    return text(str(value))


def _primary_probe(node: NodeConfig) -> str:
    # imported here: the node table pulls in the metrics registry, which readers do not need
    from monitor.nodes.table import primary_probe

    return primary_probe(node)
