"""Escalation and call tasks with a moved clock, on SQLite and PostgreSQL, through the outbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import Metric
from sqlalchemy import select

from dispatch.acks import record_reply
from dispatch.calls import complete
from dispatch.followup import FollowUp
from dispatch.followup_reads import open_calls
from dispatch.followup_tables import escalations
from dispatch.render import Renderer
from dispatch.report_records import load_final
from dispatch.states import notice_lines
from monitor.incidents.authority import actor_of
from monitor.incidents.engine import IncidentEngine
from monitor.incidents.notices import NoticeKind
from tests.conftest import Db
from tests.dispatch.followup_support import (
    deliver_pending,
    open_incident,
    rows,
    send_notice,
    setup,
)
from tests.dispatch.support import T0, TWO_OPERATORS

CHAINS = """
[escalation]
ack_within = "10m"

[[escalation.chain]]
person = "deputy-miit"
then = ["deputy-govoffice", "commander"]

[[escalation.chain]]
unit = "区工信局"
then = ["duty-officer"]
ack_within = "5m"
"""


def test_unacknowledged_notice_escalates_on_time_and_stops_on_ack(tmp_path: Path, db: Db) -> None:
    config, engine = setup(tmp_path, db, CHAINS)
    incident = open_incident(engine, config)
    send_notice(engine, config, NoticeKind.DETECTION, incident, key="k-detect")
    now = [T0]
    follow = FollowUp(config, engine, clock=lambda: now[0])

    follow.cycle(T0 + timedelta(seconds=1))
    with engine.connect() as connection:
        heads = {r.head: r for r in connection.execute(select(escalations))}
    assert set(heads) == {"person:deputy-miit", "unit:区工信局"}
    assert heads["unit:区工信局"].due_at == T0 + timedelta(minutes=5)
    before = len(rows(engine))

    follow.cycle(T0 + timedelta(minutes=4, seconds=59))  # not yet
    assert len(rows(engine)) == before

    now[0] = T0 + timedelta(minutes=5, seconds=1)
    follow.cycle(now[0])  # the unit's chain: duty-officer
    steps = [r for r in rows(engine) if r["escalation_step"] == 1]
    assert {(r["recipient_key"], r["channel"]) for r in steps} == {
        ("person:duty-officer", "email"),
        ("person:duty-officer", "sms"),
    }
    sms = next(r for r in steps if r["channel"] == "sms")
    assert str(sms["body"]).startswith("【升级通知】区工信局未在5分钟内确认收到。")

    now[0] = T0 + timedelta(minutes=10, seconds=1)
    follow.cycle(now[0])  # deputy-miit's chain: deputy-govoffice
    deliver_pending(engine, now[0])
    told = {r["recipient_key"] for r in rows(engine) if r["escalation_step"] == 1}
    assert told == {"person:duty-officer", "person:deputy-govoffice"}

    incidents = IncidentEngine(engine, config, clock=lambda: now[0])
    now[0] = T0 + timedelta(minutes=11)
    reply = record_reply(incidents, "13800000002", "收到")  # deputy-govoffice answers
    assert reply.ack is not None

    now[0] = T0 + timedelta(minutes=30)
    follow.cycle(now[0])
    follow.cycle(now[0] + timedelta(seconds=1))
    assert not [r for r in rows(engine) if r["recipient_key"] == "person:commander"]
    with engine.connect() as connection:
        ended = {r.head: r.end_reason for r in connection.execute(select(escalations))}
    assert ended == {"person:deputy-miit": "acknowledged", "unit:区工信局": "exhausted"}
    timeline = [
        (e.kind, e.data.get("to"), e.data.get("step")) for e in incidents.timeline(incident)
    ]
    assert ("escalated", "duty-officer", 1) in timeline
    assert ("escalated", "deputy-govoffice", 1) in timeline
    assert ("acknowledged", None, None) in timeline
    assert follow.steps == {"escalated": 2, "exhausted": 1}

    total = len(rows(engine))
    again = FollowUp(config, engine, clock=lambda: now[0])  # a restarted daemon
    again.cycle(now[0] + timedelta(minutes=1))
    assert len(rows(engine)) == total
    lines = notice_lines(engine, config.daemon.notifier, incident)
    assert {line.escalation_step for line in lines} == {0, 1}


CALLS = """
[calls]
within = "5m"

[escalation]
ack_within = "10m"

[[escalation.chain]]
unit = "区工信局"
then = ["duty-officer", "deputy-miit"]

[[dispatch.route]]
name = "办公室"
hq_office = true

[[dispatch.route]]
name = "只有座机的单位"
kinds = ["detection"]
units = ["区委办公室", "区人武部"]
channels = ["sms"]

