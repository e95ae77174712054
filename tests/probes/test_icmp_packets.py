"""Echo request building and ICMP/ICMPv6 parsing, byte for byte (no sockets)."""

from __future__ import annotations

import socket
import struct
from types import SimpleNamespace

import pytest
from icmplib.sockets import ICMPv4Socket, ICMPv6Socket

from probes.icmp_packets import (
    ECHO_REPLY,
    TTL_EXCEEDED,
    UNREACHABLE,
    EchoBuilder,
    Reply,
    checksum,
    parse_v4,
    parse_v6,
    payload_bytes,
)

V4 = socket.AF_INET
V6 = socket.AF_INET6


def icmp(type_: int, ident: int, seq: int, payload: bytes = b"", code: int = 0) -> bytes:
    """An ICMP message with a valid checksum."""
    body = struct.pack("!BBHHH", type_, code, 0, ident, seq) + payload
    return body[:2] + struct.pack("!H", checksum(body)) + body[4:]


def ipv4(source: str, dest: str, payload: bytes, proto: int = 1, ihl: int = 5) -> bytes:
    options = b"\x01" * (ihl * 4 - 20)  # NOPs
    header = struct.pack(
        "!BBHHHBBH4s4s",
        0x40 | ihl,
        0,
        ihl * 4 + len(payload),
        0,
        0,
        64,
        proto,
        0,
        socket.inet_aton(source),
        socket.inet_aton(dest),
    )
    return header + options + payload


def ipv6(source: str, dest: str, payload: bytes, next_header: int = 58) -> bytes:
    return (
        struct.pack("!IHBB", 6 << 28, len(payload), next_header, 64)
        + socket.inet_pton(V6, source)
        + socket.inet_pton(V6, dest)
        + payload
    )


def reference_request(family: socket.AddressFamily, ident: int, seq: int, payload: bytes) -> bytes:
    """icmplib's own packet builder, called without opening its socket."""
    cls = ICMPv6Socket if family == V6 else ICMPv4Socket
    fake = SimpleNamespace(
        _ICMP_ECHO_REQUEST=cls._ICMP_ECHO_REQUEST,
        _checksum=lambda data: cls._checksum(None, data),
    )
    return bytes(cls._create_packet(fake, ident, seq, payload))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", 0xFFFF),
        (b"\x08\x00\x00\x00\x12\x34\x00\x01", 0xE5CA),
        (b"\x01", 0xFEFF),  # odd length: padded with a zero byte
        (b"\xff\xff\xff\xff", 0x0000),  # end-around carry
    ],
    ids=["empty", "echo-header", "odd-length", "carry"],
)
def test_checksum(data: bytes, expected: int) -> None:
    assert checksum(data) == expected


@pytest.mark.parametrize("family", [V4, V6], ids=["v4", "v6"])
@pytest.mark.parametrize(
    ("ident", "seq", "size"),
    [(0, 0, 0), (0x1234, 1, 56), (0xFFFF, 0xFFFF, 56), (0xBEEF, 0x8000, 1), (7, 65535, 1400)],
    ids=["zeros", "typical", "all-ones", "odd-payload", "big-payload"],
)
def test_echo_request_matches_icmplib(
    family: socket.AddressFamily, ident: int, seq: int, size: int
) -> None:
    payload = payload_bytes(size)
    packet = EchoBuilder(family, payload).build(ident, seq)
    assert packet == reference_request(family, ident, seq, payload)
    assert checksum(packet) == 0  # a valid checksum sums to zero
    assert packet[0] == (128 if family == V6 else 8)


def test_payload_is_a_ramp() -> None:
    assert payload_bytes(4) == b"\x10\x11\x12\x13"
    assert len(payload_bytes(300)) == 300


