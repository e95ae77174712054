"""SNMPv1/v2c through `probes.snmp_udp`: one socket per family, demultiplexed by request-id.

A reply counts only if it comes from the address the request went to, with the
same version and community; anything else is counted in `stray` and dropped. A
wrong community gets no answer at all from most agents: it is indistinguishable
from a timeout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from probes.snmp_ber import (
    GET,
    GETBULK,
    GETNEXT,
    V1,
    V2C,
    Message,
    Oid,
    decode_message,
    encode_request,
    request_varbinds,
)
from probes.snmp_session import Reply
from probes.snmp_udp import Address, UdpDemux, WireStats, set_receive_buffer


def _parse(data: bytes) -> tuple[int, Message]:
    message = decode_message(data)
    return message.request_id, message


class CommunityClient:
    """All v1/v2c requests of one prober: a socket per family, opened once."""

    def __init__(self, receive_buffer: int, wire: WireStats | None = None) -> None:
        self._demux = UdpDemux(receive_buffer, _parse, wire)
        self.wire = self._demux.wire

    @property
    def receive_buffer_effective(self) -> int:
        return self._demux.receive_buffer_effective

    async def request(
        self,
        address: Address,
        version: int,
        community: bytes,
        pdu_type: int,
        varbinds: bytes,
        *,
        attempt_seconds: float,
        retries: int,
        max_repetitions: int = 0,
    ) -> Reply:
        """Send one request (prebuilt varbind list) and await its reply or a SnmpError.

        Each attempt waits attempt_seconds; the request is retransmitted `retries` times.
        """

        def build(rid: int) -> bytes:
            return encode_request(version, community, pdu_type, rid, varbinds, 0, max_repetitions)

        def accept(message: Message, _: bytes) -> Message | None:
            ok = message.version == version and message.community == community
            return message if ok else None

        message, rtt = await self._demux.exchange(
            address, build, accept, attempt_seconds=attempt_seconds, retries=retries
        )
        return Reply(message.error_status, message.error_index, message.varbinds, rtt)

    def close(self) -> None:
        """Fail what is in flight and close the sockets."""
        self._demux.close()


@dataclass(frozen=True)
class CommunitySession:
    """One node through a v1/v2c community (a Session)."""

    client: CommunityClient
    address: Address
    mp_model: int
    community: bytes
    timeout: float
    retries: int

    @property
    def version(self) -> str:
        return "1" if self.mp_model == V1 else "2c"

    async def get(self, oids: Sequence[Oid]) -> Reply:
        return await self._send(GET, request_varbinds(tuple(oids)), 0)

    async def next(self, oids: Sequence[Oid], max_repetitions: int) -> Reply:
        if self.mp_model == V1:
            return await self._send(GETNEXT, request_varbinds(tuple(oids)), 0)
        return await self._send(GETBULK, request_varbinds(tuple(oids)), max_repetitions)

    async def _send(self, pdu_type: int, varbinds: bytes, max_repetitions: int) -> Reply:
        return await self.client.request(
            self.address,
            self.mp_model,
            self.community,
            pdu_type,
            varbinds,
            attempt_seconds=self.timeout,
            retries=self.retries,
            max_repetitions=max_repetitions,
        )


__all__ = [
    "V1",
    "V2C",
    "CommunityClient",
    "CommunitySession",
    "WireStats",
    "set_receive_buffer",
]
