"""The engine's duty records: 保障期 (§3.1.2 (4)) and the §4.1 records (queries, 电话快报, 续报).

A mixin of `IncidentEngine` (the console and the CLI call the same methods).
Each record and its timeline event commit together; the notices a record
announces are written in that transaction as well.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import Connection, Engine

from monitor.config import Config
from monitor.incidents import clocks, drills, duty_log, guarantees, store
from monitor.incidents.authority import Actor, RefusedError
from monitor.incidents.drills import Drill
from monitor.incidents.duty_log import PhoneReport, QueryRecord
from monitor.incidents.guarantees import GuaranteeRecord
from monitor.incidents.lifecycle import Incident, Step
from monitor.incidents.notices import NoticeRequest, NoticeSink
from monitor.incidents.records import running_clocks
from monitor.storage.engine_reads import EngineReader


class IncidentNotFoundError(LookupError):
    """No incident with that id."""


class DutyRecords:
    """保障期 and §4.1 records; needs the engine's database, config, clock and sink."""

    engine: Engine
    config: Config
    sink: NoticeSink
    clock: Callable[[], datetime]

    # provided by IncidentEngine (the one lock-load-apply path and the sink hand-off)
    _act: Callable[[int, Callable[[Incident, datetime], Step]], Incident]
    _submit: Callable[[list[NoticeRequest]], None]

    def stamp(self) -> dict[str, str]:
        """Which plan a recorded step followed (§7.2): stored in every event's data."""
        plan = self.config.plan.plan
        return {"plan": plan.number, "plan_version": plan.version}

    # -- 保障期 (§3.1.2 (4)) --------------------------------------------------------

    def add_guarantee(
        self,
        name: str,
        start: datetime,
        end: datetime,
        by: Actor | None = None,
        systems: Sequence[str] = (),
        fail_after: int = 1,
    ) -> GuaranteeRecord:
        """Store a 保障期 (never an incident); `systems` empty = every system."""
        guarantees.check_new(self.config, name, start, end, systems)
        with self.engine.begin() as connection:
            now = self.clock()
            new_id = guarantees.add(connection, name, start, end, systems, fail_after, by, now)
            record = guarantees.load(connection, new_id)
        assert record is not None
        return record

    def end_guarantee(self, period_id: int, by: Actor) -> GuaranteeRecord:
        """End a stored 保障期 now."""
        with self.engine.begin() as connection:
            return guarantees.end(connection, period_id, by, self.clock())

    def guarantees(self) -> list[GuaranteeRecord]:
        """Every stored 保障期, newest first (plan.toml's are in config.plan.guarantee)."""
        with self.engine.connect() as connection:
            return guarantees.records(connection)

    # -- §4.1 ----------------------------------------------------------------------

    def add_query(
        self,
        incident_id: int,
        by: Actor,
        asker: str,
        question: str,
        asked_at: datetime | None = None,
    ) -> QueryRecord:
        """上级催报/要求核实, recorded; its answer clock starts (§4.1)."""
        now = self.clock()
        asked = asked_at or now
        due = asked + self.config.plan.report.query_deadline
        with self.engine.begin() as connection:
            store.lock_for_write(connection)
            incident = self._load(connection, incident_id)
            step = duty_log.query_step(incident, by, asker, question, asked, due)
            query_id = duty_log.insert_query(
                connection, incident_id, by, asker, question, asked, due
            )
            _, later = store.apply_step(connection, incident_id, step, now, self.sink, self.stamp())
            record = duty_log.load_query(connection, query_id)
        self._submit(later)
        assert record is not None
        return record

    def answer_query(self, query_id: int, by: Actor, answer: str) -> QueryRecord:
        """The answer closes the query's clock (on time or not is recorded)."""
        now = self.clock()
        with self.engine.begin() as connection:
            store.lock_for_write(connection)
            query = duty_log.load_query(connection, query_id, lock=True)
            if query is None:
                raise RefusedError(f"拒绝：没有催报/核实#{query_id}（commwatch query list）")
            step = duty_log.answer_step(query, by, answer, now)
            duty_log.set_answer(connection, query_id, by, answer, now)
            _, later = store.apply_step(
                connection, query.incident_id, step, now, self.sink, self.stamp()
            )
            record = duty_log.load_query(connection, query_id)
        self._submit(later)
        assert record is not None
        return record

    def queries(
        self, incident_id: int | None = None, unanswered: bool = False
    ) -> list[QueryRecord]:
        """Queries, oldest first."""
        with self.engine.connect() as connection:
            return duty_log.queries(connection, incident_id, unanswered)

    def add_phone_report(
        self,
        incident_id: int,
        by: Actor,
        caller: str,
        callee: str,
        content: str,
        at: datetime | None = None,
    ) -> PhoneReport:
        """电话快报: who called whom, when, what was said (§4.1)."""
        now = self.clock()
        when = at or now
        with self.engine.begin() as connection:
            store.lock_for_write(connection)
            incident = self._load(connection, incident_id)
            step = duty_log.phone_step(incident, by, caller, callee, content, when)
            duty_log.insert_phone_report(
                connection, incident_id, by, caller, callee, content, when, now
            )
            _, later = store.apply_step(connection, incident_id, step, now, self.sink, self.stamp())
            [*_, record] = duty_log.phone_reports_of(connection, incident_id)
        self._submit(later)
        return record

    def phone_reports(self, incident_id: int) -> list[PhoneReport]:
        """The 电话快报 of one incident."""
        with self.engine.connect() as connection:
            return duty_log.phone_reports_of(connection, incident_id)

    def submit_follow_up(self, incident_id: int, by: Actor, note: str = "") -> Incident:
        """A written 续报 was sent: its clock restarts (§4.1 随时续报)."""
        return self._act(incident_id, lambda i, now: duty_log.follow_up_step(i, by, now, note))

    def edit_report(self, incident_id: int, by: Actor, field: str, text: str) -> Incident:
        """The office completes a §5 field of the investigation report."""
        return self._act(
            incident_id, lambda i, now: duty_log.edit_report_step(i, by, now, field, text)
        )

    # -- 演练 (§6.1) -----------------------------------------------------------------

    def start_drill(self, name: str, by: Actor, include_monitor: bool = False) -> Drill:
        """Start a drill: incidents entered from now on are drill incidents."""
        with self.engine.begin() as connection:
            store.lock_for_write(connection)
            return drills.start(connection, name, by, self.clock(), include_monitor)

    def end_drill(self, by: Actor) -> Drill:
        """End the drill going on."""
        with self.engine.begin() as connection:
            store.lock_for_write(connection)
            return drills.end(connection, by, self.clock())

    def drill(self, drill_id: int | None = None) -> Drill | None:
        """A drill by id, else the one going on, else the newest."""
        with self.engine.connect() as connection:
            if drill_id is not None:
                return drills.load(connection, drill_id)
            return drills.active(connection) or drills.latest(connection)

    def clocks(self) -> list[clocks.Clock]:
        """Every running §4.1 clock of the open incidents, by due time."""
        with self.engine.connect() as connection:
            return running_clocks(EngineReader(connection), self.config.plan.report)

    def _load(self, connection: Connection, incident_id: int) -> Incident:
        incident = store.load(connection, incident_id, lock=True)
        if incident is None:
            raise IncidentNotFoundError(f"没有事件#{incident_id}")
        return incident
