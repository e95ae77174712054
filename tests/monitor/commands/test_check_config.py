"""`commwatch check-config` on the shipped config: a short summary by default, the lists with -v."""

from __future__ import annotations

import pytest

from monitor.cli import main
from monitor.commands.check_config import summarise
from tests.paths import SHIPPED_CONFIG


def test_the_shipped_config_summarises_long_lists(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", "-c", str(SHIPPED_CONFIG)]) == 0
    out, err = capsys.readouterr()
    assert f"{SHIPPED_CONFIG}: OK — 9 systems, 18 nodes, 32 units" in out
    summary = next(line for line in err.splitlines() if "SMS-capable" in line)
    assert summary.startswith("warning: contacts.toml: 28 units have no SMS-capable number")
    assert summary.endswith("— `check-config --verbose` lists them")
    assert "区委办公室" not in err
    assert max(len(line) for line in err.splitlines()) < 200


def test_verbose_lists_every_unit(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", "-c", str(SHIPPED_CONFIG), "--verbose"]) == 0
    err = capsys.readouterr().err
    listed = next(line for line in err.splitlines() if "SMS-capable" in line)
    assert len(listed.rpartition(": ")[2].split("、")) == 28


@pytest.mark.parametrize(
    ("warning", "shown"),
    [
        ("f: 3 units lack x: a、b、c", "f: 3 units lack x: a、b、c"),
        (
            "f: 4 units lack x: a、b、c、d",
            "f: 4 units lack x — `check-config --verbose` lists them",
        ),
        (
            "f: no email [[notifier]]: written to the file",
            "f: no email [[notifier]]: written to the file",
        ),
    ],
    ids=["short-list", "long-list", "no-list"],
)
def test_summarise(warning: str, shown: str) -> None:
    assert summarise(warning) == shown
