"""The in-house SNMPv3 client against a real net-snmp snmpd: every protocol, every report.

net-snmp checks our digests, decrypts our PDUs and sends the reports USM
defines (unknownEngineID, notInTimeWindow, unknownUserName, wrongDigest,
unsupportedSecLevel); the wire counters show how many datagrams each case took.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.config.daemon import SnmpAuthConfig, SnmpProbeConfig
from monitor.config.inventory import NodeConfig
from probes import snmp_v3_client
from probes.snmp import SnmpProbe
from tests.snmpd import DEFAULT_USERS, Snmpd, V3User

pytestmark = pytest.mark.peer

USERS = (
    *DEFAULT_USERS,
    V3User("md5des", "MD5", "authpass123", "DES", "privpass123"),
    V3User("sha224aes192", "SHA-224", "authpass224", "AES-192", "privpass224"),
    V3User("sha384aes256c", "SHA-384", "authpass384", "AES-256-C", "privpass384"),
    V3User("sha512aes192c", "SHA-512", "authpass512", "AES-192-C", "privpass512"),
    V3User("md5only", "MD5", "authpassmd5"),
)
PLAIN = "createUser plain\nrouser plain noauth"


def v3(
    user: str, auth: str | None, auth_key: str, priv: str | None, priv_key: str
) -> SnmpAuthConfig:
    spec: dict[str, str] = {"version": "3", "user": user}
    if auth:
        spec |= {"auth_protocol": auth, "auth_key": auth_key}
    if priv:
        spec |= {"priv_protocol": priv, "priv_key": priv_key}
    return SnmpAuthConfig.model_validate(spec)


AUTHS = {
    "sha-aes": v3("privsha", "SHA", "authpass123", "AES", "privpass123"),
    "sha256-aes256": v3("privsha256", "SHA256", "authpass256x", "AES256", "privpass256x"),
    "md5-des": v3("md5des", "MD5", "authpass123", "DES", "privpass123"),
    "sha224-aes192": v3("sha224aes192", "SHA224", "authpass224", "AES192", "privpass224"),
    "sha384-aes256c": v3("sha384aes256c", "SHA384", "authpass384", "AES256C", "privpass384"),
    "sha512-aes192c": v3("sha512aes192c", "SHA512", "authpass512", "AES192C", "privpass512"),
    "md5-auth-only": v3("md5only", "MD5", "authpassmd5", None, ""),
    "no-auth": v3("plain", None, "", None, ""),
    "wrong-auth-key": v3("privsha", "SHA", "wrongpass123", "AES", "privpass123"),
    "wrong-priv-key": v3("md5des", "MD5", "authpass123", "DES", "wrongpriv123"),
    "unknown-user": v3("ghost", "SHA", "authpass123", "AES", "privpass123"),
    "level-too-high": v3("md5only", "MD5", "authpassmd5", "DES", "privpassmd5"),
}
FAST = SnmpProbeConfig(timeout="300ms", retries=0)


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snmpd]:
    with Snmpd(tmp_path_factory.mktemp("snmpd"), users=USERS, extra_conf=PLAIN) as running:
        yield running


def node(auth: str, port: int) -> NodeConfig:
    return NodeConfig(
        id="r1",
        name="r1",
        system="s",
        address="127.0.0.1",
        probes=["snmp"],
        snmp_auth=auth,
        snmp_port=port,
    )


@pytest.mark.parametrize(
    "auth",
    [
        "sha-aes",
        "sha256-aes256",
        "md5-des",
        "sha224-aes192",
        "sha384-aes256c",
        "sha512-aes192c",
        "md5-auth-only",
        "no-auth",
    ],
)
async def test_every_protocol_pair_polls(agent: Snmpd, auth: str) -> None:
    probe = SnmpProbe(FAST, AUTHS)
    try:
        first = await probe.probe(node(auth, agent.port))
        sent = probe.stats.wire.sent
        second = await probe.probe(node(auth, agent.port))
    finally:
        await probe.close()
    for result in (first, second):
        assert result.ok, result
        assert result.error is None, result
        assert result.values["sys_name"] == "commwatch-test-agent"
    assert probe.stats.wire.sent - sent == 1  # engine known, keys localised: one GET, one reply
    assert probe.stats.wire.stray == 0


@pytest.mark.parametrize(
    ("auth", "error", "words"),
    [
        ("wrong-auth-key", "auth", "wrongDigest"),
        ("unknown-user", "auth", "unknownUserName"),
        ("level-too-high", "auth", "unsupportedSecLevel"),
        ("wrong-priv-key", "timeout", "no answer"),  # net-snmp drops what it cannot decrypt
    ],
)
async def test_reports_and_silence_map_to_error_kinds(
    agent: Snmpd, auth: str, error: str, words: str
) -> None:
    probe = SnmpProbe(FAST, AUTHS)
    try:
        result = await probe.probe(node(auth, agent.port))
    finally:
        await probe.close()
    assert (result.ok, result.error) == (False, error), result
    assert words in (result.detail or "")
    secret = AUTHS[auth].auth_key
    assert secret is not None
    assert secret.get_secret_value() not in (result.detail or "")


class _Clock:
    """time for probes.snmp_v3_client, with a monotonic clock that can jump."""

    def __init__(self) -> None:
        self.offset = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.offset


async def test_a_clock_out_of_the_time_window_is_resynchronised_by_one_report(
    agent: Snmpd, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Our estimate of the agent's engineTime 1000 s off (a suspended host, say): the
    agent answers notInTimeWindow with its real boots/time, we adopt them and ask again.

    (A real engineBoots change cannot be made here: net-snmp 5.9 keeps engineBoots at 1
    when snmpd.conf sets engineID, as tests/snmpd.py does; the report path is the same.)
    """
    clock = _Clock()
    monkeypatch.setattr(snmp_v3_client, "time", clock)
    probe = SnmpProbe(FAST, AUTHS)
    try:
        assert (await probe.probe(node("md5-des", agent.port))).ok
        clock.offset = 1000.0
        sent = probe.stats.wire.sent
        result = await probe.probe(node("md5-des", agent.port))
    finally:
        await probe.close()
    assert result.ok, result
    assert probe.stats.wire.sent - sent == 2  # notInTimeWindow, the GET again: no rediscovery
    assert probe.stats.timeouts == 0


