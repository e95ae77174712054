"""`commwatch incident list|show|confirm|false-alarm|transfer|close|note` (§4.2).

`show` prints the timeline (every event with time, actor, note), the notice
requests written for the incident, and the notice deliveries from the outbox.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from datetime import tzinfo
from typing import Any

from dispatch.status import deliveries_for
from monitor.commands.duty import (
    add_actor_options,
    add_hq_decision_option,
    add_incident_argument,
    level_text,
    pad,
    person,
    plan_zone,
    response_text,
    run_action,
    run_reader,
    scenario_text,
    status_text,
    warning_text,
    when,
)
from monitor.commands.support import EXIT_OK, add_config_option
from monitor.config import Config
from monitor.incidents.authority import SYSTEM_ID
from monitor.incidents.engine import IncidentEngine
from monitor.incidents.lifecycle import Incident
from monitor.incidents.listing import incident_json, to_json
from monitor.incidents.store import EventRecord
from monitor.plan.names import duration_name, event_name, source_name


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `incident` and its actions."""
    parser = subparsers.add_parser("incident", help="incidents: list, show, confirm, close …")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="open incidents (--all: closed ones too)")
    add_config_option(listing)
    listing.add_argument("--all", action="store_true", help="include closed incidents")
    listing.add_argument("--json", action="store_true", help="one JSON object per incident")
    listing.set_defaults(handler=_list)

    show = actions.add_parser("show", help="one incident with its timeline and notices")
    add_config_option(show)
    add_incident_argument(show)
    show.add_argument("--json", action="store_true", help="one JSON object")
    show.set_defaults(handler=_show)

    for name, help_text, handler in (
        ("confirm", "确认: a real communication-network incident (§4.2 ①)", _confirm),
        ("false-alarm", "误报: record and close (§4.2 ②)", _false_alarm),
        ("transfer", "unrelated: record and transfer to a body (§4.2 ③)", _transfer),
        ("close", "close (warning lifted, response ended, networks restored)", _close),
        ("restored", "record recovery of a reported incident (sources 2–4), --note why", _restored),
        ("note", "add a note to the timeline", _note),
    ):
        sub = actions.add_parser(name, help=help_text)
        add_config_option(sub)
        add_incident_argument(sub)
        add_actor_options(sub)
        if name == "transfer":
            sub.add_argument("--to", required=True, metavar="BODY", help="the body taking it over")
        if name == "close":
            add_hq_decision_option(sub)
        sub.set_defaults(handler=handler)


def _confirm(args: argparse.Namespace) -> int:
    return run_action(
        args,
        lambda e, by: e.confirm(args.id, person(by), args.note),
        lambda i: f"事件#{i.id}已确认",
    )


def _false_alarm(args: argparse.Namespace) -> int:
    return run_action(
        args,
        lambda e, by: e.false_alarm(args.id, person(by), args.note),
        lambda i: f"事件#{i.id}判定为误报，已记录并关闭",
    )


def _transfer(args: argparse.Namespace) -> int:
    return run_action(
        args,
        lambda e, by: e.transfer(args.id, person(by), args.to, args.note),
        lambda i: f"事件#{i.id}已记录并转交{i.transferred_to}",
    )


def _close(args: argparse.Namespace) -> int:
    return run_action(
        args,
        lambda e, by: e.close(args.id, person(by), args.note, args.hq_decision),
        lambda i: f"事件#{i.id}已关闭",
    )


def _restored(args: argparse.Namespace) -> int:
    return run_action(
        args,
        lambda e, by: e.record_restored(args.id, person(by), args.note),
        lambda i: f"事件#{i.id}已记录通信网络恢复",
    )


def _note(args: argparse.Namespace) -> int:
    return run_action(
        args,
        lambda e, by: e.annotate(args.id, person(by), args.note),
        lambda i: f"事件#{i.id}已记录备注",
    )


def _list(args: argparse.Namespace) -> int:
    def body(engine: IncidentEngine, config: Config) -> int:
        zone = plan_zone(config)
        rows = engine.incidents(include_closed=args.all)
        if args.json:
            for incident in rows:
                print(json.dumps(incident_json(incident), ensure_ascii=False))
            return EXIT_OK
        print(_row("ID", "STATUS", "SOURCE", "DETECTED", "SCEN.", "WARNING", "RESPONSE", "TITLE"))
        for i in rows:
            print(
                _row(
                    f"#{i.id}",
                    status_text(i),
                    i.source,
                    when(i.detected_at, zone),
                    scenario_text(i.scenario),
                    warning_text(i),
                    response_text(i),
                    f"【演练】{i.title}" if i.drill else i.title,
                )
            )
        return EXIT_OK

    return run_reader(args, body)


