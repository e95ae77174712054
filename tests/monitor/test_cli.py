"""The CLI entry: start-up stays light, the top-level help is true, --version answers.

The start-up time itself is measured by bench/startup.sh (not a timed test);
these tests keep the reason it is short: building the parser imports no heavy
library, and only the chosen command's module is imported at all.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from monitor import __version__
from monitor.cli import COMMANDS, build_parser, main

HEAVY = ("sqlalchemy", "pydantic", "alembic", "pysnmp", "jinja2", "httpx", "dispatch", "probes")
PROBE = """
import json, sys
from monitor.cli import main
code = main(sys.argv[2:])
heavy = sorted({name.split(".")[0] for name in sys.modules} & set(sys.argv[1].split(",")))
commands = sorted(name for name in sys.modules if name.startswith("monitor.commands."))
print(json.dumps({"code": code, "heavy": heavy, "commands": commands}))
"""


def imported_by(*argv: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, ",".join(HEAVY), *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["--version"],
        ["status", "--help"],
        ["run", "--help"],
        ["check-config", "--help"],
        ["probe-once", "--help"],
        ["db", "upgrade", "--help"],
    ],
    ids=lambda argv: " ".join(argv),
)
def test_building_the_parser_imports_no_heavy_library(argv: list[str]) -> None:
    result = imported_by(*argv)
    assert result["code"] == 0
    assert result["heavy"] == []


def test_only_the_chosen_command_module_is_imported() -> None:
    assert imported_by("--help")["commands"] == ["monitor.commands.support"]
    chosen = imported_by("status", "--help")["commands"]
    assert "monitor.commands.status" in chosen
    assert "monitor.commands.incident" not in chosen


def _summaries(parser: argparse.ArgumentParser) -> dict[str, str | None]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {choice.dest: choice.help for choice in action._choices_actions}


def test_top_level_summaries_are_the_modules_own() -> None:
    full = _summaries(build_parser(full=True))
    assert full == {name: summary for name, (_module, summary) in COMMANDS.items()}


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"commwatch {__version__}\n"


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bogus"]) == 2
    assert "invalid choice: 'bogus'" in capsys.readouterr().err
