"""SNMPv3 messages against pysnmp's ASN.1 classes byte for byte, and a fuzzed decoder."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder, encoder
from pysnmp.entity import config as _engine  # noqa: F401  (loads the secmods in pysnmp's order)
from pysnmp.proto.api import v2c
from pysnmp.proto.mpmod.rfc3412 import ScopedPDU, SNMPv3Message
from pysnmp.proto.secmod.rfc3414.service import UsmSecurityParameters

from probes.snmp_ber import GET, GETBULK, REPORT, RESPONSE, BerError, encode_varbinds
from probes.snmp_v3_client import open_reply
from probes.snmp_v3_keys import UserKeys
from probes.snmp_v3_message import (
    AUTH_FLAG,
    PRIV_FLAG,
    REPORTABLE_FLAG,
    decode_header,
    decode_scoped_pdu,
    encode_message,
    encode_scoped_pdu,
    encrypted_data,
    sign_into,
    unsigned_data,
)

ENGINE = bytes.fromhex("80001f8880e9630000d61ff449")
OIDS = [(1, 3, 6, 1, 2, 1, 1, 3, 0), (1, 3, 6, 1, 2, 1, 1, 5, 0)]
PROPERTY = settings(max_examples=400, deadline=None)


def _pysnmp_pdu(pdu_type: int, rid: int, reps: int = 0, values: list[Any] | None = None) -> Any:
    cls = {
        GET: v2c.GetRequestPDU,
        GETBULK: v2c.GetBulkRequestPDU,
        RESPONSE: v2c.ResponsePDU,
        REPORT: v2c.ReportPDU,
    }
    pdu = cls[pdu_type]()
    if pdu_type == GETBULK:
        v2c.apiBulkPDU.set_defaults(pdu)
        v2c.apiBulkPDU.set_max_repetitions(pdu, reps)
    else:
        v2c.apiPDU.set_defaults(pdu)
    v2c.apiPDU.set_request_id(pdu, rid)
    row_values = values or [v2c.Null("")] * len(OIDS)
    v2c.apiPDU.set_varbinds(pdu, list(zip(OIDS, row_values, strict=True)))
    return pdu


def _pysnmp_scoped(context_engine: bytes, context: bytes, pdu: Any) -> Any:
    scoped = ScopedPDU()
    scoped.setComponentByPosition(0, context_engine)
    scoped.setComponentByPosition(1, context)
    scoped.setComponentByPosition(2)
    scoped.getComponentByPosition(2).setComponentByType(
        pdu.tagSet, pdu, verifyConstraints=False, matchTags=False, matchConstraints=False
    )
    return scoped


def _pysnmp_message(
    msg_id: int, flags: int, usm: tuple[Any, ...], scoped: Any = None, encrypted: bytes = b""
) -> bytes:
    params = UsmSecurityParameters()
    for position, value in enumerate(usm):
        params.setComponentByPosition(position, value)
    message = SNMPv3Message()
    message.setComponentByPosition(0, 3)
    header = message.setComponentByPosition(1).getComponentByPosition(1)
    for position, value in enumerate((msg_id, 65507, bytes((flags,)), 3)):
        header.setComponentByPosition(position, value)
    message.setComponentByPosition(2, encoder.encode(params))
    data = message.setComponentByPosition(3).getComponentByPosition(3)
    if scoped is not None:
        data.setComponentByPosition(0, scoped)
    else:
        data.setComponentByPosition(1, encrypted)
    return bytes(encoder.encode(message))


@pytest.mark.parametrize(
    ("pdu_type", "reps", "context"),
    [(GET, 0, b""), (GETBULK, 25, b"vlan-12"), (GET, 0, b"x" * 200)],
)
def test_plaintext_request_matches_pysnmp(pdu_type: int, reps: int, context: bytes) -> None:
    scoped = encode_scoped_pdu(ENGINE, context, pdu_type, 1234567, encode_varbinds(OIDS), 0, reps)
    ours, offset = encode_message(
        1234567, AUTH_FLAG | REPORTABLE_FLAG, ENGINE, 17, 300000, b"privsha", 12, b"", scoped
    )
    usm = (ENGINE, 17, 300000, b"privsha", bytes(12), b"")
    theirs = _pysnmp_message(
        1234567,
        AUTH_FLAG | REPORTABLE_FLAG,
        usm,
        scoped=_pysnmp_scoped(ENGINE, context, _pysnmp_pdu(pdu_type, 1234567, reps)),
    )
    assert ours == theirs
    assert ours[offset : offset + 12] == bytes(12)
    signed = sign_into(ours, offset, b"D" * 12)
    assert decode_header(signed).auth_params == b"D" * 12


@pytest.mark.parametrize("mac_length", [0, 12, 16, 24, 32, 48])
def test_encrypted_request_and_discovery_match_pysnmp(mac_length: int) -> None:
    flags = (AUTH_FLAG | PRIV_FLAG if mac_length else 0) | REPORTABLE_FLAG
    body = b"\x01\x02" * 150  # long enough for two-byte lengths everywhere
    ours, offset = encode_message(
        2**31 - 1, flags, ENGINE, 2**31 - 1, 0, b"u", mac_length, b"saltsalt", encrypted_data(body)
    )
    usm = (ENGINE, 2**31 - 1, 0, b"u", bytes(mac_length), b"saltsalt")
    if mac_length:
        assert ours == _pysnmp_message(2**31 - 1, flags, usm, encrypted=body)
    discovery, _ = encode_message(
        9, REPORTABLE_FLAG, b"", 0, 0, b"", 0, b"", encode_scoped_pdu(b"", b"", GET, 0, b"0\x00")
    )
    empty = _pysnmp_scoped(b"", b"", _pysnmp_pdu(GET, 0))
    empty[2][0][3].clear()  # no varbinds
    assert discovery == _pysnmp_message(9, REPORTABLE_FLAG, (b"", 0, 0, b"", b"", b""), empty)
    assert ours[offset : offset + mac_length] == bytes(mac_length)


def test_decodes_what_pysnmp_encodes() -> None:
    values = [v2c.TimeTicks(123456), v2c.OctetString(b"commwatch-test-agent")]
    scoped = _pysnmp_scoped(ENGINE, b"ctx", _pysnmp_pdu(RESPONSE, 4242, values=values))
    usm = (ENGINE, 3, 777, b"privsha", b"A" * 12, b"saltsalt")
    data = _pysnmp_message(4242, AUTH_FLAG, usm, scoped=scoped)
    header = decode_header(data)
    assert (header.msg_id, header.flags, header.security_model, header.max_size) == (
        4242,
        AUTH_FLAG,
        3,
        65507,
    )
    assert (header.engine_id, header.boots, header.time, header.user) == (
        ENGINE,
        3,
        777,
        b"privsha",
    )
    assert (header.auth_params, header.priv_params) == (b"A" * 12, b"saltsalt")
    assert unsigned_data(data, header) == data.replace(b"A" * 12, bytes(12))
    pdu = decode_scoped_pdu(data, header.data_start, header.data_end)
    assert (pdu.context_engine_id, pdu.context_name, pdu.pdu_type) == (ENGINE, b"ctx", RESPONSE)
    assert pdu.varbinds == [(OIDS[0], 123456), (OIDS[1], b"commwatch-test-agent")]
    decoded, _ = decoder.decode(data, asn1Spec=SNMPv3Message())
    assert int(decoded[1][0]) == header.msg_id


def test_padding_after_a_decrypted_scoped_pdu_is_ignored() -> None:
    scoped = encode_scoped_pdu(ENGINE, b"", RESPONSE, 5, encode_varbinds(OIDS))
    assert decode_scoped_pdu(scoped + bytes(7)).request_id == 5


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x30\x03\x02\x01\x01",  # v2c
        b"\x30\x03\x02\x01\x03",  # v3 without anything else
        bytes.fromhex("3010020103300b020101020101040002010304"),  # empty flags, no usm
    ],
)
def test_malformed_headers_are_ber_errors(data: bytes) -> None:
    with pytest.raises(BerError):
        decode_header(data)


def _reply(keys: Any, privacy: bool) -> bytes:
    local = keys.for_engine(ENGINE)
    scoped = encode_scoped_pdu(ENGINE, b"", RESPONSE, 77, encode_varbinds(OIDS))
    flags, salt = AUTH_FLAG, b""
    if privacy:
        ciphertext, salt = local.privacy.encrypt(scoped, 5, 600)
        scoped, flags = encrypted_data(ciphertext), AUTH_FLAG | PRIV_FLAG
    message, offset = encode_message(77, flags, ENGINE, 5, 600, b"u", 12, salt, scoped)
    return sign_into(message, offset, local.sign(message))


AES = UserKeys("SHA", b"authpass123", "AES", b"privpass123")
DES = UserKeys("MD5", b"authpass123", "DES", b"privpass123")
GOOD = {"aes": _reply(AES, True), "des": _reply(DES, True), "auth": _reply(AES, False)}


def test_a_good_reply_opens() -> None:
    for name, keys in (("aes", AES), ("des", DES), ("auth", AES)):
        pdu = open_reply(decode_header(GOOD[name]), GOOD[name], keys.for_engine(ENGINE))
        assert pdu is not None, name
        assert pdu.request_id == 77, name


def _open_any(data: bytes) -> None:
    """Decode as the client does; only BerError may come out."""
    try:
        header = decode_header(data)
        for keys in (AES, DES):
            open_reply(header, data, keys.for_engine(ENGINE))
        open_reply(header, data, None)
    except BerError:
        pass


@PROPERTY
@given(st.binary(max_size=400))
def test_random_datagrams_never_crash_the_decoder(data: bytes) -> None:
    _open_any(data)


@PROPERTY
@given(st.sampled_from(sorted(GOOD)), st.integers(0, 400), st.integers(0, 255), st.booleans())
def test_truncated_or_garbled_replies_never_crash_the_decoder(
    name: str, where: int, byte: int, truncate: bool
) -> None:
    data = GOOD[name]
    where %= len(data)
    changed = data[:where] if truncate else data[:where] + bytes((byte,)) + data[where + 1 :]
    _open_any(changed)
    if changed != data:  # a changed byte never passes the digest as the good reply
        try:
            header = decode_header(changed)
            keys = (DES if name == "des" else AES).for_engine(ENGINE)
            assert open_reply(header, changed, keys) is None
        except BerError:
            pass
