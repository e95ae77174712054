"""Fixtures of the CLI tests: a copy of the shipped config on a fresh SQLite database."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from monitor.cli import main
from tests.monitor.commands.support import run
from tests.paths import SHIPPED_CONFIG


@pytest.fixture
def config_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    target = tmp_path / "config"
    shutil.copytree(SHIPPED_CONFIG, target)
    daemon = target / "commwatch.toml"
    url = f"sqlite:///{tmp_path / 'commwatch.db'}"
    text = re.sub(r'(?m)^url = ".*"$', f'url = "{url}"', daemon.read_text(encoding="utf-8"))
    daemon.write_text(text, encoding="utf-8")
    assert main(["db", "upgrade", "-c", str(target)]) == 0  # commands never create a database
    capsys.readouterr()
    return target


@pytest.fixture
def reported(capsys: pytest.CaptureFixture[str], config_dir: Path) -> int:
    code, out, _ = run(
        capsys, config_dir, "event", "add", "--source", "public", "--text", "群众反映东街无信号"
    )
    assert code == 0
    assert "新建事件#1" in out
    return 1
