"""`commwatch status` asks the running daemon over its control socket (stdlib only).

The daemon (`monitor.runtime.control`) listens on `<[console] state_dir>/control.sock`
(mode 0600). This side finds that path from commwatch.toml with tomllib and the
same ${VAR} expansion as the loader (no pydantic, no SQLAlchemy, no asyncio), sends
one request line and reads one answer line: the exit code and what the CLI's own
renderer (`monitor.commands.status.render`) wrote to stdout and stderr.

`ask_daemon` returns None whenever the answer cannot be had — no socket, a stale
socket file (refused), another config directory, a daemon that does not answer
within the timeout (said on stderr in one line) — and `status` reads the database.
"""

from __future__ import annotations

import json
import socket
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

from monitor.config.sources import (
    CONTROL_SOCKET,
    DEFAULT_STATE_DIR,
    SourceError,
    expand_env,
    read_regular,
)

MAX_ANSWER = 256 * 1024 * 1024  # far above the table of 100,000 nodes


class _UnansweredError(Exception):
    """No usable answer; the message says why (shown with --verbose)."""


def socket_path(directory: str | Path) -> Path | None:
    """`<[console] state_dir>/control.sock` of the config in `directory`, or None."""
    try:
        data = tomllib.loads(read_regular(Path(directory) / "commwatch.toml").decode("utf-8"))
    except (SourceError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return None
    console = data.get("console", {})
    state_dir = console.get("state_dir", DEFAULT_STATE_DIR) if isinstance(console, dict) else None
    if not isinstance(state_dir, str):
        return None
    try:
        return Path(expand_env(state_dir)) / CONTROL_SOCKET
    except ValueError:
        return None


def ask_daemon(
    directory: str, *, as_json: bool, problems: bool, timeout: float, verbose: bool = False
) -> tuple[int, str, str] | None:
    """(exit code, stdout, stderr) as the daemon rendered them, or None: read the database."""
    path = socket_path(directory)
    if path is None:
        return None
    request = {
        "command": "status",
        "config": str(Path(directory).resolve()),
        "json": as_json,
        "problems": problems,
    }
    try:
        answer = _exchange(path, json.dumps(request).encode() + b"\n", timeout)
    except TimeoutError:
        print(
            f"warning: the daemon did not answer on {path} within {timeout:g} s; "
            "reading the database",
            file=sys.stderr,
        )
        return None
    except (OSError, _UnansweredError) as exc:
        if verbose:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            print(f"status: no answer on {path} ({why}); reading the database", file=sys.stderr)
        return None
    if verbose:
        print(f"status: answered by the daemon on {path}", file=sys.stderr)
    return answer


def _exchange(path: Path, request: bytes, timeout: float) -> tuple[int, str, str]:
    """Send the request, read the answer line; TimeoutError past `timeout` seconds in all."""
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(timeout)
        client.connect(str(path))
        client.sendall(request)
        chunks: list[bytes] = []
        size = 0
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            client.settimeout(left)
            chunk = client.recv(1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_ANSWER:
                raise _UnansweredError("answer too large")
    return _parse(b"".join(chunks))


def _parse(raw: bytes) -> tuple[int, str, str]:
    try:
        answer: Any = json.loads(raw)
    except ValueError:
        raise _UnansweredError("not an answer") from None
    if not isinstance(answer, dict):
        raise _UnansweredError("not an answer")
    if "error" in answer:
        raise _UnansweredError(str(answer["error"]))
    code, out, err = answer.get("code"), answer.get("stdout"), answer.get("stderr")
    if not isinstance(code, int) or not isinstance(out, str) or not isinstance(err, str):
        raise _UnansweredError("not an answer")
    return code, out, err
