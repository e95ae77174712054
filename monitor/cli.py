"""The `commwatch` command line: one module per command under monitor.commands.

Exit codes (DESIGN.md): 0 success, 2 bad input or config, 1 runtime failure;
errors go to stderr.

Start-up stays light: only the module of the command being run is imported
(and it imports its heavy parts when it runs); `commwatch --help` imports no
command module at all. COMMANDS holds each command's one-line summary for the
top-level help; tests/monitor/test_cli.py checks it against the modules.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from monitor import __version__
from monitor.commands.support import EXIT_OK, EXIT_USAGE, default_config_dir

# name → (module, summary). Each module exposes `register(subparsers)`, which adds
# its parser(s) and sets `handler` (a callable taking the parsed args, returning
# an exit code).
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("monitor.commands.run", "run the monitoring daemon"),
    "check-config": (
        "monitor.commands.check_config",
        "validate the config files and the references between them",
    ),
    "probe-once": ("monitor.commands.probe_once", "run one probe round and print the results"),
    "status": (
        "monitor.commands.status",
        "show every node's state (asks the running daemon, else the database)",
    ),
    "assess": (
        "monitor.commands.assess",
        "what-if: the 预警情形 and 响应级别 if these nodes were down now",
    ),
    "incident": ("monitor.commands.incident", "incidents: list, show, confirm, close …"),
    "warning": ("monitor.commands.warning", "issue or lift a warning (预警)"),
    "response": ("monitor.commands.response", "start or end an emergency response (应急响应)"),
    "event": ("monitor.commands.event", "information from sources 2–4 (§3.1.2)"),
    "guarantee": ("monitor.commands.guarantee", "保障期 (§3.1.2 (4)): stricter thresholds"),
    "window": ("monitor.commands.window", "maintenance windows: no new incident meanwhile"),
    "query": ("monitor.commands.query", "上级催报/核实 and answers (§4.1)"),
    "phone-report": ("monitor.commands.phone_report", "电话快报 (§4.1)"),
    "drill": ("monitor.commands.drill", "演练 (§6.1): start, end, exercise report"),
    "report": (
        "monitor.commands.report",
        "written reports: submit, follow-up, edit, render (§4.1, §5)",
    ),
    "notice": ("monitor.commands.notice", "notice deliveries: states, 收到 (ack)"),
    "call": ("monitor.commands.call", "电话通知: call tasks for the HQ office duty"),
    "notify-test": (
        "monitor.commands.notify_test",
        "send a test notice through one [[notifier]] now",
    ),
    "schema": ("monitor.commands.schema", "write JSON Schemas of the config files (for editors)"),
    "db": ("monitor.commands.db", "the database schema: upgrade, current revision"),
    "user": ("monitor.commands.user", "duty-console accounts: set a person's password"),
}


def build_parser(command: str | None = None, full: bool = False) -> argparse.ArgumentParser:
    """The parser; the module of `command` (of every command when `full`) is imported.

    Other commands get a placeholder that carries their summary, enough for the
    top-level help and for argparse to name the valid choices.
    """
    parser = argparse.ArgumentParser(
        prog="commwatch", description="通信网络事故监测与预警 (晋城市城区通信网络事故应急预案)"
    )
    parser.add_argument("--version", action="version", version=f"commwatch {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module, summary) in COMMANDS.items():
        if full or name == command:
            importlib.import_module(module).register(subparsers)
        else:
            subparsers.add_parser(name, help=summary, add_help=False)
    return parser


def _command_in(argv: Sequence[str]) -> str | None:
    """The command named in argv: the first word that is not an option."""
    for word in argv:
        if word == "--":
            return None
        if not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script and of `python -m monitor`."""
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_command_in(words))
    try:
        args = parser.parse_args(words)
    except SystemExit as exc:
        return int(exc.code or 0) if exc.code in (0, None) else EXIT_USAGE
    if getattr(args, "config", "unset") is None:
        args.config = default_config_dir()
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return EXIT_OK
