"""The versioned schema on SQLite and PostgreSQL: create, adopt 0.1.0 with every row, refuse, lock.

The 0.1.0 schema is frozen in tests/monitor/storage/data/schema-0.1.0-*.sql
(what `metadata.create_all` of 0.1.0 emitted); rows are written through the
table definitions as 0.1.0 wrote them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, Table, insert, inspect, select, text

import dispatch.followup_tables  # noqa: F401  (registers its tables on the metadata)
import dispatch.models as outbox
from monitor.incidents import tables as incident_tables
from monitor.storage import tables as core_tables
from monitor.storage.engine import metadata
from monitor.storage.migrations import (
    HEAD,
    SchemaError,
    inspect_schema,
    prepare,
    require_current,
    upgrade,
)
from tests.conftest import Db

DATA = Path(__file__).parent / "data"
T0 = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


def make_0_1_0(engine: Engine) -> None:
    """The tables exactly as commwatch 0.1.0 created them (no revision table)."""
    ddl = (DATA / f"schema-0.1.0-{engine.dialect.name}.sql").read_text(encoding="utf-8")
    body = "\n".join(line for line in ddl.splitlines() if not line.startswith("--"))
    with engine.begin() as connection:
        for statement in filter(None, (s.strip() for s in body.split(";"))):
            connection.exec_driver_sql(statement)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


ROWS: list[tuple[Table, list[dict[str, Any]]]] = [
    (
        core_tables.nodes,
        [
            {
                "id": "cmcc-core-1",
                "name": "移动城区核心路由器1",
                "system": "cmcc",
                "address": "127.0.0.1",
                "street": "东街街道办事处",
                "critical": True,
                "probes": ["icmp", "snmp"],
                "primary_probe": "icmp",
                "updated_at": at(0),
                "removed_at": None,
            }
        ],
    ),
    (
        core_tables.probe_samples,
        [
            {
                "id": 1,
                "node_id": "cmcc-core-1",
                "probe": "icmp",
                "at": at(1),
                "ok": False,
                "rtt_ms": None,
                "loss": 1.0,
                "error": "timeout",
                "degraded": False,
                "detail": "ICMP无响应",
                "values": None,
            },
            {
                "id": 2,
                "node_id": "cmcc-core-1",
                "probe": "snmp",
                "at": at(2),
                "ok": True,
                "rtt_ms": 1.25,
                "loss": 0.0,
                "error": None,
                "degraded": True,
                "detail": "接口eth1中断",
                "values": {"sys_uptime": 12345, "interfaces": {"eth1": {"oper": 2}}},
            },
        ],
    ),
    (
        core_tables.state_changes,
        [
            {
                "id": 1,
                "node_id": "cmcc-core-1",
                "at": at(3),
                "previous": "UP",
                "current": "DOWN",
                "reason": "ICMP无响应",
            }
        ],
    ),
    (
        core_tables.node_states,
        [
            {
                "node_id": "cmcc-core-1",
                "status": "DOWN",
                "since": at(3),
                "reason": "ICMP无响应",
                "failed_streak": 3,
                "bad_streak": 3,
                "good_streak": 0,
                "answered_streak": 0,
                "updated_at": at(3),
            }
        ],
    ),
    (
        incident_tables.incidents,
        [
            {
                "id": 1,
                "status": "confirmed",
                "source": "monitor",
                "title": "移动城区核心路由器1中断",
                "opened_at": at(3),
                "detected_at": at(3),
                "report_submitted_at": None,
                "scenario": 3,
                "level": "II",
                "assessment": {"scenario": 3, "level": "II", "reasons": ["移动网络中断"]},
                "restored_at": None,
                "warning_scenario": 3,
                "warning_issuer": "commwatch",
                "warning_issuer_name": "commwatch",
                "warning_issued_at": at(4),
                "warning_lifted_at": None,
                "response_level": "II",
                "response_starter": "deputy-miit",
                "response_starter_name": "王副局长",
                "response_started_at": at(5),
                "response_ended_at": None,
                "transferred_to": None,
                "closed_at": None,
                "updated_at": at(5),
            },
            {
                "id": 2,
                "status": "closed",
                "source": "public",
                "title": "群众反映东街无信号",
                "opened_at": at(6),
                "detected_at": at(6),
                "report_submitted_at": at(7),
                "scenario": None,
                "level": None,
                "assessment": None,
                "restored_at": at(8),
                "warning_scenario": None,
                "warning_issuer": None,
                "warning_issuer_name": None,
                "warning_issued_at": None,
                "warning_lifted_at": None,
                "response_level": None,
                "response_starter": None,
                "response_starter_name": None,
                "response_started_at": None,
                "response_ended_at": None,
                "transferred_to": None,
                "closed_at": at(9),
                "updated_at": at(9),
            },
        ],
    ),
    (
        incident_tables.incident_events,
        [
            {
                "id": n,
                "incident_id": incident,
                "at": at(n),
                "kind": kind,
                "actor": actor,
                "actor_name": None if actor is None else "值班员",
                "note": note,
                "data": {"step": n},
            }
            for n, incident, kind, actor, note in (
                (1, 1, "detected", "commwatch", ""),
                (2, 1, "confirmed", "duty", "已核实"),
                (3, 1, "response_started", "deputy-miit", "启动Ⅱ级响应"),
                (4, 2, "detected", None, "群众反映"),
                (5, 2, "closed", "duty", "已恢复"),
            )
        ],
    ),
    (
        incident_tables.notice_requests,
        [
            {
                "id": 1,
                "created_at": at(3),
                "kind": "detection",
                "incident_id": 1,
                "dedupe_key": "incident-1-detection",
                "assessment": {"scenario": 3},
                "context": {"incident": 1},
                "taken_at": at(3),
            }
        ],
    ),
    (
        outbox.notices,
        [
            {
                "id": 1,
                "dedupe_key": "incident-1-detection",
                "kind": "detection",
                "incident_id": 1,
                "group_key": "incident-1",
                "created_at": at(3),
                "due_at": at(3),
                "status": "routed",
                "superseded_by": None,
                "routed_at": at(3),
                "deliveries": 2,
                "assessment": {"scenario": 3},
                "context": {"incident": 1},
            }
        ],
    ),
    (
        outbox.deliveries,
        [
            {
                "id": n,
                "notice_id": 1,
                "dedupe_key": "incident-1-detection",
                "channel": channel,
                "address": address,
                "recipient_key": f"unit:区工信局:{n}",
                "recipient": "区工信局",
                "stage": 0,
                "status": status,
                "attempts": 1,
                "next_attempt_at": at(3),
                "lease_until": None,
                "subject": "【预警】情形3",
                "body": "移动城区核心路由器1中断",
                "html": None,
                "notifier": "outbox",
                "gateway_id": None,
                "detail": None,
                "last_error": error,
                "permanent": error is not None,
                "created_at": at(3),
                "updated_at": at(4),
                "sent_at": at(4) if status == "sent" else None,
            }
            for n, channel, address, status, error in (
                (1, "email", "duty@example.org", "sent", None),
                (2, "sms", "13800000000", "failed", "bad number"),
            )
        ],
    ),
]


def write_rows(engine: Engine) -> None:
    """As 0.1.0 wrote them: serial ids are the database's (1, 2, … in insert order)."""
    with engine.begin() as connection:
        for table, rows in ROWS:
            serial = table.autoincrement_column
            for row in rows:
                values = {k: v for k, v in row.items() if serial is None or k != serial.name}
                connection.execute(insert(table), values)


