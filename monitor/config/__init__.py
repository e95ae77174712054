"""Configuration: four TOML files in one directory, validated into frozen models.

The names load lazily (PEP 562): `from monitor.config import Config` imports no
pydantic, so a command reading a cached, already validated config
(`monitor.config.cache`) starts without building the models.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitor.config.errors import ConfigError, ConfigProblem
    from monitor.config.loader import load_config
    from monitor.config.model import Config
    from monitor.config.sources import FILES

__all__ = ["FILES", "Config", "ConfigError", "ConfigProblem", "load_config"]

_HOMES = {
    "FILES": "monitor.config.sources",
    "Config": "monitor.config.model",
    "ConfigError": "monitor.config.errors",
    "ConfigProblem": "monitor.config.errors",
    "load_config": "monitor.config.loader",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
