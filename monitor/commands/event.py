"""`commwatch event add`: information sources 2–4 of §3.1.2, entered by hand.

`--source upper` (上级机构或其他职能部门通报), `public` (社会和信息安全责任单位报告),
`event` (重要集会或重大活动的保障要求). Without `--incident` it opens a new
incident, as a detection does (DETECTION notice); with `--incident ID` it adds
the information to that open incident (续报).
"""

from __future__ import annotations

import argparse

from monitor.commands.duty import incident_id, run_action
from monitor.commands.support import add_config_option
from monitor.plan.names import SOURCES


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `event add`."""
    parser = subparsers.add_parser("event", help="information from sources 2–4 (§3.1.2)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="record a report; opens an incident or adds to one")
    add_config_option(add)
    add.add_argument("--source", required=True, choices=[s for s in SOURCES if s != "monitor"])
    add.add_argument("--text", required=True, help="what was reported")
    add.add_argument("--by", metavar="ROLE_OR_PERSON", help="who records it (optional)")
    add.add_argument("--incident", type=incident_id, metavar="ID", help="add to this incident")
    add.set_defaults(handler=_add)


def _add(args: argparse.Namespace) -> int:
    return run_action(
        args,
        lambda e, by: e.add_event(args.source, args.text, by, args.incident),
        lambda i: (
            f"已记录到事件#{i.id}" if args.incident else f"已新建事件#{i.id}（来源：{i.source}）"
        ),
    )
