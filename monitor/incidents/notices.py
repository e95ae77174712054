"""The notice request interface: what the incident lifecycle asks to announce.

`NoticeRequest` names one thing to announce about one incident; a `NoticeSink`
takes it without blocking (the incident engine writes it durably in the same
transaction as the event). Dispatch reads the requests, routes and delivers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from monitor.plan.assessment import Assessment


class NoticeKind(StrEnum):
    """The plan's notices (§3.1.3, §3.4–3.6, §4.1, §4.3, §4.6)."""

    DETECTION = "detection"  # 接报: a detection reported to the HQ office
    WARNING_PROPOSAL = "warning_proposal"  # 预警建议: proposed to the HQ for issue
    WARNING = "warning"  # 预警通知: issued warning
    UPGRADE = "upgrade"  # 预警升级
    DOWNGRADE = "downgrade"  # 预警降级
    RESPONSE_PROPOSAL = "response_proposal"  # 响应级别建议 to 总指挥/副总指挥
    RESPONSE_START = "response_start"  # 启动应急响应
    RESPONSE_END = "response_end"  # 应急结束
    BRIEF_REPORT = "brief_report"  # 书面简要报告 (draft)
    FOLLOW_UP = "follow_up"  # 续报
    REPORT_REMINDER = "report_reminder"  # 报告时限提醒
    REPORT_OVERDUE = "report_overdue"  # 报告超时
    FOLLOW_UP_REMINDER = "follow_up_reminder"  # 续报时限提醒 (§4.1 随时续报)
    FOLLOW_UP_OVERDUE = "follow_up_overdue"  # 续报超时
    QUERY = "query"  # 上级催报/要求核实 recorded: answer within the deadline (§4.1)
    QUERY_REMINDER = "query_reminder"  # 答复时限提醒
    QUERY_OVERDUE = "query_overdue"  # 答复超时
    GROUP_TASKS = "group_tasks"  # 工作组任务: each §2.4 working group, its own duties (§4.3)
    FIRST_ACTION = "first_action"  # 先期处置: what the operator concerned does first (§4.4)
    PUBLIC_STATEMENT = "public_statement"  # 信息发布稿 for 新闻宣传组 to approve (§4.5)
    LIFT_PROPOSAL = "lift_proposal"  # 建议解除预警 (networks restored)
    LIFT = "lift"  # 预警解除
    CLOSED = "closed"  # 事件关闭 (false alarm, transfer, close)
    MONITOR_BLIND = "monitor_blind"  # 监测系统自身失明 (its uplink failed): HQ office duty only
    MONITOR_SIGHTED = "monitor_sighted"  # 监测系统恢复观察: HQ office duty only
    FLAPPING_START = "flapping_start"  # 节点频繁变化 (one per episode)
    FLAPPING_END = "flapping_end"  # 节点恢复稳定
    PARTIAL = "partial"  # 部分业务受影响: information to the system's own unit
    FALLTHROUGH = "fallthrough"  # 通知改发: a recipient not reached in time, tried by its next
    # channel (dispatch tells the HQ office duty; never itself falls through)


@dataclass(frozen=True)
class NoticeRequest:
    """One thing to announce about one incident; recipients are chosen by the router."""

    kind: NoticeKind
    incident_id: int | None
    dedupe_key: str
    assessment: Assessment | None = None
    context: Mapping[str, Any] = field(default_factory=dict)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


class NoticeSink(Protocol):
    """Where the incident lifecycle sends its notices; `submit` never blocks on delivery."""

    def submit(self, request: NoticeRequest) -> None: ...
