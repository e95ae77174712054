"""SMPP 3.4 PDUs: the few an ESME needs, encoded and decoded with `struct` (pure).

A PDU is a 16-octet header (command_length, command_id, command_status,
sequence_number) and a body of C-octet strings, integers and, at the end,
TLVs (tag, length, value). Only what commwatch sends or must understand is
here: bind_transmitter/transceiver (+resp), submit_sm (+resp), deliver_sm
(+resp), enquire_link (+resp), unbind (+resp), generic_nack.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

BIND_RECEIVER = 0x00000001
BIND_TRANSMITTER = 0x00000002
SUBMIT_SM = 0x00000004
DELIVER_SM = 0x00000005
UNBIND = 0x00000006
BIND_TRANSCEIVER = 0x00000009
ENQUIRE_LINK = 0x00000015
GENERIC_NACK = 0x80000000
RESP = 0x80000000

BIND_COMMANDS = {"transmitter": BIND_TRANSMITTER, "transceiver": BIND_TRANSCEIVER}
COMMAND_NAMES = {
    BIND_RECEIVER: "bind_receiver",
    BIND_TRANSMITTER: "bind_transmitter",
    SUBMIT_SM: "submit_sm",
    DELIVER_SM: "deliver_sm",
    UNBIND: "unbind",
    BIND_TRANSCEIVER: "bind_transceiver",
    ENQUIRE_LINK: "enquire_link",
}

TLV_RECEIPTED_MESSAGE_ID = 0x001E
TLV_MESSAGE_STATE = 0x0427
TLV_MESSAGE_PAYLOAD = 0x0424

HEADER = struct.Struct(">IIII")
MAX_LENGTH = 64 * 1024  # a longer command_length is a broken peer, not a PDU


class PduError(ValueError):
    """Bytes that are not a well-formed PDU."""


@dataclass(frozen=True)
class Pdu:
    """One PDU: header fields and the raw body."""

    command_id: int
    status: int
    sequence: int
    body: bytes = b""

    @property
    def is_response(self) -> bool:
        """Responses have the high bit of command_id set."""
        return bool(self.command_id & RESP)

    def encode(self) -> bytes:
        """The PDU on the wire."""
        return (
            HEADER.pack(HEADER.size + len(self.body), self.command_id, self.status, self.sequence)
            + self.body
        )


def command_name(command_id: int) -> str:
    """bind_transceiver, submit_sm_resp, …"""
    if command_id == GENERIC_NACK:
        return "generic_nack"
    base = COMMAND_NAMES.get(command_id & ~RESP, f"command 0x{command_id:08X}")
    return f"{base}_resp" if command_id & RESP and command_id != GENERIC_NACK else base


def decode_header(data: bytes) -> tuple[int, int, int, int]:
    """(length, command_id, status, sequence) of a 16-octet header."""
    length, command_id, status, sequence = HEADER.unpack(data)
    if length < HEADER.size or length > MAX_LENGTH:
        raise PduError(f"command_length {length} out of range")
    return length, command_id, status, sequence


def cstring(value: str | bytes, limit: int) -> bytes:
    """A C-octet string of at most `limit` octets including the NUL."""
    raw = value.encode("ascii") if isinstance(value, str) else value
    if len(raw) >= limit:
        raise PduError(f"{raw[:20]!r}… longer than {limit - 1} octets")
    return raw + b"\x00"


def bind(
    command_id: int,
    sequence: int,
    system_id: str,
    password: str,
    system_type: str = "",
    address_range: str = "",
) -> Pdu:
    """bind_transmitter / bind_transceiver, interface_version 3.4."""
    body = (
        cstring(system_id, 16)
        + cstring(password, 9)
        + cstring(system_type, 13)
        + bytes([0x34, 0, 0])  # interface_version, addr_ton, addr_npi
        + cstring(address_range, 41)
    )
    return Pdu(command_id, 0, sequence, body)


@dataclass(frozen=True)
class ShortMessage:
    """The fields of submit_sm and deliver_sm that matter here."""

    source_addr: str
    destination_addr: str
    short_message: bytes
    esm_class: int = 0
    data_coding: int = 0
    registered_delivery: int = 0
    source_ton: int = 0
    source_npi: int = 0
    dest_ton: int = 0
    dest_npi: int = 1
    tlvs: dict[int, bytes] = field(default_factory=dict)


def submit_sm(sequence: int, sm: ShortMessage) -> Pdu:
    """submit_sm with short_message (≤ 140 octets: the caller splits longer texts)."""
    if len(sm.short_message) > 254:
        raise PduError("short_message longer than 254 octets")
    body = (
        cstring("", 6)  # service_type
        + bytes([sm.source_ton, sm.source_npi])
        + cstring(sm.source_addr, 21)
        + bytes([sm.dest_ton, sm.dest_npi])
        + cstring(sm.destination_addr, 21)
        + bytes([sm.esm_class, 0, 0])  # esm_class, protocol_id, priority_flag
        + cstring("", 17)  # schedule_delivery_time
        + cstring("", 17)  # validity_period
        + bytes([sm.registered_delivery, 0, sm.data_coding, 0, len(sm.short_message)])
        + sm.short_message
    )
    return Pdu(SUBMIT_SM, 0, sequence, body)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def cstring(self) -> bytes:
        end = self.data.find(b"\x00", self.pos)
        if end < 0:
            raise PduError("unterminated C-octet string")
        value = self.data[self.pos : end]
        self.pos = end + 1
        return value

    def octets(self, count: int) -> bytes:
        if self.pos + count > len(self.data):
            raise PduError("body shorter than its fields")
        value = self.data[self.pos : self.pos + count]
        self.pos += count
        return value

    def byte(self) -> int:
        return self.octets(1)[0]

    def tlvs(self) -> dict[int, bytes]:
        found: dict[int, bytes] = {}
        while self.pos + 4 <= len(self.data):
            tag, length = struct.unpack(">HH", self.octets(4))
            found[tag] = self.octets(length)
        return found


def message_id_of(pdu: Pdu) -> str:
    """The message_id of a submit_sm_resp (empty when the SMSC sent none)."""
    if not pdu.body:
        return ""
    return _Reader(pdu.body).cstring().decode("ascii", "replace")


def parse_short_message(pdu: Pdu) -> ShortMessage:
    """The fields of a deliver_sm (same layout as submit_sm) with its TLVs."""
    reader = _Reader(pdu.body)
    reader.cstring()  # service_type
    source_ton, source_npi = reader.byte(), reader.byte()
    source = reader.cstring().decode("ascii", "replace")
    dest_ton, dest_npi = reader.byte(), reader.byte()
    dest = reader.cstring().decode("ascii", "replace")
    esm_class = reader.byte()
    reader.octets(2)  # protocol_id, priority_flag
    reader.cstring()  # schedule_delivery_time
    reader.cstring()  # validity_period
    registered, _replace, data_coding, _default_id, length = reader.octets(5)
    message = reader.octets(length)
    tlvs = reader.tlvs()
    if not message and TLV_MESSAGE_PAYLOAD in tlvs:
        message = tlvs[TLV_MESSAGE_PAYLOAD]
    return ShortMessage(
        source,
        dest,
        message,
        esm_class,
        data_coding,
        registered,
        source_ton,
        source_npi,
        dest_ton,
        dest_npi,
        tlvs,
    )


def response(pdu: Pdu, body: bytes = b"", status: int = 0) -> Pdu:
    """The response to a request PDU, same sequence number."""
    return Pdu(pdu.command_id | RESP, status, pdu.sequence, body)
