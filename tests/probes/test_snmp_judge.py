"""The pure part of an SNMP round: values → ok/degraded/error/detail, table-driven."""

from __future__ import annotations

from typing import Any

import pytest

from monitor.config.inventory import CustomOid, NodeConfig
from probes.snmp_ber import Oid, Special, Value
from probes.snmp_judge import IF_ADMIN, IF_DESCR, IF_OPER, SYS_NAME, SYS_UPTIME, Poll, judge
from probes.snmp_poll import NodeMemory, _went_backwards

CPU = CustomOid(name="cpu", oid="1.3.6.1.4.1.9.2.1.58.0", warn_above=90)
POWER = CustomOid(name="rx_dbm", oid="1.3.6.1.4.1.99.1.0", warn_below=-25, scale=0.1)
LABEL = CustomOid(name="label", oid="1.3.6.1.4.1.99.2.0", warn_above=1)
CPU_OID: Oid = (1, 3, 6, 1, 4, 1, 9, 2, 1, 58, 0)
POWER_OID: Oid = (1, 3, 6, 1, 4, 1, 99, 1, 0)
LABEL_OID: Oid = (1, 3, 6, 1, 4, 1, 99, 2, 0)


def _node(**extra: Any) -> NodeConfig:
    return NodeConfig(
        id="r1",
        name="路由器",
        system="s",
        address="127.0.0.1",
        probes=["snmp"],
        snmp_auth="v2",
        **extra,
    )


def _poll(
    values: dict[Oid, Value],
    *,
    interfaces: dict[str, int] | None = None,
    customs: list[Oid] | None = None,
    rebooted: bool = False,
) -> Poll:
    base: dict[Oid, Value] = {SYS_UPTIME: 500, SYS_NAME: b"core-1\x00"}
    return Poll(
        values={**base, **values},
        rtt_ms=1.0,
        previous_uptime=9000 if rebooted else None,
        rebooted=rebooted,
        customs=customs or [],
        if_index={n: (i, IF_DESCR) for n, i in (interfaces or {}).items()},
    )


def _if(index: int, oper: Value, admin: Value) -> dict[Oid, Value]:
    return {(*IF_OPER, index): oper, (*IF_ADMIN, index): admin}


CASES: list[tuple[str, dict[str, Any], Poll, str | None, str | None]] = [
    ("healthy", {}, _poll({}), None, None),
    (
        "uplink-down",
        {"interfaces": ["eth0", "eth1"]},
        _poll({**_if(2, 1, 1), **_if(3, 2, 1)}, interfaces={"eth0": 2, "eth1": 3}),
        None,
        "接口eth1中断（管理状态up，运行状态down）",
    ),
    (
        "lower-layer-down",
        {"interfaces": ["ge-0/0/1"]},
        _poll(_if(7, 7, 1), interfaces={"ge-0/0/1": 7}),
        None,
        "接口ge-0/0/1中断（管理状态up，运行状态lowerLayerDown）",
    ),
    (
        "admin-down-is-intended",
        {"interfaces": ["eth1"]},
        _poll(_if(3, 2, 2), interfaces={"eth1": 3}),
        None,
        None,
    ),
    (
        "dormant-is-fine",
        {"interfaces": ["ppp0"]},
        _poll(_if(4, 5, 1), interfaces={"ppp0": 4}),
        None,
        None,
    ),
    (
        "interface-missing",
        {"interfaces": ["eth9"]},
        _poll({}, interfaces={}),
        "interface_missing",
        "未找到接口eth9",
    ),
    (
        "interface-vanished",
        {"interfaces": ["eth1"]},
        _poll(_if(3, Special.NO_SUCH_INSTANCE, Special.NO_SUCH_INSTANCE), interfaces={"eth1": 3}),
        "interface_missing",
        "接口eth1状态缺失（ifIndex 3）",
    ),
    (
        "cpu-high",
        {"oids": [CPU]},
        _poll({CPU_OID: 95}, customs=[CPU_OID]),
        None,
        "指标cpu=95高于上限90",
    ),
    ("cpu-ok", {"oids": [CPU]}, _poll({CPU_OID: 90}, customs=[CPU_OID]), None, None),
    (
        "power-low-scaled",
        {"oids": [POWER]},
        _poll({POWER_OID: -300}, customs=[POWER_OID]),
        None,
        "指标rx_dbm=-30低于下限-25",
    ),
    (
        "power-as-text",
        {"oids": [POWER]},
        _poll({POWER_OID: b"-200"}, customs=[POWER_OID]),
        None,
        None,
    ),
    (
        "custom-missing",
        {"oids": [CPU]},
        _poll({CPU_OID: Special.NO_SUCH_OBJECT}, customs=[CPU_OID]),
        "no_such_object",
        "指标cpu缺失（1.3.6.1.4.1.9.2.1.58.0）",
    ),
    (
        "non-numeric-text-skips-thresholds",
        {"oids": [LABEL]},
        _poll({LABEL_OID: b"n/a"}, customs=[LABEL_OID]),
        None,
        None,
    ),
    (
        "uptime-missing",
        {},
        _poll({SYS_UPTIME: Special.NO_SUCH_OBJECT}),
        "no_such_object",
        "sysUpTime.0缺失（无法判断重启）",
    ),
    (
        "rebooted",
        {},
        _poll({}, rebooted=True),
        None,
        "设备或SNMP代理重启（sysUpTime由9000降至500）",
    ),
]


@pytest.mark.parametrize(
    ("extra", "poll", "error", "detail"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_judge(extra: dict[str, Any], poll: Poll, error: str | None, detail: str | None) -> None:
    verdict = judge(_node(**extra), poll)
    assert verdict.error == error
    assert verdict.detail == detail
    assert verdict.degraded is (detail is not None)
    assert verdict.values["sys_name"] == "core-1"
    assert verdict.values["rebooted"] is poll.rebooted


def test_values_shape() -> None:
    node = _node(interfaces=["eth0", "eth9"], oids=[CPU, POWER])
    poll = _poll(
        {**_if(2, 1, 1), CPU_OID: 12, POWER_OID: -123},
        interfaces={"eth0": 2},
        customs=[CPU_OID, POWER_OID],
    )
    values = judge(node, poll).values
    assert values["sys_uptime"] == 500
    assert values["interfaces"] == {
        "eth0": {"oper": "up", "admin": "up", "index": 2},
        "eth9": {"oper": "missing", "admin": "missing", "index": None},
    }
    assert values["custom"] == {"cpu": 12, "rx_dbm": pytest.approx(-12.3)}


@pytest.mark.parametrize(
    ("previous", "now", "elapsed", "rebooted"),
    [
        (None, 100, 0.0, False),
        (100, 200, 1.0, False),
        (100, 100, 1.0, False),
        (9000, 50, 60.0, True),
        (2**32 - 1000, 500, 15.0, False),  # TimeTicks wrap after 497 days, not a reboot
        (2**32 - 200_000, 500, 15.0, True),  # far from the wrap: a reboot
    ],
    ids=["first", "forward", "same", "backwards", "wrap", "backwards-near-top"],
)
def test_reboot_detection(previous: int | None, now: int, elapsed: float, rebooted: bool) -> None:
    memory = NodeMemory(("127.0.0.1", 161, "v2"), uptime=previous, uptime_at=1000.0)
    assert _went_backwards(memory, now, 1000.0 + elapsed) is rebooted
    assert memory.uptime == now
