"""Queries of the incident tables, and the table-backed notice sink.

Every function takes a `Connection` inside the caller's transaction, so that
an incident's change, its events and its notice requests commit together.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import Connection, Engine, Row, insert, select, text, update

from monitor.incidents import drills, records
from monitor.incidents.lifecycle import EventDraft, Incident, Step
from monitor.incidents.notices import NoticeKind, NoticeRequest, NoticeSink
from monitor.incidents.tables import (
    assessment_from_json,
    assessment_to_json,
    incident_events,
    incidents,
    notice_requests,
)
from monitor.plan.names import OPEN_STATUSES
from monitor.storage.engine import insert_new

log = logging.getLogger(__name__)

WRITE_LOCK_KEY = "hashtext('commwatch incidents ' || current_schema())"


@dataclass(frozen=True)
class EventRecord:
    """One row of an incident's timeline."""

    id: int
    incident_id: int
    at: datetime
    kind: str
    actor: str | None
    actor_name: str | None
    note: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class StoredRequest:
    """A notice_requests row: its id, whether the dispatcher took it, and the request."""

    id: int
    taken_at: datetime | None
    request: NoticeRequest


@runtime_checkable
class TransactionalSink(NoticeSink, Protocol):
    """A sink that can write inside the caller's transaction (atomic with the event)."""

    def write(self, connection: Connection, request: NoticeRequest) -> None: ...


class TableNoticeSink:
    """Writes NoticeRequests into `notice_requests`; a repeated dedupe_key is ignored."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def submit(self, request: NoticeRequest) -> None:
        """Write the request in its own short transaction."""
        with self.engine.begin() as connection:
            self.write(connection, request)

    def write(self, connection: Connection, request: NoticeRequest) -> None:
        """Write the request inside `connection`'s transaction."""
        values = {
            "created_at": request.created_at,
            "kind": str(request.kind),
            "incident_id": request.incident_id,
            "dedupe_key": request.dedupe_key,
            "assessment": assessment_to_json(request.assessment) if request.assessment else None,
            "context": dict(request.context),
        }
        dialect = connection.dialect.name
        if dialect in ("postgresql", "sqlite"):
            stmt = insert_new(connection, notice_requests, values, ["dedupe_key"])
            connection.execute(stmt)
            return
        seen = select(notice_requests.c.id).where(
            notice_requests.c.dedupe_key == request.dedupe_key
        )
        if connection.execute(seen).first() is None:
            connection.execute(insert(notice_requests).values(**values))


