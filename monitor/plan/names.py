"""The plan's vocabulary, defined once: scenarios, levels, statuses, sources, events, durations.

Every Chinese name that the scorer, the incident lifecycle, the notices, the
reports and the CLI print for a plan concept comes from here, so the same
thing is never called two things.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

Level = Literal["I", "II"]
LEVELS: tuple[Level, ...] = ("I", "II")
LEVEL_NAMES: dict[str, str] = {"I": "Ⅰ级", "II": "Ⅱ级"}
LEVEL_CODES: dict[str, int] = {"I": 1, "II": 2}  # metric values: 0 none, 1 Ⅰ级, 2 Ⅱ级


@dataclass(frozen=True, slots=True)
class Scenario:
    """A 预警情形 of §3.3 (1 is the gravest) and the 响应级别 §4.3 proposes for it."""

    number: int

    @property
    def label(self) -> str:
        """情形N."""
        return f"情形{self.number}"

    @property
    def clause(self) -> str:
        """Where the plan defines it."""
        return f"§3.3 {self.label}"

    @property
    def rank(self) -> int:
        """Severity rank: lower is graver (情形1 < 情形2 < 情形3 < no scenario)."""
        return self.number

    @property
    def proposed_level(self) -> Level:
        """Ⅰ级 for 情形1 and 情形2 (§4.3.1), Ⅱ级 for 情形3 (§4.3.2)."""
        return "I" if self.number <= 2 else "II"


SCENARIOS: dict[int, Scenario] = {n: Scenario(n) for n in (1, 2, 3)}
NO_SCENARIO_RANK = 4  # affected, but no scenario reached: ranks below 情形3
NO_SCENARIO_NAME = "未达预警情形"


def scenario_of(number: int | None) -> Scenario | None:
    """The Scenario for a stored number (1–3), or None."""
    return SCENARIOS.get(number) if number is not None else None


def scenario_rank(number: int | None) -> int:
    """Severity rank of a scenario number; None ranks below 情形3."""
    scenario = scenario_of(number)
    return scenario.rank if scenario is not None else NO_SCENARIO_RANK


def scenario_label(number: int | None, none: str = "") -> str:
    """情形N, or `none` when no scenario is reached."""
    scenario = scenario_of(number)
    return scenario.label if scenario is not None else none


def level_name(level: str | None, none: str = "") -> str:
    """Ⅰ级/Ⅱ级, or `none`."""
    return LEVEL_NAMES.get(level, level) if level else none


# Incident statuses (§4.2): open ones first.
OPEN_STATUSES = ("detected", "confirmed")
STATUS_NAMES: dict[str, str] = {
    "detected": "待确认",
    "confirmed": "已确认",
    "false_alarm": "误报",
    "transferred": "已转交",
    "closed": "已关闭",
}


# How the duty console's board names the state of a system, a street or a node.
CONDITION_NAMES: dict[str, str] = {
    "normal": "正常",
    "partial": "部分业务受影响",
    "down": "中断",
    "unreachable": "不可达",
    "maintenance": "维护",
    "guarantee": "保障期",
    "unknown": "未知",
    "flapping": "频繁变化",
}
NODE_CONDITIONS: dict[str, str] = {  # monitor.nodes.state.Status value → condition
    "UP": "normal",
    "DEGRADED": "partial",
    "DOWN": "down",
    "UNREACHABLE": "unreachable",
    "MAINTENANCE": "maintenance",
    "UNKNOWN": "unknown",
    "FLAPPING": "flapping",
}


def condition_name(condition: str) -> str:
    """The board's Chinese name of a condition ("down" → 中断)."""
    return CONDITION_NAMES.get(condition, condition)


def status_name(status: str | None) -> str:
    """The Chinese name of an incident status."""
    return STATUS_NAMES.get(status or "", status or "")


# The four information sources of §3.1.2, in the plan's order.
SOURCES = ("monitor", "upper", "public", "event")
SOURCE_NAMES: dict[str, str] = {
    "monitor": "监测系统发现",
    "upper": "上级机构或其他职能部门通报",
    "public": "社会和信息安全责任单位报告",
    "event": "重要集会或重大活动保障要求",
}
SOURCE_CLAUSES: dict[str, str] = {
    source: f"§3.1.2 ({n})" for n, source in enumerate(SOURCES, start=1)
}


def source_name(source: str, cited: bool = False) -> str:
    """The plan's name of an information source, with its clause when `cited`."""
    name = SOURCE_NAMES.get(source, source)
    return f"{name}（{SOURCE_CLAUSES[source]}）" if cited and source in SOURCE_CLAUSES else name


# How timeline events are named in `incident show`, notices and reports (§4.2, §5).
EVENT_NAMES: dict[str, str] = {
    "detected": "监测发现",
    "reported": "接报",
    "information": "补充信息",
    "confirmed": "确认",
    "false_alarm": "误报",
    "transferred": "转交",
    "upgraded": "升级",
    "downgraded": "降级",
    "assessment_changed": "态势变化",
    "returned": "再次受影响",
    "restored": "已恢复",
    "warning_issued": "发布预警",
    "warning_adjusted": "调整预警",
    "warning_lifted": "解除预警",
    "response_started": "启动响应",
    "response_changed": "调整响应",
    "response_ended": "结束响应",
    "closed": "关闭",
    "note": "备注",
    "report_submitted": "报送书面报告",
    "follow_up_submitted": "报送续报",
    "phone_report": "电话快报",
    "query_recorded": "上级催报/核实",
    "query_answered": "答复催报/核实",
    "report_edited": "填写调查评估",
    "acknowledged": "收到确认",
    "escalated": "升级通知",
    "called": "电话通知",
}


def event_name(kind: str) -> str:
    """The Chinese name of a timeline event kind."""
    return EVENT_NAMES.get(kind, kind)


def duration_name(span: timedelta) -> str:
    """A plan-style duration: "30分钟", "2小时", "1小时30分钟", "45秒"."""
    seconds = int(span.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}小时" if hours else "", f"{minutes}分钟" if minutes else ""]
    if secs or not any(parts):
        parts.append(f"{secs}秒")
    return "".join(parts)
