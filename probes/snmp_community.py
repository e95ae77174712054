"""SNMPv1/v2c over one UDP socket per address family, demultiplexed by request-id.

The socket is opened lazily inside the running loop, with SO_RCVBUF raised before
the first request (bursts of replies otherwise overflow the default buffer and
look like timeouts). A reply counts only if it comes from the address the
request went to, with the same version and community; anything else is counted
in `stray` and dropped. Retransmissions reuse the request-id, so a late answer
to the first attempt still completes the request. A wrong community gets no
answer at all from most agents: it is indistinguishable from a timeout.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import random
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from probes.snmp_ber import (
    GET,
    GETBULK,
    GETNEXT,
    V1,
    V2C,
    BerError,
    Message,
    Oid,
    decode_message,
    encode_request,
    encode_varbinds,
)
from probes.snmp_session import Reply, SnmpError

Address = tuple[str, int]
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)  # Linux; needs CAP_NET_ADMIN


def set_receive_buffer(sock: socket.socket, size: int) -> int:
    """Raise SO_RCVBUF (SO_RCVBUFFORCE when allowed, past rmem_max); the effective size."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, size)
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
    return int(sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))


@dataclass(slots=True)
class _Pending:
    future: asyncio.Future[tuple[Message, float]]
    address: Address
    version: int
    community: bytes
    payload: bytes
    retries_left: int
    timeout: float
    sent_at: float = 0.0
    timer: asyncio.TimerHandle | None = field(default=None)


class _Endpoint(asyncio.DatagramProtocol):
    """One socket's receive side: hands datagrams to the client."""

    def __init__(self, client: CommunityClient) -> None:
        self._client = client

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self._client._received(data, (str(addr[0]), int(addr[1])))

    def error_received(self, exc: Exception) -> None:
        self._client.wire.socket_errors += 1


@dataclass
class WireStats:
    """What crossed the v1/v2c sockets; kept by the prober across client restarts."""

    sent: int = 0  # datagrams sent, retransmissions included
    retransmits: int = 0  # requests sent again after a timeout
    stray: int = 0  # datagrams that matched no pending request (or did not decode)
    socket_errors: int = 0  # errors the kernel reported on a socket (ICMP port unreachable, …)


class CommunityClient:
    """All v1/v2c requests of one prober: a socket per family, opened once."""

    def __init__(self, receive_buffer: int, wire: WireStats | None = None) -> None:
        self._receive_buffer = receive_buffer
        self.wire = wire if wire is not None else WireStats()
        self._sockets: dict[int, asyncio.Task[tuple[socket.socket, asyncio.DatagramTransport]]] = {}
        self._pending: dict[int, _Pending] = {}
        self._ids = itertools.count(random.randrange(1, 1 << 30))
        self.receive_buffer_effective = 0

    async def _socket(self, family: int) -> tuple[socket.socket, asyncio.DatagramTransport]:
        task = self._sockets.get(family)
        if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
            task = asyncio.ensure_future(self._open(family))
            self._sockets[family] = task
        return await asyncio.shield(task)

    async def _open(self, family: int) -> tuple[socket.socket, asyncio.DatagramTransport]:
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            self.receive_buffer_effective = set_receive_buffer(sock, self._receive_buffer)
            sock.bind(("::", 0) if family == socket.AF_INET6 else ("0.0.0.0", 0))
            loop = asyncio.get_running_loop()
            transport, _ = await loop.create_datagram_endpoint(lambda: _Endpoint(self), sock=sock)
        except BaseException:
            sock.close()
            raise
        return sock, transport

    def _request_id(self) -> int:
        while True:
            rid = next(self._ids) & 0x7FFFFFFF
            if rid and rid not in self._pending:
                return rid

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
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        sock, transport = await self._socket(family)
        rid = self._request_id()
        payload = encode_request(version, community, pdu_type, rid, varbinds, 0, max_repetitions)
        loop = asyncio.get_running_loop()
        pending = _Pending(
            loop.create_future(), address, version, community, payload, retries, attempt_seconds
        )
        self._pending[rid] = pending
        try:
            self._send(sock, transport, pending)
            pending.timer = loop.call_later(attempt_seconds, self._expire, rid, sock, transport)
            message, rtt = await pending.future
        finally:
            if self._pending.get(rid) is pending:
                del self._pending[rid]
            if pending.timer is not None:
                pending.timer.cancel()
        return Reply(message.error_status, message.error_index, message.varbinds, rtt)

    def _send(self, sock: socket.socket, transport: asyncio.DatagramTransport, p: _Pending) -> None:
        p.sent_at = time.perf_counter()
        self.wire.sent += 1
        try:
            sock.sendto(p.payload, p.address)
        except (BlockingIOError, InterruptedError):
            transport.sendto(p.payload, p.address)  # queued by asyncio until writable
        except OSError as exc:
            raise SnmpError("transport", f"{p.address[0]}:{p.address[1]}: {exc}") from exc

    def _expire(self, rid: int, sock: socket.socket, transport: asyncio.DatagramTransport) -> None:
        pending = self._pending.get(rid)
        if pending is None or pending.future.done():
            return
        if pending.retries_left <= 0:
            del self._pending[rid]
            pending.future.set_exception(
                SnmpError("timeout", f"no answer from {pending.address[0]}:{pending.address[1]}")
            )
            return
        pending.retries_left -= 1
        self.wire.retransmits += 1
        try:
            self._send(sock, transport, pending)
        except SnmpError as exc:
            del self._pending[rid]
            pending.future.set_exception(exc)
            return
        pending.timer = asyncio.get_running_loop().call_later(
            pending.timeout, self._expire, rid, sock, transport
        )

    def _received(self, data: bytes, source: Address) -> None:
        try:
            message = decode_message(data)
        except BerError:
            self.wire.stray += 1
            return
        pending = self._pending.get(message.request_id)
        if (
            pending is None
            or pending.future.done()
            or pending.address != source
            or message.version != pending.version
            or message.community != pending.community
        ):
            self.wire.stray += 1
            return
        del self._pending[message.request_id]
        pending.future.set_result((message, (time.perf_counter() - pending.sent_at) * 1000.0))

    def close(self) -> None:
        """Fail what is in flight and close the sockets."""
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(SnmpError("transport", "prober closed"))
        self._pending.clear()
        for task in self._sockets.values():
            if task.done() and not task.cancelled() and task.exception() is None:
                task.result()[1].close()
            else:
                task.cancel()
        self._sockets.clear()


@functools.lru_cache(maxsize=8192)
def _varbinds(oids: tuple[Oid, ...]) -> bytes:
    """Prebuilt varbind lists: a node asks for the same OIDs every round."""
    return encode_varbinds(oids)


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
        return await self._send(GET, _varbinds(tuple(oids)), 0)

    async def next(self, oids: Sequence[Oid], max_repetitions: int) -> Reply:
        if self.mp_model == V1:
            return await self._send(GETNEXT, _varbinds(tuple(oids)), 0)
        return await self._send(GETBULK, _varbinds(tuple(oids)), max_repetitions)

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


__all__ = ["V1", "V2C", "CommunityClient", "CommunitySession", "set_receive_buffer"]
