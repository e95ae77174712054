"""Delivery states, receipts and 收到 on SQLite and PostgreSQL, through the real outbox."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import select

from dispatch.acks import DeliveryNotFoundError, acknowledge, is_ack, record_reply
from dispatch.followup_reads import failing_contacts
from dispatch.followup_status import follow_up_health
from dispatch.followup_tables import contact_flags
from dispatch.receipts import ReceiptState, record_receipt
from dispatch.states import delivery_state, notice_lines
from monitor.incidents.authority import actor_of
from monitor.incidents.engine import IncidentEngine
from monitor.incidents.notices import NoticeKind
from monitor.storage.engine_reads import EngineReader
from tests.conftest import Db
from tests.dispatch.followup_support import open_incident, rows, send_notice, setup
from tests.dispatch.support import ONE_OPERATOR


@pytest.mark.parametrize(
    ("status", "delivered", "acked", "state"),
    [
        ("pending", False, False, "queued"),
        ("sending", False, False, "queued"),
        ("sent", False, False, "sent"),
        ("sent", True, False, "delivered"),
        ("sent", True, True, "acknowledged"),
        ("sent", False, True, "acknowledged"),
        ("failed", False, False, "failed"),
    ],
    ids=["pending", "sending", "sent", "delivered", "acked", "acked-no-dlr", "failed"],
)
def test_state_mapping(status: str, delivered: bool, acked: bool, state: str) -> None:
    from tests.dispatch.support import T0

    assert delivery_state(status, T0 if delivered else None, T0 if acked else None) == state


@pytest.mark.parametrize(
    ("text", "ack"),
    [("1", True), ("收到", True), (" 收到！", True), ("确认", True), ("收到，马上处理", True),
     ("OK", True), ("已阅。", True), ("2", False), ("什么情况？", False), ("", False)],
)  # fmt: skip
def test_what_counts_as_an_acknowledgement(text: str, ack: bool) -> None:
    assert is_ack(text) is ack


def test_states_receipts_and_acks_through_the_timeline(tmp_path: Path, db: Db) -> None:
    config, engine = setup(tmp_path, db)
    incident = open_incident(engine, config)
    ids = send_notice(engine, config, NoticeKind.DETECTION, incident, ONE_OPERATOR)
    lines = notice_lines(engine, config.daemon.notifier, incident)
    assert [line.id for line in lines] == ids
    assert {line.state for line in lines} == {"sent"}
    assert {line.channel for line in lines} == {"mail", "kannel"}
    assert {line.escalation_step for line in lines} == {0}
    director = [line for line in lines if line.recipient == "deputy-miit"]
    assert {line.address for line in director} == {"director@example.org", "13800000003"}

    sms = next(line for line in director if line.medium == "sms")
    gateway = next(r["gateway_id"] for r in rows(engine) if r["id"] == sms.id)
    assert record_receipt(engine, str(gateway), ReceiptState.DELIVERED, "DLR 1") == sms.id
    assert record_receipt(engine, "nobody-knows-this-id", ReceiptState.DELIVERED) is None
    states = {line.id: line.state for line in notice_lines(engine, config.daemon.notifier)}
    assert states[sms.id] == "delivered"

    incidents = IncidentEngine(engine, config)
    reply = record_reply(incidents, "+86 138 0000 0003", "收到")
    assert reply.ack is not None
    assert reply.ack.fresh
    after = {line.id: line for line in notice_lines(engine, config.daemon.notifier, incident)}
    assert {after[line.id].state for line in director} == {"acknowledged"}
    assert {after[line.id].ack_means for line in director} == {"sms"}
    others = [line for line in after.values() if line.recipient != "deputy-miit"]
    assert {line.state for line in others} == {"sent"}
    events = [e for e in incidents.timeline(incident) if e.kind == "acknowledged"]
    assert len(events) == 1
    assert (events[0].actor, events[0].data["means"]) == ("deputy-miit", "sms")

    again = acknowledge(incidents, sms.id, actor_of(config.people["commander"]), "cli")
    assert not again.fresh
    assert again.means == "sms"
    assert len([e for e in incidents.timeline(incident) if e.kind == "acknowledged"]) == 1
    assert record_reply(incidents, "13800000003", "收到").ack is None  # nothing open any more
    assert record_reply(incidents, "13800000004", "这是什么").ack is None
    with pytest.raises(DeliveryNotFoundError):
        acknowledge(incidents, 9999, actor_of(config.people["commander"]), "cli")


def test_a_failed_receipt_fails_the_delivery_and_flags_the_number(tmp_path: Path, db: Db) -> None:
    config, engine = setup(tmp_path, db)
    incident = open_incident(engine, config)
    send_notice(engine, config, NoticeKind.DETECTION, incident, ONE_OPERATOR)
    sms = next(r for r in rows(engine) if r["address"] == "13800000004")
    record_receipt(engine, str(sms["gateway_id"]), "failed", "DLR 16: NACK/0x0000000b")
    record_receipt(engine, str(sms["gateway_id"]), "failed", "DLR 16: NACK/0x0000000b")
    line = notice_lines(engine, config.daemon.notifier, delivery_id=int(str(sms["id"])))[0]
    assert (line.state, line.reason) == ("failed", "receipt: DLR 16: NACK/0x0000000b")
    with engine.connect() as connection:
        flag = connection.execute(select(contact_flags)).one()
    assert (flag.address, flag.failures, flag.cleared_at) == ("13800000004", 2, None)
    shown = follow_up_health(EngineReader(engine), config).lines()
    assert any(line.startswith("failing contact: 指挥部办公室值班员") for line in shown), shown
    assert any("sms 13800000004 — DLR 16: NACK/0x0000000b (2x" in line for line in shown), shown
    fixed = dataclasses.replace(config, contacts=config.contacts.model_copy(update={"person": []}))
    assert failing_contacts(engine, fixed) == []  # no longer in contacts.toml: not flagged
    record_receipt(engine, str(sms["gateway_id"]), "delivered", "DLR 1")
    with engine.connect() as connection:
        assert connection.execute(select(contact_flags.c.cleared_at)).scalar() is not None
