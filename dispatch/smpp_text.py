"""SMS text for SMPP: UCS-2 parts with a concatenation UDH, receipts, inbound text (pure).

- Every text goes out as UCS-2 (data_coding 8): notices are Chinese, and the
  SMSC default alphabet differs between SMSCs.
- ≤ 70 UTF-16 code units is one message; longer texts are split into parts of
  ≤ 67 code units, each behind the UDH `05 00 03 ref total seq` (esm_class
  0x40). The split is on character boundaries: a character outside the BMP
  (two code units, a surrogate pair) is never cut — smpplib's `make_parts`
  cuts by octets and can leave half a pair at the end of a part.
- Receipts are deliver_sm with esm_class bit 0x04; their text reads
  `id:… sub:… dlvrd:… submit date:… done date:… stat:DELIVRD err:000 …`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UCS2 = 0x08
UDHI = 0x40
RECEIPT_BIT = 0x04
SINGLE_UNITS = 70
PART_UNITS = 67
MAX_PARTS = 255

_RECEIPT_FIELD = re.compile(r"\b(id|stat|err):(\S*)", re.IGNORECASE)
# message_state TLV values (SMPP 3.4 §5.3.2.35) → stat words
MESSAGE_STATES = {
    1: "ENROUTE",
    2: "DELIVRD",
    3: "EXPIRED",
    4: "DELETED",
    5: "UNDELIV",
    6: "ACCEPTD",
    7: "UNKNOWN",
    8: "REJECTD",
}
DELIVERED = frozenset({"DELIVRD"})
FAILED = frozenset({"EXPIRED", "DELETED", "UNDELIV", "REJECTD", "UNKNOWN"})


def _units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def split_text(text: str) -> list[str]:
    """The text in SMS-sized chunks (code units), never cutting a character."""
    if sum(_units(c) for c in text) <= SINGLE_UNITS:
        return [text]
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for char in text:
        units = _units(char)
        if size + units > PART_UNITS:
            chunks.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += units
    if current:
        chunks.append("".join(current))
    if len(chunks) > MAX_PARTS:
        raise ValueError(f"text needs {len(chunks)} SMS parts (at most {MAX_PARTS})")
    return chunks


def encode_parts(text: str, reference: int) -> tuple[list[bytes], int]:
    """(short_message octets per part, esm_class) for a UCS-2 text; `reference` is 0–255."""
    chunks = split_text(text)
    if len(chunks) == 1:
        return [text.encode("utf-16-be")], 0
    total = len(chunks)
    parts = [
        bytes([0x05, 0x00, 0x03, reference & 0xFF, total, seq]) + chunk.encode("utf-16-be")
        for seq, chunk in enumerate(chunks, start=1)
    ]
    return parts, UDHI


@dataclass(frozen=True)
class Segment:
    """An inbound short message: its text and, if concatenated, (reference, total, seq)."""

    text: str
    concat: tuple[int, int, int] | None = None


def decode_segment(payload: bytes, esm_class: int, data_coding: int) -> Segment:
    """Inbound text: UDH stripped (8- and 16-bit concatenation read), decoded per data_coding."""
    concat = None
    if esm_class & UDHI and payload:
        header_length = payload[0] + 1
        concat = _concat_of(payload[1:header_length])
        payload = payload[header_length:]
    if data_coding & 0x0F == UCS2:
        text = payload.decode("utf-16-be", "replace")
    elif data_coding & 0x0F == 0x03:
        text = payload.decode("latin-1")
    else:  # SMSC default alphabet: replies are digits and ASCII words in practice
        text = payload.decode("ascii", "replace")
    return Segment(text, concat)


def _concat_of(header: bytes) -> tuple[int, int, int] | None:
    pos = 0
    while pos + 2 <= len(header):
        tag, length = header[pos], header[pos + 1]
        value = header[pos + 2 : pos + 2 + length]
        if tag == 0x00 and length == 3:
            return value[0], value[1], value[2]
        if tag == 0x08 and length == 4:
            return (value[0] << 8) | value[1], value[2], value[3]
        pos += 2 + length
    return None


@dataclass(frozen=True)
class ReceiptText:
    """The fields of a delivery receipt that decide the delivery state."""

    message_id: str
    stat: str
    error: str

    @property
    def state(self) -> str:
        """delivered, failed, or pending (ENROUTE, ACCEPTD: more to come)."""
        if self.stat in DELIVERED:
            return "delivered"
        if self.stat in FAILED:
            return "failed"
        return "pending"


def parse_receipt(text: str, tlvs: dict[int, bytes]) -> ReceiptText:
    """A receipt from its TLVs (receipted_message_id, message_state) or else its text."""
    fields = {k.lower(): v for k, v in _RECEIPT_FIELD.findall(text)}
    message_id = fields.get("id", "")
    stat = fields.get("stat", "").upper()
    if 0x001E in tlvs:
        message_id = tlvs[0x001E].rstrip(b"\x00").decode("ascii", "replace")
    if tlvs.get(0x0427):
        stat = MESSAGE_STATES.get(tlvs[0x0427][0], stat)
    return ReceiptText(message_id, stat, fields.get("err", ""))
