"""`commwatch guarantee add|list|end`: 保障期 (§3.1.2 (4)) as scheduled periods, never incidents.

A period makes its systems' nodes judged more strictly while it lasts (plan.toml
[[guarantee]] semantics: `fail_after` 1 by default). Periods entered here live
in the database; `list` shows them beside plan.toml's. Times without an offset
are read in the plan's zone (`[dispatch] timezone`).
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from monitor.commands.duty import person, plan_zone, run_action, run_reader, when
from monitor.commands.support import EXIT_OK, add_config_option
from monitor.config import Config
from monitor.config.windows import GuaranteePeriod
from monitor.incidents.authority import Actor
from monitor.incidents.engine import IncidentEngine
from monitor.incidents.guarantees import GuaranteeRecord
from monitor.nodes.windows import window_active


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `guarantee add`, `guarantee list`, `guarantee end`."""
    parser = subparsers.add_parser("guarantee", help="保障期 (§3.1.2 (4)): stricter thresholds")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="add a 保障期 (never an incident)")
    add_config_option(add)
    add.add_argument("--name", required=True, help="e.g. 区两会")
    add.add_argument("--start", required=True, type=iso_time, metavar="ISO")
    add.add_argument("--end", required=True, type=iso_time, metavar="ISO")
    add.add_argument("--by", metavar="ROLE_OR_PERSON", help="who enters it")
    add.add_argument(
        "--system",
        action="append",
        default=[],
        metavar="ID",
        help="a system it covers (repeatable; default: every system)",
    )
    add.add_argument("--fail-after", type=int, default=1, metavar="N", help="rounds to DOWN (1)")
    add.set_defaults(handler=_add)

    listing = actions.add_parser("list", help="periods from the database and plan.toml")
    add_config_option(listing)
    listing.add_argument("--json", action="store_true", help="one JSON object per period")
    listing.set_defaults(handler=_list)

    stop = actions.add_parser("end", help="end a stored period now")
    add_config_option(stop)
    stop.add_argument("id", type=int, help="the period's id (guarantee list)")
    stop.add_argument("--by", required=True, metavar="ROLE_OR_PERSON")
    stop.set_defaults(handler=_end)


def iso_time(text: str) -> datetime:
    """argparse type: an ISO 8601 date-time (an offset is optional)."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO date-time: {text!r} (e.g. 2026-03-01T08:00 or 2026-03-01T08:00+08:00)"
        ) from None


def _aware(value: datetime, zone: tzinfo) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)


def _add(args: argparse.Namespace) -> int:
    def act(engine: IncidentEngine, by: Actor | None) -> GuaranteeRecord:
        zone = plan_zone(engine.config)
        start, end = _aware(args.start, zone), _aware(args.end, zone)
        fail_after = max(1, args.fail_after)
        return engine.add_guarantee(args.name, start, end, by, args.system, fail_after)

    def done(r: GuaranteeRecord) -> str:
        systems = "、".join(r.systems) or "全部系统"
        return f"已登记保障期#{r.id}：{r.name}（{systems}），期间按更严阈值监测，不立事件"

    return run_action(args, act, done)


def _end(args: argparse.Namespace) -> int:
    return run_action(
        args,
        lambda engine, by: engine.end_guarantee(args.id, person(by)),
        lambda r: f"保障期#{r.id}（{r.name}）已结束",
    )


def _list(args: argparse.Namespace) -> int:
    def body(engine: IncidentEngine, config: Config) -> int:
        now = engine.clock()
        zone = plan_zone(config)
        rows = [_stored(r, now) for r in engine.guarantees()]
        rows += [_configured(p, now) for p in config.plan.guarantee]
        if args.json:
            for row in rows:
                print(json.dumps(row, ensure_ascii=False))
            return EXIT_OK
        print("ID    STATE   NAME / START – END / SYSTEMS / BY")
        for row in rows:
            start = when(_time(row["start"]), zone) if row["start"] else row["schedule"]
            end = when(_time(row["end"]), zone) if row["end"] else ""
            systems = "、".join(row["systems"]) or "全部系统"
            by = f" 登记：{row['by']}" if row["by"] else ""
            print(
                f"{row['id']!s:<5} {row['state']:<7} {row['name']}  {start} – {end}  {systems}{by}"
            )
        return EXIT_OK

    return run_reader(args, body)


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _stored(r: GuaranteeRecord, now: datetime) -> dict[str, Any]:
    state = "active" if r.active(now) else "planned" if now < r.start_at else "ended"
    return {
        "id": r.id,
        "source": "database",
        "name": r.name,
        "start": r.start_at.isoformat(),
        "end": r.end_at.isoformat(),
        "schedule": "",
        "systems": list(r.systems),
        "fail_after": r.fail_after,
        "state": state,
        "active": state == "active",
        "ended_at": r.ended_at.isoformat() if r.ended_at else None,
        "by": r.created_by_name or r.created_by,
    }


def _configured(p: GuaranteePeriod, now: datetime) -> dict[str, Any]:
    active = window_active(p, now)
    schedule = "" if p.start else f"{','.join(p.weekdays)} {p.at} {p.duration}"
    ended = p.end is not None and _after(now, p.end, p)
    return {
        "id": "plan.toml",
        "source": "plan.toml",
        "name": p.name,
        "start": p.start.isoformat() if p.start else None,
        "end": p.end.isoformat() if p.end else None,
        "schedule": schedule,
        "systems": list(p.systems),
        "fail_after": p.fail_after,
        "state": "active" if active else "ended" if ended else "planned",
        "active": active,
        "ended_at": None,
        "by": None,
    }


def _after(now: datetime, end: datetime, p: GuaranteePeriod) -> bool:
    return now >= _aware(end, ZoneInfo(p.timezone))
