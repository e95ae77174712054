"""TrapReceiver against net-snmp's snmptrap/snmpinform: v1, v2c, v3 traps and informs."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from monitor.config.daemon import SnmpAuthConfig, TrapConfig
from probes.traps import TrapReceiver, normalize_address
from tests.requirements import require_binary
from tests.snmpd import snmp_env

pytestmark = pytest.mark.peer

KNOWN = "127.0.0.2"  # the node's address; snmptrap --clientaddr sends from it
STRANGER = "127.0.0.3"
ENGINE_ID = "0x8000000001020304"
AUTHS = {
    "public-v2c": SnmpAuthConfig(version="2c", community="public"),
    "ops-v3": SnmpAuthConfig(
        version="3",
        user="trapper",
        auth_protocol="SHA256",
        auth_key="authpass123",
        priv_protocol="AES",
        priv_key="privpass123",
    ),
}
V3 = [
    "-u",
    "trapper",
    "-l",
    "authPriv",
    "-a",
    "SHA-256",
    "-A",
    "authpass123",
    "-x",
    "AES",
    "-X",
    "privpass123",
]
LINK_DOWN = [
    "1.3.6.1.6.3.1.1.5.3",
    "1.3.6.1.2.1.2.2.1.1.3",
    "i",
    "3",
    "1.3.6.1.2.1.2.2.1.7.3",
    "i",
    "1",
    "1.3.6.1.2.1.2.2.1.8.3",
    "i",
    "2",
    "1.3.6.1.2.1.2.2.1.2.3",
    "s",
    "上联口eth1",
]

Calls = list[tuple[str, str, dict[str, Any]]]


async def wait_for(condition: Callable[[], bool], limit: float = 3.0) -> bool:
    for _ in range(int(limit / 0.02)):
        if condition():
            return True
        await asyncio.sleep(0.02)
    return condition()


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[TrapReceiver, Calls]]:
    require_binary("snmptrap")
    calls: Calls = []
    config = TrapConfig(
        enabled=True, listen="127.0.0.1:0", auth=["public-v2c", "ops-v3"], v3_engine_ids=[ENGINE_ID]
    )
    trap_receiver = TrapReceiver(
        config, AUTHS, {KNOWN: "cmcc-core-1"}, lambda n, t, v: calls.append((n, t, v))
    )
    await trap_receiver.start()
    yield trap_receiver, calls
    await trap_receiver.stop()


async def _trap(
    port: int, auth: list[str], trap: list[str], source: str = KNOWN, tool: str = "snmptrap"
) -> None:
    binary = require_binary(tool)
    process = await asyncio.create_subprocess_exec(
        binary,
        f"--clientaddr={source}",
        "-t",
        "1",
        "-r",
        "1",
        *auth,
        f"127.0.0.1:{port}",
        "",
        *trap,
        env=snmp_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, (out, err)


async def test_v2c_link_down_reaches_the_callback_with_the_node(receiver: Any) -> None:
    trap_receiver, calls = receiver
    port = trap_receiver.address[1]
    await _trap(port, ["-v2c", "-c", "public"], LINK_DOWN)
    assert await wait_for(lambda: len(calls) == 1)
    node, name, varbinds = calls[0]
    assert (node, name) == ("cmcc-core-1", "linkDown")
    assert varbinds["1.3.6.1.2.1.2.2.1.8.3"] == 2
    assert varbinds["1.3.6.1.2.1.2.2.1.2.3"] == "上联口eth1"
    assert trap_receiver.by_trap["linkDown"] == 1


@pytest.mark.parametrize(
    ("auth", "tool", "trap", "name"),
    [
        (["-v2c", "-c", "public"], "snmptrap", ["1.3.6.1.6.3.1.1.5.1"], "coldStart"),
        (["-v2c", "-c", "public"], "snmptrap", ["1.3.6.1.6.3.1.1.5.4"], "linkUp"),
        (
            ["-v2c", "-c", "public"],
            "snmptrap",
            ["1.3.6.1.4.1.2011.5.25.1"],
            "1.3.6.1.4.1.2011.5.25.1",
        ),
        (["-v3", "-e", ENGINE_ID, *V3], "snmptrap", ["1.3.6.1.6.3.1.1.5.2"], "warmStart"),
        (["-v3", *V3], "snmpinform", ["1.3.6.1.6.3.1.1.5.3"], "linkDown"),
    ],
    ids=["v2c-coldStart", "v2c-linkUp", "v2c-enterprise", "v3-trap", "v3-inform"],
)
async def test_notifications_are_named(
    receiver: Any, auth: list[str], tool: str, trap: list[str], name: str
) -> None:
    trap_receiver, calls = receiver
    await _trap(trap_receiver.address[1], auth, trap, tool=tool)
    assert await wait_for(lambda: len(calls) == 1), trap_receiver.received
    assert calls[0][:2] == ("cmcc-core-1", name)


async def test_v1_trap_is_converted(receiver: Any) -> None:
    trap_receiver, calls = receiver
    binary = require_binary("snmptrap")
    process = await asyncio.create_subprocess_exec(
        binary,
        f"--clientaddr={KNOWN}",
        "-v1",
        "-c",
        "public",
        f"127.0.0.1:{trap_receiver.address[1]}",
        "1.3.6.1.4.1.8072",
        KNOWN,
        "2",
        "0",
        "",
        env=snmp_env(),
    )
    assert await process.wait() == 0
    assert await wait_for(lambda: len(calls) == 1)
    assert calls[0][:2] == ("cmcc-core-1", "linkDown")


async def test_unknown_sender_is_counted_and_dropped(receiver: Any) -> None:
    trap_receiver, calls = receiver
    await _trap(trap_receiver.address[1], ["-v2c", "-c", "public"], LINK_DOWN, source=STRANGER)
    assert await wait_for(lambda: trap_receiver.unknown_senders == 1)
    assert trap_receiver.unknown_by_address == {STRANGER: 1}
    assert calls == []


async def test_wrong_credentials_never_reach_the_callback(receiver: Any) -> None:
    trap_receiver, calls = receiver
    port = trap_receiver.address[1]
    await _trap(port, ["-v2c", "-c", "private"], ["1.3.6.1.6.3.1.1.5.1"])
    bad_key = [
        "-u",
        "trapper",
        "-l",
        "authPriv",
        "-a",
        "SHA-256",
        "-A",
        "wrongpass123",
        "-x",
        "AES",
        "-X",
        "privpass123",
    ]
    await _trap(port, ["-v3", "-e", ENGINE_ID, *bad_key], ["1.3.6.1.6.3.1.1.5.1"])
    await _trap(port, ["-v2c", "-c", "public"], ["1.3.6.1.6.3.1.1.5.4"])  # a good one last
    assert await wait_for(lambda: len(calls) == 1)
    assert calls[0][1] == "linkUp"
    assert trap_receiver.received == 1


async def test_async_callback_runs_and_a_failing_one_is_counted() -> None:
    require_binary("snmptrap")
    seen: list[str] = []

    async def reprobe(node: str, name: str, varbinds: dict[str, Any]) -> None:
        await asyncio.sleep(0)
        if name == "coldStart":
            raise RuntimeError("boom")
        seen.append(node)

    config = TrapConfig(listen="127.0.0.1:0", auth=["public-v2c"], reprobe_every="10ms")  # type: ignore[arg-type]
    trap_receiver = TrapReceiver(config, AUTHS, {KNOWN: "n1"}, reprobe)
    await trap_receiver.start()
    try:
        port = trap_receiver.address[1]
        await _trap(port, ["-v2c", "-c", "public"], ["1.3.6.1.6.3.1.1.5.1"])
        assert await wait_for(lambda: trap_receiver.callback_errors == 1)
        await asyncio.sleep(0.05)  # past reprobe_every: the next trap re-probes again
        await _trap(port, ["-v2c", "-c", "public"], LINK_DOWN)
        assert await wait_for(lambda: seen == ["n1"] and trap_receiver.callback_errors == 1)
    finally:
        await trap_receiver.stop()


async def test_stop_releases_the_port_and_stops_delivery() -> None:
    """lextudio/pysnmp#203: close_dispatcher may leave a receiver running."""
    require_binary("snmptrap")
    calls: Calls = []
    trap_receiver = TrapReceiver(
        TrapConfig(listen="127.0.0.1:0", auth=["public-v2c"]),
        AUTHS,
        {KNOWN: "n1"},
        lambda n, t, v: calls.append((n, t, v)),
    )
    await trap_receiver.start()
    port = trap_receiver.address[1]
    await _trap(port, ["-v2c", "-c", "public"], ["1.3.6.1.6.3.1.1.5.1"])
    assert await wait_for(lambda: len(calls) == 1)
    await trap_receiver.stop()
    await _trap(port, ["-v2c", "-c", "public"], ["1.3.6.1.6.3.1.1.5.1"])
    await asyncio.sleep(0.3)
    assert len(calls) == 1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as again:
        again.bind(("127.0.0.1", port))  # the port is free again
    await trap_receiver.stop()  # idempotent


