"""Value types shared by the config models: durations, secrets, identifiers."""

from __future__ import annotations

import ipaddress
import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    SecretStr,
    StringConstraints,
)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|m|h|d)\s*$")
_DURATION_HINT = 'a duration is a string such as "20us", "500ms", "30s", "5m", "1h" or "7d"'
_UNIT_SECONDS = {"us": 0.000001, "ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
MAX_DURATION = timedelta(days=3650)  # ten years: anything longer is a typo
MIN_INTERVAL = timedelta(milliseconds=10)  # below this a loop or a timer only burns CPU


class StrictModel(BaseModel):
    """Base for every config model: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


def parse_duration(value: Any) -> timedelta:
    """Parse "500ms", "30s", "5m", "2h", "7d" (or a timedelta) into a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(_DURATION_HINT)
    match = _DURATION.match(value)
    if match is None:
        raise ValueError(_DURATION_HINT)
    number, unit = match.groups()
    seconds = float(number) * _UNIT_SECONDS[unit]
    if not seconds <= MAX_DURATION.total_seconds():  # also catches inf
        raise ValueError(f"a duration is at most {format_duration(MAX_DURATION)}")
    return timedelta(seconds=seconds)


def parse_interval(value: Any) -> timedelta:
    """A duration that paces a loop or bounds a wait: at least MIN_INTERVAL (never 0)."""
    duration = parse_duration(value)
    if duration < MIN_INTERVAL:
        raise ValueError(
            f"must be at least {format_duration(MIN_INTERVAL)} (0 would run a loop without pause)"
        )
    return duration


def format_duration(value: timedelta) -> str:
    """Render a timedelta back in the config's own notation."""
    seconds = value.total_seconds()
    for unit in ("d", "h", "m", "s"):
        size = _UNIT_SECONDS[unit]
        if seconds >= size and (seconds / size).is_integer():
            return f"{int(seconds / size)}{unit}"
    if (seconds * 1000).is_integer():
        return f"{int(seconds * 1000)}ms"
    return f"{round(seconds * 1_000_000)}us"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
]

Interval = Annotated[
    timedelta,
    BeforeValidator(parse_interval),
    PlainSerializer(format_duration, return_type=str),
]

Identifier = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$", min_length=1, max_length=64)
]


def _read_secret(value: Any) -> Any:
    """Accept a literal string, {env = "VAR"}, {file = "/path"} or {credential = "name"}."""
    if not isinstance(value, dict):
        return value
    keys = set(value)
    if len(keys) != 1 or not keys <= {"env", "file", "credential"}:
        raise ValueError("a secret is a string or a table with one key: env, file or credential")
    ((kind, name),) = value.items()
    if not isinstance(name, str) or not name:
        raise ValueError(f"secret {kind} must be a non-empty string")
    if kind == "env":
        if name not in os.environ:
            raise ValueError(f"environment variable {name} is not set")
        return os.environ[name]
    if kind == "credential":
        directory = os.environ.get("CREDENTIALS_DIRECTORY")
        if not directory:
            raise ValueError(
                f"credential {name!r}: $CREDENTIALS_DIRECTORY is not set (systemd LoadCredential=)"
            )
        path = Path(directory) / name
    else:
        path = Path(name)
    try:
        return path.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise ValueError(f"cannot read secret file {path}: {exc.strerror}") from None


Secret = Annotated[SecretStr, BeforeValidator(_read_secret)]


def split_listen(value: str) -> tuple[str, int]:
    """(host, port) of a "HOST:PORT" listen address; ValueError naming the form otherwise."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError('listen is "HOST:PORT", e.g. "127.0.0.1:9810" or "[::1]:9810"')
    host = host.strip("[]")
    ipaddress.ip_address(host)
    number = int(port)
    if not 0 <= number <= 65535:
        raise ValueError(f"port {number} is out of range")
    return host, number


def _valid_listen(value: str) -> str:
    split_listen(value)
    return value


ListenAddress = Annotated[str, AfterValidator(_valid_listen)]


class Listener(StrictModel):
    """A section that listens on "HOST:PORT" (metrics, console, traps, receiver)."""

    listen: ListenAddress

    @property
    def host(self) -> str:
        """The address to bind."""
        return split_listen(self.listen)[0]

    @property
    def port(self) -> int:
        """The port to bind (0: any free port)."""
        return split_listen(self.listen)[1]
