"""A validated Config as JSON and back, without pydantic: what the config cache stores.

`dump(config)` turns every model into its fields (and the values of its own
properties, such as `NodeConfig.parents`: properties of config models must be
pure functions of their fields), keeping Python types by tags
(tuple, dict, timedelta, date, time, datetime, Path, enum, zone). `load(data,
directory)` gives back a `Config` whose parts are `monitor.config.plain.Plain`
objects answering the same attributes with equal values, so code that reads a
config (the plan's scorer, the clocks, `status`) gives the same answers on
either. `to_plain(config)` makes that form directly, secrets kept (as `Secret`):
what the daemon runs on (`monitor.config.load_child`).

Secrets are never written: a SecretStr becomes `WITHHELD`, which has no value.
A value of a type not listed here makes `dump` raise SnapshotError (then no
cache is written and the config is validated as usual).
"""

from __future__ import annotations

import enum
import importlib
from datetime import date, datetime, time, timedelta
from pathlib import Path, PurePath
from typing import Any
from zoneinfo import ZoneInfo

from monitor.config.model import Config
from monitor.config.plain import (
    WITHHELD,
    Plain,
    Secret,
    computed_of,
    fields_of,
    is_secret,
    kind_of,
    plain_class,
)

PARTS = ("daemon", "plan", "contacts", "inventory")
_ENUM_HOMES = ("monitor.", "dispatch.", "probes.")  # enums are loaded only from these packages


class SnapshotError(Exception):
    """The config holds a value the snapshot cannot keep exactly (or the data is not one)."""


def dump(config: Config) -> dict[str, Any]:
    """The config's four parts as JSON-able data (secrets withheld)."""
    return {part: _encode(getattr(config, part)) for part in PARTS}


def load(data: Any, directory: Path) -> Config:
    """A Config from `dump`'s data; SnapshotError when `data` is not such data."""
    try:
        parts = {part: _decode(data[part]) for part in PARTS}
    except (KeyError, TypeError, ValueError, AttributeError, ImportError) as exc:
        raise SnapshotError(f"not a config snapshot ({type(exc).__name__}: {exc})") from None
    return Config(directory=directory, **parts)


