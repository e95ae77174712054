"""A new SQLite database is not world-readable, whatever the umask (outside systemd: 022)."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

from tests.paths import ROOT

CREATE = """
import os, sys
os.umask(0o022)
from sqlalchemy import text
from monitor.storage.engine import open_engine
engine = open_engine(f"sqlite:///{sys.argv[1]}")
with engine.begin() as connection:
    connection.execute(text("CREATE TABLE t (a INTEGER)"))
    connection.execute(text("INSERT INTO t VALUES (1)"))
"""


def test_database_files_are_created_0640(tmp_path: Path) -> None:
    database = tmp_path / "state" / "commwatch.db"
    subprocess.run([sys.executable, "-c", CREATE, str(database)], cwd=ROOT, check=True, timeout=60)
    files = sorted(database.parent.iterdir())
    assert database in files
    for path in files:  # the database, its -wal and -shm
        assert stat.S_IMODE(path.stat().st_mode) == 0o640, path.name
