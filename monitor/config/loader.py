"""Load a config directory: parse TOML, validate each file, resolve references across files."""

from __future__ import annotations

import tomllib
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

FILES = ("commwatch.toml", "plan.toml", "contacts.toml", "nodes.toml")
ModelT = TypeVar("ModelT", bound=BaseModel)


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
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems.extend(problems_from_validation(name, exc, data))
        return None


def _read_toml(path: Path, problems: list[ConfigProblem]) -> dict[str, Any] | None:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        problems.append(ConfigProblem(path.name, "", f"file not found in {path.parent}"))
        return None
    except OSError as exc:
        problems.append(ConfigProblem(path.name, "", f"cannot read: {exc.strerror}"))
        return None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        problems.append(ConfigProblem(path.name, "", f"not UTF-8 at byte {exc.start}"))
    except tomllib.TOMLDecodeError as exc:
        problems.append(ConfigProblem(path.name, "", f"malformed TOML: {exc}"))
    return None
