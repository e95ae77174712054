"""`commwatch report submit|render`: the written reports of §4.1 and §5.

- `report submit ID --by WHO [--note TEXT]` marks the brief report (书面简要报告)
  submitted: the 30-minute clock stops reminding and escalating.
- `report follow-up ID --by WHO [--note TEXT]` marks a written follow-up (续报)
  sent: the follow-up clock restarts (§4.1 随时续报).
- `report edit ID --field F --text T --by WHO` completes a §5 field of the
  investigation report (cause, nature, impact, consequences, responsibility,
  capacity, recovery); the report shows it beside the system's draft.
- `report render ID --kind brief|final [--format text|md|html|pdf] [-o FILE]`
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
from monitor.commands.duty import (
    add_actor_options,
    add_incident_argument,
    person,
    run_action,
    run_reader,
)
from monitor.commands.support import EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, add_config_option
from monitor.config import Config
from monitor.incidents.authority import resolve_actor
from monitor.incidents.duty_log import REPORT_FIELDS
from monitor.incidents.engine import IncidentEngine
from monitor.incidents.tables import utcnow
from monitor.plan.names import duration_name

FORMATS = {"text": "txt", "md": "md", "html": "html", "pdf": "html"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `report submit` and `report render`."""
    parser = subparsers.add_parser(
        "report", help="written reports: submit, follow-up, edit, render (§4.1, §5)"
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    submit = actions.add_parser("submit", help="mark the written brief report submitted")
    add_config_option(submit)
    add_incident_argument(submit)
    add_actor_options(submit)
    submit.set_defaults(handler=_submit)

    follow = actions.add_parser("follow-up", help="mark a written follow-up report (续报) sent")
    add_config_option(follow)
    add_incident_argument(follow)
    add_actor_options(follow)
    follow.set_defaults(handler=_follow_up)

    edit = actions.add_parser("edit", help="complete a §5 field of the investigation report")
    add_config_option(edit)
    add_incident_argument(edit)
    edit.add_argument(
        "--field",
        required=True,
        choices=tuple(REPORT_FIELDS),
        metavar="FIELD",
        help="cause|nature|impact|consequences|responsibility|capacity|recovery",
    )
    edit.add_argument("--text", required=True, help="the office's finding")
    edit.add_argument("--by", required=True, metavar="ROLE_OR_PERSON")
    edit.set_defaults(handler=_edit)

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
        deadline = config.plan.report.deadline
        verdict = "按时" if taken <= deadline else f"已超过{duration_name(deadline)}时限"
        minutes = taken.total_seconds() / 60
        print(
            f"事件#{args.id}的书面报告已标记报送（{actor.label()}，接报后{minutes:.0f}分钟，{verdict}）"
        )
        return EXIT_OK

    return run_reader(args, body)


def _follow_up(args: argparse.Namespace) -> int:
    every = "续报时钟重新计时"
    return run_action(
        args,
        lambda engine, by: engine.submit_follow_up(args.id, person(by), args.note),
        lambda i: f"事件#{i.id}的书面续报已标记报送，{every}（§4.1 随时续报）",
    )


def _edit(args: argparse.Namespace) -> int:
    title = REPORT_FIELDS[args.field]
    return run_action(
        args,
        lambda engine, by: engine.edit_report(args.id, person(by), args.field, args.text),
        lambda i: f"事件#{i.id}调查评估报告“{title}”已填写",
    )


def _pdf(html: str, output: str | None) -> int:
    """The HTML as an A4 PDF (GB/T 9704—2012 layout), by the same renderer as fax (WeasyPrint)."""
    from dispatch.official_pdf import PdfError, html_to_pdf

    if output is None:
        raise CommandError("--format pdf needs -o FILE", EXIT_USAGE)
    try:
        data = html_to_pdf(html)
        Path(output).write_bytes(data)
    except PdfError as exc:
        raise CommandError(str(exc), EXIT_RUNTIME) from exc
    except OSError as exc:
        raise CommandError(f"cannot write {output}: {exc.strerror}", EXIT_RUNTIME) from exc
    print(f"已写入 {output}", file=sys.stderr)
    return EXIT_OK


def _render(args: argparse.Namespace) -> int:
    def body(engine: IncidentEngine, config: Config) -> int:
        load = load_brief if args.kind == "brief" else load_final
        view = load(engine.engine, config, args.id, utcnow())
        try:
            text = Renderer.for_config(config).document(args.kind, FORMATS[args.format], view)
        except TemplateError as exc:
            raise CommandError(f"report template: {exc}", EXIT_RUNTIME) from exc
        if args.format == "pdf":
            return _pdf(text, args.output)
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
