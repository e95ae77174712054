"""JSON Schemas of the four config files, generated from the pydantic models.

Editors use them to complete keys and flag mistakes while an operator types
(Even Better TOML / taplo, JetBrains, any JSON-Schema-aware TOML plugin). The
config loader stays the authority: cross-file references (a node's system, a
unit's name) and the models' own validators are only checked by
`commwatch check-config`.

Two things differ from pydantic's default output, to describe the TOML that
the loader really accepts:
- durations are strings such as "500ms", "30s", "5m" (not ISO 8601), and their
  defaults are written that way;
- a secret is a string or a table with one key, env, file or credential;
- a table keyed by identifiers ([snmp.auth.NAME]) rejects names that are not.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from monitor.config.contacts import ContactsConfig
from monitor.config.daemon import DaemonConfig
from monitor.config.inventory import InventoryConfig
from monitor.config.plan import PlanConfig
from monitor.config.types import format_duration

__all__ = [
    "CONFIG_MODELS",
    "config_schema",
    "render",
    "schema_filename",
    "schemas",
    "stale_schemas",
    "write_schemas",
]

DIALECT = "https://json-schema.org/draft/2020-12/schema"
CONFIG_MODELS: dict[str, type[BaseModel]] = {
    "commwatch.toml": DaemonConfig,
    "plan.toml": PlanConfig,
    "contacts.toml": ContactsConfig,
    "nodes.toml": InventoryConfig,
}
ABOUT = {
    "commwatch.toml": (
        "the daemon: storage, metrics, logging, probes, node-state thresholds, "
        "SNMP credentials, notification channels"
    ),
    "plan.toml": (
        "the emergency plan's thresholds: affected systems, 情形1–3, spread, "
        "warnings, the report clock, guarantee periods"
    ),
    "contacts.toml": "the duty contact list: HQ, member units, streets, people, working groups",
    "nodes.toml": "the inventory: systems, nodes, maintenance windows",
}
DURATION_PATTERN = r"^\s*\d+(\.\d+)?\s*(us|ms|s|m|h|d)\s*$"
DURATION_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": DURATION_PATTERN,
    "description": 'A duration: a number and a unit, e.g. "500ms", "30s", "5m", "2h", "7d".',
    "examples": ["500ms", "30s", "5m"],
}
_PYDANTIC_SECRET = {"type": "string", "format": "password", "writeOnly": True}
SECRET_SCHEMA: dict[str, Any] = {
    "description": (
        "A secret (never printed): the value itself, or where to read it from: "
        '{ env = "VAR" }, { file = "/path" } or { credential = "name" } '
        "(systemd LoadCredential=, read from $CREDENTIALS_DIRECTORY)."
    ),
    "anyOf": [
        {"type": "string", "writeOnly": True},
        *(
            {
                "type": "object",
                "properties": {key: {"type": "string", "minLength": 1}},
                "required": [key],
                "additionalProperties": False,
            }
            for key in ("env", "file", "credential")
        ),
    ],
}


def _durations_as_text(value: Any) -> Any:
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, list | tuple):
        return [_durations_as_text(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _durations_as_text(item) for key, item in value.items()}
    return value


class ConfigJsonSchema(GenerateJsonSchema):
    """pydantic's generator, speaking the config's duration notation."""

    def timedelta_schema(self, schema: core_schema.TimedeltaSchema) -> JsonSchemaValue:
        """Durations are "30s"-style strings in the config files."""
        return dict(DURATION_SCHEMA)

    def encode_default(self, dft: Any) -> Any:
        """Write timedelta defaults as the config would ("30s", not "PT30S")."""
        return super().encode_default(_durations_as_text(dft))


def _with_secrets(node: Any) -> Any:
    """Replace pydantic's SecretStr schema with the forms the loader reads."""
    if isinstance(node, dict):
        if {k: v for k, v in node.items() if k in _PYDANTIC_SECRET} == _PYDANTIC_SECRET:
            rest = {k: v for k, v in node.items() if k not in _PYDANTIC_SECRET}
            return {**SECRET_SCHEMA, **rest}
        return {key: _with_secrets(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_with_secrets(item) for item in node]
    return node


def _constrained_keys(node: Any) -> Any:
    """dict[Identifier, X]: pydantic lets keys that miss the pattern through; close that.

    `{"patternProperties": {P: S}, "propertyNames": {…}}` becomes
    `{"additionalProperties": S, "propertyNames": {…, "pattern": P}}`.
    """
    if isinstance(node, list):
        return [_constrained_keys(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _constrained_keys(value) for key, value in node.items()}
    patterns = node.get("patternProperties")
    if isinstance(patterns, dict) and len(patterns) == 1 and "additionalProperties" not in node:
        ((pattern, value_schema),) = patterns.items()
        del node["patternProperties"]
        node["propertyNames"] = {**node.get("propertyNames", {}), "pattern": pattern}
        node["additionalProperties"] = value_schema
    return node


def schema_filename(config_file: str) -> str:
    """The schema file's name for a config file: commwatch.toml → commwatch.schema.json."""
    return config_file.removesuffix(".toml") + ".schema.json"


def config_schema(config_file: str) -> dict[str, Any]:
    """The JSON Schema of one config file, e.g. "nodes.toml"."""
    model = CONFIG_MODELS[config_file]
    generated = model.model_json_schema(mode="validation", schema_generator=ConfigJsonSchema)
    generated = _constrained_keys(_with_secrets(generated))
    header: dict[str, Any] = {
        "$schema": DIALECT,
        "title": config_file,
        "description": (
            f"commwatch {config_file}: {ABOUT[config_file]}. Generated from "
            f"{model.__module__}.{model.__name__} by `commwatch schema`; "
            "cross-file references are checked by `commwatch check-config`."
        ),
    }
    body = {k: v for k, v in generated.items() if k not in ("title", "description")}
    return {**header, **body}


def schemas() -> dict[str, dict[str, Any]]:
    """Schema file name → schema, for the four config files."""
    return {schema_filename(name): config_schema(name) for name in CONFIG_MODELS}


def render(schema: Mapping[str, Any]) -> str:
    """Stable text of a schema file (UTF-8, two-space indent, trailing newline)."""
    return json.dumps(schema, ensure_ascii=False, indent=2) + "\n"


def write_schemas(directory: Path) -> list[Path]:
    """Write the four schema files into `directory` (created if needed)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in schemas().items():
        path = directory / name
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


def stale_schemas(directory: Path) -> list[str]:
    """Names of schema files in `directory` that are missing or differ from the models."""
    stale = []
    for name, schema in schemas().items():
        path = directory / name
        try:
            current = path.read_text(encoding="utf-8")
        except OSError:
            current = None
        if current != render(schema):
            stale.append(name)
    return stale
