"""The control socket: mode 0600, stale files replaced, bad clients cannot hurt the daemon."""

from __future__ import annotations

import json
import os
import socket
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.runtime.control import MAX_REQUEST, ControlServer
from tests.control_harness import ServerThread


@pytest.fixture
def path() -> Iterator[Path]:
    # AF_UNIX paths are short (108 bytes): pytest's tmp_path can be longer
    with tempfile.TemporaryDirectory(dir="/tmp") as directory:
        yield Path(directory) / "control.sock"


def _echo(request: dict[str, Any]) -> dict[str, Any]:
    return {"code": 0, "stdout": f"asked {request.get('n')}\n", "stderr": ""}


def _ask(path: Path, payload: bytes) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(5)
        client.connect(str(path))
        client.sendall(payload)
        chunks = []
        while chunk := client.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_the_socket_has_mode_0600_and_goes_on_a_clean_stop(path: Path) -> None:
    server = ServerThread(path, _echo).start()
    try:
        info = os.lstat(path)
        assert stat.S_ISSOCK(info.st_mode)
        assert stat.S_IMODE(info.st_mode) == 0o600
        assert [p.name for p in path.parent.iterdir()] == ["control.sock"]  # no temporary left
        answer = json.loads(_ask(path, b'{"n": 1}\n'))
        assert answer == {"code": 0, "stdout": "asked 1\n", "stderr": ""}
    finally:
        server.stop()
    assert not path.exists()


def test_a_stale_socket_from_a_crash_is_replaced(path: Path) -> None:
    crashed = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    crashed.bind(str(path))  # bound, never listening: what a killed daemon leaves
    crashed.close()
    server = ServerThread(path, _echo).start()
    try:
        assert json.loads(_ask(path, b'{"n": 2}\n'))["stdout"] == "asked 2\n"
    finally:
        server.stop()


def test_a_live_socket_or_another_file_is_not_replaced(path: Path) -> None:
    first = ServerThread(path, _echo).start()
    try:
        second = ServerThread(path, _echo)
        with pytest.raises(OSError, match="another process is listening"):
            second.call(second.server.start())
        second.stop()
        assert json.loads(_ask(path, b'{"n": 3}\n'))["stdout"] == "asked 3\n"
    finally:
        first.stop()
    path.write_text("not a socket")
    other = ServerThread(path, _echo)
    with pytest.raises(OSError, match="not a socket"):
        other.call(other.server.start())
    other.stop()
    assert path.read_text() == "not a socket"


def test_garbage_oversize_and_clients_that_leave_are_rejected_and_the_server_carries_on(
    path: Path,
) -> None:
    server = ServerThread(path, _echo).start()
    try:
        assert _ask(path, b"garbage\n") == b""
        assert _ask(path, b"[1, 2]\n") == b""
        assert _ask(path, b"x" * (MAX_REQUEST * 4) + b"\n") == b""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as leaving:
            leaving.connect(str(path))
            leaving.sendall(b'{"n": ')  # and gone, mid-request
        assert json.loads(_ask(path, b'{"n": 4}\n'))["stdout"] == "asked 4\n"
        counts = _counts(server.server)
        assert counts["rejected"] >= 4
        assert counts["answered"] == 1
    finally:
        server.stop()


def test_a_client_gone_before_the_answer_and_a_failing_handler_do_not_stop_it(
    path: Path,
) -> None:
    release = threading.Event()

    def slow_or_failing(request: dict[str, Any]) -> dict[str, Any]:
        if request.get("n") == "fail":
            raise RuntimeError("bug")
        release.wait(5)
        return _echo(request)

    server = ServerThread(path, slow_or_failing).start()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as leaving:
            leaving.connect(str(path))
            leaving.sendall(b'{"n": 5}\n')
        release.set()  # the answer goes to a closed connection
        assert json.loads(_ask(path, b'{"n": "fail"}\n')) == {
            "error": "the daemon could not answer (see its log)"
        }
        assert json.loads(_ask(path, b'{"n": 6}\n'))["stdout"] == "asked 6\n"
        assert _counts(server.server)["failed"] == 1
    finally:
        server.stop()


def _counts(server: ControlServer) -> dict[str, float]:
    (family,) = server.metric_families()
    assert family.name == "commwatch_control_requests"
    return {s.labels["result"]: s.value for s in family.samples if s.name.endswith("_total")}


def test_a_missing_state_directory_is_named_not_made(path: Path) -> None:
    missing = path.parent / "missing" / "control.sock"
    server = ServerThread(missing, _echo)
    with pytest.raises(OSError, match=f"cannot listen on {missing}: No such file or directory"):
        server.call(server.server.start())
    server.stop()
    assert not missing.parent.exists()