async def test_start_fails_at_once_on_a_taken_port() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        trap_receiver = TrapReceiver(
            TrapConfig(listen=f"127.0.0.1:{port}", auth=["public-v2c"]), AUTHS, {}, print
        )
        with pytest.raises(OSError, match="in use"):
            await trap_receiver.start()


@pytest.mark.parametrize(
    ("raw", "normal"),
    [("127.0.0.2", "127.0.0.2"), ("::ffff:10.0.0.1", "10.0.0.1"), ("fe80::1%eth0", "fe80::1")],
    ids=["v4", "v4-mapped", "scoped-v6"],
)
def test_sender_addresses_are_normalized(raw: str, normal: str) -> None:
    assert normalize_address(raw) == normal


@pytest.mark.parametrize(
    ("engine_id", "ok"),
    [
        ("0x8000000001020304", True),
        ("0X80000000010203", True),
        ("8000000001", True),
        ("0x80", False),
        ("0x8000000001020g", False),
        ("0x" + "00" * 33, False),
    ],
    ids=["ok", "upper-prefix", "no-prefix", "too-short", "not-hex", "too-long"],
)
def test_v3_engine_ids_are_validated(engine_id: str, ok: bool) -> None:
    if ok:
        assert TrapConfig(v3_engine_ids=[engine_id]).v3_engine_ids == [engine_id]
    else:
        with pytest.raises(ValueError, match="snmpEngineID"):
            TrapConfig(v3_engine_ids=[engine_id])
