"""Helpers shared by commands: loading config with clean errors."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pydantic and the models load when a command runs, not for its --help
    from monitor.config import Config


class CommandError(Exception):
    """A command failed; `code` is the exit status (2 bad input, 1 runtime)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def load_or_report(directory: str) -> Config | None:
    """Load the config, or print every problem to stderr and return None."""
    from monitor.config import ConfigError, load_config

    try:
        return load_config(directory)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return None
    except (RecursionError, OverflowError, ValueError, OSError) as exc:  # a bug, not a crash
        print(f"error: {directory}: cannot load the config ({type(exc).__name__})", file=sys.stderr)
        return None
