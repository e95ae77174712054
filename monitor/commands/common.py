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


def load_or_report(
    directory: str, *, record: bool = False, in_child: bool = False
) -> Config | None:
    """Load the config, or print every problem to stderr and return None.

    With `record`, a config that passed is written to the validated-config
    cache (`monitor.config.cache`) for `load_cached_or_report`. With
    `in_child`, it is parsed, validated (and recorded) in a child process (the
    daemon: `monitor.config.load_child`); the same problems are printed.
    """
    from monitor.config.errors import ConfigError

    try:
        if in_child:  # in plain form: pydantic is never imported (the daemon)
            from monitor.config.load_child import load_in_child

            config = load_in_child(directory, record=record)
            record = False  # done there
        else:
            from monitor.config.loader import load_config

            config = load_config(directory)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return None
    except (RecursionError, OverflowError, ValueError, OSError) as exc:  # a bug, not a crash
        print(f"error: {directory}: cannot load the config ({type(exc).__name__})", file=sys.stderr)
        return None
    if record:
        from monitor.config.cache import record as record_cache

        record_cache(config)
    return config


def load_cached_or_report(directory: str) -> Config | None:
    """The cached config when it is valid for the files as they are now, else `load_or_report`.

    For commands that only read the config and must start fast (`status`): the
    cached config needs no pydantic; an edited file is validated (and its errors
    reported) as by `load_or_report`.
    """
    from monitor.config.cache import load_cached

    return load_cached(directory) or load_or_report(directory)
