"""The exercise report of a drill (§6.1 演练), as a view (pure) and from the database.

For every drill incident: the time from detection (接报) to each step, who
acted (by office), and what was late — the written brief past its deadline or
never submitted, queries answered late or not at all, a response started
before confirmation cannot happen (refused), so it is not listed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from dispatch.gongwen import annotation, contact, date_cn
from dispatch.investigation import late_steps
from monitor.config import Config
from monitor.incidents import drills, duty_log, store
from monitor.incidents.drills import Drill
from monitor.incidents.duty_log import QueryRecord
from monitor.incidents.lifecycle import Incident
from monitor.incidents.store import EventRecord
from monitor.incidents.tables import incidents
from monitor.plan.names import duration_name, event_name, status_name

STEPS = (
    "confirmed", "warning_issued", "warning_adjusted", "response_started", "response_changed",
    "phone_report", "report_submitted", "query_answered", "follow_up_submitted",
    "response_ended", "restored", "warning_lifted", "closed", "false_alarm", "transferred",
)  # fmt: skip


def drill_view(
    config: Config,
    drill: Drill,
    runs: Sequence[tuple[Incident, Sequence[EventRecord], Sequence[QueryRecord]]],
    now: datetime,
) -> dict[str, Any]:
    """The exercise report: per incident, steps with their time from detection, and lateness."""
    zone = ZoneInfo(config.daemon.dispatch.timezone)
    deadline = config.plan.report.deadline
    items = []
    for incident, events, queries in runs:
        steps = [
            {
                "what": event_name(e.kind),
                "after": duration_name(e.at - incident.detected_at),
                "who": _who(e),
            }
            for e in events
            if e.kind in STEPS
        ]
        late = late_steps(incident, events, deadline.total_seconds() / 60)
        late += [
            f"{q.asker}的催报/核实未答复（时限{_local(q.due_at, zone)}）"
            for q in queries
            if q.answered_at is None and now > q.due_at
        ]
        items.append(
            {
                "label": f"事件#{incident.id}",
                "title": incident.title,
                "detected_at": _local(incident.detected_at, zone),
                "status": status_name(incident.status),
                "steps": steps,
                "late": late,
            }
        )
    ended = drill.ended_at or now
    return {
        "drill": False,  # the report itself is about a drill; its title says so
        "report_title": f"关于{drill.name}演练情况的报告",
        "addressee": config.contacts.hq.name,
        "name": drill.name,
        "started_at": _local(drill.started_at, zone),
        "ended_at": _local(drill.ended_at, zone) if drill.ended_at else "（进行中）",
        "length": duration_name(ended - drill.started_at),
        "started_by": drill.started_by_name or drill.started_by or "",
        "incidents": items,
        "late_total": sum(len(i["late"]) for i in items),
        "signer": config.contacts.hq.office_name,
        "date_cn": date_cn(ended, zone),
        "annotation": annotation(config, ["6.1", "4.1"]),
        "copy_to": "区委办公室，区政府办公室",
        "printed_by": config.contacts.hq.office_name,
        "status_note": (
            "本报告由系统根据演练记录生成，演练期间的通知和报告均标注【演练】，只发给演练接收人。"
        ),
        **contact(config),
    }


def load_drill(
    engine: Engine, config: Config, drill_id: int | None, now: datetime
) -> dict[str, Any]:
    """The exercise report of a drill (default: the one going on, else the newest)."""
    with engine.connect() as connection:
        drill = (
            drills.load(connection, drill_id)
            if drill_id is not None
            else drills.active(connection) or drills.latest(connection)
        )
        if drill is None:
            missing = "没有演练记录（drill start）" if drill_id is None else f"没有演练#{drill_id}"
            raise LookupError(missing)
        query = (
            select(incidents.c.id)
            .where(incidents.c.drill.is_(True), incidents.c.opened_at >= drill.started_at)
            .order_by(incidents.c.id)
        )
        if drill.ended_at is not None:
            query = query.where(incidents.c.opened_at <= drill.ended_at)
        runs = []
        for incident_id in connection.execute(query).scalars():
            incident = store.load(connection, incident_id)
            assert incident is not None
            events = store.events_of(connection, incident_id)
            runs.append((incident, events, duty_log.queries(connection, incident_id)))
    return drill_view(config, drill, runs, now)


def _who(event: EventRecord) -> str:
    office = str(event.data.get("office") or "")
    name = event.actor_name or event.actor or "（未署名）"
    return f"{office}{name}" if office and not name.startswith(office) else name


def _local(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
