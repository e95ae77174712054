"""A `monitor.runtime.control.ControlServer` on its own event loop in a thread (tests)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from monitor.runtime.control import ControlServer, Handler

T = TypeVar("T")


class ServerThread:
    """Start with `start()`, stop with `stop()`; `call(coro)` runs on the server's loop."""

    def __init__(self, path: Path, handler: Handler) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = ControlServer(path, handler)

    def call(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout=10)

    def start(self) -> ServerThread:
        self.call(self.server.start())
        return self

    def stop(self) -> None:
        self.call(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()
