"""A console over a real SQLite database and the shipped config, with a settable live view."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy import Engine
from starlette.testclient import TestClient

from monitor.config import Config, load_config
from monitor.console.context import Console
from monitor.console.passwords import PasswordStore, password_path
from monitor.console.server import build_app, build_console
from monitor.nodes.flapping import FlapState
from monitor.nodes.state import Status
from monitor.plan.assessment import Assessment
from monitor.storage.engine import open_engine
from monitor.storage.migrations import upgrade
from tests.paths import SHIPPED_CONFIG

PASSWORD = "correct horse battery"
# argon2id with small costs: the same algorithm, fast enough for many sign-ins in tests
FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
PEOPLE = ("commander", "deputy-govoffice", "deputy-miit", "duty-officer")


@dataclass
class FakeLive:
    """What the daemon's node table and plan loop would show."""

    node_statuses: dict[str, Status] = field(default_factory=dict)
    current: Assessment = field(default_factory=Assessment)

    def statuses(self) -> Mapping[str, Status]:
        return self.node_statuses

    def flaps(self) -> Mapping[str, FlapState]:
        return {}

    def assessment(self) -> Assessment:
        return self.current

    def uplink_ok(self) -> bool:
        return True

    def sequence(self) -> int:
        """Changes with the statuses (tests set `node_statuses` directly; O(nodes) here)."""
        return hash(tuple(self.node_statuses.items()))


def console_config(tmp_path: Path, base: Path = SHIPPED_CONFIG, **settings: object) -> Config:
    """The shipped config (or `base`) with the console's state directory under tmp_path."""
    config = load_config(base)
    update = {"state_dir": str(tmp_path / "state"), **settings}
    console = config.daemon.console.model_copy(update=update)
    daemon = config.daemon.model_copy(update={"console": console})
    return Config(config.directory, daemon, config.plan, config.contacts, config.inventory)


def database(tmp_path: Path) -> Engine:
    engine = open_engine(f"sqlite:///{tmp_path}/console.db", 5.0)
    upgrade(engine)
    return engine


@lru_cache(maxsize=1)
def _hashes() -> bytes:
    """The password file with PASSWORD for every shipped person (argon2 is slow: made once)."""
    with tempfile.TemporaryDirectory() as scratch:
        path = password_path(scratch)
        store = PasswordStore(path, FAST)
        for person in PEOPLE:
            store.set(person, PASSWORD)
        return path.read_bytes()


def make_console(
    tmp_path: Path,
    live: FakeLive | None = None,
    config: Config | None = None,
    engine: Engine | None = None,
    extra_people: tuple[str, ...] = (),
) -> Console:
    """A console with every shipped person's password (and `extra_people`'s) set to PASSWORD."""
    config = config or console_config(tmp_path)
    path = password_path(config.daemon.console.state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_hashes())
    path.chmod(0o600)
    store = PasswordStore(path, FAST)
    for person in extra_people:
        store.set(person, PASSWORD)
    console = build_console(lambda: config, engine or database(tmp_path), live or FakeLive())
    console.passwords = store
    return console


def client(console: Console, peer: str | None = None) -> TestClient:
    """A test client; `peer` sets the address the console sees the request come from."""
    if peer is None:
        return TestClient(build_app(console), base_url="http://console.test")
    return TestClient(build_app(console), base_url="http://console.test", client=(peer, 40000))


def login(http: TestClient, person: str, password: str = PASSWORD) -> str:
    """Sign in; returns the CSRF token."""
    response = http.post("/api/login", json={"person": person, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["csrf"])
