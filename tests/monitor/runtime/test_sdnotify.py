"""monitor.runtime.sdnotify against a real unix datagram socket (path and abstract)."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from monitor.runtime import sdnotify


@pytest.fixture(params=["path", "abstract"])
def receiver(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[], str]]:
    """A bound SOCK_DGRAM socket with $NOTIFY_SOCKET pointing at it; yields a reader."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if request.param == "path":
        path = str(tmp_path / "notify.sock")
        sock.bind(path)
        monkeypatch.setenv("NOTIFY_SOCKET", path)
    else:
        name = f"commwatch-test-{os.getpid()}-{id(sock)}"
        sock.bind("\0" + name)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
    sock.settimeout(2)

    def read() -> str:
        return sock.recv(4096).decode("utf-8")

    try:
        yield read
    finally:
        sock.close()


@pytest.mark.parametrize(
    ("send", "expected"),
    [
        (lambda: sdnotify.ready(), "READY=1"),
        (lambda: sdnotify.ready("probing 18 nodes"), "READY=1\nSTATUS=probing 18 nodes"),
        (lambda: sdnotify.ready("two\nlines"), "READY=1\nSTATUS=two lines"),
        (lambda: sdnotify.stopping(), "STOPPING=1"),
        (lambda: sdnotify.stopping("draining"), "STOPPING=1\nSTATUS=draining"),
        (lambda: sdnotify.status("监测 18 个节点"), "STATUS=监测 18 个节点"),
        (lambda: sdnotify.watchdog(), "WATCHDOG=1"),
        (lambda: sdnotify.extend_timeout(2.5), "EXTEND_TIMEOUT_USEC=2500000"),
        (lambda: sdnotify.notify("FDSTORE=0"), "FDSTORE=0"),
    ],
    ids=[
        "ready",
        "ready-status",
        "status-newline",
        "stopping",
        "stopping-status",
        "status-utf8",
        "watchdog",
        "extend-timeout",
        "raw",
    ],
)
def test_message_arrives(
    receiver: Callable[[], str], send: Callable[[], bool], expected: str
) -> None:
    assert send() is True
    assert receiver() == expected


def test_reloading_carries_monotonic_usec(receiver: Callable[[], str]) -> None:
    assert sdnotify.reloading() is True
    first, second = receiver().split("\n")
    assert first == "RELOADING=1"
    key, _, value = second.partition("=")
    assert key == "MONOTONIC_USEC"
    assert int(value) > 0


@pytest.mark.parametrize("value", [None, "", "relative/path.sock", "vsock:2:1234", "@"], ids=str)
def test_no_usable_socket_is_a_silent_no_op(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    else:
        monkeypatch.setenv("NOTIFY_SOCKET", value)
    assert sdnotify.ready("x") is False
    assert sdnotify.watchdog() is False


def test_dead_socket_does_not_raise(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone.sock"))
    assert sdnotify.ready() is False


@pytest.mark.parametrize(
    ("usec", "pid", "expected"),
    [
        ("30000000", None, 15.0),
        ("30000000", "self", 15.0),
        ("1000", None, 0.0005),
        ("30000000", "1", None),
        ("30000000", "junk", None),
        ("0", None, None),
        ("-5", None, None),
        ("abc", None, None),
        (None, None, None),
    ],
    ids=["30s", "30s-own-pid", "1ms", "other-pid", "bad-pid", "zero", "negative", "junk", "unset"],
)
def test_watchdog_interval(
    monkeypatch: pytest.MonkeyPatch, usec: str | None, pid: str | None, expected: float | None
) -> None:
    for name, value in (("WATCHDOG_USEC", usec), ("WATCHDOG_PID", pid)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, str(os.getpid()) if value == "self" else value)
    assert sdnotify.watchdog_interval() == expected
