"""Parent/child topology: which nodes are UNREACHABLE behind failed parents (pure).

A node whose parents (`parent` in nodes.toml, one id or a list for redundant
uplinks) are *all* cut off — DOWN, or themselves UNREACHABLE — is UNREACHABLE:
its system's business is affected, but it is not a separate cause of the
outage. One live parent keeps a dual-homed node reachable.

Evaluation is order-independent: it runs once over all results of a round and
judges every parent (recursively, memoised) before the child, so the outcome
depends only on the statuses, never on which probe answered first.

Two readings of a child behind dead parents:

- live (`trust_children=True`, the daemon and the scorer): a child that still
  answers (UP, DEGRADED) keeps its status — the monitor reaches it somehow; a
  child that does not answer (DOWN) or was never judged (UNKNOWN) becomes
  UNREACHABLE.
- what-if (`trust_children=False`, `commwatch assess`): everything behind the
  dead parents is cut off, whatever its own status says.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from monitor.config import Config
from monitor.nodes.state import Status

Parents = Mapping[str, Sequence[str]]

_SILENT = frozenset({Status.DOWN, Status.UNKNOWN, Status.UNREACHABLE})
_CUT = frozenset({Status.DOWN, Status.UNREACHABLE})


def parents_of(config: Config) -> dict[str, tuple[str, ...]]:
    """Every node's parent ids from nodes.toml (empty tuple for a root)."""
    return {node.id: node.parents for node in config.inventory.node}


def effective_statuses(
    raw: Mapping[str, Status], parents: Parents, *, trust_children: bool = True
) -> dict[str, Status]:
    """The statuses after topology: children of all-dead parents become UNREACHABLE.

    `raw` holds each node's own status; the result has exactly its keys.
    Parents missing from `raw` are ignored (they neither cut nor save a
    child). A cycle (which check-config rejects) is broken by taking the
    repeated node's own status.
    """
    result: dict[str, Status] = {}
    visiting: set[str] = set()

    def judge(node: str) -> Status:
        known = result.get(node)
        if known is not None:
            return known
        own = raw.get(node, Status.UNKNOWN)
        if node in visiting:
            return own
        visiting.add(node)
        ups = [p for p in parents.get(node, ()) if p in raw]
        cut = bool(ups) and all(judge(p) in _CUT for p in ups)
        visiting.discard(node)
        silent = own in _SILENT or not trust_children
        status = Status.UNREACHABLE if cut and silent else own
        if status is Status.UNREACHABLE and not cut:
            status = Status.DOWN  # a stale UNREACHABLE whose parents answer is a cause again
        result[node] = status
        return status

    for node in sorted(raw):
        judge(node)
    return {node: result[node] for node in raw}


def what_if(
    config: Config, down: Iterable[str], *, others: Status = Status.UP
) -> dict[str, Status]:
    """Statuses of every node when exactly `down` are down (what `commwatch assess` asks).

    Nodes behind the down ones are cut off (UNREACHABLE); a down node whose
    parents are all down too is UNREACHABLE, not a separate cause.
    """
    gone = set(down)
    raw = {node.id: Status.DOWN if node.id in gone else others for node in config.inventory.node}
    return effective_statuses(raw, parents_of(config), trust_children=False)


def causes(statuses: Mapping[str, Status]) -> tuple[str, ...]:
    """The nodes that are down in their own right (DOWN after topology), sorted."""
    return tuple(sorted(n for n, s in statuses.items() if s is Status.DOWN))


def cut_off(statuses: Mapping[str, Status]) -> tuple[str, ...]:
    """The UNREACHABLE nodes, sorted."""
    return tuple(sorted(n for n, s in statuses.items() if s is Status.UNREACHABLE))
