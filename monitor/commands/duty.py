"""Shared pieces of the duty commands (incident, warning, response, event).

Each command opens the database named by `[storage] url`, acts through an
`IncidentEngine` whose notices go to the `notice_requests` table (the running
daemon's dispatcher sends them), and maps failures to exit codes: a refused
action or unknown incident/person → 2, a database failure → 1.
"""

from __future__ import annotations

import argparse
import sys
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from monitor.commands.common import CommandError, load_or_report
from monitor.commands.support import EXIT_OK, EXIT_RUNTIME, EXIT_USAGE
from monitor.commands.times import plan_zone as plan_zone
from monitor.commands.times import when as when
from monitor.config import Config
from monitor.incidents.authority import Actor, RefusedError, resolve_actor
from monitor.incidents.engine import IncidentEngine, IncidentNotFoundError
from monitor.incidents.lifecycle import Incident
from monitor.plan.names import level_name, scenario_label, status_name
from monitor.storage.engine import describe_database, redact_url

T = TypeVar("T")


def add_actor_options(parser: argparse.ArgumentParser, required: bool = True) -> None:
    """`--by ROLE_OR_PERSON` and `--note TEXT`."""
    parser.add_argument(
        "--by",
        required=required,
        metavar="ROLE_OR_PERSON",
        help="who acts: a person id or exact name from contacts.toml, or a role held by one person",
    )
    parser.add_argument("--note", default="", metavar="TEXT", help="a note for the record")


def add_incident_argument(parser: argparse.ArgumentParser) -> None:
    """The positional incident id."""
    parser.add_argument("id", type=incident_id, help="incident id (as `incident list` shows it)")


def add_hq_decision_option(parser: argparse.ArgumentParser) -> None:
    """`--hq-decision REASON`: the 总指挥 records the HQ's decision to act before recovery."""
    parser.add_argument(
        "--hq-decision",
        default="",
        metavar="REASON",
        help="before recovery: the HQ's decision and its reason (总指挥 only, §3.6)",
    )


def person(by: Actor | None) -> Actor:
    """The acting person; every action but `event add` requires --by."""
    if by is None:
        raise RefusedError("拒绝：须用 --by 指明操作人（§4.2 记录每一步由谁操作）")
    return by


def incident_id(text: str) -> int:
    """argparse type for an incident id (accepts "#12" too)."""
    value = text.lstrip("#")
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"not an incident id: {text!r}")
    return int(value)


@contextmanager
def incident_engine(config: Config) -> Iterator[IncidentEngine]:
    """An IncidentEngine on the configured database; it must exist at the current schema."""
    from monitor.commands.database import open_current

    engine: Engine = open_current(config)
    try:
        yield IncidentEngine(engine, config)
    finally:
        engine.dispose()


def run_action(
    args: argparse.Namespace,
    action: Callable[[IncidentEngine, Actor | None], T],
    done: Callable[[T], str],
) -> int:
    """Load config, resolve --by, run `action`, print `done(incident)`; exit 0/1/2."""
    return run_reader(args, lambda engine, config: _act(args, engine, config, action, done))


def run_reader(args: argparse.Namespace, body: Callable[[IncidentEngine, Config], int]) -> int:
    """Load config and open the engine around `body`, mapping failures to exit codes."""
    config = load_or_report(args.config)
    if config is None:
        return EXIT_USAGE
    _log_like_the_daemon(config)
    try:
        with incident_engine(config) as engine:
            return body(engine, config)
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except RefusedError as exc:
        print(f"error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return EXIT_USAGE
    except IncidentNotFoundError as exc:
        where = describe_database(config.daemon.storage.url)
        print(f"error: {exc.args[0] if exc.args else exc} (database {where})", file=sys.stderr)
        return EXIT_USAGE
    except SQLAlchemyError as exc:
        print(f"error: {_db_error(config.daemon.storage.url, exc)}", file=sys.stderr)
        return EXIT_RUNTIME


def _log_like_the_daemon(config: Config) -> None:
    """The action's steps are logged (info, stderr) as the daemon logs its own.

    Left alone when the process already has logging set up (an embedding program, tests).
    """
    import logging

    if logging.getLogger().handlers:
        return
    from monitor.runtime.logs import setup_logging

    setup_logging(config.daemon.logging.format, config.daemon.logging.level)


def _act(
    args: argparse.Namespace,
    engine: IncidentEngine,
    config: Config,
    action: Callable[[IncidentEngine, Actor | None], T],
    done: Callable[[T], str],
) -> int:
    by = resolve_actor(config.contacts.person, args.by) if args.by else None
    result = action(engine, by)
    print(done(result))
    return EXIT_OK


def _db_error(url: str, exc: Exception) -> str:
    cause = getattr(exc, "orig", None) or exc
    return f"database {redact_url(url)}: {cause}"


def pad(text: str, width: int) -> str:
    """Left-justify for a terminal: CJK characters take two columns."""
    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(width - used, 0)


def scenario_text(scenario: int | None) -> str:
    """情形N, or a dash."""
    return scenario_label(scenario, "-")


def level_text(level: str | None) -> str:
    """Ⅰ级/Ⅱ级, or a dash."""
    return level_name(level, "-")


def status_text(incident: Incident) -> str:
    """The status in the plan's words."""
    return status_name(incident.status)


def warning_text(incident: Incident) -> str:
    """The warning column of `incident list`."""
    if incident.warning_issued_at is None:
        return "-"
    state = "已解除" if incident.warning_lifted_at else "有效"
    return f"{scenario_text(incident.warning_scenario)}{state}"


def response_text(incident: Incident) -> str:
    """The response column of `incident list`."""
    if incident.response_started_at is None:
        return "-"
    state = "已结束" if incident.response_ended_at else "进行中"
    return f"{level_text(incident.response_level)}{state}"
