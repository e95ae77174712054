"""`commwatch phone-report add|list`: 电话快报 (§4.1): who called whom, when, what was said.

"来不及形成文字的，可先用电话口头报告，30分钟内再呈送文字报告": the call is
recorded on the incident's timeline; the written report's clock keeps running.
"""

from __future__ import annotations

import argparse
import json

from monitor.commands.duty import (
    add_incident_argument,
    person,
    plan_zone,
    run_action,
    run_reader,
    when,
)
from monitor.commands.guarantee import iso_time
from monitor.commands.support import EXIT_OK, add_config_option
from monitor.config import Config
from monitor.incidents.authority import Actor
from monitor.incidents.duty_log import PhoneReport
from monitor.incidents.engine import IncidentEngine
from monitor.incidents.listing import to_json


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `phone-report add` and `phone-report list`."""
    parser = subparsers.add_parser("phone-report", help="电话快报 (§4.1)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="record a phone fast report")
    add_config_option(add)
    add_incident_argument(add)
    add.add_argument("--caller", required=True, metavar="WHO", help="who called (by office)")
    add.add_argument("--callee", required=True, metavar="WHOM", help="who was called")
    add.add_argument("--text", required=True, help="what was said")
    add.add_argument("--at", type=iso_time, metavar="ISO", help="when (default: now)")
    add.add_argument("--by", required=True, metavar="ROLE_OR_PERSON", help="who records it")
    add.set_defaults(handler=_add)

    listing = actions.add_parser("list", help="the phone fast reports of an incident")
    add_config_option(listing)
    add_incident_argument(listing)
    listing.add_argument("--json", action="store_true", help="one JSON object per report")
    listing.set_defaults(handler=_list)


def _add(args: argparse.Namespace) -> int:
    def act(engine: IncidentEngine, by: Actor | None) -> PhoneReport:
        zone = plan_zone(engine.config)
        at = args.at if args.at is None or args.at.tzinfo else args.at.replace(tzinfo=zone)
        return engine.add_phone_report(args.id, person(by), args.caller, args.callee, args.text, at)

    return run_action(
        args,
        act,
        lambda r: (
            f"已记录事件#{r.incident_id}的电话快报：{r.caller}→{r.callee}（书面报告仍须按时报送）"
        ),
    )


def _list(args: argparse.Namespace) -> int:
    def body(engine: IncidentEngine, config: Config) -> int:
        zone = plan_zone(config)
        for r in engine.phone_reports(args.id):
            if args.json:
                print(json.dumps(to_json(r), ensure_ascii=False))
            else:
                print(f"{when(r.at, zone)}  {r.caller}→{r.callee}：{r.content}")
        return EXIT_OK

    return run_reader(args, body)
