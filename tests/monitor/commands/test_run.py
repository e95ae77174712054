"""`commwatch run` start-up failures say which setting and which address, then exit 1."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from tests.paths import SHIPPED_CONFIG


def test_a_metrics_port_in_use_names_the_setting_and_the_address(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        config = tmp_path / "config"
        shutil.copytree(SHIPPED_CONFIG, config)
        daemon = config / "commwatch.toml"
        text = daemon.read_text(encoding="utf-8")
        text = re.sub(r'(?m)^listen = "127.0.0.1:9810"', f'listen = "{address}"', text)
        text = re.sub(r'(?m)^url = ".*"$', f'url = "sqlite:///{tmp_path / "cw.db"}"', text)
        daemon.write_text(text, encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "-m", "monitor", "run", "-c", str(config)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            cwd=tmp_path,
        )
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(
        f"error: cannot listen on {address} ([metrics] listen in commwatch.toml)"
    )
    assert "Address already in use" in last
    assert "alembic" not in done.stderr  # the schema was created without Alembic's chatter
    assert "new database: schema created" in done.stderr


def test_an_unreachable_database_is_one_error_line_without_the_password(tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(SHIPPED_CONFIG, config)
    daemon = config / "commwatch.toml"
    url = "postgresql+psycopg://root:secretpw@127.0.0.1:1/nope"  # port 1: refused at once
    text = re.sub(r'(?m)^url = ".*"$', f'url = "{url}"', daemon.read_text(encoding="utf-8"))
    daemon.write_text(text, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "run", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 1
    assert "error: database postgresql+psycopg://root:***@127.0.0.1:1/nope: " in done.stderr
    assert "secretpw" not in done.stderr
    assert "Traceback" not in done.stderr
