"""`status` read through stdlib sqlite3 says what it says through SQLAlchemy, byte for byte.

The same SQL text and converters (`monitor.storage.reads`) run on both readers;
the sqlite3 one opens the file read-only: it never creates a database, never
changes one, and reads what a running daemon has written to its WAL.
"""

from __future__ import annotations

import hashlib
import io
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, insert, text, update

from dispatch.followup_tables import call_tasks, contact_flags, escalations
from dispatch.models import deliveries, notices
from monitor.commands.common import CommandError
from monitor.commands.database import described_url, open_current, open_reader, shown_url
from monitor.commands.status import render
from monitor.config import Config, load_config
from monitor.incidents import duty_log
from monitor.incidents import store as incident_store
from monitor.incidents.records import open_incidents, running_clocks, unanswered_queries
from monitor.incidents.tables import incidents
from monitor.nodes.state import NodeState, Status
from monitor.storage.engine import describe_database, open_engine, redact_url
from monitor.storage.engine_reads import EngineReader
from monitor.storage.node_table import node_table
from monitor.storage.reads import Reader
from monitor.storage.rows import node_row
from monitor.storage.sqlite_reads import SqliteReader
from monitor.storage.store import Store
from probes.base import ProbeResult
from tests.conftest import Db
from tests.monitor.commands.support import run
from tests.monitor.commands.test_status_cache import ATTEMPTS, config_dir  # noqa: F401 (fixture)

ARGVS = [(False, False), (True, False), (False, True)]
IDS = ["text", "json", "problems"]


def _database(config: Config) -> Path:
    url = config.daemon.storage.url
    assert url.startswith("sqlite:///")
    return Path(url.removeprefix("sqlite:///"))


@pytest.fixture
def populated(config_dir: Path, db: Db) -> Path:  # noqa: F811
    """`config_dir` plus samples, deliveries pending and failed, an escalation, a call, a flag."""
    config = load_config(config_dir)
    engine = db.engine()
    now = datetime.now(UTC)
    try:
        samples = [_sample(i, n.id, node_row(n, now)["primary_probe"], now)
                   for i, n in enumerate(config.inventory.node)]  # fmt: skip
        Store(engine).write_batch(samples, [], {})
        with engine.begin() as connection:
            _outbox(connection, now)
            report = {"cause": {"text": "光缆中断", "by": "值班员"}}  # JSON, a boolean: both read
            connection.execute(update(incidents).values(report_fields=report, drill=True))
    finally:
        engine.dispose()
    return config_dir


def _sample(i: int, node: str, probe: str, now: datetime) -> ProbeResult:
    """Every third one failed; times, RTTs and losses all differ."""
    return ProbeResult(
        node, probe, ok=i % 3 != 0, at=now - timedelta(seconds=i), rtt_ms=1.25 + i,
        loss=(i % 4) / 4, error=None if i % 3 else "timeout",
    )  # fmt: skip


def _outbox(connection: Connection, now: datetime) -> None:
    notice = {
        "dedupe_key": "test:1", "kind": "warning", "incident_id": 1, "created_at": now,
        "due_at": now, "status": "routed", "routed_at": now, "deliveries": 3, "context": {},
    }  # fmt: skip
    notice_id = connection.execute(insert(notices).values(notice).returning(notices.c.id)).scalar()
    for i, (status, address) in enumerate(
        [("pending", "a@example.org"), ("sending", "b@example.org"), ("failed", "c@example.org")]
    ):
        connection.execute(
            insert(deliveries).values(
                notice_id=notice_id, dedupe_key="test:1", channel="email", address=address,
                recipient_key=f"person:{i}", recipient=f"person {i}", status=status,
                next_attempt_at=now, body="text", created_at=now - timedelta(minutes=5 + i),
                updated_at=now,
            )
        )  # fmt: skip
    base = {"notice_id": notice_id, "incident_id": 1, "chain": [], "due_at": now,
            "created_at": now, "updated_at": now}  # fmt: skip
    connection.execute(insert(escalations).values(head="unit:a", head_label="a", step=0, **base))
    connection.execute(insert(escalations).values(head="unit:b", head_label="b", step=1, **base))
    connection.execute(
        insert(call_tasks).values(
            notice_id=notice_id, incident_id=1, kind="warning", unit="区应急局", phone="110",
            reason="unreachable", script="请接报", created_at=now, due_at=now - timedelta(minutes=1),
        )
    )  # fmt: skip
    connection.execute(
        insert(contact_flags).values(
            channel="email", address="commander@example.org", recipient="指挥长",
            reason="mailbox full", failures=2, first_at=now, last_at=now,
        )
    )  # fmt: skip


