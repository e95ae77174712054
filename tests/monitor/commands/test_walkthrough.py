"""One incident from 接报 to the §5 report, command by command, as docs/guide/duty.*.md describes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.incidents.engine import IncidentEngine
from monitor.incidents.tables import utcnow
from monitor.plan.assessment import Assessment
from monitor.storage.engine import open_engine
from tests.dispatch.support import ONE_OPERATOR
from tests.monitor.commands.support import notice_kinds, run


def monitor_sees(config_dir: Path, assessment: Assessment) -> None:
    """What the daemon does after a scorer run (the monitor's side of the walk)."""
    config = load_config(config_dir)
    engine = open_engine(config.daemon.storage.url)
    try:
        IncidentEngine(engine, config).apply_assessment(assessment, utcnow())
    finally:
        engine.dispose()


def test_from_detection_to_the_final_report(
    capsys: pytest.CaptureFixture[str], config_dir: Path, tmp_path: Path
) -> None:
    cw = lambda *argv: run(capsys, config_dir, *argv)  # noqa: E731 — the guide's alias

    # 1. detection and 接报 (§3.1.2 (1)): the monitor opens the incident
    monitor_sees(config_dir, ONE_OPERATOR)
    _, out, _ = cw("incident", "list", "--json")
    row = json.loads(out)
    assert (row["id"], row["status"], row["scenario"], row["restored"]) == (1, "detected", 3, False)
    assert notice_kinds(tmp_path)[:2] == ["detection", "first_action"]  # §4.4 先期处置
    # a phone fast report before the written one (§4.1)
    ok(cw("phone-report", "add", "1", "--caller", "区工信局值班员", "--callee", "区政府办公室",
          "--text", "东街移动信号中断，正在核实", "--by", "duty-officer"), "电话快报")  # fmt: skip
    # 2. confirm (§4.2): the note holds the cause
    ok(cw("incident", "confirm", "1", "--by", "duty-officer", "--note", "移动回告：东街光缆被施工挖断"), "已确认")  # fmt: skip
    # 3. issue (§3.4) and 4. adjust (§3.5 (4))
    ok(cw("warning", "issue", "1", "--by", "deputy-miit"), "情形3预警已由")
    ok(cw("warning", "issue", "1", "--scenario", "2", "--by", "commander"), "调整为情形2")
    # 5. response (§4.3): Ⅰ级 refused to a deputy, Ⅱ级 by a deputy
    refused(cw("response", "start", "1", "--level", "I", "--by", "deputy-miit"), "§4.3.1 (2)")
    ok(cw("response", "start", "1", "--level", "II", "--by", "deputy-miit"), "Ⅱ级应急响应已由")
    assert notice_kinds(tmp_path).count("group_tasks") == 7
    # 6. the clocks of §4.1
    _, out, _ = cw("status")
    assert "事件#1 书面报告" in out
    ok(cw("query", "add", "1", "--from", "市工信局应急办", "--text", "请核实影响范围", "--by", "duty-officer"), "须于")  # fmt: skip
    ok(cw("query", "answer", "1", "--text", "影响东街2个基站", "--by", "duty-officer"), "按时")
    _, brief, _ = cw("report", "render", "1", "--kind", "brief")
    assert brief.startswith(
        "关于移动城区分公司网络全部业务中断的书面简要报告\n\n区通信网络指挥部：\n"
    )
    assert "移动回告：东街光缆被施工挖断" in brief
    ok(cw("report", "submit", "1", "--by", "duty-officer"), "按时")
    ok(cw("report", "follow-up", "1", "--by", "duty-officer", "--note", "第1次续报"), "续报")
    # 7. end (§4.6 谁启动谁结束)
    refused(cw("response", "end", "1", "--by", "commander"), "§4.6 谁启动谁结束")
    ok(cw("response", "end", "1", "--by", "deputy-miit"), "应急响应已结束")
    # 8. lift (§3.6): the issuer of the warning in force, after recovery
    refused(cw("warning", "lift", "1", "--by", "deputy-miit"), "§3.6 谁发布谁解除")
    refused(cw("warning", "lift", "1", "--by", "commander"), "§3.6 处置结束且通信网络恢复")
    monitor_sees(config_dir, Assessment())  # the networks are back
    ok(cw("warning", "lift", "1", "--by", "commander", "--note", "移动网络已恢复"), "预警已解除")
    # 9. close and the §5 report
    ok(cw("incident", "close", "1", "--by", "duty-officer", "--note", "处置完毕"), "已关闭")
    ok(cw("report", "edit", "1", "--field", "cause", "--text", "施工单位未经报备挖断东街光缆",
          "--by", "deputy-miit"), "事件发生原因")  # fmt: skip
    _, final, _ = cw("report", "render", "1", "--kind", "final")
    assert final.startswith("关于移动城区分公司网络全部业务中断的调查评估报告\n")
    assert "（一）事件发生原因。施工单位未经报备挖断东街光缆。（调查组区工信局局长填写）" in final
    assert "（四）拟采取的措施。事件已关闭，处置工作已结束" in final  # no "建议发布预警" left
    assert "实际处置：预警由情形3调整为情形2（区政府分管通信工作副区长）" in final
    assert "建议：建议发布情形3预警、启动Ⅱ级应急响应（指挥部办公室）" in final
    assert "抄送：区委办公室，区政府办公室。" in final
    _, out, _ = cw("status")
    assert "无进行中的时限" in out
    _, out, _ = cw("incident", "show", "1", "--json")
    events = json.loads(out)["events"]
    assert {e["data"].get("plan") for e in events} == {"城政办发〔2024〕22号"}  # §7.2


def ok(result: tuple[int, str, str], expected: str) -> None:
    code, out, err = result
    assert (code, err) == (0, ""), err
    assert expected in out, out


def refused(result: tuple[int, str, str], clause: str) -> None:
    code, out, err = result
    assert (code, out) == (2, "")
    assert clause in err, err
