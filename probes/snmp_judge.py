"""Pure judgement of one node's SNMP round: values in, ok/degraded/detail out.

No I/O here: `probes.snmp_poll` gathers the values, this module decides what
they mean — interface admin-up but oper-down, a custom value past its threshold,
a missing OID, a reboot — and writes the detail in the plan's (Chinese) words.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from probes.snmp_ber import Oid, Special, Value, format_oid

if TYPE_CHECKING:
    from monitor.config.inventory import CustomOid, NodeConfig

SYS_UPTIME: Oid = (1, 3, 6, 1, 2, 1, 1, 3, 0)
SYS_NAME: Oid = (1, 3, 6, 1, 2, 1, 1, 5, 0)
IF_DESCR: Oid = (1, 3, 6, 1, 2, 1, 2, 2, 1, 2)
IF_ADMIN: Oid = (1, 3, 6, 1, 2, 1, 2, 2, 1, 7)
IF_OPER: Oid = (1, 3, 6, 1, 2, 1, 2, 2, 1, 8)
IF_NAME: Oid = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1)

OPER_STATUS = {
    1: "up",
    2: "down",
    3: "testing",
    4: "unknown",
    5: "dormant",
    6: "notPresent",
    7: "lowerLayerDown",
}
ADMIN_STATUS = {1: "up", 2: "down", 3: "testing"}
# Operational states that mean "broken" when the operator wants the interface up.
OPER_DOWN = frozenset({"down", "notPresent", "lowerLayerDown"})
MISSING = "missing"
OUT_OF_RANGE = "out_of_range"
# The widest SNMP numbers: Integer32 is signed 32-bit, Counter64 unsigned 64-bit. An agent
# that sends more (BER allows any length) gets its value reported, never computed with.
LOWEST = -(2**63)
HIGHEST = 2**64 - 1


@dataclass(frozen=True, slots=True)
class Poll:
    """What one round's requests brought back for one node."""

    values: Mapping[Oid, Value]
    rtt_ms: float
    previous_uptime: int | None
    rebooted: bool
    customs: list[Oid]
    if_index: Mapping[str, tuple[int, Oid]]


@dataclass(frozen=True, slots=True)
class Verdict:
    """The ProbeResult fields of an answered round."""

    error: str | None
    degraded: bool
    detail: str | None
    values: dict[str, Any]


def text(value: bytes) -> str:
    """An OCTET STRING as display text (some agents pad with NULs)."""
    return value.decode("utf-8", errors="replace").strip("\x00 \t\r\n")


def _status(value: Value | None, names: Mapping[int, str]) -> str:
    if not isinstance(value, int):
        return MISSING
    if not LOWEST <= value <= HIGHEST:
        return "unknown"
    return names.get(value, f"unknown({value})")


def _number(value: Value | None, custom: CustomOid) -> float | int | str | None:
    """The custom value, scaled; OUT_OF_RANGE when it is no SNMP number or not finite."""
    if isinstance(value, int):
        if not LOWEST <= value <= HIGHEST:
            return OUT_OF_RANGE
        scaled = value if custom.scale == 1.0 else value * custom.scale
        return scaled if math.isfinite(scaled) else OUT_OF_RANGE
    if isinstance(value, bytes):
        raw = text(value)
        try:
            number = float(raw) * custom.scale
        except ValueError:
            return raw
        return number if math.isfinite(number) else OUT_OF_RANGE
    return None


def _uptime(value: Value | None) -> int | None:
    """sysUpTime.0 as TimeTicks (unsigned 32-bit); anything else counts as missing."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= HIGHEST:
        return value
    return None


class _Findings:
    def __init__(self) -> None:
        self.error: str | None = None
        self.problems: list[str] = []

    def add(self, problem: str, error: str | None = None) -> None:
        self.problems.append(problem)
        if error is not None and self.error is None:
            self.error = error


def _interfaces(node: NodeConfig, poll: Poll, found: _Findings) -> dict[str, dict[str, Any]]:
    states: dict[str, dict[str, Any]] = {}
    for name in dict.fromkeys(node.interfaces):
        if name not in poll.if_index:
            states[name] = {"oper": MISSING, "admin": MISSING, "index": None}
            found.add(f"未找到接口{name}", "interface_missing")
            continue
        index = poll.if_index[name][0]
        oper = _status(poll.values.get((*IF_OPER, index)), OPER_STATUS)
        admin = _status(poll.values.get((*IF_ADMIN, index)), ADMIN_STATUS)
        states[name] = {"oper": oper, "admin": admin, "index": index}
        if oper == MISSING:
            found.add(f"接口{name}状态缺失（ifIndex {index}）", "interface_missing")
        elif admin == "up" and oper in OPER_DOWN:
            found.add(f"接口{name}中断（管理状态up，运行状态{oper}）")
    return states


def _customs(node: NodeConfig, poll: Poll, found: _Findings) -> dict[str, Any]:
    custom: dict[str, Any] = {}
    for spec, oid in zip(node.oids, poll.customs, strict=True):
        value = _number(poll.values.get(oid), spec)
        custom[spec.name] = value
        if value is None:
            found.add(f"指标{spec.name}缺失（{format_oid(oid)}）", "no_such_object")
        elif value == OUT_OF_RANGE:
            found.add(f"指标{spec.name}取值超出范围（{format_oid(oid)}）", "bad_value")
        elif isinstance(value, str):
            continue
        elif spec.warn_above is not None and value > spec.warn_above:
            found.add(f"指标{spec.name}={value:g}高于上限{spec.warn_above:g}")
        elif spec.warn_below is not None and value < spec.warn_below:
            found.add(f"指标{spec.name}={value:g}低于下限{spec.warn_below:g}")
    return custom


def judge(node: NodeConfig, poll: Poll) -> Verdict:
    """Interpret an answered round."""
    found = _Findings()
    uptime = _uptime(poll.values.get(SYS_UPTIME))
    if uptime is None:
        found.add("sysUpTime.0缺失（无法判断重启）", "no_such_object")
    if poll.rebooted:
        found.add(f"设备或SNMP代理重启（sysUpTime由{poll.previous_uptime}降至{uptime}）")
    name = poll.values.get(SYS_NAME)
    values: dict[str, Any] = {
        "sys_uptime": uptime,
        "sys_name": text(name) if isinstance(name, bytes) else None,
        "interfaces": _interfaces(node, poll, found),
        "custom": _customs(node, poll, found),
        "rebooted": poll.rebooted,
    }
    detail = "；".join(found.problems) or None
    return Verdict(found.error, bool(found.problems), detail, values)


__all__ = ["MISSING", "OUT_OF_RANGE", "Poll", "Special", "Verdict", "judge", "text"]
