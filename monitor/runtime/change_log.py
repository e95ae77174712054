"""Node state changes in the log, summarised when there are many. Pure apart from logging.

Every change is written to the database one by one (the writer); the log gets:

- first states (a node leaving UNKNOWN, i.e. start-up or a newly added node):
  one INFO line per round with the count per state;
- other changes: one WARNING line per node while a round has at most
  `PER_NODE_LIMIT` of them, else one WARNING line per system with the count
  per new state and the first few node ids (the rest: `status`, the database).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from monitor.nodes.state import Status, Transition

if TYPE_CHECKING:
    from monitor.config.inventory import NodeConfig

log = logging.getLogger("monitor.app")

PER_NODE_LIMIT = 10
SAMPLE_NODES = 5


def _counts(changes: Sequence[Transition]) -> str:
    counts = Counter(change.current.value for change in changes)
    return " ".join(f"{state}={count}" for state, count in sorted(counts.items()))


def log_changes(kind: str, changes: Sequence[Transition], nodes: Mapping[str, NodeConfig]) -> None:
    """Log one round's status changes (`nodes`: the config's nodes by id)."""
    first = [c for c in changes if c.previous is Status.UNKNOWN]
    later = [c for c in changes if c.previous is not Status.UNKNOWN]
    if first:
        log.info(
            "first node states",
            extra={"fields": {"probe": kind, "nodes": len(first), "states": _counts(first)}},
        )
    if len(later) <= PER_NODE_LIMIT:
        for change in later:
            _log_one(change)
        return
    by_system: dict[str, list[Transition]] = {}
    for change in later:
        node = nodes.get(change.node)
        by_system.setdefault(node.system if node is not None else "", []).append(change)
    for system, group in sorted(by_system.items()):
        sample = ",".join(c.node for c in group[:SAMPLE_NODES])
        log.warning(
            "node states changed",
            extra={
                "fields": {
                    "probe": kind,
                    "system": system,
                    "nodes": len(group),
                    "states": _counts(group),
                    "first": sample,
                }
            },
        )


def _log_one(change: Transition) -> None:
    log.warning(
        "node state changed",
        extra={
            "fields": {
                "node": change.node,
                "from": change.previous.value,
                "to": change.current.value,
                "reason": change.reason,
            }
        },
    )
