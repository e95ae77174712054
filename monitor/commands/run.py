"""`commwatch run`: the daemon."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
from typing import TYPE_CHECKING

from monitor.commands.common import load_or_report
from monitor.commands.support import add_config_option

if TYPE_CHECKING:
    from monitor.config import Config

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the run command."""
    parser = subparsers.add_parser("run", help="run the monitoring daemon")
    add_config_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Validate the config (exit 2 on error), then run until SIGTERM/SIGINT (exit 0)."""
    from monitor.runtime.memory import pin_mmap_threshold

    pin_mmap_threshold()  # before the config's large blocks: freed ones go back at once
    # parsed, validated and recorded for `status` in a child: the garbage stays there
    config = load_or_report(args.config, record=True, in_child=True)
    if config is None:
        return 2
    from monitor.config.masking import secret_values
    from monitor.runtime.logs import remember_secrets, setup_logging

    setup_logging(config.daemon.logging.format, config.daemon.logging.level)
    remember_secrets(secret_values(config.daemon))
    gc.freeze()  # imports and config are long-lived: keep full collections off the event loop
    from sqlalchemy.exc import SQLAlchemyError

    from monitor.storage.engine import describe_database
    from monitor.storage.migrations import SchemaError

    try:
        return asyncio.run(_run(config))
    except (SchemaError, OSError) as exc:
        return _cannot_run(str(exc))
    except SQLAlchemyError as exc:  # the database cannot be reached or read at start
        cause = getattr(exc, "orig", None) or exc
        return _cannot_run(f"database {describe_database(config.daemon.storage.url)}: {cause}")


def _cannot_run(why: str) -> int:
    """One error line in the log and on stderr; exit 1."""
    log.error("commwatch cannot run", extra={"fields": {"error": why}})
    print(f"error: {why}", file=sys.stderr)
    return 1


async def _run(config: Config) -> int:
    from monitor.app import Daemon

    return await Daemon(config).run()