def _encode(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return _encode_scalar(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Plain):  # the daemon's form (to_plain): the same data
        fields = {name: _encode(getattr(value, name)) for name in fields_of(value)}
        props = {name: _encode(getattr(value, name)) for name in computed_of(value)}
        return {"$": "model", "kind": kind_of(value), "fields": fields, "props": props}
    if is_secret(value):
        return {"$": "secret"}
    if is_model(value):
        fields = {name: _encode(getattr(value, name)) for name in type(value).__pydantic_fields__}
        props = {name: _encode(getattr(value, name)) for name in _properties(type(value))}
        return {"$": "model", "kind": type(value).__name__, "fields": fields, "props": props}
    if isinstance(value, list):
        return [_encode(item) for item in value]
    if isinstance(value, tuple | frozenset | set):
        kind = {tuple: "tuple", frozenset: "frozenset", set: "set"}[type(value)]
        return {"$": kind, "v": [_encode(item) for item in value]}
    if isinstance(value, dict):
        return {"$": "dict", "v": [[_encode(k), _encode(v)] for k, v in value.items()]}
    return _encode_scalar(value)


def is_model(value: Any) -> bool:
    """A validated config object: a pydantic model or pydantic dataclass (NodeConfig)."""
    return hasattr(type(value), "__pydantic_fields__") and not isinstance(value, type)


def _encode_scalar(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        home = type(value).__module__
        if not home.startswith(_ENUM_HOMES):
            raise SnapshotError(f"enum {type(value).__qualname__} from {home}")
        return {"$": "enum", "cls": f"{home}:{type(value).__qualname__}", "v": value.value}
    if isinstance(value, timedelta):
        return {"$": "timedelta", "v": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, ZoneInfo):
        return {"$": "zone", "v": value.key}
    if type(value) in (datetime, date, time):
        if getattr(value, "tzinfo", None) is not None:  # read back, its tzinfo would differ
            raise SnapshotError(f"aware {type(value).__name__} {value!r}")
        return {"$": type(value).__name__, "v": value.isoformat()}
    if isinstance(value, PurePath):
        return {"$": "path", "v": str(value)}
    raise SnapshotError(f"cannot keep a {type(value).__module__}.{type(value).__qualname__}")


def _properties(model: type) -> list[str]:
    """Properties the project's model classes define (not pydantic's own)."""
    names: list[str] = []
    for klass in model.__mro__:
        if not klass.__module__.startswith("monitor."):
            continue
        names += [n for n, v in vars(klass).items() if isinstance(v, property) and n not in names]
    return names


_SCALARS: dict[str, Any] = {
    "timedelta": lambda v: timedelta(days=v[0], seconds=v[1], microseconds=v[2]),
    "zone": ZoneInfo,
    "datetime": datetime.fromisoformat,
    "date": date.fromisoformat,
    "time": time.fromisoformat,
    "path": Path,
    "secret": None,
}


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    tag = value["$"]
    if tag == "model":
        fields, props = value["fields"], value["props"]
        kind = plain_class(str(value["kind"]), tuple(fields), tuple(props))
        return kind(*map(_decode, fields.values()), *map(_decode, props.values()))
    if tag == "secret":
        return WITHHELD
    if tag in ("tuple", "frozenset", "set"):
        return {"tuple": tuple, "frozenset": frozenset, "set": set}[tag](map(_decode, value["v"]))
    if tag == "dict":
        return {_decode(k): _decode(v) for k, v in value["v"]}
    if tag == "enum":
        return _enum(value["cls"])(value["v"])
    return _SCALARS[tag](value["v"])


def _enum(where: str) -> type[enum.Enum]:
    home, _, name = where.partition(":")
    if not home.startswith(_ENUM_HOMES):
        raise ValueError(f"enum from {home}")
    found = getattr(importlib.import_module(home), name)
    if not (isinstance(found, type) and issubclass(found, enum.Enum)):
        raise ValueError(f"{where} is not an enum")
    return found


def to_plain(config: Config) -> Config:
    """The validated config as Plain objects, secrets kept: nothing in it needs pydantic.

    Values shared between models (interned strings, the nodes' shared lists)
    stay shared. SnapshotError for a value whose type pydantic defines.
    """
    memo: dict[int, tuple[Any, Any]] = {}  # id → (the value, kept alive so no id is reused; made)
    parts = {part: _plain(getattr(config, part), memo) for part in PARTS}
    return Config(directory=config.directory, **parts)


_NAMES: dict[type, tuple[tuple[str, ...], tuple[str, ...]]] = {}


def _plain(value: Any, memo: dict[int, tuple[Any, Any]]) -> Any:
    if value is None or isinstance(value, bool | int | float | str | bytes | enum.Enum):
        return value
    done = memo.get(id(value))
    if done is not None:
        return done[1]
    made = _plain_new(value, memo)
    memo[id(value)] = (value, made)
    return made


def _plain_new(value: Any, memo: dict[int, tuple[Any, Any]]) -> Any:
    if is_model(value):
        kind = type(value)
        if kind not in _NAMES:
            _NAMES[kind] = (tuple(kind.__pydantic_fields__), tuple(_properties(kind)))
        fields, props = _NAMES[kind]
        made = plain_class(kind.__name__, fields, props)
        return made(*(_plain(getattr(value, name), memo) for name in fields + props))
    if is_secret(value):  # SecretStr, SecretBytes
        return Secret(value.get_secret_value())
    if isinstance(value, list):
        return [_plain(item, memo) for item in value]
    if isinstance(value, tuple | frozenset | set):
        return type(value)(_plain(item, memo) for item in value)
    if isinstance(value, dict):
        return {_plain(k, memo): _plain(v, memo) for k, v in value.items()}
    if type(value).__module__.partition(".")[0] in ("pydantic", "pydantic_core"):
        raise SnapshotError(f"cannot keep a {type(value).__module__}.{type(value).__qualname__}")
    return value  # immutable values of the standard library: timedelta, ZoneInfo, Path, …
