"""Config loading: the shipped config is valid; every invalid case gives its exact message."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.config import ConfigError, load_config
from tests.paths import ROOT, TEST_DATA

SHIPPED = ROOT / "config"
CASES = sorted((TEST_DATA / "invalid").glob("*.toml"))


def _header(text: str, key: str) -> str:
    for line in text.splitlines():
        if line.startswith(f"# {key}: "):
            return line.removeprefix(f"# {key}: ")
    raise AssertionError(f"case lacks '# {key}:'")


def _make_case(case: Path, target: Path) -> str:
    shutil.copytree(SHIPPED, target)
    text = case.read_text(encoding="utf-8")
    file, mode = _header(text, "file"), _header(text, "mode")
    path = target / file
    if mode == "replace":
        path.write_text(text, encoding="utf-8")
    else:
        path.write_text(path.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")
    return _header(text, "expect")


def test_shipped_config_is_valid() -> None:
    config = load_config(SHIPPED)
    assert len([u for u in config.contacts.unit if u.kind == "street"]) == 8
    assert len(config.contacts.working_group) == 7
    assert {s.id for s in config.inventory.system if s.kind == "operator"} == {
        "cmcc",
        "cucc",
        "tower",
    }


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_invalid_config_names_file_key_and_value(case: Path, tmp_path: Path) -> None:
    expected = _make_case(case, tmp_path / "config")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "config")
    messages = [str(p) for p in caught.value.problems]
    assert any(m.startswith(expected) for m in messages), messages


@pytest.mark.parametrize("case", CASES[:3], ids=[c.stem for c in CASES[:3]])
def test_check_config_exits_2_and_prints_the_error(
    case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = _make_case(case, tmp_path / "config")
    assert main(["check-config", "-c", str(tmp_path / "config")]) == 2
    assert f"error: {expected}" in capsys.readouterr().err


def test_check_config_accepts_the_shipped_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", "-c", str(SHIPPED)]) == 0
    assert "OK" in capsys.readouterr().out


def test_missing_directory_is_a_config_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-config", "-c", str(tmp_path / "nope")]) == 2
    assert "config directory not found" in capsys.readouterr().err


def test_missing_file_is_named(tmp_path: Path) -> None:
    shutil.copytree(SHIPPED, tmp_path / "c")
    (tmp_path / "c" / "plan.toml").unlink()
    with pytest.raises(ConfigError, match=r"plan\.toml: file not found"):
        load_config(tmp_path / "c")


def test_config_dir_defaults_to_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMMWATCH_CONFIG", str(SHIPPED))
    assert main(["check-config", "-q"]) == 0


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"env": "COMMWATCH_TEST_SECRET"}, "s3cret-from-env"),
        ({"file": "SECRET_FILE"}, "s3cret-from-file"),
        ({"credential": "snmp-community"}, "s3cret-from-credential"),
        ("inline-secret", "inline-secret"),
    ],
    ids=["env", "file", "credential", "inline"],
)
def test_secrets_load_from_env_file_and_credentials(
    spec: object, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitor.config.daemon import SnmpAuthConfig

    monkeypatch.setenv("COMMWATCH_TEST_SECRET", "s3cret-from-env")
    (tmp_path / "secret.txt").write_text("s3cret-from-file\n")
    (tmp_path / "snmp-community").write_text("s3cret-from-credential")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    if isinstance(spec, dict) and spec.get("file") == "SECRET_FILE":
        spec = {"file": str(tmp_path / "secret.txt")}
    auth = SnmpAuthConfig.model_validate({"version": "2c", "community": spec})
    assert auth.community is not None
    assert auth.community.get_secret_value() == expected
    assert expected not in repr(auth)
    assert expected not in str(auth.model_dump())


def test_state_directory_defaults_are_expanded_when_the_keys_are_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without [storage] url or [console] state_dir, both follow $STATE_DIRECTORY (systemd)."""
    config_dir = tmp_path / "config"
    shutil.copytree(ROOT / "config", config_dir)
    toml = config_dir / "commwatch.toml"
    kept = [
        line
        for line in toml.read_text(encoding="utf-8").splitlines()
        if not line.strip().startswith(("url =", "state_dir ="))
    ]
    toml.write_text("\n".join(kept) + "\n", encoding="utf-8")
    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/commwatch")
    config = load_config(config_dir)
    assert config.daemon.storage.url == "sqlite:////var/lib/commwatch/commwatch.db"
    assert config.daemon.console.state_dir == "/var/lib/commwatch"
    monkeypatch.delenv("STATE_DIRECTORY")
    assert load_config(config_dir).daemon.console.state_dir == "var"
