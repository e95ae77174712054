"""Opening the configured database from a command: never by accident, never behind.

Only `run` and `db upgrade` may create a database. Every other command refuses
a database that does not exist, is empty, or is not at the current schema
revision, with one line naming the database and the command to run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor.commands.common import CommandError
from monitor.commands.support import EXIT_RUNTIME

if TYPE_CHECKING:  # imported when a command runs, not when the parser is built
    from sqlalchemy import Engine

    from monitor.config import Config


def missing_message(config: Config) -> str:
    """One line: there is no database here yet, and how to make one."""
    from monitor.storage.engine import describe_database

    url = describe_database(config.daemon.storage.url)
    where = config.directory
    return (
        f"no database at {url} (a new database; commands other than `run` and `db upgrade` "
        f"never create one): run `commwatch db upgrade -c {where}` or `commwatch run -c {where}`"
    )


def open_current(config: Config) -> Engine:
    """An engine on the configured database at the current schema, or CommandError (exit 1)."""
    from sqlalchemy.exc import SQLAlchemyError

    from monitor.storage.engine import database_missing, open_engine, redact_url
    from monitor.storage.migrations import SchemaError, require_current

    url = config.daemon.storage.url
    if database_missing(url):
        raise CommandError(missing_message(config), EXIT_RUNTIME)
    engine = open_engine(url, config.daemon.storage.busy_timeout.total_seconds())
    try:
        require_current(engine, str(config.directory))
    except SchemaError as exc:
        engine.dispose()
        raise CommandError(str(exc), EXIT_RUNTIME) from exc
    except SQLAlchemyError as exc:
        engine.dispose()
        cause = getattr(exc, "orig", None) or exc
        raise CommandError(f"database {redact_url(url)}: {cause}", EXIT_RUNTIME) from exc
    return engine
