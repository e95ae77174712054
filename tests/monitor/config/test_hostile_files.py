"""Config files that used to crash or hang check-config: each is exit 2 naming file and key."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import ROOT

SHIPPED = ROOT / "config"


def _check(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "check-config", "-c", str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,  # a FIFO used to block here for ever
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(SHIPPED, target)
    return target


def test_a_fifo_as_nodes_toml_is_an_error_not_a_hang(config: Path) -> None:
    (config / "nodes.toml").unlink()
    os.mkfifo(config / "nodes.toml")
    done = _check(config)
    assert done.returncode == 2
    assert "error: nodes.toml: not a regular file" in done.stderr


def test_a_directory_as_plan_toml(config: Path) -> None:
    (config / "plan.toml").unlink()
    (config / "plan.toml").mkdir()
    done = _check(config)
    assert done.returncode == 2
    assert "plan.toml" in done.stderr


@pytest.mark.parametrize("depth", [50_000])
def test_deep_nesting_is_an_error(config: Path, depth: int) -> None:
    with (config / "plan.toml").open("a", encoding="utf-8") as handle:
        handle.write("\ndeep = " + "[" * depth + "]" * depth + "\n")
    done = _check(config)
    assert done.returncode == 2, done.stderr
    assert "plan.toml: malformed TOML: nested too deeply" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("dispatch", "retry_max", "99999999999999999999d", "a duration is at most 3650d"),
        ("dispatch", "retry_base", "1000000000d", "a duration is at most 3650d"),
        ("dispatch", "poll_interval", "0s", "must be at least 10ms"),
        ("probes.snmp", "interval", "0s", "must be at least 10ms"),
        ("probes.icmp", "interval", "0ms", "must be at least 10ms"),
    ],
)
def test_out_of_range_values_exit_2(
    config: Path, section: str, key: str, value: str, message: str
) -> None:
    path = config / "commwatch.toml"
    text = path.read_text(encoding="utf-8")
    lines = [
        f'{key} = "{value}"'
        if line.split("=")[0].strip() == key and _in(text, line, section)
        else line
        for line in text.splitlines()
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = _check(config)
    assert done.returncode == 2, done.stderr
    assert f"error: commwatch.toml: {section}.{key}: {message}" in done.stderr
    assert "Traceback" not in done.stderr


def _in(text: str, line: str, section: str) -> bool:
    """True when `line` sits in the [section] table of `text`."""
    current = ""
    for candidate in text.splitlines():
        stripped = candidate.strip()
        if stripped.startswith("[") and not stripped.startswith("[["):
            current = stripped.strip("[]")
        elif stripped.startswith("[["):
            current = ""
        if candidate is line or candidate == line:
            return current == section
    return False
