"""The written reports: the five §4.1 sections drafted from an incident, the §5 durations (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dispatch.render import Renderer
from dispatch.reports import brief_view, durations, final_view
from dispatch.status import DeliveryStatus, NoticeStatus
from monitor.config import Config, load_config
from monitor.incidents.lifecycle import Incident
from monitor.incidents.store import EventRecord
from monitor.incidents.tables import assessment_to_json
from tests.dispatch.support import ONE_OPERATOR, SHIPPED

T0 = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(SHIPPED)


def incident(**changes: object) -> Incident:
    values: dict[str, object] = {
        "id": 5,
        "status": "confirmed",
        "source": "monitor",
        "title": "移动城区分公司网络全部业务中断（§3.3 情形3）",
        "opened_at": T0,
        "detected_at": T0,
        "updated_at": T0,
        "scenario": 3,
        "level": "II",
        "assessment": assessment_to_json(ONE_OPERATOR),
    }
    values.update(changes)
    return Incident(**values)  # type: ignore[arg-type]


def event(
    minutes: int, kind: str, actor: str | None = None, name: str | None = None, note: str = ""
) -> EventRecord:
    return EventRecord(1, 5, T0 + minutes * MIN, kind, actor, name, note, {})


EVENTS = [
    event(0, "detected", "commwatch", "commwatch（系统自动）"),
    event(4, "confirmed", "duty-officer", "指挥部办公室值班员"),
    event(6, "note", "duty-officer", "指挥部办公室值班员", "移动反馈：光缆被施工挖断"),
    event(9, "warning_issued", "deputy-miit", "区工信局局长"),
]


def test_brief_sections_exact(config: Config) -> None:
    view = brief_view(config, incident(), EVENTS, T0 + 10 * MIN)
    assert [(s["title"], s["text"]) for s in view["brief"]] == [
        ("灾害性质", "通信网络事故：移动城区分公司网络业务中断。经监测研判，事态达到预警情形3，建议Ⅱ级应急响应。事件状态：已确认。"),
        ("中断原因", "监测研判：移动城区分公司网络全部业务中断。监测到1个节点中断（移动城区核心路由器1）。现场信息：移动反馈：光缆被施工挖断。中断的具体原因待相关运营企业和责任单位核实后续报。"),
        ("影响范围", "基础运营网络：移动城区分公司网络；重要信息系统：无；涉及镇（街道）：东街街道办事处；受影响节点1个。暂无扩散迹象。"),
        ("拟采取的措施", "（1）建议区通信网络指挥部发布情形3预警；（2）建议启动Ⅱ级应急响应；（3）通知移动城区分公司落实应急准备，组织抢修恢复并及时报告进展；（4）研究确定应急准备措施和工作方案，部署资源调度和部门联动；（5）根据事态发展适时调整预警级别或解除预警，随时续报。"),
        ("社会影响", "影响东街街道办事处范围内的通信服务。其他社会影响（群众生产生活、舆情）待核实后续报。"),
    ]  # fmt: skip
    text = Renderer().document("brief", "txt", view)
    assert text.startswith(
        "关于移动城区分公司网络全部业务中断的书面简要报告\n\n区通信网络指挥部：\n"
    )
    assert "本报告为系统于2026-11-28 14:10:00根据监测数据和值班记录起草的草稿" in text


def test_issued_warning_and_response_are_measures_taken(config: Config) -> None:
    later = incident(
        warning_issued_at=T0 + 9 * MIN, warning_scenario=3, warning_issuer="deputy-miit",
        warning_issuer_name="区工信局局长", response_started_at=T0 + 12 * MIN, response_level="II",
        response_starter="deputy-miit", response_starter_name="区工信局局长",
    )  # fmt: skip
    measures = brief_view(config, later, EVENTS, T0 + 15 * MIN)["brief"][3]["text"]
    assert measures.startswith(
        "（1）已发布情形3预警（区工信局局长签发）；（2）已启动Ⅱ级应急响应（区工信局局长启动）；"
    )


def test_durations(config: Config) -> None:
    done = incident(
        status="closed", warning_issued_at=T0 + 9 * MIN, warning_lifted_at=T0 + 95 * MIN,
        restored_at=T0 + 90 * MIN + 30 * timedelta(seconds=1), report_submitted_at=T0 + 25 * MIN,
        closed_at=T0 + 100 * MIN,
    )  # fmt: skip
    assert durations(done, EVENTS, 30 * MIN) == [
        {"what": "发现→确认", "value": "4分0秒"},
        {"what": "发现→发布预警", "value": "9分0秒"},
        {"what": "发现→启动响应", "value": "—（尚未发生）"},
        {"what": "通信中断时长（发现→恢复）", "value": "1小时30分30秒"},
        {"what": "发现→报送书面报告", "value": "25分0秒"},
        {"what": "预警持续", "value": "1小时26分0秒"},
        {"what": "发现→关闭", "value": "1小时40分0秒"},
        {"what": "书面报告时限（30分钟）", "value": "按时"},
    ]


@pytest.mark.parametrize("fmt", ["txt", "md", "html"])
def test_final_report_renders(config: Config, fmt: str) -> None:
    notices = [
        NoticeStatus(1, "detection", "routed", T0, T0, 6, 1),
        NoticeStatus(2, "follow_up", "routed", T0 + 5 * MIN, T0 + 5 * MIN, 9, 3),
    ]
    deliveries = [
        DeliveryStatus(
            "detection", "区工信局", "email", "gxj@example.org", "sent", 1, T0, T0, "mail", None
        ),
        DeliveryStatus(
            "detection", "区工信局", "sms", "13800000010", "failed", 8, T0, None, "sms", "HTTP 403"
        ),
    ]
    view = final_view(config, incident(), EVENTS, notices, deliveries, T0 + 30 * MIN)
    text = Renderer().document("final", fmt, view)
    for needle in (
        "事件时间线",
        "区工信局局长（deputy-miit）",
        "关键时长",
        "通知与投递",
        "HTTP 403",
        "调查评估",
    ):
        assert needle in text, needle
    if fmt == "txt":
        assert "  2026-11-28 14:04:00  确认  指挥部办公室值班员（duty-officer）\n" in text
        assert "  续报  已发送  投递9条（合并3次变化）\n" in text