def lock_for_write(connection: Connection) -> None:
    """Serialise writers of incidents and the outbox: one at a time, in every process.

    SQLite: BEGIN IMMEDIATE. pysqlite runs a SELECT outside any transaction and
    begins only at the first write, so a read-check-write (the authority rules)
    could act on a stale row while the daemon and a CLI both write; the busy
    timeout applies while waiting.
    PostgreSQL: a transaction-level advisory lock for this schema
    (pg_advisory_xact_lock, released at commit or rollback; lock_timeout applies).
    Row locks (`lock=True` on the reads below) cannot do it alone: `FOR UPDATE`
    locks nothing while no incident exists yet, and two writers would each open one.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})"))
        return
    if connection.dialect.name != "sqlite":
        return
    if not connection.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def to_incident(row: Row[Any]) -> Incident:
    """An Incident snapshot from an `incidents` row (`monitor.incidents.records.to_incident`)."""
    return records.to_incident(row._mapping)


def load(connection: Connection, incident_id: int, lock: bool = False) -> Incident | None:
    """One incident; `lock` takes a row lock on PostgreSQL (SQLite locks on write)."""
    query = select(incidents).where(incidents.c.id == incident_id)
    row = connection.execute(query.with_for_update() if lock else query).first()
    return to_incident(row) if row else None


def latest_monitor(connection: Connection, lock: bool = False) -> Incident | None:
    """The newest incident opened by the monitor, open or not."""
    query = (
        select(incidents)
        .where(incidents.c.source == "monitor")
        .order_by(incidents.c.id.desc())
        .limit(1)
    )
    row = connection.execute(query.with_for_update() if lock else query).first()
    return to_incident(row) if row else None


def list_incidents(connection: Connection, include_closed: bool = False) -> list[Incident]:
    """Incidents, newest first; only open ones unless include_closed."""
    query = select(incidents).order_by(incidents.c.id.desc())
    if not include_closed:
        query = query.where(incidents.c.status.in_(OPEN_STATUSES))
    return [to_incident(row) for row in connection.execute(query)]


def insert_incident(connection: Connection, values: Mapping[str, Any], now: datetime) -> int:
    """A new incidents row; returns its id. During a drill it is a drill incident (§6.1)."""
    drill = drills.marks(connection, str(values.get("source", "")))
    row = {"opened_at": now, "detected_at": now, "updated_at": now, "drill": drill, **values}
    stmt = insert(incidents).values(**row).returning(incidents.c.id)
    return int(connection.execute(stmt).scalar_one())


def set_columns(connection: Connection, incident_id: int, changes: Mapping[str, Any]) -> None:
    """Update columns of one incident (no event: bookkeeping only)."""
    connection.execute(update(incidents).where(incidents.c.id == incident_id).values(**changes))


_AFTER_COMMIT = "commwatch_after_commit_logs"


def log_after_commit(connection: Connection, level: int, message: str, **fields: Any) -> None:
    """A log line that is only true once the transaction commits (see `writing`)."""
    connection.info.setdefault(_AFTER_COMMIT, []).append((level, message, fields))


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """`engine.begin()` whose `log_after_commit` lines are logged only if the commit succeeded."""
    with engine.begin() as connection:
        try:
            yield connection
        except BaseException:
            with suppress(Exception):  # an invalidated connection is discarded anyway
                connection.info.pop(_AFTER_COMMIT, None)  # pooled: never left for the next
            raise
        lines = connection.info.pop(_AFTER_COMMIT, [])
    for level, message, line_fields in lines:
        log.log(level, message, extra={"fields": line_fields})


def apply_step(
    connection: Connection,
    incident_id: int,
    step: Step,
    now: datetime,
    sink: NoticeSink,
    stamp: Mapping[str, Any] | None = None,
) -> tuple[Incident, list[NoticeRequest]]:
    """Apply a Step: columns, events, notices; `stamp` joins every event's data (the plan).

    Returns the incident as it now stands and the requests a plain (non-
    transactional) sink still has to be given after the commit.
    """
    set_columns(connection, incident_id, {**step.changes, "updated_at": now})
    incident = load(connection, incident_id)
    if incident is None:
        raise LookupError(f"incident {incident_id} vanished during its own transaction")
    later: list[NoticeRequest] = []
    for draft in step.events:
        if stamp:
            draft = replace(draft, data={**stamp, **draft.data})
        event_id = _insert_event(connection, incident_id, draft, now)
        actor = draft.actor.id if draft.actor else None
        log_after_commit(  # closes, CLI actions, …
            connection, logging.INFO, "incident step", incident=incident_id, kind=draft.kind,
            actor=actor,
        )  # fmt: skip
        for request in _requests(incident, event_id, draft, now):
            log_after_commit(
                connection,
                logging.INFO,
                "notice requested",
                incident=incident_id,
                kind=request.kind,
            )
            if isinstance(sink, TransactionalSink):
                sink.write(connection, request)
            else:
                later.append(request)
    return incident, later


def events_of(connection: Connection, incident_id: int) -> list[EventRecord]:
    """The timeline of one incident, oldest first."""
    query = (
        select(incident_events)
        .where(incident_events.c.incident_id == incident_id)
        .order_by(incident_events.c.id)
    )
    return [EventRecord(**row._mapping) for row in connection.execute(query)]


def requests_of(connection: Connection, incident_id: int) -> list[StoredRequest]:
    """The notice requests written for one incident, oldest first."""
    query = (
        select(notice_requests)
        .where(notice_requests.c.incident_id == incident_id)
        .order_by(notice_requests.c.id)
    )
    return [_stored(row) for row in connection.execute(query)]


def pending_requests(connection: Connection, limit: int = 100) -> list[StoredRequest]:
    """Requests the dispatcher has not taken yet, oldest first (for the dispatch drain)."""
    query = (
        select(notice_requests)
        .where(notice_requests.c.taken_at.is_(None))
        .order_by(notice_requests.c.id)
        .limit(limit)
    )
    return [_stored(row) for row in connection.execute(query)]


def mark_taken(connection: Connection, ids: Sequence[int], now: datetime) -> None:
    """Mark requests as taken by the dispatcher (call in the transaction that enqueues them)."""
    if ids:
        stmt = update(notice_requests).where(notice_requests.c.id.in_(list(ids)))
        connection.execute(stmt.values(taken_at=now))


def dedupe_key(incident_id: int, kind: NoticeKind, event_id: int) -> str:
    """Stable per incident, kind and step: the event that caused the notice."""
    return f"incident:{incident_id}:{kind}:{event_id}"


def _insert_event(
    connection: Connection, incident_id: int, draft: EventDraft, now: datetime
) -> int:
    actor = draft.actor
    values = {
        "incident_id": incident_id,
        "at": now,
        "kind": draft.kind,
        "actor": actor.id if actor else None,
        "actor_name": actor.name if actor else None,
        "note": draft.note,
        "data": dict(draft.data),
    }
    stmt = insert(incident_events).values(**values).returning(incident_events.c.id)
    return int(connection.execute(stmt).scalar_one())


def _requests(
    incident: Incident, event_id: int, draft: EventDraft, now: datetime
) -> list[NoticeRequest]:
    """The step's notices; a fanned-out kind once per target (context "target")."""
    out = [_request(incident, kind, event_id, draft, now) for kind in draft.notices]
    for kind, targets in draft.fanout.items():
        out += [_request(incident, kind, event_id, draft, now, target) for target in targets]
    return out


