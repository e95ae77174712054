"""SNMPv3 messages (RFC 3412) with USM security parameters (RFC 3414), in BER by hand.

    SNMPv3Message ::= SEQUENCE {
        msgVersion INTEGER (3),
        msgGlobalData SEQUENCE { msgID, msgMaxSize INTEGER, msgFlags OCTET STRING (1 byte),
                                 msgSecurityModel INTEGER (3 = USM) },
        msgSecurityParameters OCTET STRING -- holding UsmSecurityParameters:
            SEQUENCE { msgAuthoritativeEngineID OCTET STRING, msgAuthoritativeEngineBoots,
                       msgAuthoritativeEngineTime INTEGER, msgUserName,
                       msgAuthenticationParameters, msgPrivacyParameters OCTET STRING },
        msgData CHOICE { plaintext ScopedPDU, encryptedPDU OCTET STRING } }
    ScopedPDU ::= SEQUENCE { contextEngineID, contextName OCTET STRING, data PDU }

Built on `probes.snmp_ber`; keys, digests and ciphers are `probes.snmp_v3_keys`.
The tests compare encodings byte-for-byte with pysnmp's and fuzz the decoder:
whatever arrives, it raises BerError or returns, nothing else.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from probes.snmp_ber import (
    INTEGER,
    OCTETS,
    SEQUENCE,
    BerError,
    VarBind,
    decode_pdu,
    encode_int,
    encode_pdu,
    expect,
    read_header,
    read_spans,
    span_int,
    tlv,
)

VERSION_3 = 3
USM = 3
MAX_SIZE = 65507  # msgMaxSize we accept (a UDP datagram's payload), as pysnmp sends it
AUTH_FLAG = 0x01
PRIV_FLAG = 0x02
REPORTABLE_FLAG = 0x04


@dataclass(frozen=True, slots=True)
class Header:
    """The cleartext part of a v3 message, and where its pieces sit in the datagram."""

    msg_id: int
    max_size: int
    flags: int
    security_model: int
    engine_id: bytes
    boots: int
    time: int
    user: bytes
    auth_params: bytes
    auth_offset: int  # where msgAuthenticationParameters' content starts
    priv_params: bytes
    data_start: int  # the scopedPDU TLV (plaintext), or the encryptedPDU's content
    data_end: int

    @property
    def encrypted(self) -> bool:
        return bool(self.flags & PRIV_FLAG)


@dataclass(frozen=True, slots=True)
class ScopedPdu:
    """A decoded ScopedPDU."""

    context_engine_id: bytes
    context_name: bytes
    pdu_type: int
    request_id: int
    error_status: int
    error_index: int
    varbinds: list[VarBind]


def _octets(data: bytes, pos: int, end: int) -> tuple[bytes, int]:
    start, stop = expect(data, pos, end, OCTETS)
    return data[start:stop], stop


_MESSAGE = bytes((INTEGER, SEQUENCE, OCTETS))  # msgVersion, msgGlobalData, msgSecurityParameters
_GLOBAL = bytes((INTEGER, INTEGER, OCTETS, INTEGER))
_USM = bytes((OCTETS, INTEGER, INTEGER, OCTETS, OCTETS, OCTETS))


def decode_header(data: bytes) -> Header:
    """Parse a v3 message up to its msgData (raises BerError on anything malformed)."""
    pos, end = expect(data, 0, len(data), SEQUENCE)
    version, global_data, security = read_spans(data, pos, end, _MESSAGE)
    if span_int(data, version) != VERSION_3:
        raise BerError(f"not SNMPv3 (version {span_int(data, version)})")
    msg_id, max_size, flags, model = read_spans(data, *global_data, _GLOBAL)
    if flags[1] - flags[0] != 1:
        raise BerError("msgFlags is not one octet")
    flag = data[flags[0]]
    sec, sec_end = expect(data, *security, SEQUENCE)
    engine_id, boots, engine_time, user, auth, priv = read_spans(data, sec, sec_end, _USM)
    tag, body, data_end = read_header(data, security[1], end)
    if tag == OCTETS and flag & PRIV_FLAG:
        data_start = body
    elif tag == SEQUENCE and not flag & PRIV_FLAG:
        data_start = security[1]
    else:
        raise BerError(f"msgData tag 0x{tag:02x} does not fit msgFlags 0x{flag:02x}")
    return Header(
        span_int(data, msg_id),
        span_int(data, max_size),
        flag,
        span_int(data, model),
        data[engine_id[0] : engine_id[1]],
        span_int(data, boots),
        span_int(data, engine_time),
        data[user[0] : user[1]],
        data[auth[0] : auth[1]],
        auth[0],
        data[priv[0] : priv[1]],
        data_start,
        data_end,
    )


def decode_scoped_pdu(data: bytes, pos: int = 0, end: int | None = None) -> ScopedPdu:
    """A ScopedPDU TLV at pos (decrypted ones may carry padding after it: ignored)."""
    pos, end = expect(data, pos, len(data) if end is None else end, SEQUENCE)
    engine_id, pos = _octets(data, pos, end)
    name, pos = _octets(data, pos, end)
    return ScopedPdu(engine_id, name, *decode_pdu(data, pos, end))


def unsigned_data(data: bytes, header: Header) -> bytes:
    """The datagram with its authentication parameters zeroed: what the digest covers."""
    start, length = header.auth_offset, len(header.auth_params)
    return data[:start] + bytes(length) + data[start + length :]


def encode_scoped_pdu(
    context_engine_id: bytes,
    context_name: bytes,
    pdu_type: int,
    request_id: int,
    varbinds: bytes,
    non_repeaters: int = 0,
    max_repetitions: int = 0,
) -> bytes:
    """A ScopedPDU around a prebuilt varbind list (`probes.snmp_ber.encode_varbinds`)."""
    pdu = encode_pdu(pdu_type, request_id, varbinds, non_repeaters, max_repetitions)
    return tlv(SEQUENCE, tlv(OCTETS, context_engine_id) + tlv(OCTETS, context_name) + pdu)


@functools.lru_cache(maxsize=4096)
def _fixed(flags: int, engine_id: bytes, user: bytes, mac_length: int) -> tuple[bytes, ...]:
    """The TLVs of a message that stay the same for one agent and credential."""
    after_id = encode_int(MAX_SIZE) + tlv(OCTETS, bytes((flags,))) + encode_int(USM)
    return after_id, tlv(OCTETS, engine_id), tlv(OCTETS, user), tlv(OCTETS, bytes(mac_length))


def encode_message(
    msg_id: int,
    flags: int,
    engine_id: bytes,
    boots: int,
    engine_time: int,
    user: bytes,
    mac_length: int,
    priv_params: bytes,
    msg_data: bytes,
) -> tuple[bytes, int]:
    """(message, offset of its zeroed msgAuthenticationParameters).

    msg_data is the ScopedPDU TLV, or the encryptedPDU's OCTET STRING TLV. The
    caller signs the returned message and writes the digest at the offset.
    """
    after_id, engine_tlv, user_tlv, auth = _fixed(flags, engine_id, user, mac_length)
    global_data = tlv(SEQUENCE, encode_int(msg_id) + after_id)
    before_auth = engine_tlv + encode_int(boots) + encode_int(engine_time) + user_tlv
    usm_body = before_auth + auth + tlv(OCTETS, priv_params)
    usm = tlv(SEQUENCE, usm_body)
    security = tlv(OCTETS, usm)
    head = encode_int(VERSION_3) + global_data
    body = head + security + msg_data
    message = tlv(SEQUENCE, body)
    offset = (
        (len(message) - len(body))
        + len(head)
        + (len(security) - len(usm))
        + (len(usm) - len(usm_body))
        + len(before_auth)
        + (len(auth) - mac_length)
    )
    return message, offset


def sign_into(message: bytes, offset: int, digest: bytes) -> bytes:
    """The message with digest written over its zeroed authentication parameters."""
    return message[:offset] + digest + message[offset + len(digest) :]


def encrypted_data(ciphertext: bytes) -> bytes:
    """The encryptedPDU TLV."""
    return tlv(OCTETS, ciphertext)


__all__ = [
    "AUTH_FLAG",
    "INTEGER",
    "PRIV_FLAG",
    "REPORTABLE_FLAG",
    "Header",
    "ScopedPdu",
    "decode_header",
    "decode_scoped_pdu",
    "encode_message",
    "encode_scoped_pdu",
    "encrypted_data",
    "sign_into",
    "unsigned_data",
]
