"""A small BER codec for SNMPv1/v2c messages: the polling hot path.

pysnmp encodes and decodes through pyasn1, which costs about 2,500 Python calls
per GET (profiled: 55 % of a v1arch GET is pyasn1 decoding, 13 % encoding); it caps
one process at 2–2.5k GET/s, below snmp_exporter's rate on the same box (see
docs/benchmarks.md). Community messages are simple enough to do by hand:

    Message ::= SEQUENCE { version INTEGER, community OCTET STRING, pdu PDU }
    PDU     ::= [A0..A8] IMPLICIT SEQUENCE { request-id, error-status, error-index,
                                             SEQUENCE OF SEQUENCE { name OID, value } }

Only what polling needs is here: GET / GETNEXT / GETBULK requests and their
responses. The tests check every encoding byte-for-byte against pysnmp's, and
every decoding against pysnmp's decoder. SNMPv3 builds on the same pieces
(`probes.snmp_v3_message`).
"""

from __future__ import annotations

import enum
import functools
import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Oid = tuple[int, ...]

V1 = 0
V2C = 1

GET = 0xA0
GETNEXT = 0xA1
RESPONSE = 0xA2
GETBULK = 0xA5
REPORT = 0xA8

SEQUENCE = 0x30
INTEGER = 0x02
OCTETS = 0x04
_NULL = 0x05
_OID = 0x06
_IPADDRESS = 0x40
_OPAQUE = 0x44
_COUNTER64 = 0x46
_UNSIGNED = frozenset({0x41, 0x42, 0x43, _COUNTER64})  # Counter32, Gauge32, TimeTicks


class BerError(ValueError):
    """A datagram that is not a well-formed SNMP community message."""


class Special(enum.Enum):
    """The v2 exception values a varbind can carry instead of a value (RFC 3416)."""

    NO_SUCH_OBJECT = 0x80
    NO_SUCH_INSTANCE = 0x81
    END_OF_MIB_VIEW = 0x82


Value = int | bytes | Oid | ipaddress.IPv4Address | Special | None
VarBind = tuple[Oid, Value]


@dataclass(frozen=True, slots=True)
class Message:
    """A decoded community message."""

    version: int
    community: bytes
    pdu_type: int
    request_id: int
    error_status: int
    error_index: int
    varbinds: list[VarBind]


def parse_oid(text: str) -> Oid:
    """ "1.3.6.1.2.1.1.3.0" (a leading dot is allowed) → (1, 3, 6, 1, 2, 1, 1, 3, 0)."""
    try:
        oid = tuple(int(part) for part in text.strip().lstrip(".").split("."))
    except ValueError:
        raise ValueError(f"not a numeric OID: {text!r}") from None
    if len(oid) < 2 or oid[0] > 2 or any(arc < 0 for arc in oid):
        raise ValueError(f"not a numeric OID: {text!r}")
    return oid


def format_oid(oid: Oid) -> str:
    return ".".join(map(str, oid))


def _length(size: int) -> bytes:
    if size < 0x80:
        return bytes((size,))
    body = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def tlv(tag: int, body: bytes) -> bytes:
    return bytes((tag,)) + _length(len(body)) + body


def encode_int(value: int) -> bytes:
    size = (value if value >= 0 else ~value).bit_length() // 8 + 1
    return tlv(INTEGER, value.to_bytes(size, "big", signed=True))


def encode_oid(oid: Oid) -> bytes:
    """The OID's TLV."""
    arcs = [oid[0] * 40 + oid[1], *oid[2:]]
    body = bytearray()
    for arc in arcs:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return tlv(_OID, bytes(body))


def encode_varbinds(oids: Iterable[Oid]) -> bytes:
    """The request's varbind list (each value NULL); build once, reuse every round."""
    return tlv(SEQUENCE, b"".join(tlv(SEQUENCE, encode_oid(o) + b"\x05\x00") for o in oids))


@functools.lru_cache(maxsize=8192)
def request_varbinds(oids: tuple[Oid, ...]) -> bytes:
    """encode_varbinds, cached: a node asks for the same OIDs every round."""
    return encode_varbinds(oids)


def encode_pdu(
    pdu_type: int,
    request_id: int,
    varbinds: bytes,
    non_repeaters: int = 0,
    max_repetitions: int = 0,
) -> bytes:
    """A PDU's TLV around a prebuilt varbind list (see encode_varbinds)."""
    body = encode_int(request_id) + encode_int(non_repeaters) + encode_int(max_repetitions)
    return tlv(pdu_type, body + varbinds)


def encode_request(
    version: int,
    community: bytes,
    pdu_type: int,
    request_id: int,
    varbinds: bytes,
    non_repeaters: int = 0,
    max_repetitions: int = 0,
) -> bytes:
    """A whole request message around a prebuilt varbind list (see encode_varbinds)."""
    pdu = encode_pdu(pdu_type, request_id, varbinds, non_repeaters, max_repetitions)
    return tlv(SEQUENCE, encode_int(version) + tlv(OCTETS, community) + pdu)


