"""Logging fit for journald: one line per event, key=value (logfmt) or JSON, no secrets.

Call `setup_logging(format, level)` once at start-up (`commwatch run` does).
Log with the standard library and pass structured values as *fields*::

    log = logging.getLogger(__name__)
    log.info("probe round done", extra=kv(probe="icmp", nodes=12))
    log.info("probe round done", extra={"fields": {"probe": "icmp", "nodes": 12}})  # the same

which prints one line (kv format, on a terminal; wrapped here)::

    ts=2026-05-09T08:00:00.000+08:00 level=info msg="probe round done" probe=icmp nodes=12
      logger=monitor.runtime.scheduler

or as JSON::

    {"ts": "2026-05-09T08:00:00.000+08:00", "level": "info", "msg": "probe round done",
      "probe": "icmp", "nodes": 12, "logger": "monitor.runtime.scheduler"}

When stderr is connected to the journal ($JOURNAL_STREAM names stderr's
device:inode) each line starts with its syslog priority as `<N>` (sd-daemon(3):
debug 7, info 6, warning 4, error 3, critical 2) and carries no timestamp —
the journal keeps its own. A traceback stays on the same line (`exc="…"`, with
escaped newlines), so an event is always exactly one journal entry.

Secrets never reach the output: a field whose key looks like a secret
(password, passwd, passphrase, community, auth_key, priv_key, secret, token,
api_key) prints as `<secret>` whatever its value, and a pydantic
SecretStr/SecretBytes (or the plain config's Secret) prints as `<secret>`
wherever it appears — in fields, nested in them, or as a %-argument of the
message. Every line is also scrubbed as text, whoever logged
it (a library's message, a traceback): URL passwords and secret query values
are masked (`monitor.config.masking.mask_text`), and so is every secret of the
running config (`remember_secrets`, called by the daemon at start and reload),
as is and URL-encoded.

Third-party libraries log at WARNING and above only, whatever the level: httpx
logs every request URL at INFO, httpcore headers at DEBUG, pysnmp and asyncio
whole tracebacks for a malformed datagram.

Field keys that clash with the line's own keys (ts, level, msg, logger, exc)
are printed with a leading underscore.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import sys
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta, tzinfo
from enum import Enum
from pathlib import PurePath
from typing import Any, Literal, TextIO

from monitor.config.masking import MIN_SCRUBBED, mask_text, printed_forms
from monitor.config.plain import is_secret

__all__ = [
    "REDACTED",
    "JsonFormatter",
    "KvFormatter",
    "RedactingFilter",
    "is_journal",
    "kv",
    "remember_secrets",
    "setup_logging",
    "syslog_priority",
]

REDACTED = "<secret>"
RESERVED = ("ts", "level", "msg", "logger", "exc")
SECRET_KEY = re.compile(
    r"password|passwd|passphrase|community|auth_?key|priv_?key|secret|token|api_?key",
    re.IGNORECASE,
)
_KEY_CHARS = re.compile(r"[^\w.\-]")
# apscheduler: an INFO line per job run; httpx/httpcore: request URLs and headers (credentials);
# pysnmp/asyncio: tracebacks per malformed datagram; aiosmtplib: the SMTP dialogue.
_QUIET_LIBRARIES = ("apscheduler", "httpx", "httpcore", "pysnmp", "asyncio", "aiosmtplib")

_LEVEL_NAMES = {7: "debug", 6: "info", 4: "warning", 3: "error", 2: "critical"}

LogFormat = Literal["kv", "json"]


def kv(**fields: Any) -> dict[str, dict[str, Any]]:
    """Structured fields for a log call: `log.info("msg", extra=kv(node="a", rtt_ms=1.2))`."""
    return {"fields": fields}


def syslog_priority(levelno: int) -> int:
    """The syslog priority of a logging level (sd-daemon(3) `<N>` prefixes)."""
    if levelno >= logging.CRITICAL:
        return 2
    if levelno >= logging.ERROR:
        return 3
    if levelno >= logging.WARNING:
        return 4
    if levelno >= logging.INFO:
        return 6
    return 7


def is_journal(stream: TextIO) -> bool:
    """True when `stream` is the journal: $JOURNAL_STREAM is its "device:inode"."""
    expected = os.environ.get("JOURNAL_STREAM", "")
    if not expected:
        return False
    try:
        info = os.fstat(stream.fileno())
    except (AttributeError, OSError, ValueError):  # no fileno (StringIO), closed stream
        return False
    return expected == f"{info.st_dev}:{info.st_ino}"


def is_secret_key(key: str) -> bool:
    """Whether a field named `key` holds a secret (its value is never printed)."""
    return SECRET_KEY.search(key) is not None


def redact(value: Any) -> Any:
    """Replace SecretStr/SecretBytes (also inside dicts, lists, tuples) and secret-named keys."""
    if is_secret(value):
        return REDACTED
    if isinstance(value, Mapping):
        return {k: REDACTED if is_secret_key(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(item) for item in value]
    return value


class Scrubber:
    """Masks URL passwords and the remembered secrets in any text."""

    def __init__(self) -> None:
        self._forms: tuple[str, ...] = ()

    def remember(self, secrets: Iterable[str]) -> None:
        """Replace the set of secrets to mask (the running config's)."""
        forms = {f for s in secrets if len(s) >= MIN_SCRUBBED for f in printed_forms(s)}
        self._forms = tuple(sorted(forms, key=len, reverse=True))

    def __call__(self, value: Any) -> Any:
        """A plain (JSON-native) value with every string scrubbed."""
        if isinstance(value, str):
            text = mask_text(value)
            for form in self._forms:
                text = text.replace(form, REDACTED)
            return text
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self(item) for item in value]
        return value


