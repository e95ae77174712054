"""`commwatch call list|done`: 电话通知 — the units the HQ office duty must phone.

`list` shows open call tasks (whom, the number, the incident, by when, the
script to read out); `--json` one object per task with `id`, `unit`, `phone`,
`incident`, `due` (and `kind`, `reason`, `script`, `overdue`). `done ID --by
PERSON --answered-by TEXT --outcome TEXT` records the call: its escalation
stops, and an answer counts as the unit's 收到.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime

from monitor.commands.duty import pad, plan_zone, run_reader, when
from monitor.commands.support import EXIT_OK, EXIT_USAGE, add_config_option
from monitor.config import Config
from monitor.incidents.authority import resolve_actor
from monitor.incidents.engine import IncidentEngine


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `call list` and `call done`."""
    parser = subparsers.add_parser("call", help="电话通知: call tasks for the HQ office duty")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="open call tasks, the most urgent first")
    add_config_option(listing)
    listing.add_argument("--all", action="store_true", help="include calls already made")
    listing.add_argument("--json", action="store_true", help="one JSON object per call task")
    listing.set_defaults(handler=_list)

    done = actions.add_parser("done", help="record a call made")
    add_config_option(done)
    done.add_argument("id", type=_call_id, help="call task id (as `call list` shows it)")
    done.add_argument("--by", required=True, metavar="PERSON", help="who called")
    done.add_argument(
        "--answered-by", required=True, metavar="TEXT", help="who answered ('' if nobody)"
    )
    done.add_argument("--outcome", required=True, metavar="TEXT", help="what came of the call")
    done.set_defaults(handler=_done)


def _call_id(text: str) -> int:
    value = text.lstrip("#")
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"not a call task id: {text!r}")
    return int(value)


def _list(args: argparse.Namespace) -> int:
    from dispatch.followup_reads import open_calls

    def body(engine: IncidentEngine, config: Config) -> int:
        now = datetime.now(UTC)
        zone = plan_zone(config)
        tasks = open_calls(engine.engine, include_done=args.all)
        if args.json:
            for t in tasks:
                data = {
                    "id": t.id,
                    "unit": t.unit,
                    "phone": t.phone,
                    "incident": t.incident,
                    "due": t.due.isoformat(),
                    "kind": t.kind,
                    "reason": t.reason,
                    "script": t.script,
                    "overdue": t.done_at is None and t.due <= now,
                    "done_at": t.done_at.isoformat() if t.done_at else None,
                    "done_by": t.done_by,
                    "answered_by": t.answered_by,
                    "outcome": t.outcome,
                }
                print(json.dumps(data, ensure_ascii=False))
            return EXIT_OK
        for t in tasks:
            late = "（已超时）" if t.done_at is None and t.due <= now else ""
            state = (
                f"已于{when(t.done_at, zone)}由{t.done_by}完成"
                if t.done_at
                else f"{when(t.due, zone)}前{late}"
            )
            incident = f"事件#{t.incident}" if t.incident else "-"
            print(f"#{t.id:<5} {pad(t.unit, 24)} {pad(t.phone, 14)} {pad(incident, 8)} {state}")
            print(f"       话术：{t.script}")
        return EXIT_OK

    return run_reader(args, body)


def _done(args: argparse.Namespace) -> int:
    from dispatch.calls import CallNotFoundError, complete

    def body(engine: IncidentEngine, config: Config) -> int:
        by = resolve_actor(config.contacts.person, args.by)
        try:
            task = complete(engine, args.id, by, args.answered_by, args.outcome)
        except CallNotFoundError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        answered = task.answered_by or "无人接听"
        print(f"电话通知#{task.id}（{task.unit}）已记录：接听人{answered}，{task.outcome}")
        return EXIT_OK

    return run_reader(args, body)