_WIDTHS = (6, 16, 8, 26, 6, 10, 10)


def _row(*cells: str) -> str:
    return " ".join(pad(c, w) for c, w in zip(cells, _WIDTHS, strict=False)) + " " + cells[-1]


def _show(args: argparse.Namespace) -> int:
    def body(engine: IncidentEngine, config: Config) -> int:
        zone = plan_zone(config)
        incident = engine.get(args.id)
        events = engine.timeline(args.id)
        requests = engine.notice_requests(args.id)
        deliveries = deliveries_for(engine.engine, args.id)
        if args.json:
            data = {
                "incident": incident_json(incident),
                "events": to_json(events),
                "notice_requests": [
                    {"id": r.id, "taken_at": to_json(r.taken_at), **_request_json(r.request)}
                    for r in requests
                ],
                "deliveries": to_json(deliveries),
            }
            print(json.dumps(data, ensure_ascii=False, default=str))
            return EXIT_OK
        _print_incident(incident, zone, config)
        print("\n时间线")
        for event in events:
            name = pad(event_name(event.kind), 10)
            note = f"  {event.note}" if event.note else ""
            print(f"  {when(event.at, zone)}  {name} {_actor_text(event)}{note}")
        print("\n通知请求")
        for r in requests:
            state = f"已交发送 {when(r.taken_at, zone)}" if r.taken_at else "待发送"
            print(f"  {when(r.request.created_at, zone)}  {r.request.kind:<18} {state}")
        print("\n通知投递")
        for item in deliveries:
            print(f"  {_delivery_text(item)}")
        return EXIT_OK

    return run_reader(args, body)


def _actor_text(event: EventRecord) -> str:
    if event.actor is None:
        return "（未署名）"
    if event.actor == SYSTEM_ID or not event.actor_name:
        return event.actor_name or event.actor
    return f"{event.actor_name}（{event.actor}）"


def _request_json(request: Any) -> dict[str, Any]:
    return {
        "kind": str(request.kind),
        "dedupe_key": request.dedupe_key,
        "created_at": request.created_at.isoformat(),
        "context": to_json(dict(request.context)),
    }


def _delivery_text(item: Any) -> str:
    data = to_json(item)
    if isinstance(data, Mapping):
        return "  ".join(f"{k}={v}" for k, v in data.items() if v not in (None, ""))
    return str(data)


def _print_incident(i: Incident, zone: tzinfo, config: Config) -> None:
    print(f"事件#{i.id}  {status_text(i)}  来源：{source_name(i.source, cited=True)}")
    print(f"摘要：{i.title}")
    report = when(i.report_submitted_at, zone) if i.report_submitted_at else "未提交"
    deadline = duration_name(config.plan.report.deadline)
    print(f"发现时间：{when(i.detected_at, zone)}  书面报告：{report}（§4.1 {deadline}内）")
    if i.assessment:
        a = i.assessment
        affected = "、".join([*a.get("operator_networks", []), *a.get("key_systems", [])]) or "-"
        spread = "有" if a.get("spread") else "无"
        restored = f"；已恢复于{when(i.restored_at, zone)}" if i.restored_at else ""
        print(
            f"评估：{scenario_text(i.scenario)} · 建议{level_text(i.level)} · "
            f"受影响：{affected} · 扩散性：{spread}{restored}"
        )
    if i.warning_issued_at:
        lifted = f"，{when(i.warning_lifted_at, zone)}解除" if i.warning_lifted_at else "，有效"
        print(
            f"预警：{scenario_text(i.warning_scenario)}，{i.warning_issuer_name}"
            f"于{when(i.warning_issued_at, zone)}发布{lifted}"
        )
    if i.response_started_at:
        ended = f"，{when(i.response_ended_at, zone)}结束" if i.response_ended_at else "，进行中"
        print(
            f"响应：{level_text(i.response_level)}，{i.response_starter_name}"
            f"于{when(i.response_started_at, zone)}启动{ended}"
        )
    if i.transferred_to:
        print(f"转交：{i.transferred_to}")
    if i.closed_at:
        print(f"关闭：{when(i.closed_at, zone)}")
