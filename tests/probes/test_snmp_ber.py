"""The in-house BER codec against pysnmp's own encoder and decoder, byte for byte."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import api, rfc1902, rfc1905

from probes.snmp_ber import (
    GET,
    GETBULK,
    GETNEXT,
    RESPONSE,
    V1,
    V2C,
    BerError,
    Special,
    decode_message,
    encode_request,
    encode_varbinds,
    format_oid,
    is_under,
    parse_oid,
)

OIDS = [
    (1, 3, 6, 1, 2, 1, 1, 3, 0),
    (1, 3, 6, 1, 2, 1, 1, 5, 0),
    (1, 3, 6, 1, 4, 1, 2021, 10, 1, 3, 1),
    (1, 3, 6, 1, 4, 1, 4294967295, 128, 16383, 16384, 0),
    (2, 999, 3),
    (0, 39),
]


def _pysnmp_request(
    mp_model: int, community: str, pdu_type: int, rid: int, oids: list[Any], reps: int
) -> bytes:
    p_mod = api.PROTOCOL_MODULES[mp_model]
    pdu_class = {
        GET: p_mod.GetRequestPDU,
        GETNEXT: p_mod.GetNextRequestPDU,
        GETBULK: getattr(p_mod, "GetBulkRequestPDU", None),
    }[pdu_type]
    pdu = pdu_class()
    if pdu_type == GETBULK:
        p_mod.apiBulkPDU.set_defaults(pdu)
        p_mod.apiBulkPDU.set_non_repeaters(pdu, 0)
        p_mod.apiBulkPDU.set_max_repetitions(pdu, reps)
    else:
        p_mod.apiPDU.set_defaults(pdu)
    p_mod.apiPDU.set_request_id(pdu, rid)
    p_mod.apiPDU.set_varbinds(pdu, [(o, p_mod.Null("")) for o in oids])
    msg = p_mod.Message()
    p_mod.apiMessage.set_defaults(msg)
    p_mod.apiMessage.set_community(msg, community)
    p_mod.apiMessage.set_pdu(msg, pdu)
    return bytes(encoder.encode(msg))


@pytest.mark.parametrize(
    ("mp_model", "pdu_type", "rid", "reps"),
    [
        (V2C, GET, 1, 0),
        (V1, GET, 127, 0),
        (V2C, GET, 128, 0),
        (V2C, GET, 2**31 - 1, 0),
        (V1, GETNEXT, 65536, 0),
        (V2C, GETBULK, 4242, 25),
        (V2C, GETBULK, 1, 200),
    ],
    ids=["v2c-get", "v1-get", "rid-128", "rid-max", "v1-next", "bulk-25", "bulk-200"],
)
def test_requests_match_pysnmp_byte_for_byte(
    mp_model: int, pdu_type: int, rid: int, reps: int
) -> None:
    ours = encode_request(mp_model, b"public", pdu_type, rid, encode_varbinds(OIDS), 0, reps)
    assert ours == _pysnmp_request(mp_model, "public", pdu_type, rid, OIDS, reps)


def test_long_messages_use_long_form_lengths() -> None:
    oids = [(1, 3, 6, 1, 2, 1, 2, 2, 1, 8, i) for i in range(1, 120)]
    ours = encode_request(V2C, b"c" * 300, GET, 7, encode_varbinds(oids))
    assert ours == _pysnmp_request(V2C, "c" * 300, GET, 7, oids, 0)
    assert decode_message(ours).varbinds == [(o, None) for o in oids]


VALUES: list[tuple[str, Any, Any]] = [
    ("integer", rfc1902.Integer32(-5), -5),
    ("integer-big", rfc1902.Integer32(2**31 - 1), 2**31 - 1),
    ("octets", rfc1902.OctetString(b"eth0"), b"eth0"),
    ("utf8", rfc1902.OctetString("移动核心".encode()), "移动核心".encode()),
    ("empty-octets", rfc1902.OctetString(b""), b""),
    ("oid", rfc1902.ObjectIdentifier((1, 3, 6, 1, 4, 1, 8072)), (1, 3, 6, 1, 4, 1, 8072)),
    ("ip", rfc1902.IpAddress("10.1.2.3"), ipaddress.IPv4Address("10.1.2.3")),
    ("counter32", rfc1902.Counter32(2**32 - 1), 2**32 - 1),
    ("gauge32", rfc1902.Gauge32(3000000000), 3000000000),
    ("timeticks", rfc1902.TimeTicks(123456), 123456),
    ("counter64", rfc1902.Counter64(2**64 - 1), 2**64 - 1),
    ("opaque", rfc1902.Opaque(b"\x9f\x78\x04\x3f\x80\x00\x00"), b"\x9f\x78\x04\x3f\x80\x00\x00"),
    ("null", rfc1902.Null(""), None),
    ("no-such-object", rfc1905.noSuchObject, Special.NO_SUCH_OBJECT),
    ("no-such-instance", rfc1905.noSuchInstance, Special.NO_SUCH_INSTANCE),
    ("end-of-mib", rfc1905.endOfMibView, Special.END_OF_MIB_VIEW),
]


def _pysnmp_response(values: list[Any], rid: int, status: int = 0, index: int = 0) -> bytes:
    p_mod = api.PROTOCOL_MODULES[V2C]
    pdu = p_mod.GetResponsePDU()
    p_mod.apiPDU.set_defaults(pdu)
    p_mod.apiPDU.set_request_id(pdu, rid)
    p_mod.apiPDU.set_error_status(pdu, status)
    p_mod.apiPDU.set_error_index(pdu, index)
    p_mod.apiPDU.set_varbinds(pdu, [((1, 3, 6, 1, 9, i), v) for i, v in enumerate(values)])
    msg = p_mod.Message()
    p_mod.apiMessage.set_defaults(msg)
    p_mod.apiMessage.set_community(msg, "public")
    p_mod.apiMessage.set_pdu(msg, pdu)
    return bytes(encoder.encode(msg))


@pytest.mark.parametrize(("value", "expected"), [v[1:] for v in VALUES], ids=[v[0] for v in VALUES])
def test_response_values_decode_like_pysnmp(value: Any, expected: Any) -> None:
    message = decode_message(_pysnmp_response([value], rid=99))
    assert message.pdu_type == RESPONSE
    assert message.request_id == 99
    assert message.community == b"public"
    assert message.varbinds == [((1, 3, 6, 1, 9, 0), expected)]


def test_error_status_and_index_decode() -> None:
    message = decode_message(_pysnmp_response([rfc1902.Null("")] * 3, 5, status=5, index=2))
    assert (message.error_status, message.error_index, len(message.varbinds)) == (5, 2, 3)


def test_our_requests_decode_with_pysnmp() -> None:
    data = encode_request(V2C, b"public", GETBULK, 31337, encode_varbinds(OIDS), 0, 10)
    msg, rest = decoder.decode(data, asn1Spec=api.PROTOCOL_MODULES[V2C].Message())
    assert rest == b""
    pdu = api.PROTOCOL_MODULES[V2C].apiMessage.get_pdu(msg)
    assert int(api.PROTOCOL_MODULES[V2C].apiPDU.get_request_id(pdu)) == 31337
    names = [tuple(n) for n, _ in api.PROTOCOL_MODULES[V2C].apiPDU.get_varbinds(pdu)]
    assert names == OIDS


GOOD = _pysnmp_response([rfc1902.OctetString(b"x"), rfc1902.TimeTicks(5)], rid=1)
MALFORMED = [
    ("empty", b""),
    ("not-a-sequence", b"\x02\x01\x00"),
    ("truncated", GOOD[:-3]),
    ("huge-length", b"\x30\x84\xff\xff\xff\xff" + GOOD[2:]),
    ("indefinite-length", b"\x30\x80" + GOOD[2:]),
    ("not-a-pdu", GOOD.replace(b"\xa2", b"\x30", 1)),
    ("bad-value-tag", GOOD.replace(b"\x43\x01\x05", b"\x47\x01\x05")),
    (
        "oid-dangling-continuation",
        GOOD.replace(b"\x06\x05\x2b\x06\x01\x09\x00", b"\x06\x05\x2b\x06\x01\x09\x80"),
    ),
    (
        "varbind-without-value",
        GOOD.replace(
            b"\x30\x0a\x06\x05\x2b\x06\x01\x09\x01\x43\x01\x05",
            b"\x30\x07\x06\x05\x2b\x06\x01\x09\x01\x00\x00\x00",
        ),
    ),
]


@pytest.mark.parametrize("data", [m[1] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_datagrams_raise_ber_error(data: bytes) -> None:
    with pytest.raises(BerError):
        decode_message(data)


@pytest.mark.parametrize(
    ("text", "oid"),
    [("1.3.6.1.2.1.1.3.0", (1, 3, 6, 1, 2, 1, 1, 3, 0)), (".1.3.6", (1, 3, 6)), ("2.5", (2, 5))],
    ids=["plain", "leading-dot", "short"],
)
def test_parse_oid(text: str, oid: tuple[int, ...]) -> None:
    assert parse_oid(text) == oid
    assert format_oid(oid) == text.lstrip(".")


@pytest.mark.parametrize(
    "text", ["", "1", "3.1", "1.3.x", "1..3"], ids=["empty", "one", "root3", "alpha", "gap"]
)
def test_parse_oid_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="numeric OID"):
        parse_oid(text)


def test_is_under_is_strict() -> None:
    root = (1, 3, 6, 1, 2, 1, 2, 2, 1, 2)
    assert is_under((*root, 7), root)
    assert not is_under(root, root)
    assert not is_under((1, 3, 6, 1, 2, 1, 2, 2, 1, 3, 1), root)
