"""通知情况: who was informed of an incident, how and when — a table for the written reports.

One row per notice and recipient: by which means (短信/邮件 with their
states), when it first went out, when it was delivered, and who said 收到,
how and when; escalation steps are marked. Then one row per call task
(电话通知): the unit, the number, who called and who answered, the outcome.
`informed_rows` is pure; `load_informed` reads the database for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from dispatch.acks import MEANS_NAMES
from dispatch.followup_reads import CallTask, calls_of
from dispatch.notice_data import TITLES
from dispatch.states import STATE_NAMES, NoticeLine, notice_lines
from monitor.config import Config

MEDIUM_NAMES = {"email": "邮件", "sms": "短信"}


def informed_rows(
    lines: Sequence[NoticeLine], calls: Sequence[CallTask], zone: ZoneInfo
) -> list[dict[str, Any]]:
    """The 通知情况 rows (see the module docstring), in the order things happened."""
    groups: dict[tuple[int, str, int, str | None], list[NoticeLine]] = {}
    for line in lines:
        key = (line.notice, line.recipient, line.escalation_step, line.escalated_for)
        groups.setdefault(key, []).append(line)
    rows = [_notice_row(group, zone) for group in groups.values()]
    rows += [_call_row(call, zone) for call in calls]
    return sorted(rows, key=lambda r: r["sort"])


def _notice_row(group: list[NoticeLine], zone: ZoneInfo) -> dict[str, Any]:
    first = group[0]
    means = "、".join(
        f"{MEDIUM_NAMES.get(g.medium, g.medium)}{STATE_NAMES[g.state]}" for g in group
    )
    sent = min((g.sent_at for g in group if g.sent_at), default=None)
    delivered = min((g.delivered_at for g in group if g.delivered_at), default=None)
    acked = next((g for g in group if g.acked_at), None)
    known = "—"
    if acked is not None and acked.acked_at is not None:
        how = MEANS_NAMES.get(acked.ack_means or "", acked.ack_means or "")
        known = f"{_local(acked.acked_at, zone)} {acked.acked_by}（{how}）"
    title = TITLES.get(first.kind, first.kind)
    if (first.escalated_for or "").startswith("call:"):
        title = f"电话通知超时提醒（{title}，第{first.escalation_step}级）"
    elif first.escalation_step:
        title += f"（第{first.escalation_step}级升级）"
    return {
        "sort": (first.created_at, first.id),
        "notice": title,
        "recipient": first.recipient_name,
        "means": means,
        "sent_at": _local(sent, zone) or "未发出",
        "delivered_at": _local(delivered, zone) or "—",
        "acknowledged": known,
    }


def _call_row(call: CallTask, zone: ZoneInfo) -> dict[str, Any]:
    if call.done_at is None:
        known = "—"
        state = f"电话待拨（{_local(call.due, zone)}前）"
    else:
        state = f"电话已拨（{call.done_by}）"
        known = (
            f"{_local(call.done_at, zone)} {call.answered_by or '无人接听'}（电话）：{call.outcome}"
        )
    return {
        "sort": (call.created_at, call.id),
        "notice": TITLES.get(call.kind, call.kind),
        "recipient": call.unit,
        "means": f"{state} {call.phone}",
        "sent_at": _local(call.done_at, zone) or "未拨打",
        "delivered_at": "—",
        "acknowledged": known,
    }


def load_informed(engine: Engine, config: Config, incident_id: int) -> list[dict[str, Any]]:
    """The 通知情况 rows of one incident, from the database."""
    zone = ZoneInfo(config.daemon.dispatch.timezone)
    lines = notice_lines(engine, config.daemon.notifier, incident_id)
    return informed_rows(lines, calls_of(engine, incident_id), zone)


def _local(value: datetime | None, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%m-%d %H:%M:%S") if value else ""
