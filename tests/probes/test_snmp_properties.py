"""Property tests (Hypothesis): hostile SNMP values never escape as exceptions.

- the BER decoder turns any datagram into a Message or a BerError, nothing else;
  every strict prefix of a well-formed response is a BerError; values of any
  size and kind come back as they were encoded;
- the judgement of an answered round never raises, whatever types and sizes the
  agent sent, and its values are storable as strict JSON.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.config.inventory import CustomOid, NodeConfig
from probes.snmp_ber import (
    RESPONSE,
    BerError,
    Oid,
    Special,
    Value,
    decode_message,
    encode_int,
    encode_oid,
    tlv,
)
from probes.snmp_judge import IF_ADMIN, IF_DESCR, IF_OPER, SYS_NAME, SYS_UPTIME, Poll, judge

PROPERTY = settings(max_examples=300, deadline=None)

arcs = st.integers(min_value=0, max_value=2**70)
oids = st.builds(
    lambda first, second, rest: (first, second, *rest),
    st.integers(0, 2),
    st.integers(0, 39),
    st.lists(arcs, max_size=12),
)
huge_ints = st.one_of(
    st.integers(), st.integers(min_value=-(10**450), max_value=10**450), st.just(10**400)
)
values: st.SearchStrategy[Value] = st.one_of(
    huge_ints,
    st.binary(max_size=64),
    st.text(max_size=20).map(lambda t: t.encode()),
    st.sampled_from(["1e999", "nan", "-inf", "12.5", "x"]).map(str.encode),
    oids,
    st.none(),
    st.sampled_from(list(Special)),
    st.ip_addresses(v=4).map(lambda a: ipaddress.IPv4Address(int(a))),
)


def _encode_value(value: Value) -> bytes:
    if isinstance(value, Special):
        return bytes((value.value, 0))
    if isinstance(value, ipaddress.IPv4Address):
        return tlv(0x40, value.packed)
    if isinstance(value, bytes):
        return tlv(0x04, value)
    if isinstance(value, tuple):
        return encode_oid(value)
    if value is None:
        return b"\x05\x00"
    return encode_int(value)


def _response(binds: list[tuple[Oid, Value]], request_id: int) -> bytes:
    body = b"".join(tlv(0x30, encode_oid(o) + _encode_value(v)) for o, v in binds)
    pdu = encode_int(request_id) + encode_int(0) + encode_int(0) + tlv(0x30, body)
    return tlv(0x30, encode_int(1) + tlv(0x04, b"public") + tlv(RESPONSE, pdu))


@PROPERTY
@given(st.binary(max_size=300))
def test_any_datagram_decodes_or_raises_ber_error(data: bytes) -> None:
    with contextlib.suppress(BerError):
        decode_message(data)


@PROPERTY
@given(st.lists(st.tuples(oids, values), max_size=6), huge_ints)
def test_responses_round_trip_and_every_prefix_is_rejected(
    binds: list[tuple[Oid, Value]], request_id: int
) -> None:
    data = _response(binds, request_id)
    message = decode_message(data)
    assert message.request_id == request_id
    assert message.varbinds == binds
    for cut in range(len(data)):
        try:
            decode_message(data[:cut])
        except BerError:
            continue
        raise AssertionError(f"a {cut}-byte prefix of a {len(data)}-byte message decoded")


@PROPERTY
@given(st.binary(min_size=1, max_size=200), st.integers(0, 400))
def test_flipped_bytes_never_escape_as_other_errors(data: bytes, where: int) -> None:
    message = bytearray(_response([((1, 3, 6, 1, 2, 1, 1, 3, 0), 5)], 7) + data)
    message[where % len(message)] ^= 0xFF
    with contextlib.suppress(BerError):
        decode_message(bytes(message))


CUSTOMS = [
    CustomOid(name="above", oid="1.3.6.1.4.1.99.1.0", warn_above=90),
    CustomOid(name="below", oid="1.3.6.1.4.1.99.2.0", warn_below=-25, scale=0.1),
    CustomOid(name="huge_scale", oid="1.3.6.1.4.1.99.3.0", warn_above=1, scale=1e300),
]
CUSTOM_OIDS: list[Oid] = [(1, 3, 6, 1, 4, 1, 99, n, 0) for n in (1, 2, 3)]
NODE = NodeConfig(
    id="r1",
    name="路由器",
    system="s",
    address="127.0.0.1",
    probes=["snmp"],
    snmp_auth="v2",
    interfaces=["eth0"],
    oids=CUSTOMS,
)


@PROPERTY
@given(
    uptime=values,
    name=values,
    customs=st.lists(values, min_size=3, max_size=3),
    oper=values,
    admin=values,
    previous=st.one_of(st.none(), huge_ints),
)
def test_judge_never_raises_and_its_values_are_strict_json(
    uptime: Value,
    name: Value,
    customs: list[Value],
    oper: Value,
    admin: Value,
    previous: int | None,
) -> None:
    poll = Poll(
        values={
            SYS_UPTIME: uptime,
            SYS_NAME: name,
            **dict(zip(CUSTOM_OIDS, customs, strict=True)),
            (*IF_OPER, 2): oper,
            (*IF_ADMIN, 2): admin,
        },
        rtt_ms=1.0,
        previous_uptime=previous if isinstance(previous, int) and 0 <= previous < 2**64 else None,
        rebooted=previous is not None,
        customs=CUSTOM_OIDS,
        if_index={"eth0": (2, IF_DESCR)},
    )
    verdict = judge(NODE, poll)
    json.dumps(verdict.values, allow_nan=False)
    assert verdict.detail is None or len(verdict.detail) < 2000


def test_a_401_digit_integer_is_reported_not_computed_with() -> None:
    poll = Poll(
        values={SYS_UPTIME: 5, SYS_NAME: b"x", CUSTOM_OIDS[0]: 10**400},
        rtt_ms=1.0,
        previous_uptime=None,
        rebooted=False,
        customs=[CUSTOM_OIDS[0]],
        if_index={},
    )
    node = NodeConfig(
        id="r1",
        name="r",
        system="s",
        address="127.0.0.1",
        probes=["snmp"],
        snmp_auth="v2",
        oids=CUSTOMS[:1],
    )
    verdict = judge(node, poll)
    assert verdict.error == "bad_value"
    assert verdict.degraded
    assert verdict.detail == "指标above取值超出范围（1.3.6.1.4.1.99.1.0）"
