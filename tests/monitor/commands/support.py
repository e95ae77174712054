"""Helpers of the CLI tests: run a command, read what reached the database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.cli import main
from monitor.incidents.tables import notice_requests
from monitor.storage.engine import open_engine

Run = tuple[int, str, str]


def run(capsys: pytest.CaptureFixture[str], config_dir: Path, *argv: str) -> Run:
    code = main([*argv[:2], "-c", str(config_dir), *argv[2:]])
    out, err = capsys.readouterr()
    return code, out, err


def notice_kinds(tmp_path: Path) -> list[str]:
    engine = open_engine(f"sqlite:///{tmp_path / 'commwatch.db'}")
    try:
        with engine.connect() as connection:
            query = select(notice_requests.c.kind).order_by(notice_requests.c.id)
            return list(connection.execute(query).scalars())
    finally:
        engine.dispose()