def remember_secrets(secrets: Iterable[str]) -> None:
    """Tell the handlers set up by setup_logging which secrets to mask from now on."""
    for handler in logging.getLogger().handlers:
        formatter = handler.formatter
        if isinstance(formatter, _EventFormatter):
            formatter.scrub.remember(secrets)


class RedactingFilter(logging.Filter):
    """Redacts a record's fields and %-arguments before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        fields = record.__dict__.get("fields")
        if isinstance(fields, Mapping):
            record.fields = redact(fields)
        if isinstance(record.args, Mapping):
            record.args = redact(record.args)
        elif isinstance(record.args, tuple):
            record.args = tuple(redact(arg) for arg in record.args)
        return True


def _plain(value: Any) -> Any:
    """A JSON-native version of a field value (secrets already redacted, but again here)."""
    if is_secret(value):
        return REDACTED
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): REDACTED if is_secret_key(str(k)) else _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return str(value)


def _key(key: str) -> str:
    key = _KEY_CHARS.sub("_", key) or "_"
    return f"_{key}" if key in RESERVED else key


def _kv_value(value: Any) -> str:
    """logfmt: bare when safe, else a double-quoted string with JSON escapes."""
    plain = _plain(value)
    if plain is None:
        return "null"
    if isinstance(plain, bool):
        return "true" if plain else "false"
    if isinstance(plain, int | float):
        return repr(plain)
    text = plain if isinstance(plain, str) else json.dumps(plain, ensure_ascii=False)
    if text and not any(c.isspace() or c in '"=\\' or not c.isprintable() for c in text):
        return text
    return json.dumps(text, ensure_ascii=False)


class _EventFormatter(logging.Formatter):
    """Shared parts: the event's items in order, the journal prefix, timestamps."""

    def __init__(self, journal: bool = False, tz: tzinfo | None = None) -> None:
        super().__init__()
        self.journal = journal
        self.tz = tz
        self.scrub = Scrubber()

    def plain_items(self, record: logging.LogRecord) -> list[tuple[str, Any]]:
        """items() as JSON-native values, scrubbed."""
        return [(key, self.scrub(_plain(value))) for key, value in self.items(record)]

    def items(self, record: logging.LogRecord) -> list[tuple[str, Any]]:
        """(key, value) pairs of one event: ts, level, msg, fields…, logger, exc."""
        out: list[tuple[str, Any]] = []
        if not self.journal:
            stamp = datetime.fromtimestamp(record.created, self.tz)
            if self.tz is None:
                stamp = stamp.astimezone()
            out.append(("ts", stamp.isoformat(timespec="milliseconds")))
        out.append(("level", _LEVEL_NAMES[syslog_priority(record.levelno)]))
        out.append(("msg", record.getMessage()))
        fields = record.__dict__.get("fields")
        if isinstance(fields, Mapping):
            for key, value in fields.items():
                name = str(key)
                out.append((_key(name), REDACTED if is_secret_key(name) else value))
        out.append(("logger", record.name))
        trace = self._trace(record)
        if trace:
            out.append(("exc", trace))
        return out

    def _trace(self, record: logging.LogRecord) -> str:
        parts: list[str] = []
        if record.exc_info and record.exc_info[0] is not None:
            parts.append(self.formatException(record.exc_info))
        elif record.exc_text:
            parts.append(record.exc_text)
        if record.stack_info:
            parts.append(self.formatStack(record.stack_info))
        return "\n".join(parts)

    def prefix(self, record: logging.LogRecord) -> str:
        """`<N>` in journal mode, else nothing."""
        return f"<{syslog_priority(record.levelno)}>" if self.journal else ""


class KvFormatter(_EventFormatter):
    """`level=info msg="…" key=value … logger=…` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        """Render one record."""
        body = " ".join(f"{key}={_kv_value(value)}" for key, value in self.plain_items(record))
        return self.prefix(record) + body


class JsonFormatter(_EventFormatter):
    """One JSON object per line; fields are top-level keys."""

    def format(self, record: logging.LogRecord) -> str:
        """Render one record."""
        event = dict(self.plain_items(record))
        return self.prefix(record) + json.dumps(event, ensure_ascii=False)


def _level(level: str | int) -> int:
    if isinstance(level, int):
        return level
    number = logging.getLevelName(level.upper())
    if not isinstance(number, int):
        raise ValueError(f"unknown log level {level!r}")
    return number


def setup_logging(
    format: LogFormat = "kv",
    level: str | int = "info",
    *,
    stream: TextIO | None = None,
) -> logging.Handler:
    """Route every log record to one line on stderr (or `stream`); returns the handler.

    Replaces the handlers of the root logger, so calling it again (e.g. after a
    reload that changed [logging]) does not duplicate lines. APScheduler's
    per-job INFO lines are kept below the threshold unless the level is debug.
    """
    if format not in ("kv", "json"):
        raise ValueError(f"unknown log format {format!r}: use kv or json")
    number = _level(level)
    target = stream if stream is not None else sys.stderr
    journal = is_journal(target)
    handler = logging.StreamHandler(target)
    handler.setFormatter(JsonFormatter(journal) if format == "json" else KvFormatter(journal))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(number)
    for name in _QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(max(number, logging.WARNING))
    logging.captureWarnings(True)
    return handler
