"""Live-update feed (a change wakes the streams) and the password file / `user passwd` command."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from monitor.console.feed import Feed, database_digest
from monitor.console.passwords import PasswordError, PasswordStore, password_path
from monitor.nodes.state import Status
from tests.monitor.console.support import FakeLive, database
from tests.paths import ROOT, SHIPPED_CONFIG


async def test_a_status_change_wakes_the_stream(tmp_path: Path) -> None:
    live = FakeLive({"cmcc-core-1": Status.UP})
    engine = database(tmp_path)
    feed = Feed(live, lambda: database_digest(engine), period=0.05)
    stream = feed.stream()
    assert (await anext(stream)).startswith("retry:")
    feed.start()
    try:
        await asyncio.sleep(0.2)
        waiting = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0.2)
        assert not waiting.done()  # nothing changed
        live.node_statuses["cmcc-core-1"] = Status.DOWN
        event = await asyncio.wait_for(waiting, 2.0)
        assert event.startswith("event: change")
    finally:
        await feed.stop()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(stream), 2.0)


def test_password_file_is_argon2id_and_private(tmp_path: Path) -> None:
    store = PasswordStore(password_path(tmp_path / "state"))
    store.set("duty-officer", "long enough 1")
    mode = stat.S_IMODE(os.stat(store.path).st_mode)
    assert mode == 0o600
    text = store.path.read_text()
    assert "$argon2id$" in text
    assert "long enough 1" not in text
    assert store.verify("duty-officer", "long enough 1")
    assert not store.verify("duty-officer", "long enough 2")
    assert not store.verify("commander", "long enough 1")


def test_short_password_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PasswordError):
        PasswordStore(tmp_path / "p.json").set("duty-officer", "short")


def _config_dir(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    target.mkdir()
    for name in ("contacts.toml", "plan.toml", "nodes.toml"):
        (target / name).write_text(
            (SHIPPED_CONFIG / name).read_text(encoding="utf-8"), encoding="utf-8"
        )
    (target / "commwatch.toml").write_text(
        f'[storage]\nurl = "sqlite:///{tmp_path}/cw.db"\n[console]\nstate_dir = "{tmp_path}/state"\n',
        encoding="utf-8",
    )
    return target


@pytest.mark.parametrize(
    ("person", "password", "code"),
    [
        ("duty-officer", "a good password\n", 0),
        ("nobody", "a good password\n", 2),
        ("duty-officer", "short\n", 2),
    ],
    ids=["set", "unknown-person", "too-short"],
)
def test_user_passwd_password_stdin(tmp_path: Path, person: str, password: str, code: int) -> None:
    config = _config_dir(tmp_path)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "monitor",
            "user",
            "passwd",
            person,
            "--password-stdin",
            "-c",
            str(config),
        ],
        cwd=ROOT,
        input=password,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == code, done.stderr
    path = tmp_path / "state" / "console-passwords.json"
    if code == 0:
        assert PasswordStore(path).verify(person, password.strip())
        assert password.strip() not in (config / "contacts.toml").read_text(encoding="utf-8")
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    else:
        assert not path.exists()
        assert "error:" in done.stderr


async def test_the_feed_reads_the_database_only_while_a_page_watches(tmp_path: Path) -> None:
    live = FakeLive({"cmcc-core-1": Status.UP})
    engine = database(tmp_path)
    reads: list[int] = []

    def digest() -> object:
        reads.append(1)
        return database_digest(engine)

    feed = Feed(live, digest, period=0.05)
    feed.start()
    try:
        await asyncio.sleep(0.4)
        assert len(reads) == 1  # the baseline only (before: one read per period)
        live.node_statuses["cmcc-core-1"] = Status.DOWN  # changed while nobody watched
        stream = feed.stream()
        assert (await anext(stream)).startswith("retry:")
        event = await asyncio.wait_for(anext(stream), 2.0)
        assert event.startswith("event: change")  # the page still hears of it
        assert len(reads) >= 2
        await stream.aclose()
        await asyncio.sleep(0.2)
        idle = len(reads)
        await asyncio.sleep(0.4)
        assert len(reads) <= idle + 1  # polling stopped with the last stream
    finally:
        await feed.stop()


class CountingHasher(PasswordHasher):
    """argon2's hasher, counting hash() calls (each one costs its 64 MiB)."""

    def __init__(self) -> None:
        super().__init__(memory_cost=1024, time_cost=1)
        self.hashed = 0

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self.hashed += 1
        return super().hash(password, salt=salt)


def test_no_password_is_hashed_at_start(tmp_path: Path) -> None:
    hasher = CountingHasher()
    store = PasswordStore(password_path(tmp_path / "state"), hasher)
    assert hasher.hashed == 0  # before: a dummy hash in the constructor (start-up peak)
    assert not store.verify("nobody", "long enough 1")  # equal work for unknown people
    assert not store.verify("nobody", "long enough 2")
    assert hasher.hashed == 1  # the dummy, once, on the first sign-in
