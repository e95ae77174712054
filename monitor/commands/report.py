"""`commwatch report submit|render`: the written reports of §4.1 and §5.

- `report submit ID --by WHO [--note TEXT]` marks the brief report (书面简要报告)
  submitted: the 30-minute clock stops reminding and escalating.
- `report render ID --kind brief|final [--format text|md|html] [-o FILE]`
  prints (or writes) the brief report drafted from the incident, or the
  after-action report (§5: timeline, durations, who did what when, notices
  and deliveries).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from jinja2 import TemplateError

from dispatch.render import Renderer
from dispatch.report_records import load_brief, load_final
from monitor.commands.common import CommandError
from monitor.commands.duty import add_actor_options, add_incident_argument, run_reader
from monitor.commands.support import EXIT_OK, EXIT_RUNTIME, add_config_option
from monitor.config import Config
from monitor.incidents.authority import resolve_actor
from monitor.incidents.engine import IncidentEngine
from monitor.incidents.tables import utcnow

FORMATS = {"text": "txt", "md": "md", "html": "html"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `report submit` and `report render`."""
    parser = subparsers.add_parser("report", help="written reports: submit, render (§4.1, §5)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    submit = actions.add_parser("submit", help="mark the written brief report submitted")
    add_config_option(submit)
    add_incident_argument(submit)
    add_actor_options(submit)
    submit.set_defaults(handler=_submit)

    render = actions.add_parser("render", help="the brief report or the after-action report")
    add_config_option(render)
    add_incident_argument(render)
    render.add_argument("--kind", choices=("brief", "final"), default="brief")
    render.add_argument("--format", choices=tuple(FORMATS), default="text")
    render.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    render.set_defaults(handler=_render)


def _submit(args: argparse.Namespace) -> int:
    def body(engine: IncidentEngine, config: Config) -> int:
        actor = resolve_actor(config.contacts.person, args.by)
        done = engine.submit_report(args.id, actor, args.note)
        assert done.report_submitted_at is not None
        taken = done.report_submitted_at - done.detected_at
        verdict = "按时" if taken <= config.plan.report.deadline else "已超时"
        minutes = taken.total_seconds() / 60
        print(
            f"事件#{args.id}的书面报告已标记报送（{actor.label()}，发现后{minutes:.0f}分钟，{verdict}）"
        )
        return EXIT_OK

    return run_reader(args, body)


def _render(args: argparse.Namespace) -> int:
    def body(engine: IncidentEngine, config: Config) -> int:
        load = load_brief if args.kind == "brief" else load_final
        view = load(engine.engine, config, args.id, utcnow())
        try:
            text = Renderer.for_config(config).document(args.kind, FORMATS[args.format], view)
        except TemplateError as exc:
            raise CommandError(f"report template: {exc}", EXIT_RUNTIME) from exc
        if args.output is None:
            sys.stdout.write(text)
            return EXIT_OK
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot write {args.output}: {exc.strerror}", EXIT_RUNTIME) from exc
        print(f"已写入 {args.output}", file=sys.stderr)
        return EXIT_OK

    return run_reader(args, body)
