"""A probe result's `values` as the JSON text SQLAlchemy's `JSON` type stores, made faster.

Both sample writers (`monitor.storage.sqlite_samples`, `monitor.storage.postgresql_samples`)
bind this text: exactly `json.dumps(rows.jsonable(values))`, with a flat mapping
of numbers (every ICMP result's) written without the generic walk.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from monitor.storage.rows import jsonable

KEY_CACHE_LIMIT = 1024  # JSON keys kept encoded: the probes' value names, a few dozen
_keys: dict[str, str] = {}


def values_json(values: Mapping[str, Any]) -> str:
    """`json.dumps(jsonable(values))`, faster for a flat mapping of numbers."""
    return flat_json(values) or json.dumps(jsonable(values))


def flat_json(values: Mapping[str, Any]) -> str | None:
    """json.dumps' text for str keys → int, float, bool or None (non-finite → null); else None."""
    parts = []
    for key, item in values.items():
        if type(key) is not str:
            return None
        kind = type(item)
        if kind is float:
            value = float.__repr__(item) if math.isfinite(item) else "null"
        elif kind is int:
            value = int.__repr__(item)
        elif item is None:
            value = "null"
        elif kind is bool:
            value = "true" if item else "false"
        else:
            return None
        parts.append(f"{_key(key)}: {value}")
    return "{" + ", ".join(parts) + "}"


def _key(key: str) -> str:
    encoded = _keys.get(key)
    if encoded is None:
        encoded = json.dumps(key)
        if len(_keys) < KEY_CACHE_LIMIT:
            _keys[key] = encoded
    return encoded
