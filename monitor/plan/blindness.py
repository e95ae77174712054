"""The monitor's own blindness: when its uplink fails, it cannot see the district. Pure.

The uplink is, by default, the ops server's own default gateway — read from
the routing table (`/proc/net/route`, `/proc/net/ipv6_route`; parsed here,
read by `monitor.runtime.uplink`) — plus the nodes named in commwatch.toml
`[self_monitor] uplink_nodes`. While fewer than `uplink_min_up` of them answer,
the monitor is blind:

- the nodes it cannot see (their latest probe failed) are UNKNOWN, not DOWN;
- no scenario, no incident (an open one is neither followed nor restored);
- one out-of-band notice to the HQ office duty (and one when sight returns),
  the metric `commwatch_monitor_blind`, one log line at each edge.

Without a determinable uplink (no default route, no uplink_nodes), a mass
failure counts as blind: at least `mass_failure_share` of all nodes, across
at least `mass_failure_systems` systems, starting to fail within one probe
interval — in an inventory of at least `mass_failure_min_nodes` nodes. The
monitor stays blind while that share of nodes keeps failing.

`what_if()` is the same judgement for `commwatch assess --down`: a down uplink
node (configured, or one whose address is a detected gateway), or one cut off
behind down parents, makes it blind; without an uplink the mass rule is
applied to the down nodes and those cut off behind them.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from monitor.config import Config
from monitor.nodes.state import is_out
from monitor.nodes.topology import what_if as topology_what_if
from monitor.plan.assessment import Assessment

BLIND_REASON = "监测系统自身上联中断，无法判断（非确认中断）"


@dataclass(frozen=True)
class Uplink:
    """What the monitor checks to know it can see: uplink node ids and gateway addresses."""

    nodes: tuple[str, ...] = ()
    gateways: tuple[str, ...] = ()

    @property
    def determinable(self) -> bool:
        return bool(self.nodes or self.gateways)

    @property
    def targets(self) -> tuple[str, ...]:
        """Node ids, then gateway addresses that are not inventory nodes."""
        return self.nodes + self.gateways


@dataclass(frozen=True)
class Blindness:
    """Whether the monitor is blind, and why, in the plan's language."""

    blind: bool = False
    why: str = ""


def parse_ipv4_gateways(text: str) -> list[str]:
    """Default gateways from /proc/net/route (destination 0.0.0.0/0, RTF_GATEWAY set)."""
    found: list[str] = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 8 or fields[1] != "00000000" or fields[7] != "00000000":
            continue
        if not int(fields[3], 16) & 0x2:  # RTF_GATEWAY
            continue
        address = socket.inet_ntoa(struct.pack("<I", int(fields[2], 16)))
        if address != "0.0.0.0" and address not in found:
            found.append(address)
    return found


def parse_ipv6_gateways(text: str) -> list[str]:
    """Default gateways from /proc/net/ipv6_route (::/0 with a next hop)."""
    found: list[str] = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 10 or fields[0] != "0" * 32 or fields[1] != "00":
            continue
        hop = ipaddress.IPv6Address(bytes.fromhex(fields[4]))
        if hop.is_unspecified:
            continue
        address = str(hop)
        if address not in found:
            found.append(address)
    return found


def uplink_of(config: Config, gateways: Iterable[str]) -> Uplink:
    """Configured uplink nodes plus the gateways (as nodes when the inventory has them)."""
    monitor = config.daemon.self_monitor
    by_address = {node.address: node.id for node in config.inventory.node}
    nodes = list(monitor.uplink_nodes)
    addresses: list[str] = []
    for gateway in gateways if monitor.detect_gateway else ():
        node = by_address.get(gateway)
        if node is not None:
            nodes += [node] if node not in nodes else []
        elif gateway not in addresses:
            addresses.append(gateway)
    return Uplink(tuple(nodes), tuple(addresses))


def judge_uplink(config: Config, uplink: Uplink, answered: Mapping[str, bool]) -> Blindness:
    """Blind when fewer than uplink_min_up of the checked targets answered."""
    checked = [t for t in uplink.targets if t in answered]
    if not checked:
        return Blindness()
    needed = min(config.daemon.self_monitor.uplink_min_up, len(checked))
    up = sum(answered[t] for t in checked)
    if up >= needed:
        return Blindness()
    names = "、".join(_target_label(config, t) for t in checked)
    return Blindness(True, f"监测系统自身上联（{names}）无响应：{up}/{len(checked)}个应答")


def judge_mass_failure(
    config: Config,
    fresh: Collection[str],
    failing: Collection[str],
    was_blind: bool,
) -> Blindness:
    """Without an uplink: a share of all nodes across several systems failing at once."""
    monitor = config.daemon.self_monitor
    total = len(config.inventory.node)
    if total == 0 or total < monitor.mass_failure_min_nodes:
        return Blindness()  # a share of a handful of nodes tells nothing
    watched = failing if was_blind else fresh
    systems = {config.nodes[n].system for n in watched if n in config.nodes}
    share = len(watched) / total
    if share < monitor.mass_failure_share or len(systems) < monitor.mass_failure_systems:
        return Blindness()
    return Blindness(
        True,
        f"未能确定监测系统自身上联（无默认网关、未配置 uplink_nodes）；{len(watched)}/{total}个"
        f"节点（{share:.0%}，达到{monitor.mass_failure_share:.0%}以上）跨{len(systems)}个系统"
        "同时无响应，按监测系统自身失明处理",
    )


def what_if(config: Config, down: Collection[str], gateways: Iterable[str]) -> Blindness:
    """The daemon's judgement for `commwatch assess --down`: is the monitor blind?"""
    silent = {n for n, s in topology_what_if(config, down).items() if is_out(s)}
    uplink = uplink_of(config, gateways)
    if uplink.determinable:
        answered = {node: node not in silent for node in uplink.nodes}
        return judge_uplink(config, Uplink(uplink.nodes), answered)
    return judge_mass_failure(config, silent, silent, was_blind=False)


def blind_assessment(blindness: Blindness, unseen: Collection[str]) -> Assessment:
    """The Assessment while blind (or while unseen nodes wait to be judged again): no scenario."""
    if not blindness.blind:
        return Assessment(
            reasons=(
                f"监测系统已恢复观察，{len(unseen)}个此前无法观察的节点正在重新判定；"
                "判定完成前暂不研判、不变更事件（§4.2 (1)）",
            )
        )
    reasons = (
        f"{blindness.why}；监测系统无法观察辖区网络，{len(unseen)}个节点状态未知（UNKNOWN），"
        "不作中断判断，不构成预警情形，不新建事件（§3.3、§4.2 (2)）",
        "已通过带外方式通知指挥部办公室值班人员，请人工核实监测系统自身网络",
    )
    return Assessment(reasons=reasons, monitor_blind=True)


def _target_label(config: Config, target: str) -> str:
    node = config.nodes.get(target)
    return f"{node.name}（{target}）" if node is not None else f"默认网关{target}"
