"""The duty CLI through monitor.cli.main: exit codes 0/2/1, messages, and what reaches the DB."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.monitor.commands.support import notice_kinds, run


def test_a_whole_incident_from_the_command_line(
    capsys: pytest.CaptureFixture[str], config_dir: Path, reported: int, tmp_path: Path
) -> None:
    steps: list[tuple[list[str], str]] = [
        (["incident", "confirm", "1", "--by", "值班员", "--note", "已电话核实"], "已确认"),
        (["warning", "issue", "1", "--scenario", "3", "--by", "总指挥"], "情形3预警已由"),
        (["response", "start", "1", "--level", "Ⅱ", "--by", "deputy-govoffice"], "Ⅱ级应急响应"),
        (["response", "end", "1", "--by", "deputy-govoffice"], "应急响应已结束"),
        (["incident", "restored", "1", "--by", "值班员", "--note", "移动回告已恢复"], "恢复"),
        (["warning", "lift", "1", "--by", "commander"], "预警已解除"),
        (["incident", "close", "1", "--by", "duty-officer"], "已关闭"),
    ]
    for argv, expected in steps:
        code, out, err = run(capsys, config_dir, *argv)
        assert (code, err) == (0, ""), argv
        assert expected in out
    groups = ["group_tasks"] * 7  # §2.4: each working group its own tasks
    assert notice_kinds(tmp_path) == [
        "detection",
        "warning",
        "response_start",
        *groups,
        "public_statement",  # §4.5: a draft for 新闻宣传组
        "response_end",
        "follow_up",
        "lift",
        "public_statement",
        "closed",
    ]
    code, out, _ = run(capsys, config_dir, "incident", "show", "1")
    assert code == 0
    for line in (
        "时间线",
        "接报",
        "已电话核实",
        "发布预警",
        "启动响应",
        "结束响应",
        "解除预警",
        "通知请求",
        "通知投递",
    ):
        assert line in out
    code, out, _ = run(capsys, config_dir, "incident", "show", "1", "--json")
    data = json.loads(out)
    assert data["incident"]["status"] == "closed"
    assert data["incident"]["warning_issuer"] == "commander"
    assert [e["kind"] for e in data["events"]][:2] == ["reported", "confirmed"]
    assert len(data["notice_requests"]) == 16


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["warning", "issue", "1", "--scenario", "3", "--by", "duty-officer"], "§3.4"),
        (
            ["response", "start", "1", "--level", "I", "--by", "deputy-govoffice"],
            "§4.3.1 (2) Ⅰ级由总指挥启动",
        ),
        (["response", "start", "1", "--level", "I", "--by", "副总指挥"], "副总指挥不止一人"),
        (["response", "end", "1", "--by", "commander"], "尚未启动应急响应"),
        (["warning", "lift", "1", "--by", "commander"], "尚未发布预警"),
        (["incident", "confirm", "1", "--by", "nobody"], "没有“nobody”"),
        (["incident", "confirm", "9", "--by", "duty-officer"], "没有事件#9"),
        (["incident", "show", "9"], "没有事件#9"),
    ],
    ids=[
        "duty officer issues",
        "deputy starts I",
        "ambiguous role",
        "end before start",
        "lift before issue",
        "unknown person",
        "unknown incident",
        "show unknown",
    ],
)
def test_refusals_exit_2_with_the_rule(
    capsys: pytest.CaptureFixture[str],
    config_dir: Path,
    reported: int,
    argv: list[str],
    message: str,
) -> None:
    code, out, err = run(capsys, config_dir, *argv)
    assert code == 2
    assert message in err
    assert out == ""


def test_lift_by_another_person_and_close_too_early(
    capsys: pytest.CaptureFixture[str], config_dir: Path, reported: int
) -> None:
    assert (
        run(capsys, config_dir, "warning", "issue", "1", "--scenario", "2", "--by", "deputy-miit")[
            0
        ]
        == 0
    )
    code, _, err = run(capsys, config_dir, "warning", "lift", "1", "--by", "deputy-govoffice")
    assert code == 2
    assert "§3.6 谁发布谁解除" in err
    assert "区工信局局长" in err
    code, _, err = run(capsys, config_dir, "incident", "false-alarm", "1", "--by", "duty-officer")
    assert code == 2
    assert "§3.6" in err
    code, _, err = run(capsys, config_dir, "incident", "close", "1", "--by", "duty-officer")
    assert code == 2
    assert "§3.6" in err


def test_transfer_and_list(
    capsys: pytest.CaptureFixture[str], config_dir: Path, reported: int
) -> None:
    code, out, _ = run(
        capsys,
        config_dir,
        "incident",
        "transfer",
        "1",
        "--to",
        "区公安分局",
        "--by",
        "duty-officer",
    )
    assert code == 0
    assert "区公安分局" in out
    assert run(capsys, config_dir, "incident", "list", "--json")[1] == ""
    code, out, _ = run(capsys, config_dir, "incident", "list", "--all", "--json")
    row = json.loads(out.splitlines()[0])
    assert (row["status"], row["transferred_to"], row["open"]) == (
        "transferred",
        "区公安分局",
        False,
    )
    code, out, _ = run(
        capsys, config_dir, "event", "add", "--source", "upper", "--text", "x", "--incident", "1"
    )
    assert code == 2


def test_bad_input_and_unreadable_database(
    capsys: pytest.CaptureFixture[str], config_dir: Path, tmp_path: Path
) -> None:
    assert (
        run(capsys, config_dir, "response", "start", "1", "--level", "III", "--by", "commander")[0]
        == 2
    )
    assert run(capsys, config_dir, "event", "add", "--source", "monitor", "--text", "x")[0] == 2
    blocker = tmp_path / "file"
    blocker.write_text("")
    daemon = config_dir / "commwatch.toml"
    text = re.sub(r'(?m)^url = ".*"$', f'url = "sqlite:///{blocker}/db.sqlite"', daemon.read_text())
    daemon.write_text(text)
    code, _, err = run(capsys, config_dir, "incident", "list")
    assert code == 1
    assert "error:" in err
