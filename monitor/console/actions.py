"""The incident actions of the console and its API: each one IncidentEngine call.

`ACTIONS` maps the API path tail (`POST /api/incidents/{id}/<name>`) to the
engine method it calls and the JSON fields it takes. The acting person is
always the signed-in one (never a field). `preview` runs the same pure
lifecycle transitions the engine runs — without writing — so the incident
page can show which actions the plan allows this person now, and the clause
of each refusal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.config import Config
from monitor.incidents import duty_log, lifecycle, tracking
from monitor.incidents.authority import Actor, RefusedError, Roster, roster_of
from monitor.incidents.engine import IncidentEngine
from monitor.incidents.lifecycle import Incident, Step
from monitor.plan.names import LEVELS, SOURCES

ON_BEHALF = frozenset({"by", "person", "actor", "actor_name"})


class BadRequestError(ValueError):
    """A request body the action cannot take (HTTP 400)."""


Run = Callable[[IncidentEngine, int, Actor, Mapping[str, Any]], Incident]
Preview = Callable[[Incident, Actor, Config, datetime, Mapping[str, Any]], Step]


@dataclass(frozen=True)
class ActionSpec:
    """One action: its path tail, its name on the page, its fields, the engine call."""

    name: str
    label: str
    fields: tuple[str, ...]
    run: Run
    preview: Preview


def _listed(config: Config) -> Roster:
    return roster_of(config.people.values())


def _text(body: Mapping[str, Any], key: str, required: bool = False) -> str:
    value = body.get(key, "")
    if not isinstance(value, str):
        raise BadRequestError(f"字段 {key} 须为字符串")
    if required and not value.strip():
        raise BadRequestError(f"缺少字段 {key}")
    return value


def _level(body: Mapping[str, Any]) -> str:
    value = body.get("level")
    if value not in LEVELS:
        raise BadRequestError('字段 level 须为 "I" 或 "II"')
    return str(value)


def _scenario(body: Mapping[str, Any]) -> int | None:
    value = body.get("scenario")
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value not in (1, 2, 3):
        raise BadRequestError("字段 scenario 须为 1、2 或 3")
    return value


def _source(body: Mapping[str, Any]) -> str:
    value = body.get("source")
    if value not in SOURCES[1:]:
        raise BadRequestError(f"字段 source 须为 {'、'.join(SOURCES[1:])} 之一")
    return str(value)


def refuse_behalf(body: Mapping[str, Any]) -> None:
    """RefusedError when a body names who acts: the acting person is the signed-in one."""
    behalf = ON_BEHALF & set(body)
    if behalf:
        fields = "、".join(sorted(behalf))
        raise RefusedError(
            f"拒绝：操作人总是登录者本人，不能代他人操作（字段 {fields}；§4.2 记录每一步由谁操作）"
        )


def parse(spec: ActionSpec, body: Any) -> dict[str, Any]:
    """Check a JSON body against an action's fields; the acting person is never a field."""
    if not isinstance(body, dict):
        raise BadRequestError("请求体须为 JSON 对象")
    refuse_behalf(body)
    unknown = set(body) - set(spec.fields)
    if unknown:
        raise BadRequestError(
            f"未知字段：{'、'.join(sorted(unknown))}（可用：{'、'.join(spec.fields)}）"
        )
    values: dict[str, Any] = {"note": _text(body, "note")}
    if "to" in spec.fields:
        values["to"] = _text(body, "to", required=True)
    if "level" in spec.fields:
        values["level"] = _level(body)
    if "scenario" in spec.fields:
        values["scenario"] = _scenario(body)
    if "hq_decision" in spec.fields:
        values["hq_decision"] = _text(body, "hq_decision")
    if "source" in spec.fields:
        values["source"] = _source(body)
        values["text"] = _text(body, "text", required=True)
    if "field" in spec.fields:
        values["field"] = _text(body, "field", required=True)
        values["text"] = _text(body, "text", required=True)
    return values


