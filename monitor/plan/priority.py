"""§6.3 优先保障: party and government organs and key units on the provincial list come first. Pure.

A system is a priority (优先保障单位) when nodes.toml marks it `priority = true`
or its responsible unit is marked `priority = true` in contacts.toml. Priority
decides order everywhere, never a scenario:

- probing: priority systems' nodes are probed first in every round;
- naming: notices, reports, `status` and the reasons name them first;
- repairing: the repair order a notice proposes puts first the down nodes of
  priority systems, and the down nodes that cut off a priority system's nodes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from monitor.config import Config

if TYPE_CHECKING:  # annotations only: `status` reads a cached config without pydantic
    from monitor.config.inventory import NodeConfig


def is_priority(config: Config, system_id: str) -> bool:
    """True for a system marked priority, or whose responsible unit is."""
    system = config.systems.get(system_id)
    if system is None:
        return False
    unit = config.units.get(system.unit)
    return system.priority or (unit is not None and unit.priority)


def systems_first(config: Config, ids: Iterable[str]) -> tuple[str, ...]:
    """Priority systems first, then operator networks, then by id."""

    def key(sid: str) -> tuple[bool, bool, str]:
        kind = config.systems[sid].kind if sid in config.systems else ""
        return (not is_priority(config, sid), kind != "operator", sid)

    return tuple(sorted(set(ids), key=key))


def nodes_first(config: Config, nodes: Sequence[NodeConfig]) -> list[NodeConfig]:
    """The nodes with priority systems' nodes first (stable: config order otherwise)."""
    return sorted(nodes, key=lambda node: not is_priority(config, node.system))


def repair_order(
    config: Config, down: Iterable[str], unreachable: Iterable[str] = ()
) -> tuple[str, ...]:
    """Down nodes in the order to repair them: those that restore a priority system first.

    A down node restores a priority system when it belongs to one, or when an
    unreachable node of one sits behind it; then critical nodes; then by id.
    """
    cut = set(unreachable)
    children: dict[str, list[str]] = {}
    for node in config.inventory.node:
        for parent in node.parents:
            children.setdefault(parent, []).append(node.id)

    def behind(node_id: str) -> set[str]:
        found: set[str] = set()
        stack = list(children.get(node_id, []))
        while stack:
            child = stack.pop()
            if child in found or child not in cut:
                continue
            found.add(child)
            stack.extend(children.get(child, []))
        return found

    def key(node_id: str) -> tuple[bool, bool, str]:
        node = config.nodes.get(node_id)
        if node is None:
            return (True, True, node_id)
        served = {node.system} | {config.nodes[c].system for c in behind(node_id)}
        first = any(is_priority(config, s) for s in served)
        return (not first, not node.critical, node_id)

    return tuple(sorted(set(down), key=key))
