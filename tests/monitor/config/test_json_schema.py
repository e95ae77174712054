"""monitor.config.json_schema and `commwatch schema`: generated JSON Schemas match the loader's TOML."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest

from monitor.cli import main
from monitor.config.json_schema import CONFIG_MODELS, schema_filename, schemas, stale_schemas
from tests.paths import ROOT

SHIPPED_SCHEMAS = ROOT / "docs" / "schema"
SCHEMAS = schemas()

# ---------------------------------------------------------------------------
# A small JSON Schema validator for the keywords pydantic emits. It refuses any
# keyword it does not know, so a new construct cannot slip through unchecked.
# (Cross-checked against the `jsonschema` package when that is installed.)

ANNOTATIONS = frozenset(
    {
        "$schema",
        "$defs",
        "title",
        "description",
        "default",
        "examples",
        "format",
        "writeOnly",
        "readOnly",
        "discriminator",
        "deprecated",
    }
)
TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def errors(value: Any, schema: dict[str, Any], root: dict[str, Any], path: str = "") -> list[str]:
    """Every violation of `schema` by `value`, as "path: reason"."""
    out: list[str] = []
    for key, rule in schema.items():
        if key in ANNOTATIONS:
            continue
        if key == "$ref":
            assert rule.startswith("#/$defs/"), rule
            out += errors(value, root["$defs"][rule.removeprefix("#/$defs/")], root, path)
        elif key == "type":
            kinds = rule if isinstance(rule, list) else [rule]
            if not any(TYPES[kind](value) for kind in kinds):
                out.append(f"{path}: not {rule}")
        elif key == "enum":
            if value not in rule:
                out.append(f"{path}: {value!r} not in {rule}")
        elif key == "const":
            if value != rule:
                out.append(f"{path}: {value!r} != {rule!r}")
        elif key in ("anyOf", "oneOf"):
            passing = sum(not errors(value, option, root, path) for option in rule)
            if passing == 0 or (key == "oneOf" and passing > 1):
                out.append(f"{path}: {passing} of the {key} options match")
        elif key == "allOf":
            for option in rule:
                out += errors(value, option, root, path)
        elif key == "properties":
            if isinstance(value, dict):
                for name, sub in rule.items():
                    if name in value:
                        out += errors(value[name], sub, root, f"{path}.{name}")
        elif key == "required":
            if isinstance(value, dict):
                out += [f"{path}: missing {name}" for name in rule if name not in value]
        elif key == "patternProperties":
            if isinstance(value, dict):
                for pattern, sub in rule.items():
                    for name in value:
                        if re.search(pattern, name):
                            out += errors(value[name], sub, root, f"{path}.{name}")
        elif key == "propertyNames":
            if isinstance(value, dict):
                for name in value:
                    out += errors(name, rule, root, f"{path}.<{name}>")
        elif key == "additionalProperties":
            if isinstance(value, dict):
                patterns = schema.get("patternProperties", {})
                extra = [
                    k
                    for k in value
                    if k not in schema.get("properties", {})
                    and not any(re.search(p, k) for p in patterns)
                ]
                for name in extra:
                    if rule is False:
                        out.append(f"{path}: unknown key {name}")
                    elif isinstance(rule, dict):
                        out += errors(value[name], rule, root, f"{path}.{name}")
        elif key == "items":
            if isinstance(value, list):
                for index, item in enumerate(value):
                    out += errors(item, rule, root, f"{path}[{index}]")
        elif key in ("minItems", "maxItems", "minLength", "maxLength"):
            if isinstance(value, list | str):
                size = len(value)
                if (key.startswith("min") and size < rule) or (
                    key.startswith("max") and size > rule
                ):
                    out.append(f"{path}: {key} {rule}")
        elif key == "pattern":
            if isinstance(value, str) and not re.search(rule, value):
                out.append(f"{path}: {value!r} does not match {rule}")
        elif key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if TYPES["number"](value):
                ok = {
                    "minimum": value >= rule,
                    "maximum": value <= rule,
                    "exclusiveMinimum": value > rule,
                    "exclusiveMaximum": value < rule,
                }[key]
                if not ok:
                    out.append(f"{path}: {key} {rule}")
        else:
            raise AssertionError(f"the test validator does not know keyword {key!r} ({path})")
    return out


def as_json(value: Any) -> Any:
    """TOML values as an editor's schema checker sees them (dates as ISO strings)."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    return value


def validate(config_file: str, text: str) -> list[str]:
    schema = SCHEMAS[schema_filename(config_file)]
    return errors(as_json(tomllib.loads(text)), schema, schema)


# ---------------------------------------------------------------------------


def test_shipped_schemas_are_up_to_date() -> None:
    """docs/schema/ is regenerated with `commwatch schema --out docs/schema`."""
    assert stale_schemas(SHIPPED_SCHEMAS) == []


