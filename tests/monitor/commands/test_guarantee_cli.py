"""`commwatch guarantee add|list|end` and `event add --source event` (§3.1.2 (4)): periods, never incidents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.monitor.commands.support import notice_kinds, run


def test_add_list_end(capsys: pytest.CaptureFixture[str], config_dir: Path) -> None:
    code, out, err = run(
        capsys, config_dir, "guarantee", "add", "--name", "区两会",
        "--start", "2026-03-01T08:00", "--end", "2099-03-05T18:00", "--by", "值班员",
        "--system", "cmcc",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert "已登记保障期#1：区两会（cmcc）" in out
    assert "不立事件" in out
    code, out, _ = run(capsys, config_dir, "guarantee", "list", "--json")
    [row] = [json.loads(line) for line in out.splitlines() if '"database"' in line]
    assert (row["id"], row["name"], row["systems"], row["active"]) == (1, "区两会", ["cmcc"], True)
    assert row["start"] == "2026-03-01T00:00:00+00:00"  # read in Asia/Shanghai
    assert row["by"] == "指挥部办公室值班员"
    code, out, _ = run(capsys, config_dir, "guarantee", "list")
    assert "区两会  2026-03-01 08:00:00+08:00" in out
    code, out, _ = run(capsys, config_dir, "guarantee", "end", "1", "--by", "值班员")
    assert (code, out.strip()) == (0, "保障期#1（区两会）已结束")
    code, _, err = run(capsys, config_dir, "guarantee", "end", "1", "--by", "值班员")
    assert code == 2
    assert "§3.1.2 (4)" in err
    assert run(capsys, config_dir, "incident", "list", "--all", "--json")[1] == ""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--start", "soon", "--end", "2026-03-05T18:00"], "not an ISO date-time: 'soon'"),
        (["--start", "2026-03-05T18:00", "--end", "2026-03-01T08:00"], "须晚于开始时间"),
        (
            ["--start", "2026-03-01T08:00", "--end", "2026-03-05T18:00", "--system", "x"],
            "没有系统 x",
        ),
    ],
    ids=["not a time", "end before start", "unknown system"],
)
def test_bad_periods_exit_2(
    capsys: pytest.CaptureFixture[str], config_dir: Path, argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, config_dir, "guarantee", "add", "--name", "区两会", *argv)
    assert (code, out) == (2, "")
    assert message in err


def test_a_guarantee_period_is_not_an_event(
    capsys: pytest.CaptureFixture[str], config_dir: Path, tmp_path: Path
) -> None:
    """The audit: `event add --source event "区两会保障期开始"` opened an incident with a clock."""
    code, out, err = run(
        capsys, config_dir, "event", "add", "--source", "event", "--text", "区两会保障期开始"
    )
    assert (code, out) == (2, "")
    assert "guarantee add" in err
    assert "§3.1.2 (4)" in err
    assert notice_kinds(tmp_path) == []
    assert run(capsys, config_dir, "incident", "list", "--all", "--json")[1] == ""
