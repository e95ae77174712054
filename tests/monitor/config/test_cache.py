"""The validated-config cache: exact, never stale, never holding a secret."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.config import Config, load_config
from monitor.config.cache import CACHE_FILE, load_cached, record
from monitor.config.masking import secret_values
from tests.monitor.config.same_config import assert_same_config
from tests.paths import ROOT, SHIPPED_CONFIG

COMMUNITY = 'community = "public"       # REPLACE: or { env = "COMMWATCH_SNMP_COMMUNITY" }'


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """STATE_DIRECTORY for the shipped config (its database and its cache go there)."""
    directory = tmp_path / "state"
    directory.mkdir()
    monkeypatch.setenv("STATE_DIRECTORY", str(directory))
    return directory


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(SHIPPED_CONFIG, target)
    return target


def test_cached_config_equals_the_validated_one_and_holds_no_secret(
    state: Path, config_dir: Path
) -> None:
    daemon = config_dir / "commwatch.toml"
    text = daemon.read_text(encoding="utf-8")
    assert COMMUNITY in text
    daemon.write_text(text.replace(COMMUNITY, 'community = "Zq9-secret"'), encoding="utf-8")
    config = load_config(config_dir)
    path = record(config)
    assert path == state / CACHE_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    cached = load_cached(config_dir)
    assert isinstance(cached, Config)
    assert_same_config(config, cached, secrets=False)
    assert cached.nodes.keys() == config.nodes.keys()
    text = path.read_text(encoding="utf-8")
    secrets = secret_values(config.daemon)
    assert "Zq9-secret" in secrets  # the SNMP community: a secret the file must not hold
    assert not [s for s in secrets if s in text]


def test_an_edited_file_is_validated_again(state: Path, config_dir: Path) -> None:
    assert record(load_config(config_dir)) is not None
    nodes = config_dir / "nodes.toml"
    nodes.write_text(nodes.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert load_cached(config_dir) is None
    assert record(load_config(config_dir)) is not None
    assert load_cached(config_dir) is not None


def test_status_reports_a_bad_edit_although_a_cache_is_there(
    state: Path, config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "upgrade", "-c", str(config_dir)]) == 0  # records the cache
    assert (state / CACHE_FILE).exists()
    assert main(["status", "-c", str(config_dir)]) == 0
    daemon = config_dir / "commwatch.toml"
    text = daemon.read_text(encoding="utf-8")
    daemon.write_text(text.replace("fail_after = 3 ", "fail_after = -3 "), encoding="utf-8")
    capsys.readouterr()
    assert main(["status", "-c", str(config_dir)]) == 2
    err = capsys.readouterr().err
    assert "commwatch.toml" in err
    assert "fail_after" in err


def test_another_environment_is_another_fingerprint(
    state: Path, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    daemon = config_dir / "commwatch.toml"
    text = daemon.read_text(encoding="utf-8")
    assert COMMUNITY in text
    daemon.write_text(
        text.replace(COMMUNITY, 'community = { env = "CW_TEST_COMMUNITY" }'), encoding="utf-8"
    )
    monkeypatch.setenv("CW_TEST_COMMUNITY", "s3cret-community")
    config = load_config(config_dir)
    assert record(config) is not None
    assert "s3cret-community" not in (state / CACHE_FILE).read_text(encoding="utf-8")
    monkeypatch.setenv("CW_TEST_COMMUNITY", "another")  # a secret's value: not in the key
    assert load_cached(config_dir) is not None
    monkeypatch.delenv("CW_TEST_COMMUNITY")  # validation would now fail: never the cache
    assert load_cached(config_dir) is None
    monkeypatch.setenv("CW_TEST_COMMUNITY", "back")
    other = state / "elsewhere"
    other.mkdir()
    monkeypatch.setenv("STATE_DIRECTORY", str(other))  # ${STATE_DIRECTORY}: another database
    assert load_cached(config_dir) is None


def test_a_missing_state_directory_is_not_made(
    tmp_path: Path, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "absent"))
    assert record(load_config(config_dir)) is None
    assert not (tmp_path / "absent").exists()
    assert load_cached(config_dir) is None


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{",
        b'{"fingerprint": 1}',
        b"\xff",
        b'{"fingerprint": "x", "config": []}',
        b"[" * 10**5,
    ],
    ids=["empty", "broken", "no-config", "not-utf8", "wrong-fingerprint", "nested"],
)
def test_a_cache_that_is_not_one_is_ignored(state: Path, config_dir: Path, content: bytes) -> None:
    (state / CACHE_FILE).write_bytes(content)
    assert load_cached(config_dir) is None


@pytest.mark.parametrize("where", ["subprocess:Popen", "monitor.cli:main", "os:system"])
def test_a_forged_cache_cannot_load_a_class(state: Path, config_dir: Path, where: str) -> None:
    path = record(load_config(config_dir))
    assert path is not None
    text = path.read_text(encoding="utf-8")
    assert '"cls": "monitor.incidents.notices:NoticeKind"' in text  # [[dispatch.route]] kinds
    path.write_text(re.sub(r'"cls": "[^"]*"', f'"cls": "{where}"', text), encoding="utf-8")
    assert load_cached(config_dir) is None


def test_status_on_a_cached_config_builds_no_model(tmp_path: Path, state: Path) -> None:
    """The point of the cache: `status` starts without pydantic (see docs/benchmarks.md)."""
    env = {**os.environ, "STATE_DIRECTORY": str(state)}
    shipped = str(ROOT / "config")
    upgrade = [sys.executable, "-m", "monitor", "db", "upgrade", "-c", shipped]
    subprocess.run(upgrade, check=True, capture_output=True, cwd=tmp_path, env=env, timeout=120)
    probe = (
        "import sys; from monitor.cli import main; code = main(['status', '-c', sys.argv[1]]); "
        "print(sorted(m for m in ('pydantic', 'phonenumbers', 'prometheus_client') "
        "if m in sys.modules), file=sys.stderr); sys.exit(code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, shipped],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[-1] == "[]"


def test_check_config_records_and_status_uses_it(
    state: Path, config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-config", "-q", "-c", str(config_dir)]) == 0
    assert (state / CACHE_FILE).exists()
    assert load_cached(config_dir) is not None
    assert main(["status", "-c", str(config_dir)]) == 1  # no database: one line, none created
    err = capsys.readouterr().err
    assert "no database at sqlite:///" in err
    assert "run `commwatch db upgrade -c" in err
    assert not (state / "commwatch.db").exists()
