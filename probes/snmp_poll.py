"""One node's SNMP round: the batched GET, interface resolution, thresholds, reboots.

Pure interpretation lives in `probes.snmp_judge`; this module does the requests
and keeps what a node needs between rounds (last sysUpTime, ifIndex mapping).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from probes.snmp_ber import Oid, Special, Value, parse_oid
from probes.snmp_judge import (
    IF_ADMIN,
    IF_DESCR,
    IF_NAME,
    IF_OPER,
    SYS_NAME,
    SYS_UPTIME,
    Poll,
    text,
)
from probes.snmp_session import Session, get_values, walk

if TYPE_CHECKING:
    from monitor.config.inventory import NodeConfig


@dataclass
class NodeMemory:
    """What one node's rounds remember: keyed to where and how it is polled."""

    key: tuple[str, int, str]
    uptime: int | None = None
    uptime_at: float = 0.0
    # interface name → (ifIndex, the name column it was found in)
    if_index: dict[str, tuple[int, Oid]] = field(default_factory=dict)


def custom_oids(node: NodeConfig) -> list[Oid]:
    return [parse_oid(custom.oid) for custom in node.oids]


def _interface_oids(memory: NodeMemory, names: list[str]) -> list[Oid]:
    oids: list[Oid] = []
    for name in names:
        if name in memory.if_index:
            index, column = memory.if_index[name]
            oids += [(*column, index), (*IF_OPER, index), (*IF_ADMIN, index)]
    return oids


async def resolve_interfaces(
    session: Session, names: list[str], max_repetitions: int
) -> dict[str, tuple[int, Oid]]:
    """Walk ifDescr (then ifName, only if needed) for the ifIndex of each name."""
    found: dict[str, tuple[int, Oid]] = {}
    for column in (IF_DESCR, IF_NAME):
        wanted = [n for n in names if n not in found]
        if not wanted:
            break
        rows = await walk(session, column, max_repetitions)
        by_name = {text(value): oid[-1] for oid, value in rows if isinstance(value, bytes)}
        for name in wanted:
            if name in by_name:
                found[name] = (by_name[name], column)
    return found


def _stale(memory: NodeMemory, names: list[str], values: dict[Oid, Value]) -> list[str]:
    """Watched interfaces whose cached ifIndex is unknown or now names another interface."""
    stale = []
    for name in names:
        if name not in memory.if_index:
            stale.append(name)
            continue
        index, column = memory.if_index[name]
        seen = values.get((*column, index))
        if not isinstance(seen, bytes) or text(seen) != name:
            stale.append(name)
    return stale


async def poll_node(
    session: Session, node: NodeConfig, memory: NodeMemory, max_repetitions: int
) -> Poll:
    """The requests of one round; raises SnmpError when the node cannot be asked."""
    customs = custom_oids(node)
    names = list(dict.fromkeys(node.interfaces))
    base = [SYS_UPTIME, SYS_NAME, *customs]
    values, rtt_ms = await get_values(session, base + _interface_oids(memory, names))
    previous = memory.uptime
    uptime = values.get(SYS_UPTIME)
    rebooted = _went_backwards(
        memory,
        uptime if isinstance(uptime, int) and 0 <= uptime < 2**64 else None,
        time.monotonic(),
    )
    if rebooted:
        memory.if_index.clear()  # a reboot may renumber ifIndex
    stale = _stale(memory, names, values) if names else []
    if stale:
        memory.if_index.update(await resolve_interfaces(session, stale, max_repetitions))
        fresh = _interface_oids(memory, [n for n in stale if n in memory.if_index])
        if fresh:
            values.update((await get_values(session, fresh))[0])
    return Poll(
        values=values,
        rtt_ms=rtt_ms,
        previous_uptime=previous if rebooted else None,
        rebooted=rebooted,
        customs=customs,
        if_index={name: memory.if_index[name] for name in names if name in memory.if_index},
    )


WRAP = 1 << 32
WRAP_SLACK = 60 * 100  # a minute of TimeTicks: readings this close to 2^32 may wrap


def _went_backwards(memory: NodeMemory, uptime: int | None, now: float) -> bool:
    """sysUpTime lower than last round's (and not a 497-day TimeTicks wrap) = a reboot."""
    previous, previous_at = memory.uptime, memory.uptime_at
    if uptime is None:
        return False
    memory.uptime, memory.uptime_at = uptime, now
    if previous is None or uptime >= previous:
        return False
    expected = previous + int((now - previous_at) * 100)
    return expected < WRAP - WRAP_SLACK


__all__ = ["NodeMemory", "Special", "poll_node", "resolve_interfaces"]