def _render(config: Config, reader: Reader, as_json: bool, problems: bool) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = render(config, reader, as_json=as_json, problems=problems, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def readers(populated: Path) -> Iterator[tuple[Config, SqliteReader, EngineReader]]:
    config = load_config(populated)
    lite = SqliteReader(_database(config))
    engine = open_engine(config.daemon.storage.url)
    try:
        yield config, lite, EngineReader(engine)
    finally:
        lite.close()
        engine.dispose()


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("as_json", "problems"), ARGVS, ids=IDS)
def test_sqlite3_and_sqlalchemy_say_the_same_bytes(
    readers: tuple[Config, SqliteReader, EngineReader], as_json: bool, problems: bool
) -> None:
    config, lite, engine = readers
    for _ in range(ATTEMPTS):  # a minute boundary between two renders changes 剩N分钟
        via_sqlite3 = _render(config, lite, as_json, problems)
        via_sqlalchemy = _render(config, engine, as_json, problems)
        if via_sqlite3 == via_sqlalchemy:
            break
    assert via_sqlite3 == via_sqlalchemy
    code, out, _ = via_sqlite3
    assert code == 0
    assert "cmcc-core-1" in out
    if not as_json:
        assert "outbox: 2 deliveries waiting (oldest 6m), 1 failed for good" in out
        assert "收到: 1 notices awaiting acknowledgement, 1 escalated" in out
        assert "电话通知: 1 calls to make, 1 overdue" in out
        assert "failing contact: 指挥长 email commander@example.org — mailbox full (2x" in out
        assert "【演练】事件#1 答复催报/核实（市工信局：请核实影响范围）" in out


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_both_readers_make_the_same_objects(
    readers: tuple[Config, SqliteReader, EngineReader],
) -> None:
    config, lite, engine = readers
    assert node_table(lite) == node_table(engine)
    assert any(row.last_at is not None and row.last_ok is False for row in node_table(lite))
    report = config.plan.report
    assert running_clocks(lite, report) == running_clocks(engine, report)
    assert unanswered_queries(lite) == unanswered_queries(engine)
    assert open_incidents(lite) == open_incidents(engine)
    [incident] = open_incidents(lite)
    assert incident.drill is True
    assert incident.report_fields == {"cause": {"text": "光缆中断", "by": "值班员"}}


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
def test_the_status_sql_reads_what_the_table_queries_read(populated: Path, db: Db) -> None:
    """Incidents and queries are also read by SQLAlchemy table queries: the same objects."""
    engine = db.engine()
    try:
        with engine.connect() as connection:
            reader = EngineReader(connection)
            assert open_incidents(reader) == incident_store.list_incidents(connection)
            assert open_incidents(reader)
            queries = duty_log.queries(connection, unanswered=True)
            assert unanswered_queries(reader) == queries
            assert queries
    finally:
        engine.dispose()


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_database_the_daemon_is_writing_is_read_through_its_wal(populated: Path) -> None:
    config = load_config(populated)
    path = _database(config)
    daemon = open_engine(config.daemon.storage.url)  # as the daemon opens it: WAL
    try:
        with daemon.connect() as held:  # the daemon keeps its connection: no checkpoint on close
            held.execute(text("SELECT 1"))
            since = datetime.now(UTC) - timedelta(hours=2)
            Store(daemon).write_batch([], [], {"cmcc-core-1": NodeState(Status.UP, since)})
            assert Path(f"{path}-wal").stat().st_size > 0  # the change is in the WAL
            reader = SqliteReader(path)
            try:
                [row] = [r for r in node_table(reader) if r.node_id == "cmcc-core-1"]
                assert (row.status, row.since) == (Status.UP, since)
                with daemon.begin() as writing:  # a write transaction open: readers still read
                    writing.execute(text("UPDATE node_states SET status = 'DOWN'"))
                    [row] = [r for r in node_table(reader) if r.node_id == "cmcc-core-1"]
                    assert row.status is Status.UP
                    writing.rollback()
                assert _render(config, reader, False, False)[0] == 0
            finally:
                reader.close()
    finally:
        daemon.dispose()


