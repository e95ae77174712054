"""IncidentEngine against SQLite and PostgreSQL: Assessment sequences, actions, restarts.

PostgreSQL: a uniquely named database is created through the `test` database
($COMMWATCH_TEST_PG, default postgresql+psycopg://postgres@127.0.0.1:5432/test)
and dropped afterwards. Unreachable → skipped, except under CI=true → failure
(tests.requirements.missing).
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, Table, create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from monitor.config import Config, load_config
from monitor.config.plan import WarningConfig
from monitor.incidents import store as incident_store
from monitor.incidents.authority import Actor, RefusedError, resolve_actor
from monitor.incidents.engine import IncidentEngine, IncidentNotFoundError
from monitor.incidents.notices import NoticeKind, NoticeRequest
from monitor.incidents.tables import incident_events, notice_requests
from monitor.plan.assessment import Assessment
from monitor.storage.engine import open_engine
from monitor.storage.migrations import upgrade as create_schema
from tests.paths import SHIPPED_CONFIG
from tests.requirements import missing

SHIPPED = SHIPPED_CONFIG
CONFIG = load_config(SHIPPED)
PG_ADMIN = os.environ.get("COMMWATCH_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
T0 = datetime(2024, 7, 4, 8, 0, tzinfo=UTC)

CLEAR = Assessment()
S3 = Assessment(
    3, "II", operator_networks=("cmcc",), reasons=("移动城区分公司网络全部业务中断（§3.3 情形3）",)
)
S2 = Assessment(
    2,
    "I",
    operator_networks=("cmcc", "cucc"),
    spread=True,
    reasons=("两家基础运营网络全部业务中断；有扩散性（§3.3 情形2）",),
)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def person(text: str) -> Actor:
    return resolve_actor(CONFIG.contacts.person, text)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    name = f"commwatch_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        missing(f"PostgreSQL unreachable at {PG_ADMIN}: {exc.orig}")
    try:
        yield make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = open_engine(f"sqlite:///{tmp_path / 'commwatch.db'}")
    else:
        engine = open_engine(request.getfixturevalue("pg_url"))
        with (
            engine.begin() as connection
        ):  # every table gone (dispatch's too): made again from 0001
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    create_schema(engine)
    yield engine
    engine.dispose()


def with_auto_issue(*scenarios: int) -> Config:
    plan = CONFIG.plan.model_copy(update={"warning": WarningConfig(auto_issue=list(scenarios))})
    return replace(CONFIG, plan=plan)


def kinds(engine: Engine, incident_id: int | None = None) -> list[str]:
    query = select(notice_requests.c.kind).order_by(notice_requests.c.id)
    if incident_id is not None:
        query = query.where(notice_requests.c.incident_id == incident_id)
    with engine.connect() as connection:
        return list(connection.execute(query).scalars())


def count(engine: Engine, table: Table) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


async def test_open_upgrade_clear_proposes_lift(db: Engine) -> None:
    engine = IncidentEngine(db, CONFIG)
    opened = await engine.on_assessment(S3, at(0))
    assert opened is not None
    assert opened.status == "detected"
    assert opened.scenario == 3
    assert kinds(db) == ["detection", "first_action", "warning_proposal", "response_proposal"]
    assert await engine.on_assessment(S3, at(1)) == opened  # nothing new: nothing written
    assert count(db, incident_events) == 1

    engine.issue_warning(opened.id, person("deputy-miit"), note="经指挥部核定")
    upgraded = await engine.on_assessment(S2, at(2))
    assert upgraded is not None
    assert (upgraded.scenario, upgraded.level) == (2, "I")
    assert upgraded.warning_scenario == 3  # a person's warning is not changed by the system
    assert kinds(db)[4:] == ["warning", "upgrade", "warning_proposal", "response_proposal"]

    assert await engine.on_assessment(CLEAR, at(3)) is not None
    assert kinds(db)[-1] == "lift_proposal"
    current = engine.get(opened.id)
    assert current.warning_active
    assert current.restored_at == at(3)
    await engine.on_assessment(CLEAR, at(4))
    assert kinds(db).count("lift_proposal") == 1

    timeline = [e.kind for e in engine.timeline(opened.id)]
    assert timeline == ["detected", "confirmed", "warning_issued", "upgraded", "restored"]
    keys = [r.request.dedupe_key for r in engine.notice_requests(opened.id)]
    assert len(set(keys)) == len(keys)
    assert keys[0].startswith(f"incident:{opened.id}:detection:")


async def test_restart_rebuilds_and_does_not_reannounce(db: Engine) -> None:
    first = IncidentEngine(db, CONFIG)
    await first.on_assessment(S3, at(0))
    await first.on_assessment(S2, at(1))
    before = (kinds(db), count(db, incident_events))

    second = IncidentEngine(db, CONFIG)  # the daemon restarted
    rebuilt = await second.start()
    assert [(i.scenario, i.level) for i in rebuilt] == [(2, "I")]
    assert second.current is not None
    assert second.current.id == rebuilt[0].id
    await second.on_assessment(S2, at(5))
    assert (kinds(db), count(db, incident_events)) == before

    await second.on_assessment(CLEAR, at(6))
    third = IncidentEngine(db, CONFIG)
    await third.start()
    await third.on_assessment(CLEAR, at(7))
    assert kinds(db).count("follow_up") == 1  # restored once, announced once
    assert len(third.incidents()) == 1


async def test_auto_issue_and_who_lifts_it(db: Engine) -> None:
    engine = IncidentEngine(db, with_auto_issue(3))
    opened = await engine.on_assessment(S3, at(0))
    assert opened is not None
    assert opened.warning_issuer == "commwatch"
    assert kinds(db) == ["detection", "first_action", "response_proposal", "warning"]
    upgraded = await engine.on_assessment(S2, at(1))
    assert upgraded is not None
    assert upgraded.warning_scenario == 3
    assert kinds(db)[-3:] == ["upgrade", "warning_proposal", "response_proposal"]
    with pytest.raises(RefusedError, match="由总指挥解除"):
        engine.lift_warning(opened.id, person("deputy-govoffice"))
    with pytest.raises(RefusedError, match=re.escape("§3.6 处置结束且通信网络恢复")):
        engine.lift_warning(opened.id, person("总指挥"))
    await engine.on_assessment(CLEAR, at(2))
    assert not engine.lift_warning(opened.id, person("总指挥")).warning_active


async def test_maintenance_suppresses_opening_only(db: Engine) -> None:
    engine = IncidentEngine(db, CONFIG)
    assert await engine.on_assessment(S3, at(0), suppressed=True) is None
    assert engine.incidents() == []
    opened = await engine.on_assessment(S3, at(1))  # the window ended, still down
    assert opened is not None
    assert await engine.on_assessment(S2, at(2), suppressed=True) is not None  # followed


async def test_a_dismissed_outage_is_not_reopened(db: Engine) -> None:
    engine = IncidentEngine(db, CONFIG)
    opened = await engine.on_assessment(S3, at(0))
    assert opened is not None
    engine.false_alarm(opened.id, person("值班员"), note="演练流量")
    assert await engine.on_assessment(S3, at(1)) is None
    worse = await engine.on_assessment(S2, at(2))
    assert worse is not None
    assert worse.id != opened.id
    engine.transfer(worse.id, person("duty-officer"), to="区公安分局")
    await engine.on_assessment(CLEAR, at(3))
    again = await engine.on_assessment(S3, at(4))
    assert again is not None
    assert again.id not in (opened.id, worse.id)
    assert [k for k in kinds(db) if k == "closed"] == ["closed", "closed"]


async def test_whole_lifecycle_by_people(db: Engine) -> None:
    engine = IncidentEngine(db, CONFIG)
    opened = await engine.on_assessment(S3, at(0))
    assert opened is not None
    engine.confirm(opened.id, person("duty-officer"))
    engine.issue_warning(opened.id, person("deputy-govoffice"), scenario=3)
    with pytest.raises(RefusedError, match=r"§4\.3\.1"):
        engine.start_response(opened.id, person("deputy-govoffice"), "I")
    engine.start_response(opened.id, person("deputy-govoffice"), "II")
    with pytest.raises(RefusedError, match=re.escape("§4.6 谁启动谁结束")):
        engine.end_response(opened.id, person("commander"))
    with pytest.raises(RefusedError, match="须先由启动人结束响应"):
        engine.lift_warning(opened.id, person("deputy-govoffice"))
    engine.end_response(opened.id, person("deputy-govoffice"))
    with pytest.raises(RefusedError, match=re.escape("§3.6 谁发布谁解除")):
        engine.lift_warning(opened.id, person("deputy-miit"))
    with pytest.raises(RefusedError, match="监测仍见中断"):
        engine.lift_warning(opened.id, person("deputy-govoffice"))
    await engine.on_assessment(CLEAR, at(1))
    engine.lift_warning(opened.id, person("deputy-govoffice"))
    closed = engine.close(opened.id, person("duty-officer"), note="处置完毕")
    assert closed.status == "closed"
    assert closed.closed_at is not None
    with pytest.raises(RefusedError, match="已关闭"):
        engine.confirm(opened.id, person("duty-officer"))
    engine.annotate(opened.id, person("deputy-miit"), "§5 调查：光缆被挖断")
    assert [e.kind for e in engine.timeline(opened.id)][-8:] == [
        "confirmed",
        "warning_issued",
        "response_started",
        "response_ended",
        "restored",
        "warning_lifted",
        "closed",
        "note",
    ]
    assert [k for k in kinds(db, opened.id) if k not in ("group_tasks", "public_statement")][
        -6:
    ] == ["warning", "response_start", "response_end", "lift_proposal", "lift", "closed"]
    assert kinds(db, opened.id).count("group_tasks") == 7
    with pytest.raises(IncidentNotFoundError):
        engine.confirm(999, person("duty-officer"))


async def test_information_sources_open_and_annotate(db: Engine) -> None:
    engine = IncidentEngine(db, CONFIG)
    reported = engine.add_event("upper", "市通信管理局通报：联通城区分公司光缆中断")
    assert (reported.source, reported.status, reported.scenario) == ("upper", "detected", None)
    engine.add_event("public", "群众反映东街无信号", person("duty-officer"), reported.id)
    assert kinds(db, reported.id) == ["detection", "follow_up"]
    with pytest.raises(RefusedError, match="--scenario"):
        engine.issue_warning(reported.id, person("commander"))
    assert engine.issue_warning(reported.id, person("commander"), 3).warning_scenario == 3
    # a monitor detection opens its own incident beside a hand-entered one
    opened = await engine.on_assessment(S3, at(0))
    assert opened is not None
    assert opened.id != reported.id


async def test_pending_requests_for_the_dispatcher(db: Engine) -> None:
    engine = IncidentEngine(db, CONFIG)
    await engine.on_assessment(S3, at(0))
    with db.begin() as connection:
        pending = incident_store.pending_requests(connection)
        assert [p.request.kind for p in pending] == [
            NoticeKind.DETECTION,
            NoticeKind.FIRST_ACTION,
            NoticeKind.WARNING_PROPOSAL,
            NoticeKind.RESPONSE_PROPOSAL,
        ]
        assert pending[0].request.assessment == S3
        assert pending[0].request.context["detected_at"] == at(0).isoformat()
        incident_store.mark_taken(connection, [p.id for p in pending], at(1))
    with db.connect() as connection:
        assert incident_store.pending_requests(connection) == []
    duplicate = pending[0].request
    incident_store.TableNoticeSink(db).submit(duplicate)  # same dedupe_key: ignored
    assert count(db, notice_requests) == 4


async def test_a_plain_sink_gets_requests_after_commit(db: Engine) -> None:
    received: list[NoticeRequest] = []

    class ListSink:
        def submit(self, request: NoticeRequest) -> None:
            received.append(request)

    engine = IncidentEngine(db, CONFIG, sink=ListSink())
    await engine.on_assessment(S3, at(0))
    assert [r.kind for r in received] == [
        "detection",
        "first_action",
        "warning_proposal",
        "response_proposal",
    ]
    assert count(db, notice_requests) == 0


def test_daemon_and_cli_writing_at_once(db: Engine) -> None:
    daemon = IncidentEngine(db, CONFIG)
    opened = daemon.apply_assessment(S3, at(0))
    assert opened is not None
    cli = IncidentEngine(db, CONFIG)
    errors: list[BaseException] = []

    def scorer() -> None:
        try:
            for n in range(30):
                daemon.apply_assessment(S2 if n % 2 else S3, at(n + 1))
        except BaseException as exc:
            errors.append(exc)

    def duty() -> None:
        try:
            for n in range(30):
                cli.annotate(opened.id, person("duty-officer"), f"第{n}次记录")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=scorer), threading.Thread(target=duty)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    timeline = [e.kind for e in daemon.timeline(opened.id)]
    assert timeline.count("note") == 30
    assert timeline.count("upgraded") + timeline.count("downgraded") == 29  # n=0 is no change
    assert len(daemon.incidents()) == 1