[[dispatch.route]]
name = "预警：相关运营企业"
kinds = ["warning"]
concerned_operators = true
"""


def test_units_without_a_channel_and_warnings_become_call_tasks(tmp_path: Path, db: Db) -> None:
    config, engine = setup(tmp_path, db, CALLS)
    incident = open_incident(engine, config)
    send_notice(engine, config, NoticeKind.DETECTION, incident, key="k-detect")
    send_notice(
        engine, config, NoticeKind.WARNING, incident, TWO_OPERATORS, key="k-warn",
        warning_scenario=2, issuer="deputy-miit", issuer_name="区工信局局长",
    )  # fmt: skip
    now = [T0 + timedelta(seconds=1)]
    follow = FollowUp(config, engine, clock=lambda: now[0])
    follow.cycle(now[0])
    follow.cycle(now[0])
    tasks = open_calls(engine)
    got = {(t.kind, t.unit, t.phone, t.reason) for t in tasks}
    assert got == {
        ("detection", "区委办公室", "0356-2022492", "unreachable"),
        ("detection", "区人武部", config.units["区人武部"].duty_phone, "unreachable"),
        ("warning", "区工信局", "0356-2039294", "plan"),
        ("warning", "移动城区分公司", config.units["移动城区分公司"].duty_phone, "plan"),
    }  # 联通城区分公司 has no duty phone in the annex: nobody to call
    assert {t.due for t in tasks} == {T0 + timedelta(minutes=5)}
    warning = next(t for t in tasks if t.unit == "移动城区分公司")
    assert warning.script.startswith("这里是区通信网络指挥部办公室。【预警通知】")

    now[0] = T0 + timedelta(minutes=5, seconds=1)
    follow.cycle(now[0])  # four calls overdue → the office chain's first person
    reminders = [r for r in rows(engine) if str(r["dedupe_key"]).count("#esc")]
    calls_told = [r for r in reminders if str(r["subject"]).startswith("电话通知超时")]
    assert {r["recipient_key"] for r in calls_told} == {"person:duty-officer"}
    assert len({r["escalation_id"] for r in calls_told}) == 4

    incidents = IncidentEngine(engine, config, clock=lambda: now[0])
    done = complete(
        incidents, warning.id, actor_of(config.people["duty-officer"]), "王值班", "已传达"
    )
    assert (done.done_by, done.answered_by, done.outcome) == ("duty-officer", "王值班", "已传达")
    assert warning.id not in {t.id for t in open_calls(engine)}
    unit_lines = [
        line for line in notice_lines(engine, config.daemon.notifier, incident)
        if line.recipient == "移动城区分公司" and line.kind == "warning"
    ]  # fmt: skip
    assert unit_lines
    assert {(line.state, line.ack_means) for line in unit_lines} == {("acknowledged", "call")}
    called = [e for e in incidents.timeline(incident) if e.kind == "called"]
    assert len(called) == 1
    assert called[0].data["unit"] == "移动城区分公司"

    now[0] = T0 + timedelta(minutes=16)
    follow.cycle(now[0])  # the other three go on to deputy-miit; the done one does not
    with engine.connect() as connection:
        steps = {r.head: (r.step, r.end_reason) for r in connection.execute(select(escalations))}
    assert steps[f"call:{warning.id}"] == (1, "done")
    assert (
        sorted(s for h, s in steps.items() if h != f"call:{warning.id}" and h.startswith("call:"))
        == [(2, None)] * 3
    )

    view = load_final(engine, config, incident, now[0])
    text = Renderer.for_config(config).document("final", "md", view)
    table = text[text.index("## 通知情况") : text.index("## 七、通知与投递")]
    assert "| 预警通知 | 移动城区分公司 | 电话已拨（duty-officer） 0356-" in table
    assert "值班员王某（电话）：已传达" not in table  # answered by 王值班 in this test
    assert "王值班（电话）：已传达" in table
    assert "| 接报 | 区委办公室 | 电话待拨" in table
    acked = [
        r for r in view["informed"] if r["recipient"] == "移动城区分公司" and "短信" in r["means"]
    ]
    assert acked
    assert acked[0]["acknowledged"].endswith("duty-officer（电话）")


def test_a_head_that_acknowledged_first_gets_no_chain(tmp_path: Path, db: Db) -> None:
    config, engine = setup(tmp_path, db, CHAINS)
    incident = open_incident(engine, config)
    send_notice(engine, config, NoticeKind.DETECTION, incident, key="k-quick")
    incidents = IncidentEngine(engine, config, clock=lambda: T0 + timedelta(seconds=5))
    assert record_reply(incidents, "13800000003", "1").ack is not None  # before the loop looked
    follow = FollowUp(config, engine, clock=lambda: T0)
    follow.cycle(T0 + timedelta(seconds=6))
    follow.cycle(T0 + timedelta(minutes=11))
    with engine.connect() as connection:
        heads = {r.head: r.end_reason for r in connection.execute(select(escalations))}
    assert heads == {"unit:区工信局": None}  # only the unit's chain, still running
    assert not [r for r in rows(engine) if r["recipient_key"] == "person:deputy-govoffice"]


def test_follow_up_figures_are_exported(tmp_path: Path, db: Db) -> None:
    config, engine = setup(tmp_path, db, CALLS)
    incident = open_incident(engine, config)
    send_notice(engine, config, NoticeKind.DETECTION, incident, key="k-figures")
    later = T0 + timedelta(minutes=6)
    follow = FollowUp(config, engine, clock=lambda: later)
    follow.cycle(later)  # both calls overdue (5m): they step along the office chain
    registry = CollectorRegistry()
    registry.register(_Source(follow))
    text = generate_latest(registry).decode()
    assert "commwatch_calls_open 2.0" in text
    assert "commwatch_calls_overdue 2.0" in text
    assert 'commwatch_escalation_steps_total{outcome="escalated"} 2.0' in text
    assert 'commwatch_escalations_open{phase="escalated"} 2.0' in text
    assert 'commwatch_escalations_open{phase="waiting"} 1.0' in text  # the detection's
    assert "commwatch_contacts_failing 0.0" in text


class _Source:
    def __init__(self, follow: FollowUp) -> None:
        self.follow = follow

    def collect(self) -> Iterator[Metric]:
        return self.follow.metric_families()
