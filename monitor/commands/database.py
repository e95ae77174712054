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
    from monitor.storage.reads import Reader


def missing_message(config: Config) -> str:
    """One line: there is no database here yet, and how to make one."""
    url = described_url(config.daemon.storage.url)
    where = config.directory
    return (
        f"no database at {url} (a new database; commands other than `run` and `db upgrade` "
        f"never create one): run `commwatch db upgrade -c {where}` or `commwatch run -c {where}`"
    )


def shown_url(url: str) -> str:
    """`redact_url(url)`: the URL with any password hidden."""
    from monitor.storage.urls import sqlite_file

    if sqlite_file(url) is not None:
        return url
    from monitor.storage.engine import redact_url

    return redact_url(url)


def described_url(url: str) -> str:
    """`describe_database(url)`: password hidden, a relative SQLite path also shown absolute."""
    from monitor.storage.urls import sqlite_file, with_absolute

    database = sqlite_file(url)
    if database is not None:
        return with_absolute(url, database)
    from monitor.storage.engine import describe_database

    return describe_database(url)


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


def open_reader(config: Config) -> Reader:
    """A reader of the configured database at the current schema, or CommandError (exit 1).

    A plain SQLite file is read with the stdlib sqlite3, read-only, without
    SQLAlchemy (`commwatch status` starts faster); any other database through
    `open_current`. Both refuse what `open_current` refuses, in its words.
    """
    from monitor.storage.urls import sqlite_file

    url = config.daemon.storage.url
    database = sqlite_file(url)
    if database is None:
        from monitor.storage.engine_reads import EngineReader

        return EngineReader(open_current(config), own_engine=True)
    from pathlib import Path

    from monitor.storage.revisions import behind_message
    from monitor.storage.sqlite_reads import SqliteReader

    if not Path(database).exists():
        raise CommandError(missing_message(config), EXIT_RUNTIME)
    reader: SqliteReader | None = None
    try:
        reader = SqliteReader(database, config.daemon.storage.busy_timeout.total_seconds())
        state = reader.schema()
    except SqliteReader.errors as exc:
        if reader is not None:
            reader.close()
        raise CommandError(f"database {shown_url(url)}: {exc}", EXIT_RUNTIME) from exc
    if not state.current:
        reader.close()
        message = behind_message(described_url(url), state, str(config.directory))
        raise CommandError(message, EXIT_RUNTIME)
    return reader
