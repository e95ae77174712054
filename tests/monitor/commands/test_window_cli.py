"""`commwatch window add|list|end`: maintenance windows entered on duty, the same rules as the console."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.monitor.commands.support import run


def test_add_list_end(capsys: pytest.CaptureFixture[str], config_dir: Path) -> None:
    code, out, err = run(
        capsys, config_dir, "window", "add", "--name", "核心割接",
        "--start", "2026-03-01T08:00", "--end", "2099-03-01T12:00", "--by", "值班员",
        "--system", "cmcc",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert "已登记维护窗口#1：核心割接（cmcc）" in out
    code, out, _ = run(capsys, config_dir, "window", "list", "--json")
    [row] = [json.loads(line) for line in out.splitlines() if '"database"' in line]
    assert (row["id"], row["scope"], row["active"]) == (1, ["cmcc"], True)
    assert row["start"] == "2026-03-01T00:00:00+00:00"  # read in Asia/Shanghai
    assert row["by"] == "指挥部办公室值班员"
    code, out, _ = run(capsys, config_dir, "window", "list")
    assert "核心割接  2026-03-01 08:00:00+08:00" in out
    code, out, _ = run(capsys, config_dir, "window", "end", "1", "--by", "值班员")
    assert (code, out.strip()) == (0, "维护窗口#1（核心割接）已结束")
    code, _, err = run(capsys, config_dir, "window", "end", "1", "--by", "值班员")
    assert code == 2
    assert "已结束" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--start", "soon", "--end", "2026-03-05T18:00", "--node", "x"], "not an ISO date-time"),
        (
            ["--start", "2026-03-05T18:00", "--end", "2026-03-01T08:00", "--system", "cmcc"],
            "须晚于",
        ),
        (["--start", "2026-03-01T08:00", "--end", "2026-03-05T18:00"], "至少指定"),
        (["--start", "2026-03-01T08:00", "--end", "2026-03-05T18:00", "--node", "x"], "没有节点 x"),
    ],
    ids=["not a time", "end before start", "no scope", "unknown node"],
)
def test_bad_windows_exit_2(
    capsys: pytest.CaptureFixture[str], config_dir: Path, argv: list[str], message: str
) -> None:
    code, out, err = run(
        capsys, config_dir, "window", "add", "--name", "割接", "--by", "值班员", *argv
    )
    assert (code, out) == (2, "")
    assert message in err
