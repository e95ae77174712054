"""SNMP over one UDP socket per address family, demultiplexed by a message id.

The request/response machinery every SNMP version shares: v1/v2c
(`probes.snmp_community`, keyed by request-id) and v3 (`probes.snmp_v3_client`,
keyed by msgID). The socket is opened lazily inside the running loop, with
SO_RCVBUF raised before the first request (bursts of replies otherwise overflow
the default buffer and look like timeouts). A datagram counts only if it comes
from the address the request went to and the request's `accept` takes it;
anything else is counted in `stray` and dropped. Retransmissions resend the same
bytes (same id), so a late answer to the first attempt still completes the
request. Timers are loop.call_later handles, never a task per request.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from probes.snmp_ber import BerError
from probes.snmp_session import SnmpError

Address = tuple[str, int]
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)  # Linux; needs CAP_NET_ADMIN
P = TypeVar("P")  # what `parse` makes of a datagram
R = TypeVar("R")  # what a request's `accept` makes of it


def set_receive_buffer(sock: socket.socket, size: int) -> int:
    """Raise SO_RCVBUF (SO_RCVBUFFORCE when allowed, past rmem_max); the effective size."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, size)
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
    return int(sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))


@dataclass
class WireStats:
    """What crossed the SNMP sockets; kept by the prober across client restarts."""

    sent: int = 0  # datagrams sent, retransmissions included
    retransmits: int = 0  # requests sent again after a timeout
    stray: int = 0  # datagrams that matched no pending request (or did not decode/verify)
    socket_errors: int = 0  # errors the kernel reported on a socket (ICMP port unreachable, …)


@dataclass(slots=True)
class _Pending:
    future: asyncio.Future[tuple[Any, float]]
    address: Address
    payload: bytes
    accept: Callable[[Any, bytes], Any]
    retries_left: int
    timeout: float
    sent_at: float = 0.0
    timer: asyncio.TimerHandle | None = field(default=None)


class _Endpoint(asyncio.DatagramProtocol):
    """One socket's receive side: hands datagrams to the demux."""

    def __init__(self, demux: UdpDemux[Any]) -> None:
        self._demux = demux

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self._demux._received(data, (str(addr[0]), int(addr[1])))

    def error_received(self, exc: Exception) -> None:
        self._demux.wire.socket_errors += 1


class UdpDemux(Generic[P]):
    """Requests over a socket per family, matched to replies by the id `parse` finds.

    parse(datagram) → (id, parsed) raises BerError for what is no SNMP message.
    Each request brings accept(parsed, datagram) → its result, or None when the
    datagram is not its answer after all (a wrong digest, say): counted as stray.
    """

    def __init__(
        self,
        receive_buffer: int,
        parse: Callable[[bytes], tuple[int, P]],
        wire: WireStats | None = None,
    ) -> None:
        self._receive_buffer = receive_buffer
        self._parse = parse
        self.wire = wire if wire is not None else WireStats()
        self._sockets: dict[int, asyncio.Task[tuple[socket.socket, asyncio.DatagramTransport]]] = {}
        self._opened: dict[int, tuple[socket.socket, asyncio.DatagramTransport]] = {}
        self._pending: dict[int, _Pending] = {}
        self._ids = itertools.count(random.randrange(1, 1 << 30))
        self.receive_buffer_effective = 0

    async def _socket(self, family: int) -> tuple[socket.socket, asyncio.DatagramTransport]:
        opened = self._opened.get(family)
        if opened is not None:
            return opened
        task = self._sockets.get(family)
        if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
            task = asyncio.ensure_future(self._open(family))
            self._sockets[family] = task
        opened = await asyncio.shield(task)
        self._opened[family] = opened
        return opened

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

    def _new_id(self) -> int:
        while True:
            rid = next(self._ids) & 0x7FFFFFFF
            if rid and rid not in self._pending:
                return rid

    async def exchange(
        self,
        address: Address,
        build: Callable[[int], bytes],
        accept: Callable[[P, bytes], R | None],
        *,
        attempt_seconds: float,
        retries: int,
    ) -> tuple[R, float]:
        """Send build(id), await the first datagram accept takes: (its result, rtt in ms).

        Each attempt waits attempt_seconds; the request is retransmitted `retries`
        times, then fails with SnmpError("timeout").
        """
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        sock, transport = await self._socket(family)
        rid = self._new_id()
        loop = asyncio.get_running_loop()
        pending = _Pending(
            loop.create_future(), address, build(rid), accept, retries, attempt_seconds
        )
        self._pending[rid] = pending
        try:
            self._send(sock, transport, pending)
            pending.timer = loop.call_later(attempt_seconds, self._expire, rid, sock, transport)
            result: tuple[R, float] = await pending.future
        finally:
            if self._pending.get(rid) is pending:
                del self._pending[rid]
            if pending.timer is not None:
                pending.timer.cancel()
        return result

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
            rid, parsed = self._parse(data)
        except BerError:
            self.wire.stray += 1
            return
        pending = self._pending.get(rid)
        result = None
        if pending is not None and not pending.future.done() and pending.address == source:
            try:
                result = pending.accept(parsed, data)
            except BerError:
                result = None
        if pending is None or result is None:
            self.wire.stray += 1
            return
        del self._pending[rid]
        pending.future.set_result((result, (time.perf_counter() - pending.sent_at) * 1000.0))

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
        self._opened.clear()


__all__ = ["Address", "UdpDemux", "WireStats", "set_receive_buffer"]