ECHO_V4 = icmp(0, 0xBEEF, 42, b"abc")
ECHO_V6 = icmp(129, 0xBEEF, 42, b"abc")
REQUEST_V4 = icmp(8, 0xBEEF, 42, b"x" * 8)
REQUEST_V6 = icmp(128, 0xBEEF, 42, b"x" * 8)
UNREACH_V4 = icmp(3, 0, 0, ipv4("198.18.0.1", "198.18.0.9", REQUEST_V4), code=1)
TTL_V4 = icmp(11, 0, 0, ipv4("198.18.0.1", "203.0.113.5", REQUEST_V4[:8]))
UNREACH_V6 = icmp(1, 0, 0, ipv6("2001:db8::1", "2001:db8::9", REQUEST_V6), code=3)
TTL_V6 = icmp(3, 0, 0, ipv6("2001:db8::1", "2001:db8::7", REQUEST_V6))


@pytest.mark.parametrize(
    ("data", "with_header", "expected"),
    [
        (ipv4("127.0.0.1", "127.0.0.1", ECHO_V4), True, Reply(ECHO_REPLY, 0xBEEF, 42, None)),
        (ipv4("10.0.0.1", "10.0.0.2", ECHO_V4, ihl=6), True, Reply(ECHO_REPLY, 0xBEEF, 42, None)),
        (ECHO_V4, False, Reply(ECHO_REPLY, 0xBEEF, 42, None)),
        (
            ipv4("198.18.0.1", "198.18.0.1", UNREACH_V4),
            True,
            Reply(UNREACHABLE, 0xBEEF, 42, "198.18.0.9"),
        ),
        (UNREACH_V4, False, Reply(UNREACHABLE, 0xBEEF, 42, "198.18.0.9")),
        (
            ipv4("192.0.2.1", "198.18.0.1", TTL_V4),
            True,
            Reply(TTL_EXCEEDED, 0xBEEF, 42, "203.0.113.5"),
        ),
        (ipv4("127.0.0.1", "127.0.0.1", REQUEST_V4), True, None),  # someone's echo request
        (icmp(3, 0, 0, ipv4("1.1.1.1", "2.2.2.2", b"\0" * 8, proto=17)), False, None),  # about UDP
        (icmp(3, 0, 0, ipv4("1.1.1.1", "2.2.2.2", ECHO_V4)), False, None),  # about a reply
        (icmp(3, 0, 0, b"\x45\0"), False, None),  # truncated inner header
        (icmp(5, 0, 0), False, None),  # redirect
        (ECHO_V4[:7], False, None),
        (b"", True, None),
        (b"\x45" + b"\0" * 19, True, None),  # IP header only
    ],
    ids=[
        "reply-raw",
        "reply-raw-ip-options",
        "reply-dgram",
        "unreachable-raw",
        "unreachable-dgram",
        "ttl-exceeded",
        "echo-request",
        "error-about-udp",
        "error-about-non-request",
        "error-truncated",
        "other-type",
        "short",
        "empty",
        "header-only",
    ],
)
def test_parse_v4(data: bytes, with_header: bool, expected: Reply | None) -> None:
    assert parse_v4(data, with_header) == expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (ECHO_V6, Reply(ECHO_REPLY, 0xBEEF, 42, None)),
        (UNREACH_V6, Reply(UNREACHABLE, 0xBEEF, 42, "2001:db8::9")),
        (TTL_V6, Reply(TTL_EXCEEDED, 0xBEEF, 42, "2001:db8::7")),
        (REQUEST_V6, None),
        (icmp(1, 0, 0, ipv6("::1", "::2", b"\0" * 8, next_header=17)), None),
        (icmp(1, 0, 0, ipv6("::1", "::2", b"")), None),
        (icmp(135, 0, 0), None),  # neighbour solicitation
        (ECHO_V6[:5], None),
    ],
    ids=[
        "reply",
        "unreachable",
        "ttl-exceeded",
        "echo-request",
        "error-about-udp",
        "error-truncated",
        "other-type",
        "short",
    ],
)
def test_parse_v6(data: bytes, expected: Reply | None) -> None:
    assert parse_v6(data) == expected
