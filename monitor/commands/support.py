"""Pieces shared by the CLI entry point and the command modules."""

from __future__ import annotations

import argparse
import os

EXIT_OK = 0
EXIT_RUNTIME = 1
EXIT_USAGE = 2


def default_config_dir() -> str:
    """-c defaults to $COMMWATCH_CONFIG, then /etc/commwatch."""
    return os.environ.get("COMMWATCH_CONFIG") or "/etc/commwatch"


def add_config_option(parser: argparse.ArgumentParser) -> None:
    """The shared `-c DIR` option."""
    parser.add_argument(
        "-c",
        "--config",
        metavar="DIR",
        default=None,
        help="config directory (default: $COMMWATCH_CONFIG, then /etc/commwatch)",
    )
