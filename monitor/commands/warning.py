"""`commwatch warning issue|lift`: 预警发布 (§3.4) and 预警解除 (§3.6, 谁发布、谁解除)."""

from __future__ import annotations

import argparse

from monitor.commands.duty import (
    add_actor_options,
    add_hq_decision_option,
    add_incident_argument,
    person,
    run_action,
)
from monitor.commands.support import add_config_option
from monitor.incidents.authority import Actor
from monitor.incidents.engine import IncidentEngine
from monitor.incidents.lifecycle import Incident
from monitor.plan.names import scenario_label


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `warning issue` and `warning lift`."""
    parser = subparsers.add_parser("warning", help="issue or lift a warning (预警)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    issue = actions.add_parser(
        "issue", help="issue a warning (总指挥/副总指挥); on an active one, adjust its scenario"
    )
    add_config_option(issue)
    add_incident_argument(issue)
    issue.add_argument(
        "--scenario",
        type=int,
        choices=(1, 2, 3),
        help="预警情形 (§3.3); default: the incident's assessed scenario",
    )
    add_actor_options(issue)
    issue.set_defaults(handler=_issue)

    lift = actions.add_parser("lift", help="lift a warning (only its issuer, §3.6)")
    add_config_option(lift)
    add_incident_argument(lift)
    add_actor_options(lift)
    add_hq_decision_option(lift)
    lift.set_defaults(handler=_lift)


def _issue(args: argparse.Namespace) -> int:
    before: list[Incident] = []

    def act(engine: IncidentEngine, by: Actor | None) -> Incident:
        before.append(engine.get(args.id))
        return engine.issue_warning(args.id, person(by), args.scenario, args.note)

    def done(i: Incident) -> str:
        now = scenario_label(i.warning_scenario)
        was = before[0] if before else None
        if was is not None and was.warning_active and was.warning_scenario != i.warning_scenario:
            previous = scenario_label(was.warning_scenario)
            return f"事件#{i.id}：预警已由{previous}调整为{now}（{i.warning_issuer_name}）"
        return f"事件#{i.id}：{now}预警已由{i.warning_issuer_name}发布"

    return run_action(args, act, done)


def _lift(args: argparse.Namespace) -> int:
    return run_action(
        args,
        lambda e, by: e.lift_warning(args.id, person(by), args.note, args.hq_decision),
        lambda i: f"事件#{i.id}：预警已解除",
    )
