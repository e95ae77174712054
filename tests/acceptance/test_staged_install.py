"""deploy/install.sh --destdir, then the staged program itself is run (not only listed).

The staged venv's scripts name their final paths (/opt/commwatch/venv/bin/python),
so the staged console script is started with the staged venv's interpreter; the
dependencies are whatever install.sh installed (no test extras, no checkout on
sys.path).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.acceptance.conftest import SYSTEM_PATH
from tests.paths import ROOT

pytestmark = pytest.mark.peer
BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    destdir = tmp_path_factory.mktemp("root")
    done = subprocess.run(
        [
            "sh",
            str(ROOT / "deploy" / "install.sh"),
            "--destdir",
            str(destdir),
            "--python",
            BASE_PYTHON,
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "db upgrade -c /etc/commwatch" in done.stdout  # the next steps name the upgrade
    return destdir


def run_staged(destdir: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    venv = destdir / "opt/commwatch/venv/bin"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = SYSTEM_PATH
    env["STATE_DIRECTORY"] = str(destdir / "var/lib/commwatch")
    return subprocess.run(
        [str(venv / "python"), str(venv / "commwatch"), *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=destdir,
        env=env,
    )


def test_the_staged_program_checks_its_config(staged: Path) -> None:
    config = staged / "etc/commwatch"
    done = run_staged(staged, "check-config", "-c", str(config))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{config}: OK" in done.stdout


def test_the_staged_program_makes_its_database(staged: Path) -> None:
    config = str(staged / "etc/commwatch")
    done = run_staged(staged, "db", "upgrade", "-c", config)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (staged / "var/lib/commwatch/commwatch.db").is_file()
    assert run_staged(staged, "db", "current", "-c", config).stdout.endswith("(head)\n")


def test_the_staged_program_is_the_staged_one(staged: Path) -> None:
    done = run_staged(staged, "--version")
    assert done.returncode == 0
    venv = staged / "opt/commwatch/venv"
    module = subprocess.run(
        [str(venv / "bin/python"), "-c", "import monitor; print(monitor.__file__)"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=staged,
        env={"PATH": SYSTEM_PATH},
    ).stdout.strip()
    assert module.startswith(str(venv / "lib"))