@pytest.mark.parametrize("config_file", list(CONFIG_MODELS))
def test_schema_header(config_file: str) -> None:
    schema = SCHEMAS[schema_filename(config_file)]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == config_file
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    jsonschema = pytest.importorskip("jsonschema", reason="optional cross-check")
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("config_file", list(CONFIG_MODELS))
def test_shipped_config_is_valid(config_file: str) -> None:
    text = (ROOT / "config" / config_file).read_text(encoding="utf-8")
    assert validate(config_file, text) == []


def test_jsonschema_agrees_on_shipped_config() -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="optional cross-check")
    for config_file in CONFIG_MODELS:
        schema = SCHEMAS[schema_filename(config_file)]
        data = as_json(tomllib.loads((ROOT / "config" / config_file).read_text(encoding="utf-8")))
        jsonschema.validate(data, schema)
    for config_file, text, valid in CASES:
        schema = SCHEMAS[schema_filename(config_file)]
        problems = list(
            jsonschema.Draft202012Validator(schema).iter_errors(as_json(tomllib.loads(text)))
        )
        assert (problems == []) is valid, (config_file, text, problems)


CASES = [
    ("commwatch.toml", '[probes.icmp]\ninterval = "500ms"\ntimeout = "100ms"', True),
    ("commwatch.toml", '[probes.icmp]\ninterval = "30 sec"', False),
    ("commwatch.toml", '[probes.icmp]\ncount = "3"', False),
    ("commwatch.toml", '[storage]\nurll = "sqlite:///x.db"', False),
    ("commwatch.toml", '[logging]\nformat = "xml"', False),
    ("commwatch.toml", '[snmp.auth.a]\nversion = "2c"\ncommunity = { credential = "c" }', True),
    ("commwatch.toml", '[snmp.auth.a]\nversion = "2c"\ncommunity = { env = "C" }', True),
    (
        "commwatch.toml",
        '[snmp.auth.a]\nversion = "2c"\ncommunity = { env = "C", file = "/f" }',
        False,
    ),
    ("commwatch.toml", '[snmp.auth.a]\nversion = "2c"\ncommunity = { vault = "C" }', False),
    ("commwatch.toml", '[[notifier]]\nname = "m"\ntype = "pigeon"', False),
    ("commwatch.toml", '[snmp.auth."bad name"]\nversion = "2c"\ncommunity = "c"', False),
    ("commwatch.toml", '[[notifier]]\nname = "o"\ntype = "file"\ntimeout = "15s"', True),
    ("nodes.toml", '[[node]]\nid = "a"\nname = "A"\nsystem = "s"\naddress = "127.0.0.1"', True),
    (
        "nodes.toml",
        '[[node]]\nid = "a"\nname = "A"\nsystem = "s"\naddress = "x"\nprobes = ["ping"]',
        False,
    ),
    ("nodes.toml", '[[node]]\nid = "a b"\nname = "A"\nsystem = "s"\naddress = "127.0.0.1"', False),
    ("nodes.toml", '[[system]]\nid = "s"\nname = "S"\nkind = "operator"', False),  # unit missing
    ("plan.toml", '[report]\nreminders = ["20m", "25m"]', True),
    ("plan.toml", "[report]\nreminders = [20]", False),
    ("plan.toml", "[warning]\nauto_issue = [4]", False),
    ("contacts.toml", '[[unit]]\nname = "区工信局"\nkind = "street"', True),
    ("contacts.toml", '[[unit]]\nname = "区工信局"\nkind = "village"', False),
]


@pytest.mark.parametrize(
    ("config_file", "text", "valid"),
    CASES,
    ids=[f"{c[0]}-{i}-{'ok' if c[2] else 'bad'}" for i, c in enumerate(CASES)],
)
def test_schema_accepts_what_the_loader_accepts(config_file: str, text: str, valid: bool) -> None:
    problems = validate(config_file, text)
    assert (problems == []) is valid, problems


def test_duration_defaults_in_config_notation() -> None:
    daemon = SCHEMAS["commwatch.schema.json"]
    interval = daemon["$defs"]["IcmpProbeConfig"]["properties"]["interval"]
    assert interval["default"] == "30s"
    assert "format" not in interval
    plan = SCHEMAS["plan.schema.json"]
    assert plan["$defs"]["ReportConfig"]["properties"]["reminders"]["default"] == ["20m", "25m"]


def test_no_pydantic_secret_schema_left() -> None:
    text = json.dumps(SCHEMAS)
    assert '"format": "password"' not in text
    assert "credential" in text


def test_cli_writes_checks_and_prints(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "schema"
    assert main(["schema", "--check", str(out)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert main(["schema", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(SCHEMAS)
    capsys.readouterr()
    assert main(["schema", "--check", str(out)]) == 0
    (out / "plan.schema.json").write_text("{}", encoding="utf-8")
    assert main(["schema", "--check", str(out)]) == 1
    capsys.readouterr()
    assert main(["schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(json.dumps(SCHEMAS))


def test_cli_out_unwritable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    assert main(["schema", "--out", str(blocker / "sub")]) == 1
    assert "cannot write" in capsys.readouterr().err
