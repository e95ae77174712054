"""The incident engine: Assessments and people's actions → persisted lifecycle + notice requests.

Who calls it
    The daemon calls `await engine.on_assessment(assessment, now, suppressed=…)`
    after every scorer run; the duty CLI (`commwatch incident|warning|response|
    event …`) calls the synchronous action methods, in its own process, while
    the daemon runs. The rules live in pure modules: `monitor.incidents.authority` (who
    may), `monitor.incidents.lifecycle` (which move is legal), `monitor.incidents.tracking`
    (what an Assessment change means).

The database is the truth
    Every call reads the incident it acts on inside its transaction (a row
    lock on PostgreSQL, BEGIN IMMEDIATE on SQLite) and writes the column
    changes, the `incident_events` rows and the `notice_requests` rows in the
    same transaction. Nothing is kept only in memory, so a restarted daemon —
    or a CLI acting between two scorer runs — neither forgets an open incident
    nor re-announces a step: an unchanged Assessment writes nothing (and takes
    no write lock), and a step is announced once because it is recorded once.

Which incident an Assessment belongs to
    The Assessment is district-wide, so there is at most one open monitor
    incident (source "monitor"); it follows every Assessment until closed.
    Reports from sources 2–4 open their own incidents unless given an id.
    A monitor incident closed while its outage goes on (false alarm, transfer,
    close) is not reopened by the next scorer run: a new one opens only when
    the outage clears and comes back, or grows (a new system, a worse 情形).
    `suppressed` (maintenance) stops opening, never following or restoring.

Notice requests: the hand-off to dispatch
    Each lifecycle step names the notices it announces (`dispatch.base.
    NoticeKind`). By default the engine uses `TableNoticeSink`, which writes
    them into `notice_requests` *inside the step's transaction*:

        notice_requests(id PK, created_at, kind, incident_id → incidents.id,
                        dedupe_key UNIQUE, assessment JSON NULL, context JSON,
                        taken_at NULL)

    `dedupe_key` is "incident:{incident_id}:{kind}:{event_id}" — one per step
    and kind; a repeated key is ignored on insert. `assessment` is
    `incident_models.assessment_to_json` (read back with
    `assessment_from_json`); `context` is `incident_store.notice_context`
    (incident id, detected_at, source, scenario, level, issuer/issuer_name,
    starter/starter_name, actor/actor_name, note, transferred_to, event data).
    The daemon's dispatcher drains the rows whose `taken_at` is NULL, in id
    order (`incident_store.pending_requests`), and sets `taken_at` in the same
    transaction that puts them into its outbox (`incident_store.mark_taken`).
    CLI actions reach the running daemon this way. Any other `NoticeSink` may
    be injected; it gets `submit()` after the commit, from the calling thread.

Authority and auto-issue rules: see `monitor.incidents.authority` and
`monitor.incidents.tracking`. `plan.toml [warning] auto_issue` lists the
scenarios the system issues itself (issuer "commwatch", lifted by the 总指挥);
the engine never lifts a warning.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from monitor.config import Config
from monitor.incidents import guarantees, lifecycle, store, tracking
from monitor.incidents.authority import Actor, Roster, roster_of
from monitor.incidents.engine_records import DutyRecords, IncidentNotFoundError
from monitor.incidents.lifecycle import Incident, Step
from monitor.incidents.notices import NoticeRequest, NoticeSink
from monitor.incidents.store import EventRecord, StoredRequest, TableNoticeSink
from monitor.incidents.tables import utcnow
from monitor.plan.assessment import Assessment

__all__ = ["IncidentEngine", "IncidentNotFoundError"]

log = logging.getLogger(__name__)

# Writes a follow-up's own rows inside the engine's transaction; returns the event data or None.
FollowUpWrite = Callable[[Connection, datetime], Mapping[str, Any] | None]


class IncidentEngine(DutyRecords):
    """The lifecycle of incidents, persisted; see the module docstring for the contract.

    The §4.1 records (queries, 电话快报, 续报) and 保障期 are `DutyRecords` methods.
    """

    def __init__(
        self,
        engine: Engine,
        config: Config,
        sink: NoticeSink | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.config = config
        self.sink: NoticeSink = sink if sink is not None else TableNoticeSink(engine)
        self.clock = clock  # the time of people's actions (the daemon passes `now` itself)
        self.current: Incident | None = None  # the open monitor incident, as last seen

    def reconfigure(self, config: Config) -> None:
        """Adopt a reloaded config (people, auto_issue)."""
        self.config = config

    # -- daemon side -------------------------------------------------------------

    async def start(self) -> list[Incident]:
        """Rebuild the open incidents from the database (restart safety); returns them."""
        return await asyncio.to_thread(self.rebuild)

    def rebuild(self) -> list[Incident]:
        """Synchronous body of start()."""
        with self.engine.connect() as connection:
            open_now = store.list_incidents(connection)
        self.current = next((i for i in open_now if i.source == "monitor"), None)
        for i in open_now:
            fields = {"incident": i.id, "status": i.status, "scenario": i.scenario}
            log.info("open incident restored", extra={"fields": fields})
        return open_now

    async def on_assessment(
        self,
        assessment: Assessment,
        now: datetime,
        *,
        suppressed: bool = False,
        unknown: Collection[str] = (),
    ) -> Incident | None:
        """Advance the monitor incident after a scorer run; returns it (None when there is none).

        `suppressed` (a maintenance window covers the outage) stops a *new*
        incident from opening; an open one is still followed and restored.
        `unknown` are the nodes whose status is UNKNOWN: while one of them is
        behind the open incident, the incident is held (`tracking.held`).
        """
        return await asyncio.to_thread(
            self.apply_assessment, assessment, now, suppressed, frozenset(unknown)
        )

    def apply_assessment(
        self,
        assessment: Assessment,
        now: datetime,
        suppressed: bool = False,
        unknown: frozenset[str] = frozenset(),
    ) -> Incident | None:
        """Synchronous body of on_assessment(); an unchanged situation takes no write lock."""
        with self.engine.connect() as connection:
            latest = store.latest_monitor(connection)
        if tracking.held(latest, unknown) or self._quiet(latest, assessment, now, suppressed):
            self.current = latest if latest is not None and latest.is_open else None
            return self.current
        with store.writing(self.engine) as connection:
            store.lock_for_write(connection)
            latest = store.latest_monitor(connection, lock=True)
            if tracking.held(latest, unknown):
                self.current = latest
                return latest
            current, later = self._advance(connection, latest, assessment, now, suppressed)
        self._submit(later)
        self.current = current if current is not None and current.is_open else None
        return self.current

    def _quiet(
        self, latest: Incident | None, assessment: Assessment, now: datetime, suppressed: bool
    ) -> bool:
        """True when this Assessment changes nothing (the common case, every round)."""
        if latest is not None and latest.is_open:
            if assessment.affected:
                auto_issue = self.config.plan.warning.auto_issue
                return tracking.follow(latest, assessment, now, auto_issue) is None
            return latest.restored_at is not None
        if not assessment.affected:
            return latest is None or latest.restored_at is not None
        return suppressed or tracking.dismissed_outage_continues(latest, assessment)

    def _advance(
        self,
        connection: Connection,
        latest: Incident | None,
        assessment: Assessment,
        now: datetime,
        suppressed: bool,
    ) -> tuple[Incident | None, list[NoticeRequest]]:
        """Open, follow or restore the monitor incident; returns it and the deferred requests."""
        auto_issue = self.config.plan.warning.auto_issue
        if latest is not None and latest.is_open:
            if assessment.affected:
                step = tracking.follow(latest, assessment, now, auto_issue)
            else:
                step = tracking.restore(latest, now)
            if step is None:
                return latest, []
            return store.apply_step(connection, latest.id, step, now, self.sink, self.stamp())
        if not assessment.affected:
            if latest is not None and latest.restored_at is None:
                store.set_columns(connection, latest.id, {"restored_at": now})
            return None, []
        if suppressed or tracking.dismissed_outage_continues(latest, assessment):
            return None, []
        values, events = tracking.open_from_assessment(assessment, now, auto_issue)
        incident_id = store.insert_incident(connection, values, now)
        # true only once committed (a failed commit — a full disk — opened nothing)
        store.log_after_commit(connection, logging.WARNING, "incident opened", incident=incident_id)
        return store.apply_step(
            connection, incident_id, Step({}, events), now, self.sink, self.stamp()
        )

    # -- people's actions (CLI) --------------------------------------------------

    def confirm(self, incident_id: int, by: Actor, note: str = "") -> Incident:
        """确认 (§4.2 (2) ①)."""
        return self._act(incident_id, lambda i, now: lifecycle.confirm(i, by, now, note))

    def false_alarm(self, incident_id: int, by: Actor, note: str = "") -> Incident:
        """误报: recorded and closed (§4.2 (2) ②)."""
        return self._act(incident_id, lambda i, now: lifecycle.false_alarm(i, by, now, note))

    def transfer(self, incident_id: int, by: Actor, to: str, note: str = "") -> Incident:
        """Unrelated: recorded and transferred to `to` (§4.2 (2) ③)."""
        return self._act(incident_id, lambda i, now: lifecycle.transfer(i, by, now, to, note))

    def issue_warning(
        self, incident_id: int, by: Actor, scenario: int | None = None, note: str = ""
    ) -> Incident:
        """预警发布 (§3.4); with another scenario on an active warning, 调整 (§3.5 (4))."""
        listed = self._listed()
        return self._act(
            incident_id, lambda i, now: lifecycle.issue_warning(i, by, now, scenario, listed, note)
        )

    def lift_warning(
        self, incident_id: int, by: Actor, note: str = "", hq_decision: str = ""
    ) -> Incident:
        """预警解除: 谁发布谁解除, after recovery or by the HQ's recorded decision (§3.6)."""
        listed = self._listed()
        return self._act(
            incident_id,
            lambda i, now: lifecycle.lift_warning(i, by, now, listed, note, hq_decision),
        )

    def start_response(self, incident_id: int, by: Actor, level: str, note: str = "") -> Incident:
        """启动应急响应 (§4.3), or re-level the running one (§4.6 谁启动谁结束)."""
        listed = self._listed()
        groups = tuple(g.name for g in self.config.contacts.working_group)
        return self._act(
            incident_id,
            lambda i, now: lifecycle.start_response(i, by, now, level, note, listed, groups),
        )

    def end_response(self, incident_id: int, by: Actor, note: str = "") -> Incident:
        """应急结束: 谁启动、谁结束 (§4.6)."""
        listed = self._listed()
        return self._act(
            incident_id, lambda i, now: lifecycle.end_response(i, by, now, listed, note)
        )

    def close(self, incident_id: int, by: Actor, note: str = "", hq_decision: str = "") -> Incident:
        """Close after the warning is lifted, the response ended and the networks restored."""
        return self._act(incident_id, lambda i, now: lifecycle.close(i, by, now, note, hq_decision))

    def record_restored(self, incident_id: int, by: Actor, note: str) -> Incident:
        """A person attests recovery of a reported incident (sources 2–4, §3.6)."""
        return self._act(incident_id, lambda i, now: lifecycle.record_restored(i, by, now, note))

    def submit_report(self, incident_id: int, by: Actor, note: str = "") -> Incident:
        """The §4.1 written report was submitted (stops the report clock)."""
        deadline = self.config.plan.report.deadline
        return self._act(
            incident_id, lambda i, now: lifecycle.submit_report(i, by, now, deadline, note)
        )

    def annotate(self, incident_id: int, by: Actor, note: str) -> Incident:
        """A note on the timeline (allowed after closing, for §5)."""
        return self._act(incident_id, lambda i, _now: lifecycle.annotate(i, by, note))

    def add_event(
        self, source: str, text: str, by: Actor | None = None, incident_id: int | None = None
    ) -> Incident:
        """Information source 2–4 (§3.1.2): opens an incident, or adds to `incident_id`.

        A source-4 report that names a 保障期 is refused: periods go to `add_guarantee`.
        """
        if source == "event" and incident_id is None:
            names = [g.name for g in self.config.plan.guarantee]
            names += [g.name for g in self.guarantees()]
            if guarantees.names_a_period(text, names):
                raise guarantees.refuse_as_incident(text)
        if incident_id is not None:
            return self._act(
                incident_id, lambda i, _now: tracking.add_information(i, by, source, text)
            )
        values, events = tracking.open_from_report(source, text, by)
        now = self.clock()
        with store.writing(self.engine) as connection:
            store.lock_for_write(connection)
            new_id = store.insert_incident(connection, values, now)
            incident, later = store.apply_step(
                connection, new_id, Step({}, events), now, self.sink, self.stamp()
            )
        self._submit(later)
        return incident

    # -- what became of the notices (dispatch's follow-up) -------------------------

    def acknowledge(
        self,
        incident_id: int | None,
        by: Actor,
        means: str,
        record: FollowUpWrite,
        note: str = "",
    ) -> Mapping[str, Any] | None:
        """收到: `record` marks the acknowledged deliveries; the timeline gets who and how.

        `record(connection, now)` runs in the same transaction and returns the
        event data (it must hold `means`), or None when there was nothing to
        acknowledge (no event is written then). Returns that data.
        """
        return self.follow_up(
            incident_id, "acknowledged", by, note or f"确认收到（{means}）", record
        )

    def follow_up(
        self,
        incident_id: int | None,
        kind: str,
        by: Actor | None,
        note: str,
        record: FollowUpWrite,
    ) -> Mapping[str, Any] | None:
        """A follow-up step (acknowledged, escalated, called) and its timeline event, at once."""
        now = self.clock()
        with self.engine.begin() as connection:
            store.lock_for_write(connection)
            incident = None
            if incident_id is not None:
                incident = store.load(connection, incident_id, lock=True)
            data = record(connection, now)
            if data is None or incident is None:
                return data
            store.apply_step(
                connection, incident.id, lifecycle.follow_up(kind, by, note, data), now, self.sink
            )
        return data

    # -- reading -----------------------------------------------------------------

    def get(self, incident_id: int) -> Incident:
        """One incident, or IncidentNotFoundError."""
        with self.engine.connect() as connection:
            incident = store.load(connection, incident_id)
        if incident is None:
            raise IncidentNotFoundError(f"没有事件#{incident_id}")
        return incident

    def incidents(self, include_closed: bool = False) -> list[Incident]:
        """Incidents, newest first."""
        with self.engine.connect() as connection:
            return store.list_incidents(connection, include_closed)

    def timeline(self, incident_id: int) -> list[EventRecord]:
        """Every event of one incident, oldest first."""
        with self.engine.connect() as connection:
            return store.events_of(connection, incident_id)

    def notice_requests(self, incident_id: int) -> list[StoredRequest]:
        """The notice requests written for one incident."""
        with self.engine.connect() as connection:
            return store.requests_of(connection, incident_id)

    # -- internals ---------------------------------------------------------------

    def _act(self, incident_id: int, transition: Callable[[Incident, datetime], Step]) -> Incident:
        now = self.clock()
        with store.writing(self.engine) as connection:
            store.lock_for_write(connection)
            incident = store.load(connection, incident_id, lock=True)
            if incident is None:
                raise IncidentNotFoundError(f"没有事件#{incident_id}")
            step = transition(incident, now)
            updated, later = store.apply_step(
                connection, incident_id, step, now, self.sink, self.stamp()
            )
        self._submit(later)
        return updated

    def _listed(self) -> Roster:
        return roster_of(self.config.people.values())

    def _submit(self, requests: list[NoticeRequest]) -> None:
        for request in requests:
            self.sink.submit(request)
