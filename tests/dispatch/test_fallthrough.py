"""The HQ office duty told of fall-throughs (通知改发): batched, coalesced, never a loop.

Outbox steps driven by hand (no sending) on SQLite and PostgreSQL, with the shipped
contacts: the real router, renderer and planner. The real SMTP server, Kannel and a
SIGKILL are in tests/integration/test_fallthrough_duty.py.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from dispatch.models import deliveries, notices
from dispatch.outbox import Outbox
from dispatch.planner import plan_notice
from dispatch.render import Renderer
from monitor.config import Config
from monitor.incidents.notices import NoticeKind
from monitor.storage.migrations import upgrade as create_schema
from tests.conftest import Db
from tests.dispatch.support import ONE_OPERATOR, T0, base_toml, load, request, write_config

SEC = timedelta(seconds=1)
AFTER = 60 * SEC
WINDOW = 30 * SEC
CHANNELS = """
[[notifier]]
name = "mail"
type = "email"
host = "127.0.0.1"
sender = "commwatch@example.org"

[[notifier]]
name = "sms"
type = "sms_http"
url = "http://127.0.0.1:9/"

[[dispatch.route]]
name = "成员单位和运营企业：先邮件，不通再短信"
member_units = true
concerned_operators = true
units = ["联通城区分公司", "铁塔城区分公司"]
channels = ["email", "sms"]
fallback = true
"""
DUTY = {
    ("email", "gxj@example.org"),
    ("email", "duty@example.org"),
    ("sms", "13800000010"),
    ("sms", "13800000004"),
}


def _setup(tmp_path: Path, db: Db) -> tuple[Config, Engine, Outbox]:
    config = load(write_config(tmp_path / "conf", base_toml(tmp_path / "cw.db", CHANNELS)))
    engine = db.engine()
    create_schema(engine)
    return config, engine, Outbox(engine)


def _route(outbox: Outbox, config: Config, at: Any) -> None:
    renderer = Renderer.for_config(config)
    outbox.route_due(at, lambda r: plan_notice(r, config, renderer))


def _email_down(outbox: Outbox, at: Any) -> int:
    """Every due email is tried and refused (retry later); returns how many."""
    claimed = outbox.claim(at, "email", 500, 60 * SEC)
    for item in claimed:
        outbox.record_failure(item.id, at, "mail", "connection refused", False, at + SEC)
    return len(claimed)


def _warn(outbox: Outbox, config: Config, incident: int, at: Any) -> None:
    key = f"incident:{incident}:warning:{at.timestamp()}"
    outbox.accept([request(NoticeKind.WARNING, key, ONE_OPERATOR, incident, at=at)], at, WINDOW)
    _route(outbox, config, at)
    assert _email_down(outbox, at) > 0


def _told(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        query = select(notices).where(notices.c.kind == NoticeKind.FALLTHROUGH)
        return list(connection.execute(query.order_by(notices.c.id)))


def test_many_recipients_falling_through_together_make_one_notice(tmp_path: Path, db: Db) -> None:
    config, engine, outbox = _setup(tmp_path, db)
    _warn(outbox, config, 1, T0)
    _warn(outbox, config, 2, T0)
    assert outbox.fall_through(T0 + AFTER - SEC, AFTER, WINDOW) == (0, 0), "not overdue yet"
    opened, told = outbox.fall_through(T0 + AFTER, AFTER, WINDOW)
    rows = _told(engine)
    assert told == len(rows) == 2, "one per incident"
    per_incident = {row.incident_id: row.context["missed"] for row in rows}
    names = [m["recipient"] for m in per_incident[1]]
    assert names == [m["recipient"] for m in per_incident[2]]
    assert {"移动城区分公司", "联通城区分公司", "铁塔城区分公司", "区工信局"} <= set(names)
    assert opened == 2 * len(names), "each recipient with a mobile: its SMS opened"
    assert {(m["from"], tuple(m["to"]), m["why"]) for m in per_incident[1]} == {
        ("email", ("sms",), "overdue")
    }
    assert outbox.fall_through(T0 + AFTER + 10 * SEC, AFTER, WINDOW) == (0, 0), "told once"
    engine.dispose()


def test_fall_throughs_within_the_window_are_coalesced(tmp_path: Path, db: Db) -> None:
    config, engine, outbox = _setup(tmp_path, db)
    for offset in (0, 5, 10):  # three warnings of one incident, each falling through in turn
        _warn(outbox, config, 1, T0 + offset * SEC)
    for offset in (0, 5, 10):
        now = T0 + AFTER + offset * SEC
        assert outbox.fall_through(now, AFTER, WINDOW)[1] == 1
        _route(outbox, config, now)  # the first goes at once; the rest wait out the window
    statuses = [(row.status, row.context.get("coalesced", 1)) for row in _told(engine)]
    assert statuses == [("routed", 1), ("superseded", 1), ("held", 2)]
    held = _told(engine)[-1]
    assert len(held.context["missed"]) == 2 * len(_told(engine)[0].context["missed"])
    engine.dispose()


def test_the_duty_notice_never_falls_through(tmp_path: Path, db: Db) -> None:
    config, engine, outbox = _setup(tmp_path, db)
    _warn(outbox, config, 1, T0)
    now = T0 + AFTER
    assert outbox.fall_through(now, AFTER, WINDOW)[1] == 1
    _route(outbox, config, now)
    with engine.connect() as connection:
        told = _told(engine)[0]
        rows = connection.execute(
            select(deliveries.c.channel, deliveries.c.address, deliveries.c.stage).where(
                deliveries.c.notice_id == told.id
            )
        ).all()
    assert {(c, a) for c, a, _ in rows} == DUTY, "the office duty, email and SMS at once"
    assert {stage for *_, stage in rows} == {0}, "no later stage: nothing to fall through to"
    _email_down(outbox, now)  # the duty's email is down too, long past fallback_after
    assert outbox.fall_through(now + 10 * AFTER, AFTER, WINDOW) == (0, 0)
    assert len(_told(engine)) == 1
    engine.dispose()


def test_a_final_failure_tells_the_duty_too(tmp_path: Path, db: Db) -> None:
    config, engine, outbox = _setup(tmp_path, db)
    key = "incident:1:warning:x"
    outbox.accept([request(NoticeKind.WARNING, key, ONE_OPERATOR, 1)], T0, WINDOW)
    _route(outbox, config, T0)
    claimed = outbox.claim(T0, "email", 500, 60 * SEC)
    cmcc = next(c for c in claimed if c.address == "noc-cmcc@example.org")
    assert outbox.record_failure(cmcc.id, T0, "mail", "550 no such user", True, None, WINDOW) == 1
    (row,) = _told(engine)
    assert row.context["missed"] == [
        {"recipient": "移动城区分公司", "notice": "warning", "from": "email", "to": ["sms"],
         "why": "failed"}
    ]  # fmt: skip
    engine.dispose()


def test_at_most_one_a_minute_per_incident_even_with_a_short_window(tmp_path: Path, db: Db) -> None:
    config, engine, outbox = _setup(tmp_path, db)
    for offset in (0, 20):
        _warn(outbox, config, 1, T0 + offset * SEC)
    for offset in (0, 20):
        now = T0 + AFTER + offset * SEC
        assert outbox.fall_through(now, AFTER, SEC)[1] == 1  # coalesce_window = 1s
        _route(outbox, config, now)
    first, second = _told(engine)
    assert (first.status, second.status) == ("routed", "held")
    assert second.due_at.replace(tzinfo=None) == (T0 + AFTER + 60 * SEC).replace(tzinfo=None)
    engine.dispose()


def test_a_fall_through_out_when_the_first_channel_comes_back_stops_retrying(
    tmp_path: Path, db: Db
) -> None:
    """Email returns and is sent while the recipient's SMS fall-through is being sent and
    fails: that SMS is skipped, not queued again (the recipient has the notice)."""
    config, engine, outbox = _setup(tmp_path, db)
    _warn(outbox, config, 1, T0)
    opened, _told_count = outbox.fall_through(T0 + AFTER, AFTER, WINDOW)
    assert opened > 0
    at = T0 + AFTER + SEC
    sms = outbox.claim(at, "sms", 500, 60 * SEC)  # the fall-through SMS, out and failing
    mails = outbox.claim(at + 5 * SEC, "email", 500, 60 * SEC)  # the first channel is back
    for item in mails:
        outbox.record_sent(item.id, at, "mail", None, "250 ok")
    for item in sms:
        outbox.record_failure(item.id, at, "sms", "connection refused", False, at + SEC)
    with engine.connect() as connection:
        rows = list(connection.execute(select(deliveries).where(deliveries.c.notice_id == 1)))
    reached = {r.recipient_key for r in rows if r.channel == "email" and r.status == "sent"}
    states = {r.status for r in rows if r.channel == "sms" and r.recipient_key in reached}
    assert reached
    assert states == {"skipped"}, states
    engine.dispose()
