"""Tables of the incident lifecycle, registered on the shared `monitor.storage.engine.metadata`.

- `incidents`: one row per incident, its current phase and who did what
  (warning issuer, response starter); the history is in `incident_events`.
- `incident_events`: every step with its time, actor and note (§4.2 (1)
  "详细记录该事件数据痕迹和细节信息"); rows are only ever added.
- `notice_requests`: the durable hand-off to dispatch (see `monitor.incidents.engine`).
- `guarantee_periods`: 保障期 entered by `commwatch guarantee add` (§3.1.2 (4)),
  merged with plan.toml's [[guarantee]]; never incidents.
- `maintenance_windows`: maintenance windows entered on duty (the console),
  merged with nodes.toml's [[maintenance]].
- `incident_queries`: 上级催报/核实 and their answers, each with its §4.1 clock.
- `phone_reports`: 电话快报 (§4.1): who called whom, when, what was said.
- `drills`: 演练 periods (§6.1); incidents opened during one are drill incidents.

Timestamps are stored in UTC and always read back timezone-aware, on SQLite
as on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    false,
)

from monitor.plan.assessment import Assessment
from monitor.storage.engine import UtcDateTime, metadata

incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # detected | confirmed (open) · false_alarm | transferred | closed (closed)
    Column("status", String(16), nullable=False),
    # §3.1.2: monitor (1) | upper (2) | public (3) | event (4)
    Column("source", String(16), nullable=False),
    Column("title", Text, nullable=False, default=""),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("detected_at", UtcDateTime, nullable=False),  # the §4.1 report clock starts here
    Column("report_submitted_at", UtcDateTime),  # set by dispatch when the written report is in
    # the latest Assessment the incident follows (monitor incidents)
    Column("scenario", Integer),
    Column("level", String(4)),
    Column("assessment", JSON(none_as_null=True)),
    Column("restored_at", UtcDateTime),  # the monitor saw everything restored; NULL while affected
    # the warning (预警) as issued — may differ from the assessed scenario
    Column("warning_scenario", Integer),
    Column("warning_issuer", String(64)),  # person id, or "commwatch" when auto-issued
    Column("warning_issuer_name", Text),
    Column("warning_issued_at", UtcDateTime),
    Column("warning_lifted_at", UtcDateTime),
    # the emergency response (应急响应)
    Column("response_level", String(4)),
    Column("response_starter", String(64)),
    Column("response_starter_name", Text),
    Column("response_started_at", UtcDateTime),
    Column("response_ended_at", UtcDateTime),
    Column("transferred_to", Text),
    Column("closed_at", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
    # issue 12: the last written follow-up (续报, §4.1), drill incidents (§6.1), the §5 report
    Column("followed_up_at", UtcDateTime),
    Column("drill", Boolean, nullable=False, server_default=false()),
    Column("report_fields", JSON(none_as_null=True)),
)
Index("ix_incidents_source_id", incidents.c.source, incidents.c.id)
Index("ix_incidents_status", incidents.c.status)

incident_events = Table(
    "incident_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("actor", String(64)),  # person id, "commwatch", or NULL (unsigned report)
    Column("actor_name", Text),  # as it was at the time; names in contacts.toml may change
    Column("note", Text, nullable=False, default=""),
    Column("data", JSON, nullable=False),
)
Index("ix_incident_events_incident", incident_events.c.incident_id, incident_events.c.id)

notice_requests = Table(
    "notice_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("kind", String(32), nullable=False),  # a dispatch.base.NoticeKind value
    Column("incident_id", Integer, ForeignKey("incidents.id")),
    Column("dedupe_key", String(200), nullable=False, unique=True),
    Column("assessment", JSON(none_as_null=True)),  # assessment_to_json(), or NULL
    Column("context", JSON, nullable=False),
    Column("taken_at", UtcDateTime),  # set by the dispatcher when it has taken the request
)
Index("ix_notice_requests_pending", notice_requests.c.taken_at, notice_requests.c.id)

guarantee_periods = Table(
    "guarantee_periods",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False),
    Column("start_at", UtcDateTime, nullable=False),
    Column("end_at", UtcDateTime, nullable=False),
    Column("systems", JSON, nullable=False),  # system ids; empty = every system
    Column("fail_after", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(64)),
    Column("created_by_name", Text),
    Column("ended_at", UtcDateTime),  # ended early by `guarantee end`
    Column("ended_by", String(64)),
    Column("ended_by_name", Text),
)
Index("ix_guarantee_periods_end", guarantee_periods.c.end_at)

maintenance_windows = Table(
    "maintenance_windows",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False),
    Column("start_at", UtcDateTime, nullable=False),
    Column("end_at", UtcDateTime, nullable=False),
    Column("nodes", JSON, nullable=False),  # node ids
    Column("systems", JSON, nullable=False),  # system ids
    Column("streets", JSON, nullable=False),  # street names
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(64)),
    Column("created_by_name", Text),
    Column("ended_at", UtcDateTime),  # ended early
    Column("ended_by", String(64)),
    Column("ended_by_name", Text),
)
Index("ix_maintenance_windows_end", maintenance_windows.c.end_at)

incident_queries = Table(
    "incident_queries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False),
    Column("asked_at", UtcDateTime, nullable=False),
    Column("asker", Text, nullable=False),  # who asked: an upper body or person
    Column("question", Text, nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("recorded_by", String(64)),
    Column("recorded_by_name", Text),
    Column("answered_at", UtcDateTime),
    Column("answer", Text),
    Column("answered_by", String(64)),
    Column("answered_by_name", Text),
)
Index("ix_incident_queries_open", incident_queries.c.answered_at, incident_queries.c.due_at)

phone_reports = Table(
    "phone_reports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False),
    Column("at", UtcDateTime, nullable=False),  # when the call was made
    Column("caller", Text, nullable=False),
    Column("callee", Text, nullable=False),
    Column("content", Text, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("recorded_by", String(64)),
    Column("recorded_by_name", Text),
)
Index("ix_phone_reports_incident", phone_reports.c.incident_id, phone_reports.c.id)

drills = Table(
    "drills",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("started_by", String(64)),
    Column("started_by_name", Text),
    Column("include_monitor", Boolean, nullable=False, server_default=false()),
    Column("ended_at", UtcDateTime),
    Column("ended_by", String(64)),
    Column("ended_by_name", Text),
)


def assessment_to_json(assessment: Assessment) -> dict[str, Any]:
    """The Assessment as stored: the contract's keys plus the nodes behind it."""
    data = assessment.to_json()
    data["nodes_down"] = list(assessment.nodes_down)
    data["nodes_unreachable"] = list(assessment.nodes_unreachable)
    return data


def assessment_from_json(data: Mapping[str, Any]) -> Assessment:
    """Inverse of assessment_to_json (unknown keys ignored, missing ones defaulted)."""
    level = data.get("level")
    return Assessment(
        scenario=data.get("scenario"),
        level="I" if level == "I" else "II" if level == "II" else None,
        operator_networks=tuple(data.get("operator_networks", ())),
        key_systems=tuple(data.get("key_systems", ())),
        streets=tuple(data.get("streets", ())),
        spread=bool(data.get("spread", False)),
        reasons=tuple(data.get("reasons", ())),
        partial_systems=tuple(data.get("partial_systems", ())),
        monitor_blind=bool(data.get("monitor_blind", False)),
        nodes_down=tuple(data.get("nodes_down", ())),
        nodes_unreachable=tuple(data.get("nodes_unreachable", ())),
    )


def utcnow() -> datetime:
    """Now, aware, in UTC."""
    return datetime.now(UTC)
