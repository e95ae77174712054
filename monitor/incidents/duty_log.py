"""§4.1 records beside the lifecycle: 上级催报/核实 with their answers, 电话快报, 续报.

Each record is a row (`incident_queries`, `phone_reports`) *and* a timeline
event of its incident, written in the same transaction by the engine; the
Steps here say which event and notice. Who may: anyone on duty (§4.2 值班人员).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from monitor.incidents.authority import Actor, RefusedError, check_duty
from monitor.incidents.lifecycle import EventDraft, Incident, Step, require_open
from monitor.incidents.notices import NoticeKind
from monitor.incidents.records import QueryRecord as QueryRecord
from monitor.incidents.records import query_record
from monitor.incidents.tables import incident_queries, phone_reports

CLAUSE = "§4.1 信息报告"
# §5: "对事件发生原因、性质、影响、后果、责任及应急处置能力、恢复重建等问题进行全面调查评估"
REPORT_FIELDS: dict[str, str] = {
    "cause": "事件发生原因",
    "nature": "灾害性质",
    "impact": "影响",
    "consequences": "后果",
    "responsibility": "责任",
    "capacity": "应急处置能力",
    "recovery": "恢复重建",
}


@dataclass(frozen=True)
class PhoneReport:
    """An 电话快报: who called whom, when, what was said."""

    id: int
    incident_id: int
    at: datetime
    caller: str
    callee: str
    content: str
    recorded_at: datetime
    recorded_by: str | None
    recorded_by_name: str | None


def _require(text: str, option: str, what: str) -> str:
    if not text.strip():
        raise RefusedError(f"拒绝：须写明{what}（{option}）", CLAUSE)
    return text.strip()


def query_step(
    incident: Incident, actor: Actor, asker: str, question: str, asked_at: datetime, due: datetime
) -> Step:
    """A query is recorded; its clock starts (§4.1 "30分钟内有效回应")."""
    require_open(incident, "记录催报/核实")
    check_duty(actor, "记录催报/核实")
    asker, question = (
        _require(asker, "--from", "谁催报/要求核实"),
        _require(question, "--text", "内容"),
    )
    data = {"asker": asker, "asked_at": asked_at.isoformat(), "deadline_at": due.isoformat()}
    return Step({}, (EventDraft("query_recorded", actor, question, data, (NoticeKind.QUERY,)),))


def answer_step(query: QueryRecord, actor: Actor, answer: str, now: datetime) -> Step:
    """The answer closes the query's clock; on time or not is recorded."""
    check_duty(actor, "答复催报/核实")
    if query.answered_at is not None:
        raise RefusedError(
            f"拒绝：催报/核实#{query.id}已于{query.answered_at.isoformat()}答复", CLAUSE
        )
    text = _require(answer, "--text", "答复内容")
    taken = now - query.asked_at
    data = {
        "query": query.id,
        "asker": query.asker,
        "minutes": round(taken.total_seconds() / 60, 1),
        "on_time": now <= query.due_at,
    }
    return Step({}, (EventDraft("query_answered", actor, text, data),))


def phone_step(
    incident: Incident, actor: Actor, caller: str, callee: str, content: str, at: datetime
) -> Step:
    """An 电话快报 on the timeline (the written report still follows, §4.1)."""
    check_duty(actor, "记录电话快报")
    caller = _require(caller, "--caller", "谁打的电话")
    callee = _require(callee, "--callee", "打给谁")
    content = _require(content, "--text", "电话中讲了什么")
    data = {"caller": caller, "callee": callee, "at": at.isoformat()}
    return Step({}, (EventDraft("phone_report", actor, content, data),))


def follow_up_step(incident: Incident, actor: Actor, now: datetime, note: str) -> Step:
    """A written 续报 was sent: the follow-up clock restarts (§4.1 随时续报)."""
    require_open(incident, "报送续报")
    check_duty(actor, "报送续报")
    if incident.report_submitted_at is None:
        raise RefusedError(
            f"拒绝：事件#{incident.id}的书面简要报告尚未报送（report submit），续报在其后", CLAUSE
        )
    return Step({"followed_up_at": now}, (EventDraft("follow_up_submitted", actor, note),))


