"""ICMP / ICMPv6 echo packets: build requests, parse what an ICMP socket receives.

Pure functions, no sockets. Requests are built from a per-payload template with
an incremental Internet checksum, so a round of 30,000 packets costs one
`struct.pack` each. Parsing returns a `Reply` tuple or None for anything that
is neither an echo reply nor an ICMP error about an echo request.
"""

from __future__ import annotations

import socket
import struct
from typing import NamedTuple

ECHO_REPLY = 0
UNREACHABLE = 1
TTL_EXCEEDED = 2
KIND_ERRORS = {UNREACHABLE: "unreachable", TTL_EXCEEDED: "ttl-exceeded"}

# (echo request, echo reply, destination unreachable, time exceeded) per family.
V4_TYPES = (8, 0, 3, 11)
V6_TYPES = (128, 129, 1, 3)

_HEADER = struct.Struct("!BBHHH")
_IDSEQ = struct.Struct("!HH")
_V6_HEADER_LEN = 40


class Reply(NamedTuple):
    """A parsed ICMP message about one of the echo requests someone sent.

    `target` is the destination of the original request for ICMP errors (their
    source is a router); None for echo replies, whose source is the target.
    """

    kind: int
    ident: int
    seq: int
    target: str | None


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of data."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    return _fold(total)


def _fold(total: int) -> int:
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def payload_bytes(size: int) -> bytes:
    """The request payload: a recognisable byte ramp, like ping's."""
    return bytes((0x10 + i) & 0xFF for i in range(size))


class EchoBuilder:
    """Echo requests of one family and payload; only id, seq and checksum vary."""

    def __init__(self, family: socket.AddressFamily, payload: bytes) -> None:
        self.type = V6_TYPES[0] if family == socket.AF_INET6 else V4_TYPES[0]
        self.payload = payload
        padded = payload + b"\0" if len(payload) % 2 else payload
        words = struct.unpack(f"!{len(padded) // 2}H", padded)
        self._base = (self.type << 8) + sum(words)

    def build(self, ident: int, seq: int) -> bytes:
        """One echo request. ICMPv6 checksums are recomputed by the kernel anyway."""
        csum = _fold(self._base + ident + seq)
        return _HEADER.pack(self.type, 0, csum, ident, seq) + self.payload


def _kind(icmp_type: int, types: tuple[int, int, int, int]) -> int | None:
    if icmp_type == types[1]:
        return ECHO_REPLY
    if icmp_type == types[2]:
        return UNREACHABLE
    if icmp_type == types[3]:
        return TTL_EXCEEDED
    return None


def parse_v4(data: bytes, with_ip_header: bool) -> Reply | None:
    """An ICMPv4 message; raw sockets deliver the IP header first, ping sockets do not."""
    offset = (data[0] & 0x0F) * 4 if with_ip_header and data else 0
    if len(data) < offset + 8:
        return None
    kind = _kind(data[offset], V4_TYPES)
    if kind is None:
        return None
    if kind == ECHO_REPLY:
        ident, seq = _IDSEQ.unpack_from(data, offset + 4)
        return Reply(kind, ident, seq, None)
    inner = offset + 8  # the offending IP header, then 8 bytes of our ICMP header
    if len(data) < inner + 20:
        return None
    inner_icmp = inner + (data[inner] & 0x0F) * 4
    if data[inner + 9] != socket.IPPROTO_ICMP or len(data) < inner_icmp + 8:
        return None
    if data[inner_icmp] != V4_TYPES[0]:
        return None
    ident, seq = _IDSEQ.unpack_from(data, inner_icmp + 4)
    target = socket.inet_ntop(socket.AF_INET, data[inner + 16 : inner + 20])
    return Reply(kind, ident, seq, target)


def parse_v6(data: bytes) -> Reply | None:
    """An ICMPv6 message (sockets never deliver the IPv6 header)."""
    if len(data) < 8:
        return None
    kind = _kind(data[0], V6_TYPES)
    if kind is None:
        return None
    if kind == ECHO_REPLY:
        ident, seq = _IDSEQ.unpack_from(data, 4)
        return Reply(kind, ident, seq, None)
    inner = 8  # the offending IPv6 header (no extension headers expected), then ours
    inner_icmp = inner + _V6_HEADER_LEN
    if len(data) < inner_icmp + 8 or data[inner + 6] != socket.IPPROTO_ICMPV6:
        return None
    if data[inner_icmp] != V6_TYPES[0]:
        return None
    ident, seq = _IDSEQ.unpack_from(data, inner_icmp + 4)
    target = socket.inet_ntop(socket.AF_INET6, data[inner + 24 : inner + 40])
    return Reply(kind, ident, seq, target)