def read_header(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, start of body, end of body) of the TLV at pos."""
    if pos + 2 > end:
        raise BerError("truncated")
    tag = data[pos]
    size = data[pos + 1]
    pos += 2
    if size & 0x80:
        count = size & 0x7F
        if count == 0 or count > 4 or pos + count > end:
            raise BerError("bad length")
        size = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + size > end:
        raise BerError("truncated")
    return tag, pos, pos + size


def expect(data: bytes, pos: int, end: int, tag: int) -> tuple[int, int]:
    got, start, stop = read_header(data, pos, end)
    if got != tag:
        raise BerError(f"expected tag 0x{tag:02x}, got 0x{got:02x}")
    return start, stop


def read_spans(data: bytes, pos: int, end: int, tags: bytes) -> list[tuple[int, int]]:
    """The (start, stop) of each TLV's body from pos on, one per expected tag in tags.

    The same checks as read_header/expect, in one loop: decoding a v3 header is
    a dozen small TLVs, and a function call per TLV is most of its cost.
    """
    spans = []
    for tag in tags:
        if pos + 2 > end:
            raise BerError("truncated")
        if data[pos] != tag:
            raise BerError(f"expected tag 0x{tag:02x}, got 0x{data[pos]:02x}")
        size = data[pos + 1]
        pos += 2
        if size & 0x80:
            count = size & 0x7F
            if count == 0 or count > 4 or pos + count > end:
                raise BerError("bad length")
            size = int.from_bytes(data[pos : pos + count], "big")
            pos += count
        if pos + size > end:
            raise BerError("truncated")
        spans.append((pos, pos + size))
        pos += size
    return spans


def span_int(data: bytes, span: tuple[int, int]) -> int:
    """The INTEGER whose body read_spans found."""
    if span[0] == span[1]:
        raise BerError("empty integer")
    return int.from_bytes(data[span[0] : span[1]], "big", signed=True)


def read_int(data: bytes, pos: int, end: int) -> tuple[int, int]:
    start, stop = expect(data, pos, end, INTEGER)
    if start == stop:
        raise BerError("empty integer")
    return int.from_bytes(data[start:stop], "big", signed=True), stop


def decode_oid(body: bytes) -> Oid:
    """An OID's content octets → arcs."""
    arcs: list[int] = []
    arc = 0
    for byte in body:
        arc = (arc << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(arc)
            arc = 0
    if not arcs or body[-1] & 0x80:
        raise BerError("bad OID")
    first = arcs[0]
    head = (0, first) if first < 40 else (1, first - 40) if first < 80 else (2, first - 80)
    return (*head, *arcs[1:])


def _value(tag: int, body: bytes) -> Value:
    if tag == INTEGER:
        return int.from_bytes(body, "big", signed=True)
    if tag in _UNSIGNED:
        return int.from_bytes(body, "big")
    if tag in (OCTETS, _OPAQUE):
        return body
    if tag == _OID:
        return decode_oid(body)
    if tag == _NULL:
        return None
    if tag == _IPADDRESS and len(body) == 4:
        return ipaddress.IPv4Address(body)
    try:
        return Special(tag)
    except ValueError:
        raise BerError(f"unknown value tag 0x{tag:02x}") from None


def decode_pdu(data: bytes, pos: int, end: int) -> tuple[int, int, int, int, list[VarBind]]:
    """The PDU TLV at pos: (type, request-id, error-status, error-index, varbinds)."""
    pdu_type, pos, end = read_header(data, pos, end)
    if not 0xA0 <= pdu_type <= 0xA8:
        raise BerError(f"not a PDU: 0x{pdu_type:02x}")
    request_id, pos = read_int(data, pos, end)
    error_status, pos = read_int(data, pos, end)
    error_index, pos = read_int(data, pos, end)
    pos, end = expect(data, pos, end, SEQUENCE)
    varbinds: list[VarBind] = []
    while pos < end:
        start, pos = expect(data, pos, end, SEQUENCE)
        name_start, name_end = expect(data, start, pos, _OID)
        tag, value_start, value_end = read_header(data, name_end, pos)
        name = decode_oid(data[name_start:name_end])
        varbinds.append((name, _value(tag, data[value_start:value_end])))
    return pdu_type, request_id, error_status, error_index, varbinds


def decode_message(data: bytes) -> Message:
    """Parse a community message (raises BerError on anything malformed)."""
    pos, end = expect(data, 0, len(data), SEQUENCE)
    version, pos = read_int(data, pos, end)
    start, pos = expect(data, pos, end, OCTETS)
    return Message(version, data[start:pos], *decode_pdu(data, pos, end))


def is_under(oid: Oid, root: Sequence[int]) -> bool:
    """True when oid lies strictly inside the subtree root."""
    return len(oid) > len(root) and oid[: len(root)] == tuple(root)