def _fingerprint(path: Path) -> tuple[int, int, str]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
@pytest.mark.parametrize("journal", ["wal", "delete"])
def test_status_never_changes_the_database_file(
    populated: Path, capsys: pytest.CaptureFixture[str], journal: str
) -> None:
    path = _database(load_config(populated))
    with sqlite3.connect(path) as connection:
        connection.execute(f"PRAGMA journal_mode={journal}")
    connection.close()
    before = _fingerprint(path)
    for argv in (("status", "--offline"), ("status", "--offline", "--json")):
        code, out, _ = run(capsys, populated, *argv)
        assert code == 0
        assert "cmcc-core-1" in out
    assert _fingerprint(path) == before
    assert not Path(f"{path}-journal").exists()
    wal = Path(f"{path}-wal")  # WAL: SQLite's own (empty) log beside it, never a write
    assert not wal.exists() if journal == "delete" else wal.stat().st_size == 0
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == (journal,)
    connection.close()


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_status_never_creates_a_database(
    config_dir: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = load_config(config_dir)
    path = _database(config)
    path.unlink()
    code, out, err = run(capsys, config_dir, "status", "--offline")
    assert (code, out) == (1, "")
    assert err.startswith(f"error: no database at {described_url(config.daemon.storage.url)}")
    assert "`commwatch db upgrade -c" in err
    assert not path.exists()
    assert list(path.parent.glob(f"{path.name}*")) == []


def _refusal(opener: Any, config: Config) -> str:
    with pytest.raises(CommandError) as refused:
        opener(config)
    assert refused.value.code == 1
    return str(refused.value)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
@pytest.mark.parametrize("case", ["empty", "behind", "ahead", "not a database"])
def test_the_sqlite3_reader_refuses_what_open_current_refuses(
    config_dir: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    case: str,
) -> None:
    config = load_config(config_dir)
    path = _database(config)
    if case in ("empty", "not a database"):
        path.unlink()
        path.write_bytes(b"" if case == "empty" else b"this is no SQLite file\n" * 200)
    else:
        revision = "0003" if case == "behind" else "9999"
        with sqlite3.connect(path) as connection:
            connection.execute("UPDATE alembic_version SET version_num = ?", (revision,))
        connection.close()
    said = _refusal(open_reader, config)  # first: open_current may make an empty file WAL
    assert said == _refusal(open_current, config)
    code, out, err = run(capsys, config_dir, "status", "--offline")
    assert (code, out, err) == (1, "", f"error: {said}\n")
    if case == "behind":
        assert f"run `commwatch db upgrade -c {config_dir}`" in said


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///var/commwatch.db",
        "sqlite:////tmp/state/commwatch.db",
        "sqlite:////tmp/a b/c.db",
        "sqlite:///x.db?timeout=3",
        "sqlite:////tmp/a%20b.db",
        "postgresql+psycopg://commwatch:s3cret@db.example.org/commwatch",
        "postgresql://u@127.0.0.1:5432/test",
    ],
)
def test_urls_are_shown_as_sqlalchemy_shows_them(url: str) -> None:
    assert shown_url(url) == redact_url(url)
    assert described_url(url) == describe_database(url)
    assert "s3cret" not in shown_url(url)
