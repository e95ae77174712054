"""The `commwatch` command line: one module per command under monitor.commands.

Exit codes (DESIGN.md): 0 success, 2 bad input or config, 1 runtime failure;
errors go to stderr.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from monitor import __version__
from monitor.commands.support import EXIT_OK, EXIT_USAGE, default_config_dir

# Each module exposes `register(subparsers)`, which adds its parser(s) and sets
# `handler` (a callable taking the parsed args and returning an exit code).
COMMAND_MODULES = (
    "monitor.commands.run",
    "monitor.commands.check_config",
    "monitor.commands.probe_once",
    "monitor.commands.status",
    "monitor.commands.assess",
    "monitor.commands.incident",
    "monitor.commands.warning",
    "monitor.commands.response",
    "monitor.commands.event",
    "monitor.commands.report",
    "monitor.commands.notify_test",
    "monitor.commands.schema",
    "monitor.commands.db",
)


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every registered command."""
    parser = argparse.ArgumentParser(
        prog="commwatch", description="通信网络事故监测与预警 (晋城市城区通信网络事故应急预案)"
    )
    parser.add_argument("--version", action="version", version=f"commwatch {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script and of `python -m monitor`."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
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