ACTIONS: dict[str, ActionSpec] = {
    spec.name: spec
    for spec in (
        ActionSpec(
            "confirm",
            "确认事件",
            ("note",),
            lambda e, i, by, v: e.confirm(i, by, v["note"]),
            lambda inc, by, c, now, v: lifecycle.confirm(inc, by, now, v["note"]),
        ),
        ActionSpec(
            "false-alarm",
            "判定误报",
            ("note",),
            lambda e, i, by, v: e.false_alarm(i, by, v["note"]),
            lambda inc, by, c, now, v: lifecycle.false_alarm(inc, by, now, v["note"]),
        ),
        ActionSpec(
            "transfer",
            "转交主管机构",
            ("to", "note"),
            lambda e, i, by, v: e.transfer(i, by, v["to"], v["note"]),
            lambda inc, by, c, now, v: lifecycle.transfer(inc, by, now, v["to"], v["note"]),
        ),
        ActionSpec(
            "warning/issue",
            "发布或调整预警",
            ("scenario", "note"),
            lambda e, i, by, v: e.issue_warning(i, by, v["scenario"], v["note"]),
            lambda inc, by, c, now, v: lifecycle.issue_warning(
                inc, by, now, v["scenario"], _listed(c), v["note"]
            ),
        ),
        ActionSpec(
            "warning/lift",
            "解除预警",
            ("note", "hq_decision"),
            lambda e, i, by, v: e.lift_warning(i, by, v["note"], v.get("hq_decision", "")),
            lambda inc, by, c, now, v: lifecycle.lift_warning(
                inc, by, now, _listed(c), v["note"], v.get("hq_decision", "")
            ),
        ),
        ActionSpec(
            "response/start",
            "启动或调整应急响应",
            ("level", "note"),
            lambda e, i, by, v: e.start_response(i, by, v["level"], v["note"]),
            lambda inc, by, c, now, v: lifecycle.start_response(
                inc, by, now, v["level"], v["note"], _listed(c)
            ),
        ),
        ActionSpec(
            "response/end",
            "结束应急响应",
            ("note",),
            lambda e, i, by, v: e.end_response(i, by, v["note"]),
            lambda inc, by, c, now, v: lifecycle.end_response(inc, by, now, _listed(c), v["note"]),
        ),
        ActionSpec(
            "information",
            "记录电话报告或上级询问",
            ("source", "text"),
            lambda e, i, by, v: e.add_event(v["source"], v["text"], by, i),
            lambda inc, by, c, now, v: tracking.add_information(inc, by, v["source"], v["text"]),
        ),
        ActionSpec(
            "note",
            "记录备注",
            ("note",),
            lambda e, i, by, v: e.annotate(i, by, v["note"]),
            lambda inc, by, c, now, v: lifecycle.annotate(inc, by, v["note"]),
        ),
        ActionSpec(
            "report/submit",
            "书面报告已报送",
            ("note",),
            lambda e, i, by, v: e.submit_report(i, by, v["note"]),
            lambda inc, by, c, now, v: lifecycle.submit_report(
                inc, by, now, c.plan.report.deadline, v["note"]
            ),
        ),
        ActionSpec(
            "report/follow-up",
            "书面续报已报送",
            ("note",),
            lambda e, i, by, v: e.submit_follow_up(i, by, v["note"]),
            lambda inc, by, c, now, v: duty_log.follow_up_step(inc, by, now, v["note"]),
        ),
        ActionSpec(
            "report/edit",
            "填写调查评估报告",
            ("field", "text"),
            lambda e, i, by, v: e.edit_report(i, by, v["field"], v["text"]),
            lambda inc, by, c, now, v: duty_log.edit_report_step(
                inc, by, now, v["field"], v["text"]
            ),
        ),
        ActionSpec(
            "restored",
            "记录通信网络恢复",
            ("note",),
            lambda e, i, by, v: e.record_restored(i, by, v["note"]),
            lambda inc, by, c, now, v: lifecycle.record_restored(inc, by, now, v["note"]),
        ),
        ActionSpec(
            "close",
            "关闭事件",
            ("note", "hq_decision"),
            lambda e, i, by, v: e.close(i, by, v["note"], v.get("hq_decision", "")),
            lambda inc, by, c, now, v: lifecycle.close(
                inc, by, now, v["note"], v.get("hq_decision", "")
            ),
        ),
    )
}


@dataclass(frozen=True)
class Choice:
    """A button on the incident page: an action with preset values, allowed or refused."""

    action: str
    label: str
    values: Mapping[str, Any]
    inputs: tuple[str, ...]  # fields the person fills in on the page
    refusal: str | None  # None: the plan allows it now


def _choices_wanted(incident: Incident) -> list[tuple[str, str, dict[str, Any], tuple[str, ...]]]:
    scenario = incident.warning_scenario if incident.warning_active else incident.scenario
    issue = "调整预警" if incident.warning_active else "发布预警"
    return [
        ("confirm", "确认事件", {}, ("note",)),
        ("false-alarm", "判定误报", {}, ("note",)),
        ("transfer", "转交主管机构", {"to": "（主管机构）"}, ("to", "note")),
        ("warning/issue", issue, {"scenario": scenario}, ("scenario", "note")),
        ("warning/lift", "解除预警", {}, ("note",)),
        ("response/start", "启动Ⅰ级响应", {"level": "I"}, ("note",)),
        ("response/start", "启动Ⅱ级响应", {"level": "II"}, ("note",)),
        ("response/end", "结束应急响应", {}, ("note",)),
        ("report/submit", "书面报告已报送", {}, ("note",)),
        (
            "information",
            "记录电话报告或上级询问",
            {"source": "upper", "text": "-"},
            ("source", "text"),
        ),
        ("note", "记录备注", {"note": "-"}, ("note",)),
        ("restored", "记录通信网络恢复", {"note": "-"}, ("note",)),
        ("close", "关闭事件", {}, ("note",)),
    ]


def preview(incident: Incident, actor: Actor, config: Config, now: datetime) -> list[Choice]:
    """Every action of the page, each with the plan's refusal for this person now (or None)."""
    result = []
    for name, label, preset, inputs in _choices_wanted(incident):
        values = {"note": "", **preset}
        try:
            ACTIONS[name].preview(incident, actor, config, now, values)
            refusal = None
        except RefusedError as exc:
            refusal = str(exc.args[0]) if exc.args else str(exc)
        shown = {k: v for k, v in preset.items() if k not in ("to", "text", "note")}
        result.append(Choice(name, label, shown, inputs, refusal))
    return result