def read_rows(engine: Engine, table: Table) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        primary = list(table.primary_key.columns)
        return [dict(row._mapping) for row in connection.execute(select(table).order_by(*primary))]


@pytest.fixture
def engine(db: Db) -> Any:
    engine = db.engine()
    yield engine
    engine.dispose()


def test_a_new_database_gets_head_and_matches_the_table_definitions(engine: Engine) -> None:
    before, after = upgrade(engine)
    assert (before.empty, before.revision) == (True, None)
    assert after.revision == HEAD
    assert inspect_schema(engine).current
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_upgrade_twice_changes_nothing(engine: Engine) -> None:
    upgrade(engine)
    before, after = upgrade(engine)
    assert before.revision == after.revision == HEAD


def test_a_0_1_0_database_is_adopted_with_every_row(engine: Engine) -> None:
    make_0_1_0(engine)
    write_rows(engine)
    state = inspect_schema(engine)
    assert (state.revision, state.empty, state.current) == (None, False, False)

    before, after = upgrade(engine)

    assert before.label == "0.1.0 (no revision)"
    assert after.revision == HEAD
    for table, rows in ROWS:
        kept = [{k: row[k] for k in rows[0]} for row in read_rows(engine, table)]
        assert kept == rows, table.name
    added = read_rows(engine, outbox.deliveries)[0]  # columns of later revisions: defaults
    assert (added["escalation_step"], added["acked_at"], added["delivered_at"]) == (0, None, None)
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), metadata) == []
    with engine.begin() as connection:  # and it goes on: new rows get the next ids
        connection.execute(
            insert(incident_tables.incident_events),
            {"incident_id": 2, "at": at(10), "kind": "note", "note": "", "data": {}},
        )
        ids = connection.execute(select(incident_tables.incident_events.c.id)).scalars().all()
    assert sorted(ids) == [1, 2, 3, 4, 5, 6]


