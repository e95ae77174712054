"""The installed `commwatch` under test, and a neutral place to run it from.

`.ci/run` (or `make acceptance`) builds the wheel, installs it into a fresh venv
without test extras and sets COMMWATCH_INSTALLED to that venv's `commwatch`. Every
test runs only that program, by its absolute path, from a temporary directory,
with PATH and PYTHONPATH not pointing at the checkout: what passes here is what
an operator's `pip install` gets. The tests themselves (and their helpers, such
as the real snmpd) run from the source tree.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.paths import ROOT, SHIPPED_CONFIG
from tests.requirements import missing

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class Installed:
    """The installed program and where it runs."""

    program: Path
    workdir: Path
    env: Mapping[str, str]

    def run(
        self, *argv: str, timeout: float = 120, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """`commwatch ARGV…` from the neutral directory."""
        return subprocess.run(
            [str(self.program), *argv],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=self.workdir,
            env=dict(self.env),
            input=input,
        )

    def popen(self, *argv: str, log: Path) -> subprocess.Popen[bytes]:
        """`commwatch ARGV…` in the background, output to `log`."""
        with log.open("wb") as sink:
            return subprocess.Popen(
                [str(self.program), *argv],
                cwd=self.workdir,
                env=dict(self.env),
                stdout=sink,
                stderr=subprocess.STDOUT,
            )


@pytest.fixture(scope="session")
def program() -> Path:
    """COMMWATCH_INSTALLED: an installed commwatch outside the checkout."""
    value = os.environ.get("COMMWATCH_INSTALLED")
    if not value:
        missing("COMMWATCH_INSTALLED is not set: run `make acceptance` (it installs the wheel)")
    path = Path(value)
    assert path.is_absolute(), f"COMMWATCH_INSTALLED must be absolute: {value}"
    assert path.is_file(), f"COMMWATCH_INSTALLED does not exist: {value}"
    assert not path.resolve().is_relative_to(ROOT), f"{value} is inside the checkout"
    return path


@pytest.fixture
def installed(program: Path, tmp_path: Path) -> Installed:
    """The program, a neutral working directory, a clean environment."""
    workdir = tmp_path / "cwd"
    state = tmp_path / "state"
    workdir.mkdir()
    state.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = SYSTEM_PATH
    env["STATE_DIRECTORY"] = str(state)  # where the shipped config puts its database and outbox
    env.pop("COMMWATCH_CONFIG", None)
    return Installed(program, workdir, env)


def config_copy(
    target: Path, *, metrics_port: int, extra_daemon: str = "", nodes: str = ""
) -> Path:
    """The shipped config, metrics on `metrics_port`, no gateway detection, TOML appended."""
    shutil.copytree(SHIPPED_CONFIG, target)
    daemon = target / "commwatch.toml"
    text = daemon.read_text(encoding="utf-8")
    text = re.sub(r'(?m)^listen = "127.0.0.1:9810"', f'listen = "127.0.0.1:{metrics_port}"', text)
    # never ping the host's own default gateway from a test (traffic stays on loopback)
    text = re.sub(r"(?m)^detect_gateway = true", "detect_gateway = false", text)
    daemon.write_text(text + extra_daemon, encoding="utf-8")
    inventory = target / "nodes.toml"
    inventory.write_text(inventory.read_text(encoding="utf-8") + nodes, encoding="utf-8")
    return target
