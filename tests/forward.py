"""A TCP forwarder from the host's loopback to a port inside a network namespace (for browsers).

    with Forwarder(lambda: lab.call_in(ns, socket.create_connection, ("127.0.0.1", port))) as fw:
        browser.get(f"http://127.0.0.1:{fw.port}/")

A socket keeps the namespace it was created in, so `connect` opens each
upstream connection from inside the namespace (tests/netns.py `call_in`) and
plain threads copy bytes both ways. Every thread ends on close().
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from types import TracebackType


class Forwarder:
    """Listens on 127.0.0.1:<port>; each connection is paired with one from `connect()`."""

    def __init__(self, connect: Callable[[], socket.socket]) -> None:
        self.connect = connect
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = int(self.listener.getsockname()[1])
        self.stopping = threading.Event()
        self.sockets: list[socket.socket] = []
        self.threads: list[threading.Thread] = []
        self._start(self._accept)

    def _start(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self.threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = self.connect()
            except OSError:
                client.close()
                continue
            self.sockets += [client, upstream]
            self._start(self._pump, client, upstream)
            self._start(self._pump, upstream, client)

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while not self.stopping.is_set():
                data = source.recv(65536)
                if not data:
                    break
                target.sendall(data)
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        """Stop accepting, close every connection, join every thread."""
        self.stopping.set()
        self.listener.close()
        for sock in self.sockets:
            sock.close()
        for thread in self.threads:
            thread.join(timeout=2)

    def __enter__(self) -> Forwarder:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
