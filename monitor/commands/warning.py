"""`commwatch warning issue|lift`: 预警发布 (§3.4) and 预警解除 (§3.6, 谁发布、谁解除)."""

from __future__ import annotations

import argparse

from monitor.commands.duty import add_actor_options, add_incident_argument, person, run_action
from monitor.commands.support import add_config_option
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
    lift.set_defaults(handler=_lift)


def _issue(args: argparse.Namespace) -> int:
    return run_action(
        args,
        lambda e, by: e.issue_warning(args.id, person(by), args.scenario, args.note),
        lambda i: (
            f"事件#{i.id}：{scenario_label(i.warning_scenario)}预警已由{i.warning_issuer_name}发布"
        ),
    )


def _lift(args: argparse.Namespace) -> int:
    return run_action(
        args,
        lambda e, by: e.lift_warning(args.id, person(by), args.note),
        lambda i: f"事件#{i.id}：预警已解除",
    )
