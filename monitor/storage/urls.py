"""Database URLs for people, without SQLAlchemy for a plain SQLite file.

A plain SQLite file URL (`sqlite:///path`, no query, no escapes) is shown as
it is: `monitor.storage.engine.redact_url` renders it unchanged (it holds no
password; tests/monitor/storage/test_urls.py checks). Any other URL is
rendered by SQLAlchemy (imported then).
"""

from __future__ import annotations

from pathlib import Path

PLAIN_SQLITE = "sqlite:///"


def sqlite_file(url: str) -> str | None:
    """The file of a plain SQLite file URL (as SQLAlchemy reads it); None for any other URL."""
    if not url.startswith(PLAIN_SQLITE):
        return None
    database = url[len(PLAIN_SQLITE) :]
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    if any(mark in database for mark in "?%#"):
        return None
    return database


def with_absolute(shown: str, database: str) -> str:
    """A SQLite URL as shown, with its file's absolute path when it is relative."""
    path = Path(database)
    return shown if path.is_absolute() else f"{shown} (= {path.resolve()})"


def shown_url(url: str) -> str:
    """`redact_url(url)`: the URL with any password hidden."""
    if sqlite_file(url) is not None:
        return url
    from monitor.storage.engine import redact_url

    return redact_url(url)


def described_url(url: str) -> str:
    """`describe_database(url)`: password hidden, a relative SQLite path also shown absolute."""
    database = sqlite_file(url)
    if database is not None:
        return with_absolute(url, database)
    from monitor.storage.engine import describe_database

    return describe_database(url)
