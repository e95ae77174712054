"""Reading the config files' bytes and expanding ${VAR}: the parts that need no models.

Shared by the loader (which validates) and the validated-config cache (which
must not import pydantic), so both read the same files the same way.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

FILES = ("commwatch.toml", "plan.toml", "contacts.toml", "nodes.toml")
MAX_BYTES = 16 * 1024 * 1024  # far above any real config (20,000 nodes ≈ 4 MB)
DEFAULT_STATE_DIR = "${STATE_DIRECTORY:-var}"  # [console] state_dir when not set
CONTROL_SOCKET = "control.sock"  # in state_dir: the daemon answers `status` there

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class SourceError(Exception):
    """A config file cannot be read; the message says why (without the file name)."""


def read_regular(path: Path) -> bytes:
    """The file's bytes; SourceError for a missing, special (FIFO, device) or oversized file."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise SourceError(f"file not found in {path.parent}") from None
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror}") from None
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise SourceError("not a regular file")
        if info.st_size > MAX_BYTES:
            raise SourceError(f"larger than {MAX_BYTES} bytes")
        return _read_all(descriptor)
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror}") from None
    finally:
        os.close(descriptor)


def _read_all(descriptor: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_BYTES:
        chunk = os.read(descriptor, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def env_names(text: str) -> set[str]:
    """The variables ${VAR} and ${VAR:-default} in `text` name."""
    return {match.group(1) for match in _ENV_REF.finditer(text)}


def expand_env(text: str) -> str:
    """Expand ${VAR} and ${VAR:-default} (systemd's $STATE_DIRECTORY, for one)."""

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = os.environ.get(name)
        if value:
            return value
        if default is not None:
            return default
        raise ValueError(f"environment variable {name} is not set and has no default")

    return _ENV_REF.sub(substitute, text)
