"""`commwatch db upgrade|current` and the refusals, as separate processes (as an operator runs them).

Two processes migrating one PostgreSQL schema at once are made to start together:
the test holds the migration lock until both wait on it, then lets go.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from monitor.storage.engine import open_engine
from monitor.storage.migrations import HEAD
from tests.conftest import Db
from tests.monitor.storage.test_migrations import make_0_1_0, write_rows
from tests.paths import SHIPPED_CONFIG


def config_for(tmp_path: Path, url: str) -> Path:
    target = tmp_path / "config"
    shutil.copytree(SHIPPED_CONFIG, target)
    daemon = target / "commwatch.toml"
    text = re.sub(r'(?m)^url = ".*"$', f'url = "{url}"', daemon.read_text(encoding="utf-8"))
    text = re.sub(r'(?m)^listen = "127.0.0.1:9810"', 'listen = "127.0.0.1:0"', text)
    daemon.write_text(text, encoding="utf-8")
    return target


def commwatch(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
    )


def test_commands_never_create_a_database(tmp_path: Path) -> None:
    path = tmp_path / "var" / "commwatch.db"
    config = config_for(tmp_path, f"sqlite:///{path}")
    for argv in (["status"], ["incident", "list"], ["db", "current"]):
        done = commwatch(*argv, "-c", str(config), cwd=tmp_path)
        assert done.returncode == 1, (argv, done.stderr)
        assert done.stderr.count("\n") == 1, done.stderr
        assert f"no database at sqlite:///{path}" in done.stderr
        assert "commwatch db upgrade -c" in done.stderr
    assert not path.parent.exists()


def test_a_relative_sqlite_path_is_shown_where_it_lands(tmp_path: Path) -> None:
    config = config_for(tmp_path, "sqlite:///var/commwatch.db")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = commwatch("status", "-c", str(config), cwd=elsewhere)
    assert done.returncode == 1
    assert f"(= {elsewhere / 'var' / 'commwatch.db'})" in done.stderr
    assert not (elsewhere / "var").exists()


def test_0_1_0_database_refused_then_upgraded_by_db_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "commwatch.db"
    url = f"sqlite:///{path}"
    engine = open_engine(url)
    make_0_1_0(engine)
    write_rows(engine)
    engine.dispose()
    config = config_for(tmp_path, url)

    for argv in (["status"], ["incident", "list"], ["run"]):
        done = commwatch(*argv, "-c", str(config), cwd=tmp_path)
        assert done.returncode == 1, (argv, done.stdout, done.stderr)
        errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, done.stderr
        assert f"run `commwatch db upgrade -c {config}`" in errors[0]

    current = commwatch("db", "current", "-c", str(config), cwd=tmp_path)
    assert current.returncode == 0
    assert current.stdout.startswith("0.1.0 (no revision) (behind")

    upgraded = commwatch("db", "upgrade", "-c", str(config), cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"upgraded schema 0.1.0 (no revision) → {HEAD}" in upgraded.stdout

    assert commwatch("db", "current", "-c", str(config), cwd=tmp_path).stdout == f"{HEAD} (head)\n"
    listed = commwatch("incident", "list", "--all", "--json", "-c", str(config), cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert [line.count('"id"') for line in listed.stdout.splitlines()] == [1, 1]


def test_db_upgrade_creates_a_new_database_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "state" / "commwatch.db"
    config = config_for(tmp_path, f"sqlite:///{path}")
    done = commwatch("db", "upgrade", "-c", str(config), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"database sqlite:///{path}: new database, schema created: empty → {HEAD}" in done.stdout
    again = commwatch("db", "upgrade", "-c", str(config), cwd=tmp_path)
    assert f"already at schema revision {HEAD}" in again.stdout
    status = commwatch("status", "-c", str(config), cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    assert "holds no node states yet" in status.stderr


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.mark.peer
@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_two_processes_migrating_one_postgresql_database_at_once(tmp_path: Path, db: Db) -> None:
    url = (
        make_url(db.url)
        .update_query_dict({"options": f"-csearch_path={db.schema}"})
        .render_as_string(hide_password=False)
    )
    config = config_for(tmp_path, url)
    with psycopg.connect(_libpq(db.url), autocommit=True) as holder:
        holder.execute(f'SET search_path TO "{db.schema}"')
        key = "hashtext('commwatch schema ' || current_schema())"
        holder.execute(f"SELECT pg_advisory_lock({key})")
        both = [
            subprocess.Popen(
                [sys.executable, "-m", "monitor", "db", "upgrade", "-c", str(config)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=tmp_path,
            )
            for _ in range(2)
        ]
        try:
            deadline = time.monotonic() + 60
            waiting = 0
            while waiting < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
                row = holder.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    " AND database = (SELECT oid FROM pg_database"
                    " WHERE datname = current_database())"
                ).fetchone()
                waiting = int(row[0]) if row else 0
            assert waiting == 2, "both processes should be waiting for the migration lock"
        finally:
            holder.execute(f"SELECT pg_advisory_unlock({key})")
        outputs = [process.communicate(timeout=120) for process in both]
    assert [process.returncode for process in both] == [0, 0], outputs
    stdout = sorted(out for out, _ in outputs)
    assert sum("schema created: empty → " + HEAD in out for out in stdout) == 1, stdout
    assert sum(f"already at schema revision {HEAD}" in out for out in stdout) == 1, stdout
