"""Secrets out of every printed text: which keys hold them, their values, masked URLs.

- `looks_secret(key)`: a key that holds, or by its spelling may hold, a secret
  (also misspelt: `pasword`, `passwd`, `pwd`, `secert`, `tokn` …): an error
  about it never shows its value.
- `mask_text(text)`: the password of every `scheme://user:password@` URL and
  the value of every secret-named query parameter (`?password=…`,
  `&access_token=…`) replaced by `<secret>`.
- `secret_values(config)`: every secret the loaded config holds (SecretStr
  values and URL passwords), for the log scrubber (`monitor.runtime.logs`),
  in the validated models or their plain form (`monitor.config.plain`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, quote_plus, unquote

from monitor.config.plain import Plain, Withheld, fields_of, is_secret

REDACTED = "<secret>"
MIN_SCRUBBED = 6  # shorter secrets are not scrubbed as text (they would mask ordinary words)

_SECRET_KEY = re.compile(
    r"pa?s+w|passph|pwd|secr|secert|token|tokn|communit|auth_?key|priv_?key|api_?key|"
    r"access_?key|credential|private",
    re.IGNORECASE,
)
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.\-]*://[^:/@\s]*:)(?P<pw>[^@/\s]+)@", re.I)
_QUERY_SECRET = re.compile(
    r"(?P<head>[?&;](?:[\w\-]*?(?:password|passwd|pwd|secret|token|api_?key|access_?key|sign))=)"
    r"(?P<value>[^&#\s\"']+)",
    re.IGNORECASE,
)


def looks_secret(key: str) -> bool:
    """True for a key that holds, or by its spelling may hold, a secret."""
    return _SECRET_KEY.search(key) is not None


def mask_text(text: str) -> str:
    """`text` with URL passwords and secret query values replaced by <secret>."""
    text = _URL_PASSWORD.sub(lambda m: f"{m['head']}{REDACTED}@", text)
    return _QUERY_SECRET.sub(lambda m: f"{m['head']}{REDACTED}", text)


def secret_values(model: Any) -> set[str]:
    """Every secret inside a config model (or list/dict of them): SecretStrs, URL passwords."""
    return {value for value in _walk(model) if value}


def printed_forms(secret: str) -> set[str]:
    """A secret as it may appear in output: as is, and URL-encoded (both styles)."""
    return {secret, unquote(secret), quote(secret, safe=""), quote_plus(secret)}


def _walk(value: Any) -> Iterator[str]:
    if isinstance(value, Withheld):
        return  # not kept: no value to scrub
    if is_secret(value):
        secret = value.get_secret_value()
        yield secret.decode("utf-8", "replace") if isinstance(secret, bytes) else secret
    elif isinstance(value, Plain):
        for name in fields_of(value):
            yield from _walk(getattr(value, name))
    elif _is_base_model(value):
        for name in type(value).model_fields:
            yield from _walk(getattr(value, name))
    elif isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _walk(item)
    elif isinstance(value, str) and "://" in value:
        match = _URL_PASSWORD.search(value)
        if match is not None:
            yield match["pw"]


def _is_base_model(value: Any) -> bool:
    """A pydantic BaseModel (whose module is loaded when one exists)."""
    pydantic = sys.modules.get("pydantic")
    return pydantic is not None and isinstance(value, pydantic.BaseModel)
