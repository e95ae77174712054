"""ConfigError: every problem names the file, the key path and the bad value."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from monitor.config.masking import REDACTED, looks_secret, mask_text

if TYPE_CHECKING:  # the daemon reports a child's problems without pydantic
    from pydantic import ValidationError

_ABSENT = object()
# an unknown key: in a model (extra="forbid") and in a dataclass (NodeConfig)
_UNKNOWN_KEY = frozenset({"extra_forbidden", "unexpected_keyword_argument"})


@dataclass(frozen=True)
class ConfigProblem:
    """One error in one file."""

    file: str
    path: str
    message: str
    value: Any = _ABSENT

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        if self.value is _ABSENT:
            return f"{where}: {self.message}"
        return f"{where}: {self.message} (got {_show(self.value)})"


class ConfigError(Exception):
    """The configuration is invalid; `problems` lists every error found."""

    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def _show(value: Any) -> str:
    text = mask_text(repr(value))
    if isinstance(value, dict | list) or (isinstance(value, str) and len(value) > 80):
        return text if len(text) <= 80 else text[:77] + "..."
    return text


def key_path(loc: Iterable[int | str], data: Any) -> str:
    """Render a pydantic location as TOML: node[2](id=cmcc-1).system."""
    parts: list[str] = []
    current = data
    for item in loc:
        if isinstance(item, int):
            label = f"[{item}]"
            if isinstance(current, list) and 0 <= item < len(current):
                current = current[item]
                if isinstance(current, dict):
                    ident = current.get("id", current.get("name"))
                    if isinstance(ident, str):
                        label += f"({ident})"
            else:
                current = None
            parts.append(label)
            continue
        if isinstance(current, dict) and current.get("type") == item:  # a tagged-union member
            continue
        parts.append(("." if parts else "") + str(item))
        current = current.get(item) if isinstance(current, dict) else None
    return "".join(parts)


def problems_from_validation(file: str, exc: ValidationError, data: Any) -> list[ConfigProblem]:
    """Translate pydantic's errors into ConfigProblems with TOML key paths."""
    problems = []
    for error in exc.errors(include_url=False):
        loc = [p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        message = error["msg"].removeprefix("Value error, ")
        unknown = error["type"] in _UNKNOWN_KEY
        if unknown:
            message = "unknown key (a typo?)"
        if error["type"] == "missing":
            problems.append(ConfigProblem(file, key_path(loc, data), "required key is missing"))
            continue
        value = _secret_safe(loc, error.get("input", _ABSENT))
        unknown_near_secrets = unknown and _bears_secrets(file, loc)
        if unknown_near_secrets or isinstance(value, dict):
            # an unknown key there may be a misspelt secret (`pasword = "…"`): never echo it
            value = _ABSENT  # a whole table: the path already says which
        problems.append(ConfigProblem(file, key_path(loc, data), message, value))
    return problems


# Sections that hold credentials: an unknown key's value there is never printed.
SECRET_SECTIONS = {
    "commwatch.toml": frozenset(
        {"storage", "snmp", "notifier", "traps", "console", "cloud", "receiver"}
    )
}
_SECRET_KEYS = {"secret", "token", "dlr_url"}  # besides every key that looks_secret()
_WEBHOOK_TYPES = {"dingtalk", "wecom", "feishu"}  # their `url` carries the access token


def _bears_secrets(file: str, loc: Sequence[int | str]) -> bool:
    if file not in SECRET_SECTIONS or not loc:
        return False
    return len(loc) == 1 or str(loc[0]) in SECRET_SECTIONS[file]


def _secret_safe(loc: Sequence[int | str], value: Any) -> Any:
    if any(isinstance(p, str) and (p in _SECRET_KEYS or looks_secret(p)) for p in loc):
        return REDACTED
    if "url" in loc and _WEBHOOK_TYPES & {p for p in loc if isinstance(p, str)}:
        return REDACTED
    return value
