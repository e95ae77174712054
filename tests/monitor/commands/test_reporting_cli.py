"""§4.1 on the command line: 催报/核实 and answers, 电话快报, 续报; the clocks in status."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dispatch.duty_clocks import duty_clock_requests
from dispatch.notice_data import build_view
from dispatch.render import Renderer
from monitor.config import load_config
from monitor.storage.engine import open_engine
from tests.monitor.commands.support import notice_kinds, run


def test_query_answer_phone_and_follow_up(
    capsys: pytest.CaptureFixture[str], config_dir: Path, reported: int, tmp_path: Path
) -> None:
    code, out, err = run(
        capsys, config_dir, "query", "add", "1", "--from", "市工信局应急办",
        "--text", "请核实东街信号中断的影响范围", "--by", "值班员",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert "已记录催报/核实#1（事件#1，市工信局应急办），须于" in out
    assert "+08:00前回应" in out
    assert notice_kinds(tmp_path)[-1] == "query"
    _, out, _ = run(capsys, config_dir, "status")
    assert "事件#1 答复催报/核实（市工信局应急办：请核实东街信号中断的影响范围）" in out
    assert "事件#1 书面报告" in out
    assert "答复催报/核实：30分钟内" in out

    # the clock escalates when nobody answers (what the daemon's dispatcher sends)
    config = load_config(config_dir)
    engine = open_engine(config.daemon.storage.url)
    try:
        with engine.connect() as connection:
            later = datetime.now(UTC) + timedelta(minutes=31)
            due = duty_clock_requests(connection, later, config.plan.report)
    finally:
        engine.dispose()
    assert [r.kind for r in due] == ["query_overdue"]
    view = build_view(config, "query_overdue", 1, None, due[0].context, later)
    text = Renderer().email(view).text
    assert "已超过答复时限" in text
    assert "市工信局应急办：请核实东街信号中断的影响范围" in text

    code, out, _ = run(
        capsys, config_dir, "query", "answer", "1", "--text", "影响东街2个基站，已派员抢修",
        "--by", "值班员",
    )  # fmt: skip
    assert code == 0
    assert "催报/核实#1已答复（用时" in out
    assert "按时" in out
    code, _, err = run(capsys, config_dir, "query", "answer", "1", "--text", "x", "--by", "值班员")
    assert code == 2
    assert "§4.1" in err
    _, out, _ = run(capsys, config_dir, "query", "list", "--json")
    row = json.loads(out)
    assert (row["asker"], row["answer"]) == ("市工信局应急办", "影响东街2个基站，已派员抢修")

    code, out, _ = run(
        capsys, config_dir, "phone-report", "add", "1", "--caller", "区工信局值班员",
        "--callee", "区政府办公室", "--text", "东街移动信号中断，正在核实", "--by", "值班员",
    )  # fmt: skip
    assert code == 0
    assert "电话快报：区工信局值班员→区政府办公室" in out
    code, _, err = run(capsys, config_dir, "report", "follow-up", "1", "--by", "值班员")
    assert code == 2
    assert "书面简要报告尚未报送" in err
    assert run(capsys, config_dir, "report", "submit", "1", "--by", "值班员")[0] == 0
    code, out, _ = run(capsys, config_dir, "report", "follow-up", "1", "--by", "值班员")
    assert code == 0
    assert "续报时钟重新计时" in out
    _, out, _ = run(capsys, config_dir, "status")
    assert "事件#1 续报" in out
    assert "答复催报/核实（" not in out  # answered: its clock is closed
    _, out, _ = run(capsys, config_dir, "incident", "show", "1")
    for name in ("上级催报/核实", "答复催报/核实", "电话快报", "报送书面报告", "报送续报"):
        assert name in out


def test_refusals_name_the_clause(
    capsys: pytest.CaptureFixture[str], config_dir: Path, reported: int
) -> None:
    code, _, err = run(
        capsys, config_dir, "query", "add", "1", "--from", " ", "--text", "x", "--by", "值班员"
    )
    assert code == 2
    assert "§4.1" in err
    code, _, err = run(capsys, config_dir, "query", "answer", "9", "--text", "x", "--by", "值班员")
    assert code == 2
    assert "没有催报/核实#9" in err


def test_report_render_pdf(
    capsys: pytest.CaptureFixture[str], config_dir: Path, reported: int, tmp_path: Path
) -> None:
    out = tmp_path / "brief.pdf"
    code, _, err = run(
        capsys, config_dir, "report", "render", "1", "--kind", "brief", "--format", "pdf",
        "-o", str(out),
    )  # fmt: skip
    assert code == 0, err
    assert out.read_bytes().startswith(b"%PDF-")
    code, _, err = run(capsys, config_dir, "report", "render", "1", "--format", "pdf")
    assert code == 2
    assert "needs -o FILE" in err
