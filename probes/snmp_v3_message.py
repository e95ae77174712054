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
    read_int,
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


def decode_header(data: bytes) -> Header:
    """Parse a v3 message up to its msgData (raises BerError on anything malformed)."""
    pos, end = expect(data, 0, len(data), SEQUENCE)
    version, pos = read_int(data, pos, end)
    if version != VERSION_3:
        raise BerError(f"not SNMPv3 (version {version})")
    start, pos = expect(data, pos, end, SEQUENCE)
    msg_id, start = read_int(data, start, pos)
    max_size, start = read_int(data, start, pos)
    flags, start = _octets(data, start, pos)
    model, start = read_int(data, start, pos)
    if len(flags) != 1:
        raise BerError("msgFlags is not one octet")
    start, pos = expect(data, pos, end, OCTETS)
    sec, sec_end = expect(data, start, pos, SEQUENCE)
    engine_id, sec = _octets(data, sec, sec_end)
    boots, sec = read_int(data, sec, sec_end)
    engine_time, sec = read_int(data, sec, sec_end)
    user, sec = _octets(data, sec, sec_end)
    auth_offset, auth_end = expect(data, sec, sec_end, OCTETS)
    priv_params, sec = _octets(data, auth_end, sec_end)
    tag, body, data_end = read_header(data, pos, end)
    if tag == OCTETS:
        if not flags[0] & PRIV_FLAG:
            raise BerError("encryptedPDU without the privacy flag")
        data_start = body
    elif tag == SEQUENCE and not flags[0] & PRIV_FLAG:
        data_start = pos
    else:
        raise BerError(f"unexpected msgData tag 0x{tag:02x}")
    return Header(
        msg_id,
        max_size,
        flags[0],
        model,
        engine_id,
        boots,
        engine_time,
        user,
        data[auth_offset:auth_end],
        auth_offset,
        priv_params,
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
    global_data = tlv(
        SEQUENCE,
        encode_int(msg_id) + encode_int(MAX_SIZE) + tlv(OCTETS, bytes((flags,))) + encode_int(USM),
    )
    before_auth = (
        tlv(OCTETS, engine_id) + encode_int(boots) + encode_int(engine_time) + tlv(OCTETS, user)
    )
    auth = tlv(OCTETS, bytes(mac_length))
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
