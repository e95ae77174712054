"""SMPP text and PDUs, pure: UCS-2 splitting, receipts, inbound text, the codec."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from dispatch import smpp_pdu as pdus
from dispatch.events import Event, Receipt
from dispatch.smpp_status import describe, is_permanent
from dispatch.smpp_text import decode_segment, encode_parts, parse_receipt, split_text
from dispatch.sms_smpp import SmppNotifier, _LongMessage
from monitor.config.notifiers import SmppNotifierConfig


@pytest.mark.parametrize(
    ("text", "sizes"),
    [
        ("警" * 70, [70]),
        ("警" * 71, [67, 4]),
        ("警" * 66 + "𠀀" + "警" * 3, [66, 5]),  # the pair would straddle 67: moved whole
        ("警" * 65 + "𠀀" + "警" * 4, [67, 4]),  # 65 + 2 = 67 units: fits exactly
        ("😀" * 35, [70]),  # 35 astral characters are 70 units: one message
        ("😀" * 36, [66, 6]),
    ],
    ids=["70", "71", "straddle", "exact", "astral-70", "astral-72"],
)
def test_split_counts_code_units_and_never_cuts_a_pair(text: str, sizes: list[int]) -> None:
    chunks = split_text(text)
    assert "".join(chunks) == text
    assert [len(c.encode("utf-16-be")) // 2 for c in chunks] == sizes


def test_parts_carry_one_reference_and_their_sequence() -> None:
    parts, esm_class = encode_parts("警" * 140, 0x2A)
    assert esm_class == 0x40
    assert [p[:6].hex() for p in parts] == ["0500032a0301", "0500032a0302", "0500032a0303"]
    assert max(len(p) for p in parts) == 140
    single, esm = encode_parts("收到", 1)
    assert esm == 0
    assert single == ["收到".encode("utf-16-be")]


def test_too_long_for_255_parts_is_refused() -> None:
    with pytest.raises(ValueError, match="255"):
        split_text("警" * (67 * 255 + 1))


@pytest.mark.parametrize(
    ("text", "tlvs", "expected"),
    [
        (
            "id:77 sub:001 dlvrd:001 submit date:2612011200 stat:DELIVRD err:000",
            {},
            ("77", "DELIVRD", "delivered"),
        ),
        ("id:78 sub:001 dlvrd:000 stat:UNDELIV err:001", {}, ("78", "UNDELIV", "failed")),
        ("id:79 stat:ENROUTE", {}, ("79", "ENROUTE", "pending")),
        ("", {0x001E: b"80\x00", 0x0427: b"\x02"}, ("80", "DELIVRD", "delivered")),
    ],
    ids=["delivered", "undeliverable", "enroute", "tlvs"],
)
def test_receipts(text: str, tlvs: dict[int, bytes], expected: tuple[str, str, str]) -> None:
    receipt = parse_receipt(text, tlvs)
    assert (receipt.message_id, receipt.stat, receipt.state) == expected


def test_inbound_segments_strip_the_udh() -> None:
    payload = bytes.fromhex("05000309020" + "1") + "收到".encode("utf-16-be")
    segment = decode_segment(payload, 0x40, 8)
    assert segment.text == "收到"
    assert segment.concat == (9, 2, 1)
    assert decode_segment(b"1", 0, 0).text == "1"


def test_submit_sm_round_trips_through_the_deliver_sm_parser() -> None:
    sm = pdus.ShortMessage("10690001", "13800138000", "收到".encode("utf-16-be"), 0x40, 8, 1, 0, 1)
    pdu = pdus.submit_sm(42, sm)
    wire = pdu.encode()
    length, command_id, status, sequence = pdus.decode_header(wire[:16])
    assert (length, command_id, status, sequence) == (len(wire), pdus.SUBMIT_SM, 0, 42)
    back = pdus.parse_short_message(pdus.Pdu(pdus.DELIVER_SM, 0, 42, wire[16:]))
    assert back == sm


def test_bind_refuses_a_password_that_does_not_fit() -> None:
    with pytest.raises(pdus.PduError):
        pdus.bind(pdus.BIND_TRANSCEIVER, 1, "cw", "123456789")


@pytest.mark.parametrize(
    ("status", "words", "permanent"),
    [
        (0x0B, "0x0000000B ESME_RINVDSTADR (invalid destination address)", True),
        (0x58, "ESME_RTHROTTLED", False),
        (0x0E, "ESME_RINVPASWD", True),
        (0x400, "0x00000400 (vendor-specific)", False),
    ],
    ids=["dest", "throttled", "password", "vendor"],
)
def test_status_words_and_verdicts(status: int, words: str, permanent: bool) -> None:
    assert words in describe(status)
    assert is_permanent(status) is permanent


def _receipt(message_id: str, stat: str) -> pdus.ShortMessage:
    text = f"id:{message_id} sub:001 dlvrd:001 stat:{stat} err:000".encode("ascii")
    return pdus.ShortMessage("13800138000", "10690001", text, esm_class=0x04)


@pytest.mark.parametrize(
    ("stats", "expected"),
    [
        (["DELIVRD", "DELIVRD"], [("p1", "delivered")]),
        (["DELIVRD"], []),  # one part still out
        (["UNDELIV", "DELIVRD"], [("p1", "failed")]),
        (["ENROUTE", "DELIVRD", "DELIVRD"], [("p1", "delivered")]),
    ],
    ids=["all-delivered", "waiting", "one-failed", "enroute-first"],
)
def test_part_receipts_join_into_one_per_message(
    stats: list[str], expected: list[tuple[str, str]]
) -> None:
    events: list[Event] = []
    config = SmppNotifierConfig(
        name="smpp",
        type="sms_smpp",
        host="127.0.0.1",
        system_id="cw",
        password=SecretStr("pw"),
        source_addr="10690001",
    )
    notifier = SmppNotifier(config, events.append)
    tracked = _LongMessage(2)
    notifier._remember(tracked, "p1")
    notifier._remember(tracked, "p2")
    parts = ["p1", "p2"] if len(stats) == 2 else ["p2"] if len(stats) == 1 else ["p1", "p1", "p2"]
    for part, stat in zip(parts, stats, strict=True):
        notifier._on_deliver(_receipt(part, stat))
    assert [(e.gateway_id, e.state) for e in events if isinstance(e, Receipt)] == expected
    notifier._on_deliver(_receipt("single9", "DELIVRD"))  # not a long message: its own id
    assert isinstance(events[-1], Receipt)
    assert events[-1].gateway_id == "single9"
