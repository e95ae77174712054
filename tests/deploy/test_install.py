"""deploy/install.sh into a staging root (DESTDIR): layout, idempotence, the installed unit.

Never runs the real install. Building the package needs its build backend
(setuptools, wheel) from the package index, or from wherever pip is configured
to look ($PIP_INDEX_URL, $PIP_FIND_LINKS).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.requirements import missing, require_binary

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "install.sh"
BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)
OFFLINE_HINTS = ("No matching distribution", "Could not find a version", "Failed to establish")


def run_install(destdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """install.sh --destdir DESTDIR; skip (fail in CI) when pip cannot fetch build tools."""
    done = subprocess.run(
        [
            "sh",
            str(SCRIPT),
            "--destdir",
            str(destdir),
            "--python",
            BASE_PYTHON,
            "--pip-args",
            "--no-deps",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0 and any(hint in done.stderr for hint in OFFLINE_HINTS):
        missing("install.sh needs setuptools and wheel from the package index (offline?)")
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _build_leftovers() -> set[Path]:
    return {ROOT / "build", *ROOT.glob("*.egg-info")} & {p for p in ROOT.iterdir()}


_BEFORE_INSTALL: set[Path] = set()


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    destdir = tmp_path_factory.mktemp("root")
    _BEFORE_INSTALL.update(
        _build_leftovers()
    )  # e.g. the egg-info of a developer's `pip install -e`
    run_install(destdir)
    return destdir


@pytest.mark.parametrize(
    ("path", "expected_mode"),
    [
        ("etc/commwatch", 0o750),
        ("etc/commwatch/credentials", 0o700),
        ("etc/commwatch/commwatch.toml", 0o640),
        ("etc/commwatch/nodes.toml", 0o640),
        ("etc/commwatch/contacts.toml", 0o640),
        ("etc/commwatch/plan.toml", 0o640),
        ("var/lib/commwatch", 0o750),
        ("usr/local/lib/systemd/system/commwatch.service", 0o644),
        ("usr/local/lib/sysusers.d/commwatch.conf", 0o644),
        ("usr/local/lib/tmpfiles.d/commwatch.conf", 0o644),
        ("opt/commwatch/venv/bin/commwatch", 0o755),
        ("opt/commwatch/share/commwatch/config/nodes.toml", 0o644),
        ("opt/commwatch/share/doc/commwatch/README.md", 0o644),
        ("opt/commwatch/share/doc/commwatch/schema/nodes.schema.json", 0o644),
        ("opt/commwatch/share/commwatch/prometheus/commwatch-rules.yml", 0o644),
        ("opt/commwatch/share/commwatch/grafana/commwatch.json", 0o644),
    ],
    ids=lambda v: v if isinstance(v, str) else oct(v),
)
def test_layout(staged: Path, path: str, expected_mode: int) -> None:
    assert mode(staged / path) == expected_mode


def test_nothing_outside_the_layout(staged: Path) -> None:
    top = sorted(p.name for p in staged.iterdir())
    assert top == ["etc", "opt", "usr", "var"]
    assert sorted(p.name for p in (staged / "etc").iterdir()) == ["commwatch"]


def test_config_is_the_shipped_config(staged: Path) -> None:
    for name in ("commwatch.toml", "nodes.toml", "contacts.toml", "plan.toml"):
        shipped = (ROOT / "config" / name).read_bytes()
        assert (staged / "etc/commwatch" / name).read_bytes() == shipped


def test_unit_points_at_the_installed_venv(staged: Path) -> None:
    unit = (staged / "usr/local/lib/systemd/system/commwatch.service").read_text(encoding="utf-8")
    assert "ExecStart=/opt/commwatch/venv/bin/commwatch run -c /etc/commwatch\n" in unit
    assert unit == (ROOT / "deploy/systemd/commwatch.service").read_text(encoding="utf-8")


def test_venv_names_its_final_path(staged: Path) -> None:
    venv = staged / "opt/commwatch/venv"
    script = (venv / "bin/commwatch").read_text(encoding="utf-8")
    assert script.startswith("#!/opt/commwatch/venv/bin/python\n")
    for path in (venv / "bin").iterdir():
        if path.is_file() and not path.is_symlink():
            assert str(staged) not in path.read_text(encoding="utf-8", errors="replace"), path
    done = subprocess.run(
        [
            str(venv / "bin/python"),
            "-c",
            "import importlib.metadata as m, monitor; print(m.version('commwatch'), monitor.__file__)",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=staged,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    version, module = done.stdout.split()
    assert version
    assert module.startswith(str(venv / "lib"))
    compiled = next((venv / "lib").glob("python3*/site-packages/monitor/__pycache__/cli.*.pyc"))
    assert str(staged).encode() not in compiled.read_bytes()


def test_source_tree_left_clean(staged: Path) -> None:
    """install.sh builds out of tree: it adds no build/ or *.egg-info to the source tree."""
    assert _build_leftovers() <= _BEFORE_INSTALL


def test_installed_unit_verifies(staged: Path, tmp_path: Path) -> None:
    """The installed unit, with its ExecStart resolved inside the staging root."""
    analyze = require_binary("systemd-analyze")
    unit = (staged / "usr/local/lib/systemd/system/commwatch.service").read_text(encoding="utf-8")
    rendered = tmp_path / "commwatch.service"
    rendered.write_text(
        unit.replace("ExecStart=/opt/", f"ExecStart={staged}/opt/"), encoding="utf-8"
    )
    done = subprocess.run(
        [analyze, "verify", str(rendered)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr


def test_rerun_keeps_operator_config_and_prefix_moves_paths(tmp_path: Path) -> None:
    destdir = tmp_path / "root"
    run_install(destdir, "--prefix", "/srv/commwatch")
    nodes = destdir / "etc/commwatch/nodes.toml"
    nodes.write_text("# the operator's inventory\n", encoding="utf-8")
    (destdir / "etc/commwatch/commwatch.toml").unlink()
    again = run_install(destdir, "--prefix", "/srv/commwatch")
    assert nodes.read_text(encoding="utf-8") == "# the operator's inventory\n"
    assert "kept /etc/commwatch/nodes.toml" in again.stdout
    assert "installed /etc/commwatch/commwatch.toml" in again.stdout  # a missing file comes back
    unit = (destdir / "usr/local/lib/systemd/system/commwatch.service").read_text(encoding="utf-8")
    assert "ExecStart=/srv/commwatch/venv/bin/commwatch run -c /etc/commwatch\n" in unit
    assert "/opt/commwatch" not in unit
    script = (destdir / "srv/commwatch/venv/bin/commwatch").read_text(encoding="utf-8")
    assert script.startswith("#!/srv/commwatch/venv/bin/python\n")


@pytest.mark.parametrize(
    ("args", "code", "text"),
    [
        (["--help"], 0, "usage:"),
        (["--bogus"], 2, "unknown argument: --bogus"),
        (["--prefix", "relative/dir", "--destdir", "/nonexistent-never-created"], 2, "absolute"),
    ],
    ids=["help", "unknown", "relative-prefix"],
)
def test_arguments(args: list[str], code: int, text: str) -> None:
    done = subprocess.run(
        ["sh", str(SCRIPT), *args], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == code
    assert text in done.stdout + done.stderr
    assert not Path("/nonexistent-never-created").exists()


def test_posix_sh_syntax() -> None:
    shells = [path for name in ("sh", "dash", "bash") if (path := shutil.which(name))]
    assert shells
    for shell in shells:
        done = subprocess.run(
            [shell, "-n", str(SCRIPT)], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, f"{shell}: {done.stderr}"
