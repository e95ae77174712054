"""`commwatch response start|end`: 启动应急响应 (§4.3) and 应急结束 (§4.6, 谁启动、谁结束)."""

from __future__ import annotations

import argparse

from monitor.commands.duty import (
    add_actor_options,
    add_incident_argument,
    level_text,
    person,
    run_action,
)
from monitor.commands.support import add_config_option

_LEVELS = {"I": "I", "1": "I", "Ⅰ": "I", "II": "II", "2": "II", "Ⅱ": "II"}


def response_level(text: str) -> str:
    """argparse type: I or II (also 1/2, Ⅰ/Ⅱ, with or without 级)."""
    level = _LEVELS.get(text.strip().removesuffix("级").upper())
    if level is None:
        raise argparse.ArgumentTypeError(f"response level is I or II (§4.3), not {text!r}")
    return level


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `response start` and `response end`."""
    parser = subparsers.add_parser("response", help="start or end an emergency response (应急响应)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    start = actions.add_parser(
        "start", help="start a response: Ⅰ级 by the 总指挥, Ⅱ级 by the 总指挥 or a 副总指挥"
    )
    add_config_option(start)
    add_incident_argument(start)
    start.add_argument("--level", required=True, type=response_level, metavar="I|II")
    add_actor_options(start)
    start.set_defaults(handler=_start)

    end = actions.add_parser("end", help="end the response (only its starter, §4.6)")
    add_config_option(end)
    add_incident_argument(end)
    add_actor_options(end)
    end.set_defaults(handler=_end)


def _start(args: argparse.Namespace) -> int:
    return run_action(
        args,
        lambda e, by: e.start_response(args.id, person(by), args.level, args.note),
        lambda i: (
            f"事件#{i.id}：{level_text(i.response_level)}应急响应已由{i.response_starter_name}启动"
        ),
    )


def _end(args: argparse.Namespace) -> int:
    return run_action(
        args,
        lambda e, by: e.end_response(args.id, person(by), args.note),
        lambda i: f"事件#{i.id}：应急响应已结束",
    )
