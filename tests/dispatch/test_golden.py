"""Golden files: every notice kind, the brief report and the final report, in 公文 form.

The files in tests/dispatch/golden/ were reviewed against GB/T 9704—2012: 标题
without clause numbers or closing punctuation, 主送机关, 正文 without clause
numbers, 发文机关署名 (区通信网络指挥部 or its 办公室, never a person), 成文日期
without padding, 联系人 and telephone, 附注 with the plan and the clauses, and
版记 (抄送, 印发) on reports. Regenerate after a deliberate change with
`UPDATE_GOLDEN=1 pytest tests/dispatch/test_golden.py` and review the diff.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dispatch.notice_data import build_view
from dispatch.render import Renderer
from dispatch.reports import brief_view, final_view
from dispatch.status import NoticeStatus
from monitor.config import Config, load_config
from monitor.incidents.lifecycle import Incident
from monitor.incidents.notices import NoticeKind
from monitor.incidents.store import EventRecord
from monitor.incidents.tables import assessment_to_json
from monitor.plan.assessment import Assessment
from tests.dispatch.support import ONE_OPERATOR, SHIPPED, T0, TWO_OPERATORS, request

GOLDEN = Path(__file__).parent / "golden"
MIN = timedelta(minutes=1)
DEADLINE = (T0 + 30 * MIN).isoformat()
PLAN = {"plan": "城政办发〔2024〕22号", "plan_version": "2024"}

FLAP = (
    "移动东街汇聚交换机（cmcc-agg-dongjie，移动城区分公司网络）状态频繁变化：近20轮加权变化率"
    "40%，达到20%以上；所属系统按变化前的状态（UP）研判，其间不再逐次通知，稳定后再报"
)
STEADY = "移动东街汇聚交换机（cmcc-agg-dongjie，移动城区分公司网络）恢复稳定：加权变化率8%，低于10%；按实际状态（UP）研判"
PARTIAL_LINE = (
    "基础运营网络移动城区分公司网络：2/4个节点中断或不可达，未达到“全部业务”（全部节点或关键节点"
    "中断），部分业务受影响，不单独构成预警情形"
)
# Each kind with the context the engine (or a clock) gives it.
CONTEXTS: dict[str, dict[str, Any]] = {
    "detection": {},
    "warning_proposal": {},
    "warning": {"warning_scenario": 3, "issuer_name": "区工信局局长", "actor_name": "区工信局局长",
                "data": {"office": "副总指挥", **PLAN}},
    "upgrade": {"warning_scenario": 2, "actor_name": "区政府分管通信工作副区长",
                "data": {"from": 3, "to": 2, "by_person": True, "office": "总指挥", **PLAN}},
    "downgrade": {"warning_scenario": 3, "data": {"from": 2, "to": 3}},
    "response_proposal": {},
    "response_start": {"response_level": "II", "starter_name": "区工信局局长",
                       "actor_name": "区工信局局长", "data": {"office": "副总指挥"}},
    "response_end": {"response_level": "II", "actor_name": "区工信局局长",
                     "data": {"office": "副总指挥"}},
    "brief_report": {"deadline_at": DEADLINE},
    "follow_up": {"restored": True},
    "report_reminder": {"deadline_at": DEADLINE, "at": (T0 + 20 * MIN).isoformat()},
    "report_overdue": {"deadline_at": DEADLINE},
    "follow_up_reminder": {"deadline_at": (T0 + 80 * MIN).isoformat(),
                           "at": (T0 + 70 * MIN).isoformat()},
    "follow_up_overdue": {"deadline_at": (T0 + 80 * MIN).isoformat()},
    "query": {"note": "请核实东街信号中断的影响范围", "deadline_at": DEADLINE,
              "data": {"asker": "市工信局应急办"}},
    "query_reminder": {"deadline_at": DEADLINE, "at": (T0 + 20 * MIN).isoformat(),
                       "data": {"subject": "市工信局应急办：请核实影响范围"}},
    "query_overdue": {"deadline_at": DEADLINE,
                      "data": {"subject": "市工信局应急办：请核实影响范围"}},
    "group_tasks": {"response_level": "II", "target": "现场抢修组"},
    "first_action": {},
    "public_statement": {"response_level": "II", "target": "新闻宣传组"},
    "lift_proposal": {"restored": True, "issuer_name": "区工信局局长", "warning_scenario": 3},
    "lift": {"warning_scenario": 3, "actor_name": "区工信局局长", "restored": True,
             "data": {"office": "副总指挥"}},
    "closed": {"status": "closed"},
    "monitor_blind": {"note": "监测系统自身上联（默认网关192.0.2.1）无响应：0/1个应答",
                      "title": "监测系统自身上联中断"},
    "monitor_sighted": {"note": "监测系统自身上联（默认网关192.0.2.1）无响应：0/1个应答",
                        "title": "监测系统恢复观察"},
    "flapping_start": {"note": FLAP, "title": "移动东街汇聚交换机状态频繁变化"},
    "flapping_end": {"note": STEADY, "title": "移动东街汇聚交换机恢复稳定"},
    "partial": {"note": PARTIAL_LINE, "title": "移动城区分公司网络部分业务受影响（知悉）"},
    "fallthrough": {"missed": [
        {"recipient": "移动城区分公司", "notice": "warning", "from": "email", "to": ["sms"],
         "why": "overdue"},
        {"recipient": "区工信局局长（兼指挥部办公室主任）", "notice": "warning",
         "from": "email", "to": ["sms"], "why": "overdue"},
        {"recipient": "区应急局", "notice": "detection", "from": "sms", "to": ["email"],
         "why": "failed"},
    ], "coalesced": 2},
    "test": {},
}  # fmt: skip
NO_ASSESSMENT = {
    "test", "monitor_blind", "monitor_sighted", "flapping_start", "flapping_end", "fallthrough"
}  # fmt: skip


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(SHIPPED)


def check(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


def test_every_notice_kind_has_a_golden_context() -> None:
    assert set(CONTEXTS) == {str(k) for k in NoticeKind} | {"test"}


@pytest.mark.parametrize("kind", sorted(CONTEXTS))
def test_notice_golden(config: Config, kind: str) -> None:
    context = dict(CONTEXTS[kind])
    at = datetime.fromisoformat(context.pop("at")) if "at" in context else T0
    assessment = TWO_OPERATORS if kind in ("warning_proposal", "upgrade") else ONE_OPERATOR
    if kind in NO_ASSESSMENT:
        assessment = None
    if kind == "partial":
        assessment = Assessment(partial_systems=("cmcc",), reasons=(PARTIAL_LINE,))
    r = request(NoticeKind.DETECTION, "k", assessment, 12, at=at, **context)
    view = build_view(config, kind, 12, assessment, r.context, T0)
    email = Renderer().email(view)
    sms = Renderer().sms(view)
    check(f"notice-{kind}.txt", f"主题：{email.subject}\n短信：{sms}\n\n{email.text}")
    assert_gongwen(email.text, view["doc_title"])
    assert email.html is not None
    assert view["doc_title"] in email.html


def assert_gongwen(text: str, title: str) -> None:
    """The rules a reviewer checks, so that a regenerated file cannot drift from them."""
    assert "§" not in title
    assert not re.search(r"[。；，：！？;,.!?]$", title)
    body, _, ending = text.partition("（联系人：")
    assert "§" not in body, "clause numbers belong in the 附注"
    assert re.search(
        r"\n(区通信网络指挥部|区通信网络指挥部办公室)\n\d{4}年[1-9]\d?月[1-9]\d?日\n", body
    )
    assert (
        "（附注：依据《晋城市城区通信网络事故应急预案》（城政办发〔2024〕22号，2024年版）" in ending
    )
    assert "本通知由 commwatch" not in text


def incident(**changes: object) -> Incident:
    base = Incident(
        id=5, status="closed", source="monitor", title="移动城区分公司网络全部业务中断（§3.3 情形3）",
        opened_at=T0, detected_at=T0, updated_at=T0, scenario=3, level="II",
        assessment=assessment_to_json(ONE_OPERATOR), report_submitted_at=T0 + 25 * MIN,
        restored_at=T0 + 90 * MIN, warning_scenario=3, warning_issuer="deputy-miit",
        warning_issuer_name="区工信局局长", warning_issued_at=T0 + 9 * MIN,
        warning_lifted_at=T0 + 95 * MIN, response_level="II", response_starter="deputy-miit",
        response_starter_name="区工信局局长", response_started_at=T0 + 12 * MIN,
        response_ended_at=T0 + 92 * MIN, closed_at=T0 + 100 * MIN,
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def event(at: int, kind: str, who: str | None, note: str = "", **data: Any) -> EventRecord:
    names = {"commwatch": "commwatch（系统自动）", "duty-officer": "指挥部办公室值班员",
             "deputy-miit": "区工信局局长"}  # fmt: skip
    return EventRecord(1, 5, T0 + at * MIN, kind, who, names.get(who or ""), note, data)


EVENTS = [
    event(0, "detected", "commwatch", "移动城区分公司网络全部业务中断（§3.3 情形3）",
          assessment={"scenario": 3, "level": "II"}),
    event(4, "confirmed", "duty-officer", "移动反馈：东街光缆被施工挖断"),
    event(9, "warning_issued", "deputy-miit", scenario=3),
    event(12, "response_started", "deputy-miit", level="II"),
    event(25, "report_submitted", "duty-officer", minutes=25.0, on_time=True),
    event(90, "restored", "commwatch", "监测显示受影响的网络和系统已恢复", warning_active=True),
    event(92, "response_ended", "deputy-miit", level="II"),
    event(95, "warning_lifted", "deputy-miit", scenario=3),
    event(100, "closed", "duty-officer"),
]  # fmt: skip


def test_brief_report_golden(config: Config) -> None:
    draft = incident(
        status="confirmed", closed_at=None, restored_at=None, warning_lifted_at=None,
        response_ended_at=None, report_submitted_at=None,
    )  # fmt: skip
    view = brief_view(config, draft, EVENTS[:4], T0 + 20 * MIN)
    text = Renderer().document("brief", "txt", view)
    check("brief.txt", text)
    assert [s["title"] for s in view["brief"]] == [
        "灾害性质",
        "中断原因",
        "影响范围",
        "拟采取的措施",
        "社会影响",
    ]
    assert text.startswith(
        "关于移动城区分公司网络全部业务中断的书面简要报告\n\n区通信网络指挥部：\n"
    )
    assert "抄送：区委办公室，区政府办公室。" in text
    assert "区通信网络指挥部办公室　　2026年11月28日印发" in text
    assert (
        "（1）已发布情形3预警（区工信局局长签发）；（2）已启动Ⅱ级应急响应（区工信局局长启动）"
        in text
    )


def test_final_report_golden(config: Config) -> None:
    done = incident(
        report_fields={"cause": {"text": "施工单位未经报备挖断东街光缆", "by_name": "区工信局局长"}}
    )
    notices = [NoticeStatus(1, "detection", "routed", T0, T0, 6, 1)]
    view = final_view(config, done, EVENTS, notices, [], T0 + 120 * MIN)
    text = Renderer().document("final", "txt", view)
    check("final.txt", text)
    assert (
        "建议发布情形3预警" not in text.split("三、建议与实际处置")[0]
    )  # closed: no proposals left
    assert "（一）事件发生原因。施工单位未经报备挖断东街光缆。（调查组区工信局局长填写）" in text
    assert "（二）灾害性质。" in text
    assert "建议：建议发布情形3预警、启动Ⅱ级应急响应" in text  # what was proposed …
    assert "实际处置：发布情形3预警（区工信局局长）" in text  # … beside what was done
    assert "移动反馈：东街光缆被施工挖断" in text  # the confirmation note is the cause's source


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_guide_shows_the_golden_documents(language: str) -> None:
    """docs/guide/documents.*.md shows one of each, word for word (the guide stays true)."""
    guide = (GOLDEN.parents[2] / "docs" / "guide" / f"documents.{language}.md").read_text(
        encoding="utf-8"
    )
    for name in ("notice-warning.txt", "brief.txt", "final.txt"):
        golden = (GOLDEN / name).read_text(encoding="utf-8").rstrip("\n")
        assert f"```text\n{golden}\n```" in guide, name