def edit_report_step(incident: Incident, actor: Actor, now: datetime, key: str, text: str) -> Step:
    """The office completes a §5 field of the investigation report (allowed after closing)."""
    check_duty(actor, "填写调查评估报告")
    if key not in REPORT_FIELDS:
        known = "、".join(f"{k}（{v}）" for k, v in REPORT_FIELDS.items())
        raise RefusedError(f"拒绝：调查评估没有“{key}”一项；可填：{known}", "§5 后期处置")
    body = _require(text, "--text", REPORT_FIELDS[key])
    fields = dict(incident.report_fields or {})
    fields[key] = {"text": body, "by": actor.id, "by_name": actor.name, "at": now.isoformat()}
    event = EventDraft("report_edited", actor, f"{REPORT_FIELDS[key]}：{body}", {"field": key})
    return Step({"report_fields": fields}, (event,))


def insert_query(
    connection: Connection,
    incident_id: int,
    actor: Actor,
    asker: str,
    question: str,
    asked_at: datetime,
    due: datetime,
) -> int:
    """A new incident_queries row; returns its id."""
    values = {
        "incident_id": incident_id, "asked_at": asked_at, "asker": asker.strip(),
        "question": question.strip(), "due_at": due, "recorded_by": actor.id,
        "recorded_by_name": actor.name,
    }  # fmt: skip
    stmt = insert(incident_queries).values(**values).returning(incident_queries.c.id)
    return int(connection.execute(stmt).scalar_one())


def set_answer(
    connection: Connection, query_id: int, actor: Actor, answer: str, now: datetime
) -> None:
    """Record the answer on the row."""
    stmt = update(incident_queries).where(incident_queries.c.id == query_id)
    connection.execute(
        stmt.values(
            answered_at=now,
            answer=answer.strip(),
            answered_by=actor.id,
            answered_by_name=actor.name,
        )
    )


def load_query(connection: Connection, query_id: int, lock: bool = False) -> QueryRecord | None:
    """One query by id."""
    query = select(incident_queries).where(incident_queries.c.id == query_id)
    row = connection.execute(query.with_for_update() if lock else query).first()
    return query_record(row._mapping) if row else None


def queries(
    connection: Connection, incident_id: int | None = None, unanswered: bool = False
) -> list[QueryRecord]:
    """Queries, oldest first; of one incident, or only unanswered ones."""
    query = select(incident_queries).order_by(incident_queries.c.id)
    if incident_id is not None:
        query = query.where(incident_queries.c.incident_id == incident_id)
    if unanswered:
        query = query.where(incident_queries.c.answered_at.is_(None))
    return [query_record(row._mapping) for row in connection.execute(query)]


def insert_phone_report(
    connection: Connection,
    incident_id: int,
    actor: Actor,
    caller: str,
    callee: str,
    content: str,
    at: datetime,
    now: datetime,
) -> int:
    """A new phone_reports row; returns its id."""
    values: dict[str, Any] = {
        "incident_id": incident_id, "at": at, "caller": caller.strip(), "callee": callee.strip(),
        "content": content.strip(), "recorded_at": now, "recorded_by": actor.id,
        "recorded_by_name": actor.name,
    }  # fmt: skip
    stmt = insert(phone_reports).values(**values).returning(phone_reports.c.id)
    return int(connection.execute(stmt).scalar_one())


def phone_reports_of(connection: Connection, incident_id: int) -> list[PhoneReport]:
    """The 电话快报 of one incident, oldest first."""
    query = (
        select(phone_reports)
        .where(phone_reports.c.incident_id == incident_id)
        .order_by(phone_reports.c.id)
    )
    return [PhoneReport(**row._mapping) for row in connection.execute(query)]