async def test_a_new_engine_id_is_learnt_from_the_report(tmp_path: Path) -> None:
    probe = SnmpProbe(FAST, AUTHS)
    with Snmpd(tmp_path, users=USERS) as agent:
        assert (await probe.probe(node("sha384-aes256c", agent.port))).ok
        agent.restart(new_engine_id=True)  # keys must be localised again for the new ID
        sent = probe.stats.wire.sent
        result = await probe.probe(node("sha384-aes256c", agent.port))
    await probe.close()
    assert result.ok, result
    assert probe.stats.wire.sent - sent == 2  # unknownEngineID report, then the GET again
    assert probe.stats.timeouts == 0


async def test_one_discovery_for_many_concurrent_requests(agent: Snmpd) -> None:
    probe = SnmpProbe(SnmpProbeConfig(timeout="2s", retries=0), AUTHS)
    nodes = [node("sha-aes", agent.port).model_copy(update={"id": f"n{i}"}) for i in range(50)]
    try:
        results = await probe.probe_round(nodes)
    finally:
        await probe.close()
    assert all(r.ok for r in results), [r for r in results if not r.ok][:3]
    assert probe.stats.wire.sent == 51  # one discovery, fifty GETs


async def test_one_user_name_with_different_keys_on_two_agents(
    agent: Snmpd, tmp_path: Path
) -> None:
    """Keys belong to the credential and the engine, not to the user name: no clash."""
    other_keys = V3User("privsha", "SHA", "otherauth999", "AES", "otherpriv999")
    auths = {
        "here": AUTHS["sha-aes"],
        "there": v3("privsha", "SHA", "otherauth999", "AES", "otherpriv999"),
    }
    probe = SnmpProbe(FAST, auths)
    with Snmpd(tmp_path, users=(other_keys,)) as second:
        nodes = [
            node("here", agent.port),
            node("there", second.port).model_copy(update={"id": "r2"}),
        ] * 5
        results = await probe.probe_round(nodes)
    await probe.close()
    assert [r.ok for r in results] == [True] * 10, [r for r in results if not r.ok][:2]
