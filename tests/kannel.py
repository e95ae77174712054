"""A real Kannel for tests: bearerbox + smsbox + fakesmsc on 127.0.0.1, stopped by PID.

    with Kannel(tmp_path) as kannel:
        kannel.sendsms_url, kannel.username, kannel.password
        kannel.received()            # [(sender, receiver, text)] as fakesmsc got them
        kannel.stop_smsbox(); kannel.start_smsbox()   # a gateway outage

The config is the field notes' `kannel-test.conf` with free high ports: a
sendsms-user with `max-messages = 10` and `concatenation = true` (without them
Kannel silently truncates long texts). fakesmsc prints every MT it receives;
`received()` decodes the UCS-2 payloads and reassembles concatenated parts
(UDH 05 00 03 ref total seq). fakesmsc accepts anything — a landline too — so
what must not be sent is asserted on commwatch's side. Readiness is polled with
bounds: the admin status page, the sendsms port, fakesmsc's connection.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote_from_bytes, unquote_to_bytes

from tests.requirements import require_binary

_LINE = re.compile(r"Got message \d+: <(\S+) (\S+) (ucs-2|text|udh) (\S+)(?: data (\S+))?>")

_CONF = """\
group = core
admin-port = {admin}
admin-interface = 127.0.0.1
admin-password = adminpw
status-password = statuspw
admin-allow-ip = "127.0.0.1"
smsbox-port = {box}
smsbox-interface = 127.0.0.1
box-deny-ip = "*.*.*.*"
box-allow-ip = "127.0.0.1"
log-file = "{dir}/bearerbox.log"
log-level = 0
access-log = "{dir}/bb-access.log"
dlr-storage = internal

group = smsc
smsc = fake
smsc-id = FAKE
port = {smsc}
connect-allow-ip = "127.0.0.1"

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {box}
sendsms-port = {sendsms}
sendsms-interface = 127.0.0.1
log-file = "{dir}/smsbox.log"
log-level = 0
access-log = "{dir}/smsbox-access.log"
global-sender = 10086

group = sendsms-user
username = netmon
password = {password}
max-messages = 10
concatenation = true
user-allow-ip = "127.0.0.1"

{service}"""

_NO_SERVICE = """group = sms-service
keyword = default
text = "No service specified"
catch-all = true
"""

# MO → commwatch: the raw text (%b) with its coding (%c); nothing is sent back.
_MO_SERVICE = """group = sms-service
keyword = default
catch-all = true
get-url = "{mo_url}?from=%p&to=%P&text=%b&coding=%c&charset=%C"
max-messages = 0
omit-empty = true
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(check: object, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"Kannel: {what} not ready within {timeout:g}s")


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Kannel:
    """bearerbox, fakesmsc and smsbox, started in that order and stopped by PID."""

    def __init__(self, workdir: Path, mo_url: str | None = None, password: str = "secret") -> None:
        self.bearerbox = require_binary("bearerbox")
        self.smsbox = require_binary("smsbox")
        self.fakesmsc = require_binary("fakesmsc")
        self.dir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.ports = {k: _free_port() for k in ("admin", "box", "smsc", "sendsms")}
        self.conf = workdir / "kannel.conf"
        service = _MO_SERVICE.format(mo_url=mo_url) if mo_url else _NO_SERVICE
        text = _CONF.format(dir=workdir, service=service, password=password, **self.ports)
        self.conf.write_text(text, encoding="utf-8")
        self.fake_log = workdir / "fakesmsc.out"
        self.username, self.password = "netmon", password
        self._procs: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def sendsms_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['sendsms']}/cgi-bin/sendsms"

    def _spawn(self, name: str, argv: list[str], output: Path) -> None:
        with output.open("ab") as out:
            self._procs[name] = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def _status_ok(self) -> bool:
        url = f"http://127.0.0.1:{self.ports['admin']}/status.txt?password=statuspw"
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                return bool(answer.status == 200)
        except OSError:
            return False

    def start(self) -> None:
        """Start all three and wait until a sendsms would reach fakesmsc."""
        self._spawn("bearerbox", [self.bearerbox, "-v", "1", str(self.conf)], self.dir / "bb.out")
        _wait(self._status_ok, "bearerbox admin")
        self._start_fake("-m", "0", "123 234 text nop")
        self.start_smsbox()

    def _start_fake(self, *messages: str) -> None:
        fake = [self.fakesmsc, "-H", "127.0.0.1", "-r", str(self.ports["smsc"]), "-i", "0.2"]
        self._spawn("fakesmsc", [*fake, *messages], self.fake_log)
        _wait(lambda: "(online" in self._status_text(), "fake SMSC connection")

    def reply(self, sender: str, text: str) -> None:
        """A handset answers: fakesmsc (restarted) sends one MO in UCS-2 to the short code."""
        self._kill("fakesmsc")
        _wait(lambda: "(online" not in self._status_text(), "fake SMSC disconnect", 10.0)
        payload = quote_from_bytes(text.encode("utf-16-be"), safe="")
        self._start_fake("-m", "1", f"{sender} 10086 ucs2 {payload}")

    def _status_text(self) -> str:
        url = f"http://127.0.0.1:{self.ports['admin']}/status.txt?password=statuspw"
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                return str(answer.read().decode("utf-8", "replace"))
        except OSError:
            return ""

    def start_smsbox(self) -> None:
        """Start (again) the HTTP side and wait for its port."""
        self._spawn("smsbox", [self.smsbox, "-v", "1", str(self.conf)], self.dir / "sb.out")
        _wait(lambda: _listening(self.ports["sendsms"]), "smsbox sendsms port")

    def stop_smsbox(self) -> None:
        """An HTTP-side outage: sendsms refuses connections until start_smsbox()."""
        self._kill("smsbox")
        _wait(lambda: not _listening(self.ports["sendsms"]), "smsbox stop", 5.0)

    def _kill(self, name: str) -> None:
        proc = self._procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)

    def stop(self) -> None:
        """Stop everything this fixture started, by PID."""
        for name in ("smsbox", "fakesmsc", "bearerbox"):
            self._kill(name)

    def received(self) -> list[tuple[str, str, str]]:
        """(sender, receiver, text) for every message fakesmsc printed, parts joined."""
        if not self.fake_log.exists():
            return []
        out: list[tuple[str, str, str]] = []
        parts: dict[tuple[str, str, int], dict[int, bytes]] = {}
        for line in self.fake_log.read_text(encoding="utf-8", errors="replace").splitlines():
            match = _LINE.search(line)
            if match is None:
                continue
            sender, receiver, kind, first, data = match.groups()
            if kind == "text":
                out.append((sender, receiver, unquote_to_bytes(first).decode("latin-1")))
            elif kind == "ucs-2":
                out.append((sender, receiver, unquote_to_bytes(first).decode("utf-16-be")))
            else:
                udh = unquote_to_bytes(first)
                ref, total, seq = udh[3], udh[4], udh[5]
                chunk = parts.setdefault((sender, receiver, ref), {})
                chunk[seq] = unquote_to_bytes(data or "")
                if len(chunk) == total:
                    payload = b"".join(chunk[i] for i in sorted(chunk))
                    out.append((sender, receiver, payload.decode("utf-16-be")))
                    del parts[(sender, receiver, ref)]
        return out

    def wait_received(self, count: int, timeout: float = 15.0) -> list[tuple[str, str, str]]:
        """Wait (bounded) until fakesmsc has `count` complete messages."""
        _wait(lambda: len(self.received()) >= count, f"{count} messages at fakesmsc", timeout)
        return self.received()

    def __enter__(self) -> Kannel:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
