"""Load a config directory: parse TOML, validate each file, resolve references across files.

Hostile or broken files are errors, never crashes or hangs: only regular files
are read (a FIFO would block), at most MAX_BYTES; nesting deeper than Python's
recursion allows, control characters (NUL …) in any string and values out of
range are ConfigProblems naming the file and key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from monitor.config.contacts import ContactsConfig
from monitor.config.daemon import DaemonConfig
from monitor.config.errors import ConfigError, ConfigProblem, problems_from_validation
from monitor.config.inventory import InventoryConfig
from monitor.config.model import Config
from monitor.config.plan import PlanConfig
from monitor.config.references import check_references
from monitor.config.sources import FILES, SourceError, read_regular

_ALLOWED_CONTROLS = frozenset("\t\n\r")
ModelT = TypeVar("ModelT", bound=BaseModel)
__all__ = ["FILES", "load_config"]


def load_config(directory: str | Path) -> Config:
    """Load and validate the four files of a config directory, or raise ConfigError."""
    root = Path(directory)
    if not root.is_dir():
        raise ConfigError([ConfigProblem(str(root), "", "config directory not found")])
    problems: list[ConfigProblem] = []
    daemon = _load(root, "commwatch.toml", DaemonConfig, problems)
    plan = _load(root, "plan.toml", PlanConfig, problems)
    contacts = _load(root, "contacts.toml", ContactsConfig, problems)
    inventory = _load(root, "nodes.toml", InventoryConfig, problems)
    if problems or daemon is None or plan is None or contacts is None or inventory is None:
        raise ConfigError(problems)
    config = Config(
        directory=root.resolve(), daemon=daemon, plan=plan, contacts=contacts, inventory=inventory
    )
    problems.extend(check_references(config))
    if problems:
        raise ConfigError(problems)
    return config


def _load(
    root: Path, name: str, model: type[ModelT], problems: list[ConfigProblem]
) -> ModelT | None:
    path = root / name
    data = _read_toml(path, problems)
    if data is None:
        return None
    controls = [ConfigProblem(name, key, message) for key, message in _control_characters(data)]
    if controls:
        problems.extend(controls)
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems.extend(problems_from_validation(name, exc, data))
    except RecursionError:
        problems.append(ConfigProblem(name, "", "nested too deeply"))
    except (ValueError, OverflowError, TypeError) as exc:  # a validator that did not expect it
        problems.append(ConfigProblem(name, "", f"invalid value ({type(exc).__name__})"))
    return None


def _read_toml(path: Path, problems: list[ConfigProblem]) -> dict[str, Any] | None:
    raw = _read_regular(path, problems)
    if raw is None:
        return None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        problems.append(ConfigProblem(path.name, "", f"not UTF-8 at byte {exc.start}"))
    except tomllib.TOMLDecodeError as exc:
        problems.append(ConfigProblem(path.name, "", f"malformed TOML: {exc}"))
    except RecursionError:
        problems.append(ConfigProblem(path.name, "", "malformed TOML: nested too deeply"))
    return None


def _read_regular(path: Path, problems: list[ConfigProblem]) -> bytes | None:
    """The file's bytes; a problem for a missing, special (FIFO, device) or oversized file."""
    try:
        return read_regular(path)
    except SourceError as exc:
        problems.append(ConfigProblem(path.name, "", str(exc)))
        return None


def _control_characters(data: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(key path, message) for every key or string holding a control character (NUL …)."""
    stack: list[tuple[Any, str]] = [(data, path)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, str):
            bad = next((c for c in value if _is_control(c)), None)
            if bad is not None:
                yield where, f"contains the control character U+{ord(bad):04X}"
        elif isinstance(value, dict):
            for key, item in value.items():
                inner = f"{where}.{key}" if where else str(key)
                if any(_is_control(c) for c in str(key)):
                    yield where or "(top)", "a key contains a control character"
                    continue
                stack.append((item, inner))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{index}]") for index, item in enumerate(value))


def _is_control(char: str) -> bool:
    return (char < " " and char not in _ALLOWED_CONTROLS) or char == "\x7f"
