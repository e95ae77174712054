"""A new database's schema made in a child process (`monitor.storage.schema_child`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from monitor.storage.engine import open_engine
from monitor.storage.migrations import HEAD, SchemaError
from monitor.storage.schema_child import upgrade_in_child


def test_a_new_database_gets_the_current_schema(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'new.db'}")
    try:
        before, after = upgrade_in_child(engine, busy_timeout_s=5.0)
        assert before.empty
        assert before.revision is None
        assert after.revision == HEAD
        assert not after.empty
        assert {"nodes", "incidents", "alembic_version"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_a_monitor_package_in_the_working_directory_is_not_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoy = tmp_path / "cwd" / "monitor"
    decoy.mkdir(parents=True)
    (decoy / "__init__.py").write_text(
        "raise SystemExit('the decoy monitor package was imported')\n"
    )
    monkeypatch.chdir(decoy.parent)
    engine = open_engine(f"sqlite:///{tmp_path / 'new.db'}")
    try:
        _, after = upgrade_in_child(engine, busy_timeout_s=5.0)
        assert after.revision == HEAD
    finally:
        engine.dispose()


def test_a_failure_in_the_child_is_one_schema_error_line(tmp_path: Path) -> None:
    not_a_database = tmp_path / "garbage.db"
    not_a_database.write_bytes(b"this is not an SQLite database file\n" * 200)
    engine = open_engine(f"sqlite:///{not_a_database}")
    try:
        with pytest.raises(SchemaError) as caught:
            upgrade_in_child(engine, busy_timeout_s=1.0)
    finally:
        engine.dispose()
    message = str(caught.value)
    assert "\n" not in message
    assert "not a database" in message
