"""CommunityClient against a scripted loopback agent: demultiplexing, retries, strays."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from pyasn1.codec.ber import encoder
from pysnmp.proto import api, rfc1902

from probes.snmp_ber import GET, V2C, Message, decode_message, encode_varbinds
from probes.snmp_community import CommunityClient, CommunitySession
from probes.snmp_session import SnmpError

SYS_NAME = (1, 3, 6, 1, 2, 1, 1, 5, 0)


def response(request: Message, community: bytes | None = None, name: bytes = b"agent") -> bytes:
    """A GetResponse built by pysnmp (an independent encoder)."""
    p_mod = api.PROTOCOL_MODULES[request.version]
    pdu = p_mod.GetResponsePDU()
    p_mod.apiPDU.set_defaults(pdu)
    p_mod.apiPDU.set_request_id(pdu, request.request_id)
    p_mod.apiPDU.set_varbinds(pdu, [(o, rfc1902.OctetString(name)) for o, _ in request.varbinds])
    msg = p_mod.Message()
    p_mod.apiMessage.set_defaults(msg)
    p_mod.apiMessage.set_community(msg, community if community is not None else request.community)
    p_mod.apiMessage.set_pdu(msg, pdu)
    return bytes(encoder.encode(msg))


Behaviour = Callable[["Agent", Message, tuple[str, int]], None]


@dataclass
class Agent(asyncio.DatagramProtocol):
    """Records requests and lets a test decide how (or whether) to answer."""

    behaviour: Behaviour
    requests: list[Message] = field(default_factory=list)
    transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        request = decode_message(data)
        self.requests.append(request)
        self.behaviour(self, request, addr)

    def reply(self, data: bytes, addr: tuple[str, int]) -> None:
        assert self.transport is not None
        self.transport.sendto(data, addr)


def answer(agent: Agent, request: Message, addr: tuple[str, int]) -> None:
    agent.reply(response(request), addr)


@pytest.fixture
async def agent_factory() -> AsyncIterator[
    Callable[[Behaviour], asyncio.Future[tuple[Agent, int]]]
]:
    transports: list[asyncio.DatagramTransport] = []

    async def start(behaviour: Behaviour) -> tuple[Agent, int]:
        loop = asyncio.get_running_loop()
        transport, agent = await loop.create_datagram_endpoint(
            lambda: Agent(behaviour), local_addr=("127.0.0.1", 0)
        )
        transports.append(transport)
        # a 500-request burst overflows a default receive buffer (the very reason the
        # client raises its own): give the fake agent room too
        transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        return agent, int(transport.get_extra_info("sockname")[1])

    yield start  # type: ignore[misc]
    for transport in transports:
        transport.close()


def _session(
    client: CommunityClient, port: int, timeout: float = 0.2, retries: int = 0
) -> CommunitySession:
    return CommunitySession(client, ("127.0.0.1", port), V2C, b"public", timeout, retries)


async def test_many_concurrent_requests_are_demultiplexed(agent_factory) -> None:  # type: ignore[no-untyped-def]
    agent, port = await agent_factory(answer)
    client = CommunityClient(1 << 20)
    session = _session(client, port, timeout=10)  # the pysnmp-encoding fake agent is slow
    replies = await asyncio.gather(*(session.get([SYS_NAME]) for _ in range(500)))
    assert all(r.varbinds == [(SYS_NAME, b"agent")] for r in replies)
    assert len({m.request_id for m in agent.requests}) == 500
    assert client.wire.stray == 0
    assert client.receive_buffer_effective >= 1 << 20
    client.close()


async def test_retransmission_reuses_the_request_id(agent_factory) -> None:  # type: ignore[no-untyped-def]
    def second_time(agent: Agent, request: Message, addr: tuple[str, int]) -> None:
        if len(agent.requests) >= 2:
            answer(agent, request, addr)

    agent, port = await agent_factory(second_time)
    client = CommunityClient(1 << 16)
    reply = await _session(client, port, timeout=0.1, retries=2).get([SYS_NAME])
    assert reply.varbinds == [(SYS_NAME, b"agent")]
    assert [m.request_id for m in agent.requests] == [agent.requests[0].request_id] * 2
    assert client.wire.retransmits == 1
    client.close()


async def test_silence_is_a_timeout_after_all_attempts(agent_factory) -> None:  # type: ignore[no-untyped-def]
    agent, port = await agent_factory(lambda *_: None)
    client = CommunityClient(1 << 16)
    started = asyncio.get_running_loop().time()
    with pytest.raises(SnmpError) as caught:
        await _session(client, port, timeout=0.1, retries=2).get([SYS_NAME])
    assert caught.value.kind == "timeout"
    assert len(agent.requests) == 3
    assert 0.28 < asyncio.get_running_loop().time() - started < 1.0
    client.close()


@pytest.mark.parametrize(
    "how",
    ["wrong-community", "wrong-source", "garbage", "unknown-request-id"],
)
async def test_stray_datagrams_are_counted_and_dropped(agent_factory, how: str) -> None:  # type: ignore[no-untyped-def]
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other.bind(("127.0.0.1", 0))

    def misbehave(agent: Agent, request: Message, addr: tuple[str, int]) -> None:
        if how == "wrong-community":
            agent.reply(response(request, community=b"private"), addr)
        elif how == "wrong-source":
            other.sendto(response(request), addr)
        elif how == "garbage":
            agent.reply(b"\x30\x03\x02\x01", addr)
        else:
            forged = Message(V2C, b"public", 0xA2, request.request_id + 1, 0, 0, request.varbinds)
            agent.reply(response(forged), addr)

    _, port = await agent_factory(misbehave)
    client = CommunityClient(1 << 16)
    with pytest.raises(SnmpError, match="timeout"):
        await _session(client, port, timeout=0.15).get([SYS_NAME])
    assert client.wire.stray == 1
    client.close()
    other.close()


async def test_close_fails_requests_in_flight(agent_factory) -> None:  # type: ignore[no-untyped-def]
    _, port = await agent_factory(lambda *_: None)
    client = CommunityClient(1 << 16)
    pending = asyncio.ensure_future(_session(client, port, timeout=5).get([SYS_NAME]))
    await asyncio.sleep(0.05)
    client.close()
    with pytest.raises(SnmpError, match="closed"):
        await pending


async def test_unroutable_address_is_a_transport_error() -> None:
    client = CommunityClient(1 << 16)
    session = CommunitySession(client, ("255.255.255.255", 161), V2C, b"public", 0.2, 0)
    with pytest.raises(SnmpError) as caught:  # broadcast without SO_BROADCAST: EACCES
        await session.get([SYS_NAME])
    assert caught.value.kind == "transport"
    client.close()


def test_prebuilt_varbinds_are_reused() -> None:
    from probes.snmp_ber import request_varbinds as _varbinds

    assert _varbinds(((1, 3, 6, 1),)) is _varbinds(((1, 3, 6, 1),))
    assert _varbinds(((1, 3, 6, 1),)) == encode_varbinds([(1, 3, 6, 1)])
    assert GET == 0xA0
