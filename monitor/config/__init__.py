"""Configuration: four TOML files in one directory, validated into frozen models."""

from monitor.config.errors import ConfigError, ConfigProblem
from monitor.config.loader import FILES, load_config
from monitor.config.model import Config

__all__ = ["FILES", "Config", "ConfigError", "ConfigProblem", "load_config"]
