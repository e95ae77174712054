"""The validated-config cache: a config that passed validation, read back without pydantic.

Commands that validate the whole config (`check-config`, `db upgrade`, and
`run` and its reload, in their config child: `monitor.config.load_child`) call
`record(config)`: it writes `<[console] state_dir>/config-cache.json`
(mode 0600, atomic replace; only when that directory exists) holding a
fingerprint and the validated config (`monitor.config.snapshot`, secrets
withheld). `load_cached(directory)` — used by `status`, which must start fast —
returns that config only when the fingerprint of what is there now is equal:

- the bytes of the four files;
- the values of the environment variables `${VAR}` in them name, and of
  STATE_DIRECTORY and CREDENTIALS_DIRECTORY (the defaults use them);
- for each secret reference (`{env=…}`, `{file=…}`, `{credential=…}`) whether it
  can be read now (never its value);
- the source of the config models (`monitor/config/*.py`), so another version
  of commwatch never reads this one's cache.

Anything else (no cache, another fingerprint, a file that cannot be read or
parsed, a cache that is not one) gives None, and the caller validates as usual:
a stale cache is never used, and an edited file is always validated.
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from pathlib import Path
from typing import Any

from monitor.config.model import Config
from monitor.config.snapshot import SnapshotError, dump, load
from monitor.config.sources import (
    DEFAULT_STATE_DIR,
    FILES,
    SourceError,
    env_names,
    expand_env,
    read_regular,
)

CACHE_FILE = "config-cache.json"
CACHE_MODE = 0o600
_FORMAT = b"commwatch config cache 1\0"
_ALWAYS = ("STATE_DIRECTORY", "CREDENTIALS_DIRECTORY")
_SECRET_KEYS = frozenset({"env", "file", "credential"})


def record(config: Config) -> Path | None:
    """Write the cache for this validated config; its path, or None when not written."""
    found = _fingerprint(config.directory)
    if found is None:
        return None
    fingerprint, _daemon = found
    state_dir = Path(config.daemon.console.state_dir)
    if not state_dir.is_dir():
        return None  # a command that only reads never makes the state directory
    try:
        text = json.dumps({"fingerprint": fingerprint, "config": dump(config)}, ensure_ascii=False)
    except SnapshotError:
        return None
    path = state_dir / CACHE_FILE
    temporary = state_dir / f".{CACHE_FILE}.{os.getpid()}"
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, CACHE_MODE)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, CACHE_MODE)
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)
        return None
    return path


def load_cached(directory: str | Path) -> Config | None:
    """The cached config when it was recorded for exactly what is there now, else None."""
    root = Path(directory).resolve()
    found = _fingerprint(root)
    if found is None:
        return None
    fingerprint, daemon = found
    try:
        state_dir = _state_dir(daemon)
        raw = read_regular(Path(state_dir) / CACHE_FILE)
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict) or data.get("fingerprint") != fingerprint:
            return None
        config = load(data["config"], root)
    except (SourceError, ValueError, KeyError, TypeError, SnapshotError, RecursionError):
        return None
    if config.daemon.console.state_dir != state_dir:
        return None  # recorded under another expansion: validate
    return config


def _state_dir(daemon: dict[str, Any]) -> str:
    console = daemon.get("console", {})
    value = console.get("state_dir", DEFAULT_STATE_DIR) if isinstance(console, dict) else None
    if not isinstance(value, str):
        raise TypeError("[console] state_dir is not a string")
    return expand_env(value)


def _fingerprint(root: Path) -> tuple[str, dict[str, Any]] | None:
    """(digest of everything validation depends on, commwatch.toml parsed), or None."""
    digest = hashlib.sha256(_FORMAT)
    digest.update(_code_digest())
    texts: list[str] = []
    parsed: list[dict[str, Any]] = []
    try:
        for name in FILES:
            data = read_regular(root / name)
            digest.update(f"{name}\0{len(data)}\0".encode())
            digest.update(data)
            texts.append(data.decode("utf-8"))
            parsed.append(tomllib.loads(texts[-1]))
    except (SourceError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return None
    names = sorted(set(_ALWAYS).union(*(env_names(text) for text in texts)))
    environment = [(name, os.environ.get(name)) for name in names]
    secrets = sorted({ref for data in parsed for ref in _secret_refs(data)})
    digest.update(json.dumps([environment, secrets]).encode())
    return digest.hexdigest(), parsed[0]


def _secret_refs(data: Any) -> set[tuple[str, str, bool]]:
    """(kind, name, readable now) of every secret reference (`monitor.config.types.Secret`)."""
    found: set[tuple[str, str, bool]] = set()
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, dict):
            if len(value) == 1 and set(value) <= _SECRET_KEYS:
                ((kind, name),) = value.items()
                if isinstance(name, str):
                    found.add((kind, name, _readable(kind, name)))
                    continue
            stack.extend(value.values())
    return found


def _readable(kind: str, name: str) -> bool:
    if kind == "env":
        return name in os.environ
    if kind == "credential":
        directory = os.environ.get("CREDENTIALS_DIRECTORY")
        return bool(directory) and os.access(Path(str(directory)) / name, os.R_OK)
    return os.access(name, os.R_OK)


def _code_digest() -> bytes:
    """The config models' source: another commwatch (or an edited model) has another cache."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.digest()
