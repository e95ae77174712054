"""`status` answered by the daemon over its control socket says what the database path says."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.commands.database import open_current
from monitor.commands.status import answer
from monitor.commands.status_client import socket_path
from monitor.config import load_config
from tests.control_harness import ServerThread
from tests.monitor.commands.support import Run, run
from tests.monitor.commands.test_status_cache import ATTEMPTS, config_dir  # noqa: F401 (the fixture)
from tests.paths import ROOT

ARGVS = [(), ("--json",), ("--problems",)]


@pytest.fixture
def daemon(config_dir: Path) -> Iterator[ServerThread]:  # noqa: F811
    """The daemon's side of the socket: its own config and engine, the CLI's renderer."""
    config = load_config(config_dir)
    engine = open_current(config)
    path = socket_path(config_dir)
    assert path is not None
    server = ServerThread(path, lambda request: answer(config, engine, request)).start()
    try:
        yield server
    finally:
        server.stop()
        engine.dispose()


def _answered(server: ServerThread) -> float:
    return server.server.requests["answered"]


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
@pytest.mark.parametrize("argv", ARGVS, ids=["text", "json", "problems"])
def test_the_daemons_answer_is_byte_identical_to_the_database_path(
    config_dir: Path,  # noqa: F811
    daemon: ServerThread,
    capsys: pytest.CaptureFixture[str],
    argv: tuple[str, ...],
) -> None:
    for _ in range(ATTEMPTS):
        before = _answered(daemon)
        via: Run = run(capsys, config_dir, "status", *argv)
        assert _answered(daemon) == before + 1  # it came over the socket
        direct = run(capsys, config_dir, "status", *argv, "--offline")
        assert _answered(daemon) == before + 1
        if via == direct:
            break
    assert via == direct
    assert via[0] == 0
    assert "cmcc-core-1" in via[1]
    code, _, err = run(capsys, config_dir, "status", *argv, "--verbose")
    assert code == 0
    assert err.startswith(f"status: answered by the daemon on {daemon.server.path}\n")


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_no_socket_or_a_stale_one_falls_back_quietly(
    config_dir: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = socket_path(config_dir)
    assert path is not None
    assert _same(capsys, config_dir, ("status",), ("status", "--offline"))  # no socket
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(path))  # what a killed daemon leaves: connecting is refused
    stale.close()
    assert _same(capsys, config_dir, ("status",), ("status", "--offline"))
    code, out, err = run(capsys, config_dir, "status", "--verbose")
    assert code == 0
    assert "cmcc-core-1" in out
    assert err == f"status: no answer on {path} (Connection refused); reading the database\n"


def _same(capsys: pytest.CaptureFixture[str], directory: Path, *argvs: tuple[str, ...]) -> bool:
    """Both say the same (a clock's 剩N分钟M秒 may tick between two runs: tried again)."""
    for _ in range(ATTEMPTS):
        first, second = (run(capsys, directory, *argv) for argv in argvs)
        if first == second:
            return True
    return False


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_daemon_that_accepts_but_never_answers_costs_the_timeout_and_says_so(
    config_dir: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = socket_path(config_dir)
    assert path is not None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as hung:
        hung.bind(str(path))
        hung.listen(4)  # connections queue; nothing ever reads or answers
        started = time.monotonic()
        code, out, err = run(capsys, config_dir, "status", "--timeout=0.5")
        waited = time.monotonic() - started
    assert code == 0
    assert "cmcc-core-1" in out
    assert err == (
        f"warning: the daemon did not answer on {path} within 0.5 s; reading the database\n"
    )
    assert 0.5 <= waited < 0.5 + 30  # bounded by the timeout (the database path after it)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_daemon_on_another_config_directory_is_not_asked_for_this_one(
    config_dir: Path,  # noqa: F811
    daemon: ServerThread,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    other = tmp_path / "other"
    other.symlink_to(config_dir)  # the same files, resolved: still this daemon's
    before = _answered(daemon)
    assert run(capsys, other, "status")[0] == 0
    assert _answered(daemon) == before + 1
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(config_dir, elsewhere)  # the same config in another directory: not asked
    assert run(capsys, elsewhere, "status", "--verbose")[2].startswith(
        f"status: no answer on {daemon.server.path} (this daemon runs the config in {config_dir})"
    )
    assert _answered(daemon) == before + 1


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_asking_the_daemon_imports_no_asyncio_sqlalchemy_or_pydantic(
    config_dir: Path,  # noqa: F811
    daemon: ServerThread,
    tmp_path: Path,
) -> None:
    """The point of the socket: `status` starts without the database stack (docs/benchmarks.md)."""
    probe = (
        "import sys; from monitor.cli import main; code = main(['status', '-c', sys.argv[1]]); "
        "print(sorted(m for m in ('asyncio', 'sqlalchemy', 'pydantic', 'prometheus_client') "
        "if m in sys.modules), file=sys.stderr); sys.exit(code)"
    )
    before = _answered(daemon)
    done = subprocess.run(
        [sys.executable, "-c", probe, str(config_dir)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert _answered(daemon) == before + 1
    assert "cmcc-core-1" in done.stdout
    assert done.stderr.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("value", ["0", "-1", "soon", "nan"])
def test_a_timeout_that_is_not_a_positive_number_of_seconds_is_a_usage_error(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", f"--timeout={value}"]) == 2
    assert "is not a number of seconds" in capsys.readouterr().err
