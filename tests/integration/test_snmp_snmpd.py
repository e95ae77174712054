"""SnmpProbe against a real net-snmp snmpd on loopback: every version, every error kind."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.config import load_config
from monitor.config.daemon import SnmpAuthConfig, SnmpProbeConfig
from monitor.config.inventory import CustomOid, NodeConfig
from probes.registry import PROBES
from probes.snmp import SnmpProbe
from tests.snmpd import Snmpd, free_udp_port

pytestmark = pytest.mark.peer

AUTHS: dict[str, SnmpAuthConfig] = {
    name: SnmpAuthConfig.model_validate(spec)
    for name, spec in {
        "v1": {"version": "1", "community": "public"},
        "v2c": {"version": "2c", "community": "public"},
        "wrong-community": {"version": "2c", "community": "not-public"},
        "v3-auth-sha": {
            "version": "3",
            "user": "authonly",
            "auth_protocol": "SHA",
            "auth_key": "authpass123",
        },
        "v3-sha-aes": {
            "version": "3",
            "user": "privsha",
            "auth_protocol": "SHA",
            "auth_key": "authpass123",
            "priv_protocol": "AES",
            "priv_key": "privpass123",
        },
        "v3-sha256-aes256": {
            "version": "3",
            "user": "privsha256",
            "auth_protocol": "SHA256",
            "auth_key": "authpass256x",
            "priv_protocol": "AES256",
            "priv_key": "privpass256x",
        },
        "v3-wrong-auth-key": {
            "version": "3",
            "user": "privsha",
            "auth_protocol": "SHA",
            "auth_key": "wrongpass123",
            "priv_protocol": "AES",
            "priv_key": "privpass123",
        },
        "v3-wrong-priv-key": {
            "version": "3",
            "user": "privsha256",
            "auth_protocol": "SHA256",
            "auth_key": "authpass256x",
            "priv_protocol": "AES256",
            "priv_key": "wrongpriv123",
        },
        "v3-unknown-user": {
            "version": "3",
            "user": "ghost",
            "auth_protocol": "SHA",
            "auth_key": "authpass123",
            "priv_protocol": "AES",
            "priv_key": "privpass123",
        },
        "v3-level-too-low": {
            "version": "3",
            "user": "privsha",
            "auth_protocol": "SHA",
            "auth_key": "authpass123",
        },
        "v3-priv-for-auth-only-user": {
            "version": "3",
            "user": "authonly",
            "auth_protocol": "SHA",
            "auth_key": "authpass123",
            "priv_protocol": "AES",
            "priv_key": "privpass123",
        },
    }.items()
}
FAST = SnmpProbeConfig(timeout="200ms", retries=0)
IF_NUMBER = CustomOid(name="ifnumber", oid="1.3.6.1.2.1.2.1.0", warn_above=0)
MISSING = CustomOid(name="optical_rx", oid="1.3.6.1.4.1.99999.1.0", warn_below=-25)


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snmpd]:
    with Snmpd(tmp_path_factory.mktemp("snmpd")) as running:
        yield running


def node(auth: str, port: int, node_id: str = "r1", **extra: Any) -> NodeConfig:
    return NodeConfig(
        id=node_id,
        name="测试路由器",
        system="s",
        address="127.0.0.1",
        probes=["snmp"],
        snmp_auth=auth,
        snmp_port=port,
        **extra,
    )


@pytest.mark.parametrize("auth", ["v1", "v2c", "v3-auth-sha", "v3-sha-aes", "v3-sha256-aes256"])
async def test_get_works_for_every_version(agent: Snmpd, auth: str) -> None:
    probe = SnmpProbe(FAST, AUTHS)
    try:
        result = await probe.probe(node(auth, agent.port))
    finally:
        await probe.close()
    assert result.ok, result
    assert (result.error, result.degraded) == (None, False)
    assert result.values["sys_name"] == "commwatch-test-agent"
    assert isinstance(result.values["sys_uptime"], int)
    assert result.values["sys_uptime"] >= 0
    assert result.rtt_ms is not None
    assert result.rtt_ms > 0
    assert probe.stats.requests == 1


@pytest.mark.parametrize(
    ("auth", "port", "error"),
    [
        ("wrong-community", None, "timeout"),
        ("v2c", "dead", "timeout"),
        ("v3-sha-aes", "dead", "timeout"),
        ("v3-wrong-auth-key", None, "auth"),
        ("v3-wrong-priv-key", None, "timeout"),  # net-snmp drops what it cannot decrypt
        ("v3-unknown-user", None, "auth"),
        ("v3-level-too-low", None, "auth"),  # authorizationError from VACM
        ("v3-priv-for-auth-only-user", None, "auth"),  # unsupportedSecLevel report
    ],
    ids=[
        "wrong-community",
        "dead-port-v2c",
        "dead-port-v3",
        "wrong-v3-key",
        "wrong-priv-key",
        "unknown-user",
        "level-too-low",
        "unsupported-level",
    ],
)
async def test_each_failure_reports_its_kind(
    agent: Snmpd, auth: str, port: str | None, error: str
) -> None:
    probe = SnmpProbe(FAST, AUTHS)
    try:
        result = await probe.probe(node(auth, free_udp_port() if port else agent.port))
    finally:
        await probe.close()
    assert (result.ok, result.error) == (False, error), result
    assert result.detail
    assert probe.stats.timeouts == (1 if error == "timeout" else 0)
    assert probe.stats.auth_failures == (1 if error == "auth" else 0)


@pytest.mark.parametrize("auth", ["v1", "v2c", "v3-sha-aes"])
async def test_missing_custom_oid_degrades_and_names_it(agent: Snmpd, auth: str) -> None:
    probe = SnmpProbe(FAST, AUTHS)
    try:
        result = await probe.probe(node(auth, agent.port, oids=[IF_NUMBER, MISSING]))
    finally:
        await probe.close()
    assert (result.ok, result.degraded, result.error) == (True, True, "no_such_object")
    assert "指标optical_rx缺失（1.3.6.1.4.1.99999.1.0）" in (result.detail or "")
    assert "指标ifnumber=" in (result.detail or "")  # ifNumber > 0: past warn_above
    assert result.values["custom"]["optical_rx"] is None
    assert result.values["custom"]["ifnumber"] >= 1


@pytest.mark.parametrize("auth", ["v2c", "v3-sha256-aes256"])
async def test_interfaces_walk_finds_lo(agent: Snmpd, auth: str) -> None:
    probe = SnmpProbe(FAST, AUTHS)
    try:
        first = await probe.probe(node(auth, agent.port, interfaces=["lo"]))
        second = await probe.probe(node(auth, agent.port, interfaces=["lo"]))
    finally:
        await probe.close()
    for result in (first, second):
        assert (result.ok, result.degraded, result.error) == (True, False, None), result
        assert result.values["interfaces"]["lo"] == {"oper": "up", "admin": "up", "index": 1}
    assert probe.stats.requests in (
        4,
        5,
    )  # GET, walk (1–2 bulk), GET; then one GET (cached ifIndex)


async def test_unknown_interface_is_interface_missing(agent: Snmpd) -> None:
    probe = SnmpProbe(FAST, AUTHS)
    try:
        result = await probe.probe(node("v2c", agent.port, interfaces=["lo", "eth-nope"]))
    finally:
        await probe.close()
    assert (result.ok, result.degraded, result.error) == (True, True, "interface_missing")
    assert result.detail == "未找到接口eth-nope"
    assert result.values["interfaces"]["eth-nope"]["oper"] == "missing"


async def test_round_mixes_versions_and_failures(agent: Snmpd) -> None:
    nodes = [
        node(auth, agent.port, node_id=f"n-{auth}")
        for auth in ("v2c", "v3-sha-aes", "v3-wrong-auth-key", "wrong-community", "v1")
    ]
    probe = SnmpProbe(FAST, AUTHS)
    try:
        results = await probe.probe_round(nodes)
    finally:
        await probe.close()
    assert [r.node for r in results] == [n.id for n in nodes]
    assert [r.error for r in results] == [None, None, "auth", "timeout", None]
    assert probe.stats.last_round_seconds > 0
    assert probe.stats.rounds == 1


def test_prober_survives_a_new_event_loop(agent: Snmpd) -> None:
    """probe-once and tests run several loops: clients are rebuilt, nothing hangs."""
    probe = SnmpProbe(FAST, AUTHS)
    nodes = [node("v2c", agent.port, "a"), node("v3-sha-aes", agent.port, "b")]

    async def one_round() -> list[bool]:
        return [r.ok for r in await asyncio.wait_for(probe.probe_round(nodes), 5)]

    assert asyncio.run(one_round()) == [True, True]
    assert asyncio.run(one_round()) == [True, True]
    asyncio.run(probe.close())


async def test_reboot_is_detected_and_interfaces_reresolved(tmp_path: Path) -> None:
    probe = SnmpProbe(SnmpProbeConfig(timeout="500ms", retries=2), AUTHS)
    nodes = [
        node("v2c", 161, "v2", interfaces=["lo"]),
        node("v3-sha-aes", 161, "v3", interfaces=["lo"]),
    ]
    with Snmpd(tmp_path) as agent:
        nodes = [n.model_copy(update={"snmp_port": agent.port}) for n in nodes]
        await asyncio.sleep(1.2)  # sysUpTime ≥ 120 before the restart
        before = await probe.probe_round(nodes)
        agent.restart()
        after = await probe.probe_round(nodes)
        again = await probe.probe_round(nodes)
    await probe.close()
    assert all(r.ok and not r.values["rebooted"] for r in before), before
    for result in after:
        assert result.ok, result
        assert result.values["rebooted"] is True
        assert result.degraded
        assert "重启" in (result.detail or "")
        assert result.values["interfaces"]["lo"]["oper"] == "up"
    assert all(not r.values["rebooted"] for r in again), again


async def test_v3_device_with_a_new_engine_id_is_rediscovered_in_the_same_round(
    tmp_path: Path,
) -> None:
    """A cached snmpEngineID that changed must not mean a false DOWN (pysnmp kept it
    for 300 s): the agent's unknownEngineID report carries the new ID, and a timeout
    also forgets the cached engine before the one retry."""
    probe = SnmpProbe(SnmpProbeConfig(timeout="300ms", retries=1), AUTHS)
    with Snmpd(tmp_path) as agent:
        v3 = node("v3-sha256-aes256", agent.port, "v3")
        first = await probe.probe(v3)
        agent.restart(new_engine_id=True)  # a replaced or factory-reset device
        second = await probe.probe(v3)
    await probe.close()
    assert first.ok, first
    assert (second.ok, second.values.get("sys_name")) == (True, "commwatch-test-agent"), second
    assert probe.stats.timeouts == 0


def test_config_keys_from_the_issue_build_a_working_prober(tmp_path: Path, agent: Snmpd) -> None:
    shipped = Path(__file__).resolve().parents[2] / "config"
    config_dir = tmp_path / "config"
    shutil.copytree(shipped, config_dir)
    daemon = config_dir / "commwatch.toml"
    daemon.write_text(
        daemon.read_text(encoding="utf-8")
        + '\n[snmp.auth.ops-v3]\nversion = "3"\nuser = "privsha"\nauth_protocol = "SHA"\n'
        'auth_key = "authpass123"\npriv_protocol = "AES"\npriv_key = "privpass123"\n',
        encoding="utf-8",
    )
    nodes = config_dir / "nodes.toml"
    extra = "".join(
        f'\n[[node]]\nid = "snmp-{auth}"\nname = "SNMP {auth}"\nsystem = "cmcc"\n'
        f'address = "127.0.0.1"\nprobes = ["snmp"]\nsnmp_auth = "{auth}"\n'
        f'snmp_port = {agent.port}\ninterfaces = ["lo"]\n'
        for auth in ("public-v2c", "ops-v3")
    )
    nodes.write_text(nodes.read_text(encoding="utf-8") + extra, encoding="utf-8")
    config = load_config(config_dir)
    probe = PROBES["snmp"](config)
    assert isinstance(probe, SnmpProbe)
    snmp_nodes = [config.nodes["snmp-public-v2c"], config.nodes["snmp-ops-v3"]]

    async def run() -> list[Any]:
        try:
            return [r.to_json() for r in await probe.probe_round(snmp_nodes)]
        finally:
            await probe.close()

    for line in asyncio.run(run()):
        assert (line["probe"], line["ok"], line["error"]) == ("snmp", True, None), line
        assert line["sys_name"] == "commwatch-test-agent"
        assert line["interfaces"]["lo"]["oper"] == "up"