def test_a_0_1_0_database_is_refused_with_the_command_to_run(engine: Engine) -> None:
    make_0_1_0(engine)
    with pytest.raises(SchemaError) as refused:
        require_current(engine, "/etc/commwatch")
    message = str(refused.value)
    assert "\n" not in message
    assert "`commwatch db upgrade -c /etc/commwatch`" in message
    assert "0.1.0" in message
    with pytest.raises(SchemaError):  # the daemon does not upgrade a database with data
        prepare(engine, "/etc/commwatch")
    assert "alembic_version" not in inspect(engine).get_table_names()


def test_prepare_creates_only_an_empty_database(engine: Engine) -> None:
    created = prepare(engine)
    assert created is not None
    assert created.revision == HEAD
    assert prepare(engine) is None


def test_a_newer_revision_is_refused_and_not_touched(engine: Engine) -> None:
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    for action in (lambda: require_current(engine), lambda: upgrade(engine)):
        with pytest.raises(SchemaError, match="9999, unknown to this commwatch"):
            action()
    assert inspect_schema(engine).revision == "9999"


def test_0005_fills_the_latest_sample_of_every_node_and_probe(engine: Engine) -> None:
    upgrade(engine, to="0004")
    samples = core_tables.probe_samples
    written = [  # (node, probe, minute, rtt): inserted out of time order, a tie at minute 5
        ("a", "icmp", 5, 1.0),
        ("a", "icmp", 9, 2.0),
        ("a", "icmp", 3, 3.0),
        ("a", "snmp", 4, 4.0),
        ("b", "icmp", 5, 5.0),
        ("b", "icmp", 5, 6.0),  # same time: the later row is the latest
    ]
    with engine.begin() as connection:
        connection.execute(
            insert(samples),
            [
                {
                    "node_id": n,
                    "probe": p,
                    "at": at(m),
                    "ok": True,
                    "rtt_ms": rtt,
                    "degraded": False,
                }
                for n, p, m, rtt in written
            ],
        )

    before, after = upgrade(engine)

    assert (before.revision, after.revision) == ("0004", HEAD)
    latest = [
        (row["node_id"], row["probe"], row["at"], row["rtt_ms"])
        for row in read_rows(engine, core_tables.latest_samples)
    ]
    assert latest == [
        ("a", "icmp", at(9), 2.0),
        ("a", "snmp", at(4), 4.0),
        ("b", "icmp", at(5), 6.0),
    ]
    indexes = {index["name"] for index in inspect(engine).get_indexes("probe_samples")}
    assert indexes == {"ix_probe_samples_at"}
    assert len(read_rows(engine, samples)) == len(written)  # every sample kept
