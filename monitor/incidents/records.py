"""Incident rows and query rows as objects, and what `status` reads of them (no SQLAlchemy).

`to_incident` and `query_record` are the one reading of an `incidents` and an
`incident_queries` row: `monitor.incidents.store` and `duty_log` use them on
their SQLAlchemy rows, `running_clocks` on SQL text rows from any
`monitor.storage.reads.Reader`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING

from monitor.incidents.clocks import Clock, OpenQuery, clocks_of
from monitor.incidents.lifecycle import Incident
from monitor.plan.names import OPEN_STATUSES
from monitor.storage.reads import Reader, Row, json_value, placeholders, utc, utc_required

if TYPE_CHECKING:  # annotations only: `status` reads a cached config without pydantic
    from monitor.config.plan import ReportConfig

INCIDENT_FIELDS = tuple(f.name for f in fields(Incident))
_TIMES = frozenset(
    {
        *("opened_at", "detected_at", "updated_at", "report_submitted_at", "restored_at"),
        *("warning_issued_at", "warning_lifted_at", "response_started_at", "response_ended_at"),
        *("closed_at", "followed_up_at"),
    }
)
_JSON = frozenset({"assessment", "report_fields"})
_OPEN_LIST, _OPEN_PARAMS = placeholders("open", OPEN_STATUSES)
OPEN_INCIDENTS_SQL = (
    f"SELECT {', '.join(INCIDENT_FIELDS)} FROM incidents "
    f"WHERE status IN ({_OPEN_LIST}) ORDER BY id DESC"
)


@dataclass(frozen=True)
class QueryRecord:
    """A query from a higher level (催报 or 要求核实) and its answer."""

    id: int
    incident_id: int
    asked_at: datetime
    asker: str
    question: str
    due_at: datetime
    recorded_by: str | None
    recorded_by_name: str | None
    answered_at: datetime | None = None
    answer: str | None = None
    answered_by: str | None = None
    answered_by_name: str | None = None

    def as_open(self) -> OpenQuery:
        """What the query clock needs."""
        return OpenQuery(
            self.id, self.incident_id, self.asked_at, self.asker, self.question, self.answered_at
        )


QUERY_FIELDS = tuple(f.name for f in fields(QueryRecord))
_QUERY_TIMES = frozenset({"asked_at", "due_at", "answered_at"})
UNANSWERED_QUERIES_SQL = (
    f"SELECT {', '.join(QUERY_FIELDS)} FROM incident_queries WHERE answered_at IS NULL ORDER BY id"
)


def to_incident(row: Row) -> Incident:
    """An Incident snapshot from an `incidents` row."""
    values = {}
    for name in INCIDENT_FIELDS:
        value = row[name]
        if name in _TIMES:
            value = utc(value)
        elif name in _JSON:
            value = json_value(value)
        elif name == "drill":
            value = bool(value)
        values[name] = value
    return Incident(**values)


def query_record(row: Row) -> QueryRecord:
    """A QueryRecord from an `incident_queries` row."""
    return QueryRecord(
        **{name: row[name] for name in QUERY_FIELDS if name not in _QUERY_TIMES},
        asked_at=utc_required(row["asked_at"]),
        due_at=utc_required(row["due_at"]),
        answered_at=utc(row["answered_at"]),
    )


def open_incidents(reader: Reader) -> list[Incident]:
    """The open incidents, newest first (`store.list_incidents` on SQL text)."""
    return [to_incident(row) for row in reader.rows(OPEN_INCIDENTS_SQL, _OPEN_PARAMS)]


def unanswered_queries(reader: Reader) -> list[QueryRecord]:
    """Queries not yet answered, oldest first (`duty_log.queries(unanswered=True)`)."""
    return [query_record(row) for row in reader.rows(UNANSWERED_QUERIES_SQL)]


def running_clocks(reader: Reader, report: ReportConfig) -> list[Clock]:
    """Every running §4.1 clock of the open incidents, by due time."""
    waiting = [query.as_open() for query in unanswered_queries(reader)]
    return clocks_of(open_incidents(reader), waiting, report)
