"""Batched ICMP echo prober: one socket per address family, built for 10,000 targets.

A round sends `count` sweeps over all targets (`pacing` between packets,
`packet_interval` between sweep starts) and ends when every request is
answered or `timeout` after the last send. Replies are drained by one reader
callback per socket (no Future per packet) and matched on source address and
sequence, plus this prober's random id on raw sockets (see icmp_socket for the
modes). RTT = kernel receive timestamp (SO_TIMESTAMPNS) − time.time_ns() taken
just before sendto, both CLOCK_REALTIME, so event-loop delay cannot inflate it.
A reply slower than `timeout` counts as lost (as with fping -t). Jitter is the
mean absolute difference of consecutive RTTs.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import itertools
import logging
import random
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from prometheus_client.core import Metric

from monitor.runtime.metrics import counter
from probes.base import ProbeResult
from probes.icmp_packets import EchoBuilder, payload_bytes
from probes.icmp_round import IcmpRound, deliver
from probes.icmp_socket import IcmpSocket, open_icmp, receive

if TYPE_CHECKING:
    from monitor.config.daemon import IcmpProbeConfig
    from monitor.config.inventory import NodeConfig

log = logging.getLogger(__name__)

Dest = tuple[str, int]
Target = tuple[int, IcmpSocket, Dest, Callable[[int, int], bytes]]  # node, socket, dest, builder
Packet = tuple[int, IcmpSocket, Dest, tuple[str, int], bytes]  # node, socket, dest, key, data

YIELD_EVERY = 256  # sends between visits to the event loop, so replies are drained
DRAIN_PER_CALLBACK = 512  # datagrams per reader callback (see _on_readable)
SLACK_NS = 1_000_000  # pacing: send early by up to 1 ms rather than sleep per packet
BLOCKED_GIVE_UP_S = 1.0  # a send queue that stays full this long fails the packet
_UNREACHABLE = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN, errno.ENETDOWN}
_PROHIBITED = {errno.EACCES, errno.EPERM}


def _ns(duration: timedelta) -> int:
    return (duration // timedelta(microseconds=1)) * 1000


def _family(address: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def describe_send_error(exc: OSError) -> tuple[str, str]:
    """A sendto failure as (ProbeResult.error, detail)."""
    code = exc.errno or 0
    detail = exc.strerror or str(exc)
    if code in _UNREACHABLE:
        return "unreachable", detail
    if code in _PROHIBITED:
        return "prohibited", detail
    return f"send-error {errno.errorcode.get(code, code)}", detail


class IcmpProbe:
    """ICMP echo rounds over many nodes; sockets open lazily and are reused."""

    kind = "icmp"

    def __init__(self, config: IcmpProbeConfig) -> None:
        self.config = config
        self.ident = random.getrandbits(16)
        self.ignored_replies = 0  # ICMP messages that matched none of our requests
        self.late_replies = 0  # replies slower than timeout (counted as lost)
        self.send_errors = 0  # requests the kernel refused to send (unreachable, no route, …)
        self._seq = random.getrandbits(16)
        self._payload = payload_bytes(config.payload_size)
        self._bufsize = max(1024, config.payload_size + 128)
        self._sockets: dict[socket.AddressFamily, IcmpSocket] = {}
        self._builders: dict[socket.AddressFamily, EchoBuilder] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._rounds: list[IcmpRound] = []

    @property
    def modes(self) -> dict[str, str]:
        """The socket kind in use per family, e.g. {"AF_INET": "raw"}."""
        return {family.name: sock.mode for family, sock in self._sockets.items()}

    async def probe(self, node: NodeConfig) -> ProbeResult:
        """One node, one round."""
        return (await self.probe_round([node]))[0]

    async def probe_round(self, nodes: Sequence[NodeConfig]) -> list[ProbeResult]:
        """One round over all nodes; results in input order. Raises ProbeError if it cannot run."""
        if not nodes:
            return []
        families = [_family(node.address) for node in nodes]
        self._open(set(families))
        config = self.config
        rnd = IcmpRound(len(nodes), config.count, _ns(config.timeout))
        self._rounds.append(rnd)
        try:
            await self._send_all(rnd, nodes, families)
            await self._wait(rnd)
        finally:
            self._rounds.remove(rnd)
            self.late_replies += rnd.late
            self.send_errors += rnd.send_errors
        return rnd.results(nodes)

    def metric_families(self) -> Iterator[Metric]:
        """The prober's counters, at scrape time."""
        for name, doc, value in (
            (
                "ignored_replies",
                "ICMP messages that matched none of our requests",
                self.ignored_replies,
            ),
            (
                "late_replies",
                "ICMP replies that came after the timeout (counted lost)",
                self.late_replies,
            ),
            ("send_errors", "ICMP echo requests the kernel refused to send", self.send_errors),
        ):
            yield counter(f"commwatch_icmp_{name}", doc, {(): value}, [])

    async def close(self) -> None:
        """Stop reading and close the sockets (a later round reopens them)."""
        self._close_sockets()

    def _open(self, families: set[socket.AddressFamily]) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._close_sockets()
            self._loop = loop
        for family in sorted(families - self._sockets.keys()):
            sock = open_icmp(family, self.config.privileged)
            loop.add_reader(sock.sock.fileno(), self._on_readable, sock)
            self._sockets[family] = sock
            self._builders[family] = EchoBuilder(family, self._payload)
            log.debug(
                "icmp socket open", extra={"fields": {"family": family.name, "mode": sock.mode}}
            )

    def _close_sockets(self) -> None:
        for sock in self._sockets.values():
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(sock.sock.fileno())
            sock.close()
        self._sockets.clear()
        self._loop = None

    async def _send_all(
        self, rnd: IcmpRound, nodes: Sequence[NodeConfig], families: list[socket.AddressFamily]
    ) -> None:
        targets: list[Target] = [
            (index, self._sockets[family], (node.address, 0), self._builders[family].build)
            for index, (node, family) in enumerate(zip(nodes, families, strict=True))
        ]
        start = time.monotonic_ns()
        interval = _ns(self.config.packet_interval)
        for sweep in range(self.config.count):
            if sweep:
                await _sleep_until(start + sweep * interval)
            packets = self._build_sweep(rnd, targets)
            await self._send_sweep(rnd, sweep, packets)
        rnd.finish_sending()

    def _build_sweep(self, rnd: IcmpRound, targets: list[Target]) -> list[Packet]:
        """This sweep's requests, built before the first is sent."""
        ident = self.ident
        packets: list[Packet] = []
        for index, sock, dest, build in targets:
            seq = self._next_seq(rnd, dest[0])
            packets.append((index, sock, dest, (dest[0], seq), build(ident, seq)))
        return packets

    def _next_seq(self, rnd: IcmpRound, address: str) -> int:
        """16-bit, wrapping, shared by all rounds; skips a (target, seq) still in flight."""
        for _ in range(0x10000):
            seq = self._seq
            self._seq = (seq + 1) & 0xFFFF
            if (address, seq) not in rnd.pending:
                return seq
        raise RuntimeError(f"65536 requests in flight to {address}")

    async def _send_sweep(self, rnd: IcmpRound, sweep: int, packets: list[Packet]) -> None:
        gap = _ns(self.config.pacing)
        start = time.monotonic_ns()
        for i, packet in enumerate(packets):
            if gap:
                ahead = start + i * gap - time.monotonic_ns()
                if ahead > SLACK_NS:
                    await asyncio.sleep(ahead / 1e9)
            if i % YIELD_EVERY == YIELD_EVERY - 1:
                await asyncio.sleep(0)
            if not _try_send(rnd, sweep, packet):
                await self._send_blocked(rnd, sweep, packet)

    async def _send_blocked(self, rnd: IcmpRound, sweep: int, packet: Packet) -> None:
        """EAGAIN (send buffer full): wait for writability; ENOBUFS: back off 1 ms; then retry."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + BLOCKED_GIVE_UP_S
        sock = packet[1].sock
        while loop.time() < deadline:
            ready: asyncio.Future[None] = loop.create_future()
            loop.add_writer(sock.fileno(), _resolve, ready)
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(ready, 0.001)
            finally:
                loop.remove_writer(sock.fileno())
            if _try_send(rnd, sweep, packet):
                return
        rnd.on_send_error(packet[0], "send-error queue-full", "EAGAIN/ENOBUFS for 1 s")

    async def _wait(self, rnd: IcmpRound) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(rnd.done.wait(), self.config.timeout.total_seconds())
        for sock in list(self._sockets.values()):
            self._on_readable(sock, None)  # replies queued but not yet dispatched

    def _on_readable(self, sock: IcmpSocket, limit: int | None = DRAIN_PER_CALLBACK) -> None:
        """Hand queued datagrams (at most `limit`) to the rounds that sent their requests.

        The reader callback takes at most DRAIN_PER_CALLBACK at a time, so a burst
        of thousands of replies never holds the loop for long (the socket stays
        readable and the loop calls back; RTTs use kernel timestamps, so they do
        not change); the round's final drain takes everything.
        """
        rounds = self._rounds
        ident = self.ident if sock.checks_ident else None
        parse = sock.parse
        for data, source, stamp in itertools.islice(receive(sock.sock, self._bufsize), limit):
            reply = parse(data)
            if reply is None or not deliver(rounds, reply, source, stamp, ident):
                self.ignored_replies += 1


def _try_send(rnd: IcmpRound, sweep: int, packet: Packet) -> bool:
    """Send one request; False when the kernel asks us to wait (EAGAIN/ENOBUFS)."""
    node, sock, dest, key, data = packet
    sent_ns = time.time_ns()
    try:
        sock.sock.sendto(data, dest)
    except BlockingIOError:
        return False
    except OSError as exc:
        if exc.errno == errno.ENOBUFS:
            return False
        rnd.on_send_error(node, *describe_send_error(exc))
        return True
    rnd.on_send(key, node, sweep, sent_ns)
    return True


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def _sleep_until(deadline_ns: int) -> None:
    delay = deadline_ns - time.monotonic_ns()
    if delay > 0:
        await asyncio.sleep(delay / 1e9)
