"""A real SMSC for tests: node-smpp's server (npm `smpp`, tests/peers/smsc) on 127.0.0.1.

    with NodeSmsc(system_id="cw", password="pw") as smsc:
        smsc.port
        smsc.command({"cmd": "throttle", "count": 2})
        smsc.wait_for(lambda e: e["event"] == "submit")
        smsc.events("submit")

The SMSC prints one JSON object per event; a reader thread collects them.
It runs under Debian's nodejs with the package installed by
`npm ci --prefix tests/peers/smsc` (.ci/run does it); stopped by PID.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.requirements import missing, require_binary

PEER = Path(__file__).parent / "peers" / "smsc"
Event = dict[str, Any]


class NodeSmsc:
    """The SMSC process and the events it printed."""

    def __init__(
        self,
        system_id: str = "commwatch",
        password: str = "s3cret",
        netns: str | None = None,
        tls: tuple[str, str] | None = None,  # (certificate file, key file): SMPP over TLS
    ) -> None:
        self.system_id = system_id
        self.password = password
        self.tls = list(tls or ())
        self.prefix = ["ip", "netns", "exec", netns] if netns else []
        self.port = 0
        self._events: list[Event] = []
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> NodeSmsc:
        node = require_binary("node")
        if not (PEER / "node_modules" / "smpp" / "package.json").exists():
            missing("needs the npm smpp package: npm ci --prefix tests/peers/smsc")
        self._process = subprocess.Popen(
            [*self.prefix, node, "smsc.js", "0", self.system_id, self.password, *self.tls],
            cwd=PEER,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
        )
        threading.Thread(target=self._collect, daemon=True).start()
        listening = self.wait_for(lambda e: e["event"] == "listening", timeout=10)
        self.port = int(listening["port"])
        return self

    def __exit__(self, *_exc: object) -> None:
        process = self._process
        if process is None:
            return
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def _collect(self) -> None:
        assert self._process is not None
        assert self._process.stdout is not None
        for line in self._process.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                event = {"event": "output", "line": line.rstrip()}
            with self._lock:
                self._events.append(event)

    def command(self, command: Event) -> None:
        """Send a command (throttle, mo, drop) and wait until the SMSC did it."""
        assert self._process is not None
        assert self._process.stdin is not None
        before = len(self.events("done"))
        self._process.stdin.write(json.dumps(command, ensure_ascii=False) + "\n")
        self._process.stdin.flush()
        self.wait_for(lambda _e: len(self.events("done")) > before)

    def messages(self) -> list[Event]:
        """Accepted submits joined per message (destination and UDH reference): source, dest, text."""
        joined: dict[tuple[str, str], list[Event]] = {}
        for event in self.events("submit"):
            if event.get("status") == "accepted":
                ref = event["udh"][0][:8] if event["udh"] else f"single-{event['seq']}"
                joined.setdefault((event["dest"], ref), []).append(event)
        return [
            {
                "source": parts[0]["source"],
                "dest": dest,
                "text": "".join(p["text"] for p in sorted(parts, key=lambda e: e["udh"])),
            }
            for (dest, _ref), parts in joined.items()
        ]

    def events(self, kind: str | None = None) -> list[Event]:
        """Every event so far, or those of one kind."""
        with self._lock:
            return [e for e in self._events if kind is None or e["event"] == kind]

    def wait_for(self, predicate: Callable[[Event], bool], timeout: float = 10.0) -> Event:
        """The first event matching `predicate`, waiting at most `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events():
                if predicate(event):
                    return event
            if self._process is not None and self._process.poll() is not None:
                raise AssertionError(f"SMSC exited: {self.events()[-5:]}")
            time.sleep(0.02)
        raise AssertionError(f"SMSC: no such event within {timeout}s; last: {self.events()[-5:]}")
