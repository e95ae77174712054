"""V3Client against a scripted USM agent on loopback: boots changes, and what is not ours.

The agent here is built from the same codec, so it proves the client's rules
(which datagram it takes, when it resynchronises), not interoperability: that
is tests/integration/test_snmp_v3_snmpd.py against net-snmp.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from monitor.config.daemon import SnmpAuthConfig
from probes.snmp_ber import REPORT, RESPONSE, encode_oid, tlv
from probes.snmp_session import SnmpError
from probes.snmp_udp import WireStats
from probes.snmp_v3_client import NOT_IN_TIME_WINDOW, UNKNOWN_ENGINE_ID, V3Client, V3Session
from probes.snmp_v3_keys import UserKeys
from probes.snmp_v3_message import (
    AUTH_FLAG,
    PRIV_FLAG,
    decode_header,
    decode_scoped_pdu,
    encode_message,
    encode_scoped_pdu,
    encrypted_data,
    sign_into,
)

ENGINE = b"\x80\x00\x1f\x88\x04fake-agent"
SYS_NAME = (1, 3, 6, 1, 2, 1, 1, 5, 0)
AUTH = SnmpAuthConfig(
    version="3",
    user="u",
    auth_protocol="SHA256",
    auth_key="authpass256x",
    priv_protocol="AES",
    priv_key="privpass256x",
)
KEYS = UserKeys("SHA256", b"authpass256x", "AES", b"privpass256x").for_engine(ENGINE)


@dataclass
class Agent(asyncio.DatagramProtocol):
    """A USM agent in a few lines: discovery, time window, one OID, and misbehaviour."""

    boots: int = 1
    misbehave: str = ""  # "other-port", "wrong-msg-id", "bad-digest"
    seen_boots: list[int] = field(default_factory=list)
    transport: asyncio.DatagramTransport | None = None
    other: socket.socket | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a datagram endpoint's

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        header = decode_header(data)
        self.seen_boots.append(header.boots)
        if not header.engine_id:
            self._send(addr, header.msg_id, REPORT, UNKNOWN_ENGINE_ID, signed=False)
        elif header.boots != self.boots:
            self._send(addr, header.msg_id, REPORT, NOT_IN_TIME_WINDOW, signed=True)
        else:
            assert KEYS is not None
            assert KEYS.privacy is not None
            cipher = data[header.data_start : header.data_end]
            plain = KEYS.privacy.decrypt(cipher, header.priv_params, header.boots, header.time)
            assert plain is not None
            assert decode_scoped_pdu(plain).request_id == header.msg_id
            msg_id = header.msg_id + (1 if self.misbehave == "wrong-msg-id" else 0)
            self._send(addr, msg_id, RESPONSE, SYS_NAME, signed=True, value=b"fake")

    def _send(
        self,
        addr: tuple[str | int, ...],
        msg_id: int,
        pdu_type: int,
        oid: tuple[int, ...],
        signed: bool,
        value: bytes | None = None,
    ) -> None:
        assert KEYS is not None
        assert KEYS.privacy is not None
        assert self.transport is not None
        binds = tlv(0x30, tlv(0x30, encode_oid(oid) + tlv(0x04, value or b"")))
        scoped = encode_scoped_pdu(ENGINE, b"", pdu_type, msg_id, binds)
        flags, salt, mac = 0, b"", 0
        if signed:
            ciphertext, salt = KEYS.privacy.encrypt(scoped, self.boots, 100)
            scoped, flags, mac = encrypted_data(ciphertext), AUTH_FLAG | PRIV_FLAG, 24
        message, offset = encode_message(
            msg_id, flags, ENGINE, self.boots, 100, b"u" if signed else b"", mac, salt, scoped
        )
        if signed:
            digest = KEYS.sign(message)
            if self.misbehave == "bad-digest":
                digest = bytes(24)
            message = sign_into(message, offset, digest)
        if self.misbehave == "other-port" and pdu_type == RESPONSE:
            assert self.other is not None
            self.other.sendto(message, (str(addr[0]), int(addr[1])))
        else:
            self.transport.sendto(message, addr)


@pytest.fixture
async def agent() -> AsyncIterator[tuple[Agent, int]]:
    loop = asyncio.get_running_loop()
    protocol = Agent()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: protocol, local_addr=("127.0.0.1", 0)
    )
    protocol.other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    protocol.other.bind(("127.0.0.1", 0))
    yield protocol, transport.get_extra_info("sockname")[1]
    protocol.other.close()
    transport.close()


def session(client: V3Client, port: int) -> V3Session:
    return V3Session(client, ("127.0.0.1", port), client.credential("a", AUTH), 0.3, 0)


async def test_a_boots_change_is_taken_from_the_authenticated_report(
    agent: tuple[Agent, int],
) -> None:
    fake, port = agent
    client = V3Client(1 << 20)
    try:
        assert (await session(client, port).get([SYS_NAME])).varbinds == [(SYS_NAME, b"fake")]
        fake.boots = 2  # the agent restarted
        reply = await session(client, port).get([SYS_NAME])
    finally:
        client.close()
    assert reply.varbinds == [(SYS_NAME, b"fake")]
    assert fake.seen_boots == [0, 1, 1, 2]  # discovery, GET, GET refused, GET again


@pytest.mark.parametrize("misbehave", ["other-port", "wrong-msg-id", "bad-digest"])
async def test_what_is_not_our_answer_is_stray_and_the_request_times_out(
    agent: tuple[Agent, int], misbehave: str
) -> None:
    fake, port = agent
    fake.misbehave = misbehave
    wire = WireStats()
    client = V3Client(1 << 20, wire)
    try:
        with pytest.raises(SnmpError) as caught:
            await session(client, port).get([SYS_NAME])
    finally:
        client.close()
    assert caught.value.kind == "timeout"
    assert (wire.sent, wire.stray) == (2, 1)  # discovery, then the GET whose answer is stray
