"""Overlays the scorer sees: maintenance (left out of the judgement) and 保障期 (stricter). Pure.

Maintenance: a node in an active maintenance window (nodes.toml
`[[maintenance]]`, or `commwatch assess --maintenance`) is neither down nor up
for any scenario: it leaves its system's count altogether. A node UNREACHABLE
only because every parent is such a node (or itself cut off that way) is left
out too — its silence is the maintenance's doing. The reasons list every node
left out and why.

保障期 (§3.1.2 (4)): while a period is active its systems' nodes are judged with
stricter thresholds (`monitor.nodes.windows.thresholds_for`); the reasons say
which period is active, for which systems, and how strict.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from monitor.config import Config
from monitor.nodes.state import Status
from monitor.nodes.topology import parents_of
from monitor.nodes.windows import active_guarantees, maintained_nodes, maintenance_windows

if TYPE_CHECKING:  # annotations only: `status` reads a cached config without pydantic
    from monitor.config.windows import GuaranteePeriod

FLAG_REASON = "命令行 --maintenance 指定"


def maintenance_reasons(config: Config, now: datetime) -> dict[str, str]:
    """Every node in an active maintenance window → the window's name."""
    found: dict[str, str] = {}
    for node_id in sorted(maintained_nodes(config, now)):
        names = "、".join(f"“{w.name}”" for w in maintenance_windows(config, node_id, now))
        found[node_id] = f"维护窗口{names}"
    return found


def left_out(
    config: Config, statuses: Mapping[str, Status], maintained: Mapping[str, str]
) -> dict[str, str]:
    """Nodes the scorer leaves out → why (maintained ones, and those cut off only by them)."""
    if not maintained:
        return {}
    parents = parents_of(config)
    result: dict[str, str] = {}

    def excused(node: str, seen: frozenset[str]) -> str | None:
        if node in maintained:
            return maintained[node]
        if statuses.get(node, Status.UNKNOWN) is not Status.UNREACHABLE:
            return None
        ups = [p for p in parents.get(node, ()) if p not in seen]
        if not ups:
            return None
        whys = [excused(p, seen | {node}) for p in ups]
        if any(why is None for why in whys):
            return None
        names = "、".join(config.nodes[p].name for p in ups if p in config.nodes)
        return f"上级节点{names}处于维护中而不可达"

    for node_id in sorted(statuses):
        why = excused(node_id, frozenset())
        if why is not None:
            result[node_id] = why
    return result


def guarantee_line(period: GuaranteePeriod, config: Config) -> str:
    """One reason for an active 保障期: its systems and its stricter thresholds."""
    names = "、".join(config.systems[s].name for s in period.systems if s in config.systems)
    strict = [f"连续{period.fail_after}轮失败即判中断"]
    if period.degraded_loss is not None:
        strict.append(f"丢包率{period.degraded_loss:.0%}以上即判劣化")
    if period.degraded_rtt is not None:
        strict.append(f"时延超过{period.degraded_rtt.total_seconds() * 1000:.0f}ms即判劣化")
    if period.recover_after is not None:
        strict.append(f"连续{period.recover_after}轮正常才判恢复")
    return (
        f"保障期“{period.name}”生效中（§3.1.2 (4)、§6.3）：{names}按更严格阈值判定"
        f"（{'，'.join(strict)}）"
    )


def guarantee_lines(config: Config, now: datetime | None, systems: set[str]) -> list[str]:
    """Reasons for the 保障期 active now that name one of `systems`."""
    if now is None or not systems:
        return []
    return [guarantee_line(g, config) for g in active_guarantees(config, now, systems)]
