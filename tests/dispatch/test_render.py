"""Rendering notices: exact Chinese texts, SMS fitting one UCS-2 segment, overrides, sandbox."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from dispatch.notice_data import build_view
from dispatch.render import Renderer, sms_parts, some, template_dirs, ucs2_length
from monitor.config import Config, load_config
from monitor.incidents.notices import NoticeKind
from tests.dispatch.support import ONE_OPERATOR, SHIPPED, T0, TWO_OPERATORS, request


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(SHIPPED)


def view(
    config: Config, kind: NoticeKind | str, assessment: Any = ONE_OPERATOR, **context: Any
) -> dict[str, Any]:
    at = datetime.fromisoformat(context.pop("at")) if "at" in context else T0
    r = request(NoticeKind.DETECTION, "k", assessment, 12, at=at, **context)
    return build_view(config, str(kind), 12, assessment, r.context, T0)


DEADLINE = {"deadline_at": "2026-11-28T06:30:00+00:00"}


@pytest.mark.parametrize(
    ("kind", "assessment", "context", "text"),
    [
        (NoticeKind.DETECTION, ONE_OPERATOR, {}, "【接报】事件#12：14:00监测发现移动城区分公司网络中断，涉东街街道办事处。请核实确认。回电0356-2039294"),
        (NoticeKind.DETECTION, TWO_OPERATORS, {}, "【接报】事件#12：14:00监测发现移动城区分公司网络等2个系统中断，涉东街街道办事处等2个镇街。请核实确认。回电0356-2039294"),
        (NoticeKind.WARNING_PROPOSAL, TWO_OPERATORS, {}, "【预警建议】事件#12：移动城区分公司网络、联通城区分公司网络中断，有扩散可能，达情形2。建议发布预警。回电0356-2039294"),
        (NoticeKind.WARNING, ONE_OPERATOR, {"warning_scenario": 3, "issuer_name": "区工信局局长"}, "【预警通知】事件#12：区工信局局长发布情形3预警：移动城区分公司网络中断。请做好应急准备。回电0356-2039294"),
        (NoticeKind.UPGRADE, TWO_OPERATORS, {"data": {"from": 3}}, "【事态升级】事件#12：情形3→情形2：移动城区分公司网络、联通城区分公司网络中断。回电0356-2039294"),
        (NoticeKind.UPGRADE, TWO_OPERATORS, {"data": {"from": 3}, "warning_scenario": 3}, "【预警升级】事件#12：情形3→情形2：移动城区分公司网络、联通城区分公司网络中断。回电0356-2039294"),
        (NoticeKind.RESPONSE_PROPOSAL, ONE_OPERATOR, {}, "【响应建议】事件#12：建议启动Ⅱ级应急响应：移动城区分公司网络中断。请指挥部决定。回电0356-2039294"),
        (NoticeKind.RESPONSE_START, ONE_OPERATOR, {"response_level": "II", "starter_name": "区工信局局长"}, "【启动应急响应】事件#12：区工信局局长启动Ⅱ级应急响应。请成员单位赶赴现场开展抢险。回电0356-2039294"),
        (NoticeKind.BRIEF_REPORT, ONE_OPERATOR, DEADLINE, "【书面简要报告（草稿）】事件#12：书面简要报告草稿已生成（见邮件），请14:30前报送。回电0356-2039294"),
        (NoticeKind.REPORT_REMINDER, ONE_OPERATOR, {**DEADLINE, "at": "2026-11-28T06:20:00+00:00"}, "【报告时限提醒】事件#12：书面报告须于14:30前报送，剩10分钟。回电0356-2039294"),
        (NoticeKind.REPORT_OVERDUE, ONE_OPERATOR, DEADLINE, "【报告超时】事件#12：书面报告已超时（时限14:30），请立即报送。回电0356-2039294"),
        (NoticeKind.FOLLOW_UP, ONE_OPERATOR, {"restored": True}, "【续报】事件#12：移动城区分公司网络已恢复。回电0356-2039294"),
        (NoticeKind.LIFT_PROPOSAL, ONE_OPERATOR, {"restored": True, "issuer_name": "区工信局局长"}, "【解除建议】事件#12：移动城区分公司网络已恢复，建议发布人区工信局局长解除预警。回电0356-2039294"),
        (NoticeKind.LIFT, ONE_OPERATOR, {"warning_scenario": 3, "actor_name": "区工信局局长"}, "【预警解除】事件#12：区工信局局长解除情形3预警。回电0356-2039294"),
        (NoticeKind.CLOSED, ONE_OPERATOR, {"status": "false_alarm"}, "【事件关闭】事件#12：经核实属误报，已记录并关闭。回电0356-2039294"),
        (NoticeKind.DETECTION, None, {"title": "上级通报：某基站光缆被挖断"}, "【接报】事件#12：14:00接报：上级通报：某基站光缆被挖断。请核实确认。回电0356-2039294"),
    ],
    ids=[
        "detection", "detection-shortened", "warning-proposal", "warning", "upgrade",
        "upgrade-of-warning", "response-proposal", "response-start", "brief-report",
        "reminder", "overdue", "follow-up-restored", "lift-proposal", "lift", "closed",
        "detection-reported",
    ],
)  # fmt: skip
def test_sms_exact(
    config: Config, kind: NoticeKind, assessment: Any, context: dict, text: str
) -> None:
    rendered = Renderer().sms(view(config, kind, assessment, **context))
    assert rendered == text
    assert ucs2_length(rendered) <= 70  # one segment


def test_sms_that_cannot_fit_goes_in_parts(config: Config) -> None:
    long_title = "〇" * 60
    rendered = Renderer().sms(
        view(config, NoticeKind.WARNING, None, warning_scenario=1, issuer_name=long_title)
    )
    assert sms_parts(rendered) == 2


@pytest.mark.parametrize(
    ("text", "length", "parts"),
    [("预" * 70, 70, 1), ("预" * 69 + "𠀀", 71, 2), ("预" * 134, 134, 2), ("预" * 135, 135, 3)],
    ids=["70", "non-bmp-counts-two", "134", "135"],
)
def test_ucs2_segments(text: str, length: int, parts: int) -> None:
    assert (ucs2_length(text), sms_parts(text)) == (length, parts)


def test_some() -> None:
    assert some(["甲", "乙"], 3) == "甲、乙"
    assert some(["甲", "乙", "丙", "丁"], 2, "个系统") == "甲、乙等4个系统"


@pytest.mark.parametrize(
    ("kind", "context", "subject"),
    [
        (NoticeKind.DETECTION, {}, "【接报】事件#12：情形3，移动城区分公司网络中断"),
        (NoticeKind.WARNING, {"warning_scenario": 3}, "【预警通知】事件#12：情形3预警发布，移动城区分公司网络中断"),
        (NoticeKind.RESPONSE_PROPOSAL, {}, "【响应建议】事件#12：建议启动Ⅱ级应急响应，移动城区分公司网络中断"),
        (NoticeKind.RESPONSE_END, {"response_level": "II"}, "【应急结束】事件#12：Ⅱ级应急响应结束，移动城区分公司网络中断"),
        (NoticeKind.BRIEF_REPORT, DEADLINE, "【书面简要报告（草稿）】事件#12：书面报告时限2026-11-28 14:30:00"),
        (NoticeKind.LIFT, {"warning_scenario": 3, "restored": True}, "【预警解除】事件#12：情形3预警解除，移动城区分公司网络已恢复"),
    ],
    ids=["detection", "warning", "response-proposal", "response-end", "brief", "lift"],
)  # fmt: skip
def test_subject_exact(config: Config, kind: NoticeKind, context: dict, subject: str) -> None:
    assert Renderer().email(view(config, kind, **context)).subject == subject


def test_warning_email_lists_the_plan_actions(config: Config) -> None:
    text = (
        Renderer()
        .email(view(config, NoticeKind.WARNING, warning_scenario=3, issuer_name="甲"))
        .text
    )
    assert "  （一）通知相关基础电信运营企业落实通信网络事故应急救援有关准备工作；\n" in text
    assert "  （四）根据事态发展情况，适时调整预警级别或解除预警。\n" in text


def test_brief_report_email_has_the_five_sections(config: Config) -> None:
    text = Renderer().email(view(config, NoticeKind.BRIEF_REPORT, **DEADLINE)).text
    for number, title in zip(
        "一二三四五", ("灾害性质", "中断原因", "影响范围", "拟采取的措施", "社会影响"), strict=True
    ):
        assert f"  {number}、{title}：" in text


def test_html_has_node_table_and_escapes(config: Config) -> None:
    nodes = dict(config.nodes)
    node = nodes["cmcc-core-1"].model_copy(update={"name": "<b>核心</b>"})
    nodes["cmcc-core-1"] = node
    hostile = dataclasses.replace(config)
    hostile.__dict__["nodes"] = nodes  # the cached lookup, as if the inventory said so
    html = Renderer().email(view(hostile, NoticeKind.DETECTION)).html
    assert html is not None
    assert (
        "<tr><td>&lt;b&gt;核心&lt;/b&gt;</td><td>cmcc-core-1</td><td>127.0.1.1</td><td>移动城区分公司网络</td><td>中断</td><td></td></tr>"
        in html
    )
    assert "<b>核心</b>" not in html


def _override(config: Config, tmp_path: Path, name: str, body: str) -> Config:
    (tmp_path / "templates").mkdir(exist_ok=True)
    (tmp_path / "templates" / name).write_text(body, encoding="utf-8")
    return dataclasses.replace(config, directory=tmp_path)


def test_override_from_config_directory(config: Config, tmp_path: Path) -> None:
    custom = _override(
        config, tmp_path, "warning.sms.j2", "【{{ hq }}】{{ warning_scenario_name }}预警"
    )
    assert template_dirs(custom)[0] == tmp_path / "templates"
    renderer = Renderer.for_config(custom)
    assert (
        renderer.sms(view(custom, NoticeKind.WARNING, warning_scenario=2))
        == "【区通信网络指挥部】情形2预警"
    )
    assert renderer.sms(view(custom, NoticeKind.DETECTION)).startswith(
        "【接报】"
    )  # others: shipped


@pytest.mark.parametrize(
    "body",
    ["{{ hq.__class__.__mro__ }}", "{{ undefined_name }}", "{% if %}"],
    ids=["sandbox", "strict-undefined", "syntax"],
)
def test_broken_override_falls_back(config: Config, tmp_path: Path, body: str) -> None:
    custom = _override(config, tmp_path, "notice.sms.j2", body)
    message = Renderer.for_config(custom).message(view(custom, NoticeKind.DETECTION), "sms")
    assert message.text == "【接报】事件#12：移动城区分公司网络。回电0356-2039294"


def test_a_warning_adjusted_by_hand_says_what_was_done(config: Config) -> None:
    """§3.5 (4): the HQ adjusted the warning; the notice states it, never asks whether to."""
    adjusted = {
        "data": {"from": 3, "to": 2, "by_person": True, "warning_adjusted": True},
        "warning_scenario": 2,
        "actor_name": "区工信局局长",
    }
    notice = view(config, NoticeKind.UPGRADE, ONE_OPERATOR, **adjusted)
    sms = Renderer().sms(notice)
    assert sms.startswith("【预警升级】事件#12：区工信局局长将预警由情形3调整为情形2。")
    email = Renderer().email(notice)
    assert "预警由情形3调整为情形2" in email.subject
    for text in (sms, email.subject, email.text):
        assert "情形3→情形3" not in text
        assert "是否调整" not in text
    assert "区工信局局长于2026-11-28 14:00:00将预警由情形3调整为情形2" in email.text


def test_every_channel_marks_a_drill(config: Config) -> None:
    """§6.1: SMS and voice, email, print/fax and group robots all say 【演练】."""
    drill = view(config, NoticeKind.WARNING, warning_scenario=3, issuer_name="甲", drill=True)
    renderer = Renderer()
    assert renderer.sms(drill).startswith("【演练】")
    assert renderer.email(drill).subject.startswith("【演练】")
    assert renderer.email(drill).text.startswith("【演练】")
    assert "【演练】本通知为演练" in (renderer.printable(drill).html or "")
    robot = renderer.markdown(drill)
    assert robot.subject.startswith("【演练】")
    assert "【演练】本通知为演练" in robot.text
    real = view(config, NoticeKind.WARNING, warning_scenario=3, issuer_name="甲")
    assert "演练" not in renderer.sms(real) + renderer.email(real).text
