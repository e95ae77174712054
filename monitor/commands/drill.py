"""`commwatch drill start|end|report`: 演练 (§6.1), run as a real event, marked and contained.

- `drill start --name TEXT --by WHO [--include-monitor]`: incidents entered from
  now on (`event add`; with --include-monitor also the monitor's detections) are
  drill incidents: every notice and report is marked 【演练】 and goes only to the
  drill's recipients (`[dispatch] drill_people`/`drill_units`, default the HQ office).
- `drill end --by WHO`: ends the drill and prints the exercise report.
- `drill report [ID] [--format text] [-o FILE]`: the exercise report again.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dispatch.drill_report import load_drill
from dispatch.render import Renderer
from monitor.commands.common import CommandError
from monitor.commands.duty import person, plan_zone, run_action, run_reader, when
from monitor.commands.support import EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, add_config_option
from monitor.config import Config
from monitor.incidents.authority import Actor
from monitor.incidents.drills import Drill
from monitor.incidents.engine import IncidentEngine


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `drill start`, `drill end`, `drill report`."""
    parser = subparsers.add_parser("drill", help="演练 (§6.1): start, end, exercise report")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    start = actions.add_parser("start", help="start a drill")
    add_config_option(start)
    start.add_argument("--name", required=True, help="e.g. 2026年通信网络事故应急演练")
    start.add_argument("--by", required=True, metavar="ROLE_OR_PERSON")
    start.add_argument(
        "--include-monitor",
        action="store_true",
        help="the monitor's own detections during the drill are drill incidents too",
    )
    start.set_defaults(handler=_start)

    end = actions.add_parser("end", help="end the drill and print the exercise report")
    add_config_option(end)
    end.add_argument("--by", required=True, metavar="ROLE_OR_PERSON")
    end.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE")
    end.set_defaults(handler=_end)

    report = actions.add_parser("report", help="the exercise report of a drill")
    add_config_option(report)
    report.add_argument("id", nargs="?", type=int, help="drill id (default: the newest)")
    report.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE")
    report.set_defaults(handler=_report)


def _start(args: argparse.Namespace) -> int:
    def act(engine: IncidentEngine, by: Actor | None) -> str:
        drill = engine.start_drill(args.name, person(by), args.include_monitor)
        scope = "手工录入和监测发现的事件" if drill.include_monitor else "手工录入的事件"
        started = when(drill.started_at, plan_zone(engine.config))
        return (
            f"演练#{drill.id}（{drill.name}）已于{started}开始：期间{scope}均为演练事件，"
            "通知和报告标注【演练】，只发给演练接收人"
        )

    return run_action(args, act, str)


def _end(args: argparse.Namespace) -> int:
    ended: list[Drill] = []

    def act(engine: IncidentEngine, by: Actor | None) -> str:
        ended.append(engine.end_drill(person(by)))
        return _render(engine, engine.config, ended[0].id, args.output)

    return run_action(args, act, str)


def _report(args: argparse.Namespace) -> int:
    def body(engine: IncidentEngine, config: Config) -> int:
        try:
            text = _render(engine, config, args.id, args.output)
        except LookupError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        print(text)
        return EXIT_OK

    return run_reader(args, body)


def _render(
    engine: IncidentEngine, config: Config, drill_id: int | None, output: str | None
) -> str:
    view = load_drill(engine.engine, config, drill_id, engine.clock())
    text = Renderer.for_config(config).document("drill", "txt", view)
    if output is None:
        return text.rstrip("\n")
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot write {output}: {exc.strerror}", EXIT_RUNTIME) from exc
    return f"演练情况报告已写入 {output}"