def _request(
    incident: Incident,
    kind: NoticeKind,
    event_id: int,
    draft: EventDraft,
    now: datetime,
    target: str | None = None,
) -> NoticeRequest:
    assessment = assessment_from_json(incident.assessment) if incident.assessment else None
    key = dedupe_key(incident.id, kind, event_id)
    context = notice_context(incident, event_id, draft, now)
    if target is not None:
        key, context["target"] = f"{key}:{target}", target
    return NoticeRequest(
        kind=kind,
        incident_id=incident.id,
        dedupe_key=key,
        assessment=assessment,
        context=context,
        created_at=now,
    )


def notice_context(
    incident: Incident, event_id: int, draft: EventDraft, now: datetime
) -> dict[str, Any]:
    """What a notice template needs: the incident as it now stands plus the step."""
    actor = draft.actor
    return {
        "incident_id": incident.id,
        "event_id": event_id,
        "event": draft.kind,
        "at": now.isoformat(),
        "source": incident.source,
        "status": incident.status,
        "title": incident.title,
        "detected_at": incident.detected_at.isoformat(),
        "scenario": incident.scenario,
        "level": incident.level,
        "actor": actor.id if actor else None,
        "actor_name": actor.name if actor else None,
        "note": draft.note,
        "warning_scenario": incident.warning_scenario,
        "issuer": incident.warning_issuer,
        "issuer_name": incident.warning_issuer_name,
        "response_level": incident.response_level,
        "starter": incident.response_starter,
        "starter_name": incident.response_starter_name,
        "transferred_to": incident.transferred_to,
        "restored": incident.restored_at is not None,
        "drill": incident.drill,
        "data": {k: v for k, v in draft.data.items() if k != "assessment"},
        **({"deadline_at": draft.data["deadline_at"]} if "deadline_at" in draft.data else {}),
    }


def _stored(row: Row[Any]) -> StoredRequest:
    m = row._mapping
    request = NoticeRequest(
        kind=NoticeKind(m["kind"]),
        incident_id=m["incident_id"],
        dedupe_key=m["dedupe_key"],
        assessment=assessment_from_json(m["assessment"]) if m["assessment"] else None,
        context=m["context"],
        created_at=m["created_at"],
    )
    return StoredRequest(m["id"], m["taken_at"], request)
