"""Database URLs for people, without SQLAlchemy for a plain SQLite file.

A plain SQLite file URL (`sqlite:///path`, no query, no escapes) is shown as
it is: `monitor.storage.engine.redact_url` renders it unchanged (it holds no
password; tests/monitor/storage/test_urls.py checks), so
`monitor.commands.database.shown_url` needs SQLAlchemy only for other URLs.
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
