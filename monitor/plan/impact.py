"""How each system stands under a set of node statuses: 全部业务 or 部分业务 (§3.3). Pure.

A system's whole business (全部业务) is down when one of its `critical` nodes
is out (DOWN or UNREACHABLE), or when out/judged ≥ its affected_share (the
system's own in nodes.toml, else plan.toml [systems] affected_share; the
plan's literal reading, and the default, is 1.0: every node). Anything less is
部分业务受影响 (partial): shown, never a scenario by itself.

Nodes left out of the judgement (in a maintenance window, see
`monitor.plan.overlays`) count neither as out nor as up: they leave both the
numerator and the denominator.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from monitor.config import Config
from monitor.nodes.state import Status, is_out

if TYPE_CHECKING:  # annotations only: `status` reads a cached config without pydantic
    from monitor.config.inventory import NodeConfig, SystemConfig


@dataclass(frozen=True)
class SystemImpact:
    """One system with an out node: which nodes, and whether its whole business is down."""

    system: SystemConfig
    out: tuple[str, ...]
    critical_out: tuple[str, ...]
    judged: int
    threshold: float

    @property
    def share(self) -> float:
        return len(self.out) / self.judged if self.judged else 0.0

    @property
    def whole(self) -> bool:
        """全部业务: a critical node out, or the out share at or above the threshold (§7.1)."""
        return bool(self.critical_out) or (self.judged > 0 and self.share >= self.threshold)


def members(config: Config) -> dict[str, list[NodeConfig]]:
    """Nodes of each system, in config order."""
    found: dict[str, list[NodeConfig]] = {}
    for node in config.inventory.node:
        found.setdefault(node.system, []).append(node)
    return found


def impacts(
    config: Config, statuses: Mapping[str, Status], left_out: Collection[str] = ()
) -> dict[str, SystemImpact]:
    """Every system with an out node that is judged, by id."""
    default = config.plan.systems.affected_share
    nodes_of = members(config)
    result: dict[str, SystemImpact] = {}
    for system in config.inventory.system:
        judged = [n for n in nodes_of.get(system.id, []) if n.id not in left_out]
        out = tuple(n.id for n in judged if is_out(statuses.get(n.id, Status.UNKNOWN)))
        if not out:
            continue
        critical = tuple(n.id for n in judged if n.critical and n.id in out)
        threshold = system.affected_share or default
        result[system.id] = SystemImpact(system, out, critical, len(judged), threshold)
    return result


def whole(found: Mapping[str, SystemImpact]) -> frozenset[str]:
    """Ids of the systems whose whole business is down."""
    return frozenset(sid for sid, impact in found.items() if impact.whole)


def partial(found: Mapping[str, SystemImpact]) -> frozenset[str]:
    """Ids of the systems with some, but not all, of their business down (部分业务受影响)."""
    return frozenset(sid for sid, impact in found.items() if not impact.whole)


def streets_of(config: Config, nodes: Collection[str]) -> tuple[str, ...]:
    """The towns/streets (镇、街道) these nodes serve, sorted."""
    known = (config.nodes[n] for n in nodes if n in config.nodes)
    return tuple(sorted({node.street for node in known if node.street}))
