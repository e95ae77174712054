"""Opening ICMP sockets: privilege detection, buffers, filters, kernel timestamps.

One socket per address family serves every target. "raw" (SOCK_RAW, needs root
or CAP_NET_RAW) sees every ICMP message on the host, so replies are matched on
source, id and sequence; "dgram" (the kernel's unprivileged ping sockets, gated
by net.ipv4.ping_group_range) only sees replies to itself, with the kernel's
own id. ICMP errors (unreachable) are only seen in raw mode: ping sockets would
need IP_RECVERR, whose pending error makes the *next* sendto fail and be
blamed on the wrong target.
"""

from __future__ import annotations

import logging
import os
import socket
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from probes.base import ProbeError
from probes.icmp_packets import V4_TYPES, V6_TYPES, Reply, parse_v4, parse_v6

Mode = Literal["raw", "dgram"]

# Linux values that the socket module does not export.
SO_SNDBUFFORCE = 32
SO_RCVBUFFORCE = 33
SO_TIMESTAMPNS = 35  # SCM_TIMESTAMPNS: struct timespec, CLOCK_REALTIME
SOL_RAW = 255
ICMP_FILTER = 1  # SOL_RAW: u32 bitmask of ICMPv4 types to drop
ICMP6_FILTER = 1  # IPPROTO_ICMPV6: 256-bit mask of ICMPv6 types to drop

RCVBUF = 32 << 20  # a 30k-reply burst is ~25 MB of kernel skbs; only charged when used
SNDBUF = 4 << 20
_TIMESPEC = struct.Struct("@qq")
_TIMESPEC32 = struct.Struct("@ii")  # 32-bit time_t platforms
_PING_GROUP_RANGE = "/proc/sys/net/ipv4/ping_group_range"
_RMEM_HINT = "large rounds may drop replies: sysctl -w net.core.rmem_max=67108864"
log = logging.getLogger(__name__)


@dataclass(slots=True)
class IcmpSocket:
    """One open ICMP socket and how to read what it receives."""

    sock: socket.socket
    family: socket.AddressFamily
    mode: Mode
    parse: Callable[[bytes], Reply | None]

    @property
    def checks_ident(self) -> bool:
        """Raw sockets see everyone's replies; ping sockets only get their own."""
        return self.mode == "raw"

    def close(self) -> None:
        self.sock.close()


def open_icmp(family: socket.AddressFamily, privileged: Mode | Literal["auto"]) -> IcmpSocket:
    """A configured non-blocking ICMP socket; ProbeError says what the operator must do."""
    modes: tuple[Mode, ...] = ("raw", "dgram") if privileged == "auto" else (privileged,)
    denied: list[Mode] = []
    for mode in modes:
        kind = socket.SOCK_RAW if mode == "raw" else socket.SOCK_DGRAM
        proto = socket.IPPROTO_ICMPV6 if family == socket.AF_INET6 else socket.IPPROTO_ICMP
        try:
            sock = socket.socket(family, kind, proto)
        except PermissionError:
            denied.append(mode)
            continue
        except OSError as exc:
            raise ProbeError(f"cannot open an ICMP socket ({family.name}): {exc}") from exc
        try:
            _configure(sock, family, mode)
        except OSError as exc:
            sock.close()
            raise ProbeError(f"cannot configure the ICMP socket: {exc}") from exc
        return IcmpSocket(sock, family, mode, _parser(family, mode))
    raise ProbeError(permission_help(denied))


def permission_help(denied: list[Mode]) -> str:
    """What to do when no ICMP socket may be opened."""
    steps = []
    if "raw" in denied:
        steps.append(
            "grant CAP_NET_RAW (systemd: AmbientCapabilities=CAP_NET_RAW, as the shipped "
            "unit does; or run as root)"
        )
    if "dgram" in denied:
        steps.append(
            f"allow unprivileged ping sockets for group {os.getegid()}: "
            f"net.ipv4.ping_group_range is '{_ping_group_range()}'; run "
            "`sysctl -w net.ipv4.ping_group_range='0 2147483647'` and persist it in "
            "/etc/sysctl.d/"
        )
    tried = " or ".join(denied)
    fix = ", or ".join(steps)
    return (
        f"ICMP probe: permission denied opening a {tried} ICMP socket. To fix: {fix}. "
        "([probes.icmp] privileged = auto|raw|dgram chooses the socket kind.)"
    )


def _ping_group_range() -> str:
    try:
        with open(_PING_GROUP_RANGE, encoding="ascii") as handle:
            return " ".join(handle.read().split())
    except OSError:
        return "unknown"


def _configure(sock: socket.socket, family: socket.AddressFamily, mode: Mode) -> None:
    sock.setblocking(False)
    _set_buffer(sock, SO_RCVBUFFORCE, socket.SO_RCVBUF, RCVBUF)
    granted = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    if granted < RCVBUF:  # the kernel reports double the requested size
        log.warning(
            "ICMP receive buffer capped by net.core.rmem_max",
            extra={"fields": {"bytes": granted, "wanted": RCVBUF * 2, "hint": _RMEM_HINT}},
        )
    _set_buffer(sock, SO_SNDBUFFORCE, socket.SO_SNDBUF, SNDBUF)
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    if mode != "raw":
        return
    if family == socket.AF_INET6:
        blocked = [0xFFFFFFFF] * 8
        for icmp_type in V6_TYPES[1:]:
            blocked[icmp_type >> 5] &= ~(1 << (icmp_type & 31))
        sock.setsockopt(socket.IPPROTO_ICMPV6, ICMP6_FILTER, struct.pack("@8I", *blocked))
        return
    mask = 0xFFFFFFFF
    for icmp_type in V4_TYPES[1:]:
        mask &= ~(1 << icmp_type)
    sock.setsockopt(SOL_RAW, ICMP_FILTER, struct.pack("@I", mask))


def _set_buffer(sock: socket.socket, force: int, plain: int, size: int) -> None:
    """The FORCE option ignores net.core.[rw]mem_max but needs CAP_NET_ADMIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, force, size)
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, plain, size)


def _parser(family: socket.AddressFamily, mode: Mode) -> Callable[[bytes], Reply | None]:
    if family == socket.AF_INET6:
        return parse_v6
    with_header = mode == "raw"
    return lambda data: parse_v4(data, with_header)


def receive(sock: socket.socket, bufsize: int) -> Iterator[tuple[bytes, str, int]]:
    """Every queued datagram as (data, source address, kernel receive time ns); stops at EAGAIN."""
    errors = 0
    while True:
        try:
            data, ancillary, _flags, address = sock.recvmsg(bufsize, 64)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            errors += 1  # a pending socket error is reported once; keep reading
            if errors > 8:
                return
            continue
        stamp = 0
        for level, kind, value in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                timespec = _TIMESPEC if len(value) >= _TIMESPEC.size else _TIMESPEC32
                seconds, nanos = timespec.unpack_from(value)
                stamp = seconds * 1_000_000_000 + nanos
        yield data, address[0], stamp or time.time_ns()
