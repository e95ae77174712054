"""`commwatch db upgrade` and `commwatch db current`: the versioned schema (Alembic).

`db upgrade` brings the configured database to this commwatch's schema
revision (creating it when new, adopting a 0.1.0 database) and says from which
revision to which; `db current` prints the revision, "(head)" when current.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from monitor.commands.common import CommandError, load_or_report
from monitor.commands.support import EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, add_config_option

if TYPE_CHECKING:
    from monitor.config import Config


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `db upgrade` and `db current`."""
    parser = subparsers.add_parser("db", help="the database schema: upgrade, current revision")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    upgrade = actions.add_parser(
        "upgrade", help="bring the database to this version's schema (creates a new one)"
    )
    add_config_option(upgrade)
    upgrade.set_defaults(handler=_upgrade)
    current = actions.add_parser("current", help="print the database's schema revision")
    add_config_option(current)
    current.set_defaults(handler=_current)


def _upgrade(args: argparse.Namespace) -> int:
    return _guarded(args, _do_upgrade)


def _current(args: argparse.Namespace) -> int:
    return _guarded(args, _do_current)


def _guarded(args: argparse.Namespace, body: object) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from monitor.storage.engine import redact_url
    from monitor.storage.migrations import SchemaError

    config = load_or_report(args.config, record=True)
    if config is None:
        return EXIT_USAGE
    assert callable(body)
    try:
        return int(body(config))
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except SchemaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_RUNTIME
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        url = redact_url(config.daemon.storage.url)
        print(f"error: database {url}: {cause}", file=sys.stderr)
        return EXIT_RUNTIME


def _do_upgrade(config: Config) -> int:
    import logging

    from monitor.storage.engine import describe_database, open_engine
    from monitor.storage.migrations import upgrade

    log = logging.getLogger("monitor.commands.db")
    url = describe_database(config.daemon.storage.url)
    engine = open_engine(
        config.daemon.storage.url, config.daemon.storage.busy_timeout.total_seconds()
    )
    try:
        before, after = upgrade(engine)
    finally:
        engine.dispose()
    if before.revision == after.revision:
        print(f"database {url}: already at schema revision {after.label} (head); nothing to do")
        return EXIT_OK
    if before.empty:
        print(f"database {url}: new database, schema created: {before.label} → {after.label}")
    else:
        print(f"database {url}: upgraded schema {before.label} → {after.label}")
    log.info("database upgraded", extra={"fields": {"from": before.label, "to": after.label}})
    return EXIT_OK


def _do_current(config: Config) -> int:
    from monitor.commands.database import missing_message
    from monitor.storage.engine import database_missing, describe_database, open_engine
    from monitor.storage.migrations import HEAD, inspect_schema

    if database_missing(config.daemon.storage.url):
        raise CommandError(missing_message(config), EXIT_RUNTIME)
    engine = open_engine(
        config.daemon.storage.url, config.daemon.storage.busy_timeout.total_seconds()
    )
    try:
        state = inspect_schema(engine)
    finally:
        engine.dispose()
    if state.current:
        print(f"{state.label} (head)")
        return EXIT_OK
    print(
        f"{state.label} (behind: head is {HEAD}; run `commwatch db upgrade -c {config.directory}`)"
    )
    if state.empty:
        url = describe_database(config.daemon.storage.url)
        print(f"database {url} is empty (a new database)", file=sys.stderr)
    return EXIT_OK
