"""`commwatch check-config`: validate the config directory; exit 0 or 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from monitor.commands.common import load_or_report
from monitor.commands.support import add_config_option

if TYPE_CHECKING:
    from monitor.config import Config

# Extra checks that warn without failing (weak crypto, units nobody can reach, …).
# Each takes a loaded Config and returns human-readable warnings.
WarningCheck = Callable[["Config"], list[str]]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the check-config command."""
    parser = subparsers.add_parser(
        "check-config", help="validate the config files and the references between them"
    )
    add_config_option(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="list every item a warning counts"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Load everything, print errors (exit 2) or a summary and warnings (exit 0)."""
    config = load_or_report(args.config, record=True)
    if config is None:
        return 2
    if args.quiet:
        return 0
    for warning in collect_warnings(config):
        shown = warning if args.verbose else summarise(warning)
        print(f"warning: {shown}", file=sys.stderr)
    nodes = config.inventory.node
    print(
        f"{config.directory}: OK — {len(config.systems)} systems, {len(nodes)} nodes, "
        f"{len(config.units)} units, {len(config.people)} people, "
        f"{len(config.daemon.notifier)} notifiers"
    )
    return 0


LIST_LIMIT = 3  # a warning listing more items than this is summarised without --verbose


def summarise(warning: str) -> str:
    """A warning ending in a long 、-separated list: its count and sentence, not the list."""
    head, separator, tail = warning.rpartition(": ")
    items = tail.split("、")
    if not separator or len(items) <= LIST_LIMIT:
        return warning
    return f"{head} — `check-config --verbose` lists them"


def collect_warnings(config: Config) -> list[str]:
    """Warnings from every registered check."""
    warnings: list[str] = []
    for check in _warning_checks():
        warnings.extend(check(config))
    return warnings


def _warning_checks() -> list[WarningCheck]:
    from dispatch.contact_check import contact_warnings
    from monitor.config.advice import config_advice
    from monitor.runtime.routes import uplink_warnings

    return [config_advice, uplink_warnings, contact_warnings]
