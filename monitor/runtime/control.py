"""The daemon's control socket: `commwatch status` asked of the running daemon.

A Unix stream socket `<[console] state_dir>/control.sock`, mode 0600 (only the
daemon's user can connect: the file mode is the whole authentication, enough
because the socket only answers `status` and changes nothing). It is bound under
a temporary name, given its mode, then renamed into place, so it is never open
to others for a moment. A socket file left by a crash (nothing accepts on it) is
replaced at start; one that a live process answers on is left alone and this
daemon runs without a control socket (logged). Removed on a clean stop.

Protocol, one exchange per connection: the client sends one JSON object on one
line (at most MAX_REQUEST bytes, within REQUEST_SECONDS); the daemon answers one
JSON line, `{"code", "stdout", "stderr"}` or `{"error"}`, and closes. The answer
is made by `handler` in a worker thread (the event loop keeps probing), at most
MAX_BUSY at once. Garbage, an oversized line, a client that goes away mid-request:
the connection is closed and counted, the daemon carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import stat
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from prometheus_client.core import CounterMetricFamily, Metric

log = logging.getLogger(__name__)

MAX_REQUEST = 4096
REQUEST_SECONDS = 5.0
MAX_BUSY = 2
SOCKET_MODE = 0o600

Handler = Callable[[dict[str, Any]], dict[str, Any]]  # runs in a worker thread


class ControlServer:
    """Listens on `path`; `handler(request)` makes each answer."""

    def __init__(self, path: Path, handler: Handler) -> None:
        self.path = path
        self.handler = handler
        self.requests: Counter[str] = Counter()
        self._server: asyncio.Server | None = None
        self._inode: int | None = None
        self._busy = asyncio.Semaphore(MAX_BUSY)

    async def start(self) -> None:
        """Bind and listen; OSError when the socket cannot be made (the caller logs it)."""
        _clear_stale(self.path)
        listener = _bind(self.path)
        self._inode = os.stat(self.path).st_ino
        self._server = await asyncio.start_unix_server(
            self._serve, sock=listener, limit=MAX_REQUEST
        )
        log.info("control socket listening", extra={"fields": {"path": str(self.path)}})

    async def stop(self) -> None:
        """Stop listening and remove the socket file (when it is still ours)."""
        if self._server is None:
            return
        self._server.close()
        with contextlib.suppress(OSError):
            if os.stat(self.path).st_ino == self._inode:
                self.path.unlink()
        await self._server.wait_closed()
        self._server = None

    def metric_families(self) -> Iterator[Metric]:
        """commwatch_control_requests_total{result}: answered, rejected, failed."""
        family = CounterMetricFamily(
            "commwatch_control_requests",
            "Requests on the control socket (commwatch status), by result",
            labels=["result"],
        )
        for result in ("answered", "rejected", "failed"):
            family.add_metric([result], float(self.requests[result]))
        yield family

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await self._read(reader)
            if request is None:
                self.requests["rejected"] += 1
                return
            async with self._busy:
                answer = await self._answer(request)
            writer.write(json.dumps(answer, ensure_ascii=False).encode() + b"\n")
            await writer.drain()
        except (ConnectionError, OSError):
            pass  # the client went away; its answer is lost, nothing else
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _read(self, reader: asyncio.StreamReader) -> dict[str, Any] | None:
        """The request object, or None for garbage, an oversized line, a timeout, EOF."""
        try:
            line = await asyncio.wait_for(reader.readline(), REQUEST_SECONDS)
        except (TimeoutError, ValueError, ConnectionError, asyncio.LimitOverrunError):
            return None
        if not line.endswith(b"\n"):
            return None  # the client went away mid-request
        try:
            request = json.loads(line)
        except ValueError:
            return None
        return request if isinstance(request, dict) else None

    async def _answer(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            answer = await asyncio.to_thread(self.handler, request)
        except Exception:  # a bug in rendering must not take the daemon down
            log.exception("control request failed")
            self.requests["failed"] += 1
            return {"error": "the daemon could not answer (see its log)"}
        self.requests["answered" if "error" not in answer else "rejected"] += 1
        return answer


def _clear_stale(path: Path) -> None:
    """Remove a socket file nothing answers on; OSError when a live one or a non-socket is there."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(info.st_mode):
        raise OSError(f"{path} exists and is not a socket; not replaced")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(str(path))
        except OSError:  # refused (a crash left it) or unreachable: stale
            path.unlink(missing_ok=True)
            log.info("stale control socket replaced", extra={"fields": {"path": str(path)}})
            return
    raise OSError(f"another process is listening on {path}")


def _bind(path: Path) -> socket.socket:
    """A listening socket at `path`, mode 0600 before anyone can reach it by that name."""
    temporary = path.with_name(f".ctl{os.getpid()}")
    temporary.unlink(missing_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(str(temporary))
        os.chmod(temporary, SOCKET_MODE)
        listener.listen(16)
        os.replace(temporary, path)
    except OSError as exc:
        listener.close()
        temporary.unlink(missing_ok=True)
        raise OSError(f"cannot listen on {path}: {exc.strerror or exc}") from exc
    listener.setblocking(False)
    return listener
