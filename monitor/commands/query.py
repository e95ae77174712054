"""`commwatch query add|answer|list`: 上级催报/要求核实 and their answers (§4.1).

"对于上级部门催报的和要求核实的信息，应当在30分钟内有效回应": a query is recorded
with who asked, what and when; its clock (`plan.toml [report] query_deadline`)
reminds and escalates until `query answer` closes it.
"""

from __future__ import annotations

import argparse
import json

from monitor.commands.duty import (
    add_incident_argument,
    incident_id,
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
from monitor.incidents.duty_log import QueryRecord
from monitor.incidents.engine import IncidentEngine
from monitor.incidents.listing import to_json
from monitor.plan.names import duration_name


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `query add`, `query answer`, `query list`."""
    parser = subparsers.add_parser("query", help="上级催报/核实 and answers (§4.1)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="record a query from a higher level; starts its clock")
    add_config_option(add)
    add_incident_argument(add)
    add.add_argument("--from", dest="asker", required=True, metavar="WHO", help="who asked")
    add.add_argument("--text", required=True, help="what was asked")
    add.add_argument("--at", type=iso_time, metavar="ISO", help="when (default: now)")
    add.add_argument("--by", required=True, metavar="ROLE_OR_PERSON", help="who records it")
    add.set_defaults(handler=_add)

    answer = actions.add_parser("answer", help="record the answer; closes the query's clock")
    add_config_option(answer)
    answer.add_argument("query", type=incident_id, metavar="QUERY_ID")
    answer.add_argument("--text", required=True, help="the answer given")
    answer.add_argument("--by", required=True, metavar="ROLE_OR_PERSON")
    answer.set_defaults(handler=_answer)

    listing = actions.add_parser("list", help="queries and their answers")
    add_config_option(listing)
    listing.add_argument("--incident", type=incident_id, metavar="ID")
    listing.add_argument("--open", action="store_true", help="only unanswered ones")
    listing.add_argument("--json", action="store_true", help="one JSON object per query")
    listing.set_defaults(handler=_list)


def _add(args: argparse.Namespace) -> int:
    def act(engine: IncidentEngine, by: Actor | None) -> str:
        zone = plan_zone(engine.config)
        at = args.at if args.at is None or args.at.tzinfo else args.at.replace(tzinfo=zone)
        r = engine.add_query(args.id, person(by), args.asker, args.text, at)
        due = when(r.due_at, zone)
        return f"已记录催报/核实#{r.id}（事件#{r.incident_id}，{r.asker}），须于{due}前回应"

    return run_action(args, act, str)


def _answer(args: argparse.Namespace) -> int:
    def done(r: QueryRecord) -> str:
        assert r.answered_at is not None
        taken = duration_name(r.answered_at - r.asked_at)
        verdict = "按时" if r.answered_at <= r.due_at else "已超时"
        return f"催报/核实#{r.id}已答复（用时{taken}，{verdict}）"

    return run_action(
        args, lambda engine, by: engine.answer_query(args.query, person(by), args.text), done
    )


def _list(args: argparse.Namespace) -> int:
    def body(engine: IncidentEngine, config: Config) -> int:
        zone = plan_zone(config)
        rows = engine.queries(args.incident, unanswered=args.open)
        if args.json:
            for r in rows:
                print(json.dumps(to_json(r), ensure_ascii=False))
            return EXIT_OK
        for r in rows:
            due = f"待答复，时限 {when(r.due_at, zone)}"
            state = f"已答复 {when(r.answered_at, zone)}" if r.answered_at else due
            asked = when(r.asked_at, zone)
            print(f"#{r.id} 事件#{r.incident_id} {asked} {r.asker}：{r.question}  {state}")
        return EXIT_OK

    return run_reader(args, body)
