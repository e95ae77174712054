"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, plain, STARTTLS or implicit TLS.

    with SmtpServer(mode="starttls", users={"cw": "secret"}) as server:
        server.port, server.ca (trustme CA to trust), server.messages, server.wait_for(n)

Certificates come from trustme (valid for 127.0.0.1 and localhost). The three
aiosmtpd traps from the field notes are handled here:
1. `port=0` does not work (the controller connects to its port to detect
   startup): a free port is picked first and kept across `stop()`/`start()`,
   so an "outage" ends with the server back on the same port;
2. a failed login must return `AuthResult(success=False, handled=False)`, or
   aiosmtpd sends no reply and the client hangs until its timeout;
3. implicit TLS is not "TLS" to aiosmtpd's `auth_require_tls`, which would hide
   AUTH: it is switched off for `mode="tls"` (the channel is encrypted anyway).
`hold` (a threading.Event) makes DATA wait before accepting — a slow server; a
message still held when the server stops was never accepted.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
import time
import warnings
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, Literal

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

Mode = Literal["plain", "starttls", "tls"]


@dataclass(frozen=True)
class Received:
    """One message as the server accepted it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    at: float  # time.time() when the server accepted it (for latency figures)

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


def free_tcp_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(  # noqa: N802 (aiosmtpd calls it so)
        self, server: Any, session: Session, envelope: Envelope
    ) -> str:
        with self.server.lock:
            if (
                self.server.hold_after is not None
                and len(self.server.messages) >= self.server.hold_after
            ):
                self.server.hold.set()
        while self.server.hold.is_set():  # noqa: ASYNC110 (a threading.Event, set by the test)
            await asyncio.sleep(0.02)
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        parsed = message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        item = Received(str(envelope.mail_from), tuple(envelope.rcpt_tos), parsed, time.time())
        with self.server.lock:
            self.server.messages.append(item)
        return "250 Message accepted for delivery"


class SmtpServer:
    """One aiosmtpd controller; `start()`/`stop()` may be repeated (same port)."""

    def __init__(self, mode: Mode = "plain", users: dict[str, str] | None = None) -> None:
        self.mode = mode
        self.users = users
        self.host = "127.0.0.1"
        self.port = free_tcp_port()
        self.messages: list[Received] = []
        self.lock = threading.Lock()
        self.hold = threading.Event()
        self.hold_after: int | None = None  # hold every message after this many accepted
        self.ca = trustme.CA()
        self._cert = self.ca.issue_cert("127.0.0.1", "localhost")
        self._controller: Controller | None = None

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's CA."""
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context

    def ca_file(self, directory: Any) -> str:
        """Write the CA certificate to `directory`; returns the path (for `ca_file`)."""
        path = f"{directory}/smtp-ca.pem"
        self.ca.cert_pem.write_to_path(path)
        return path

    def _server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._cert.configure_cert(context)
        return context

    def _authenticate(
        self, server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword) and self.users is not None:
            user, password = data.login.decode(), data.password.decode()
            if self.users.get(user) == password:
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def start(self) -> None:
        """Listen (again) on the same port; a held server is released."""
        self.hold.clear()
        kwargs: dict[str, Any] = {"hostname": self.host, "port": self.port}
        if self.users is not None:
            kwargs.update(authenticator=self._authenticate, auth_required=True)
        if self.mode == "starttls":
            kwargs.update(tls_context=self._server_context(), require_starttls=True)
        elif self.mode == "tls":
            kwargs.update(ssl_context=self._server_context(), auth_require_tls=False)
        else:
            kwargs.update(auth_require_tls=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Requiring AUTH while not requiring TLS"
            controller = Controller(_Handler(self), **kwargs)
            controller.start()
        self._controller = controller

    def stop(self) -> None:
        """Stop listening (an outage); messages received so far are kept.

        Messages held in DATA are dropped unanswered: never accepted.
        """
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Wait (bounded) until `count` messages arrived; returns them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.02)
        with self.lock:
            raise AssertionError(f"expected {count} messages, got {len(self.messages)}")

    async def arrived(self, count: int, within: float = 10.0) -> list[Received]:
        """Like wait_for, without blocking the event loop (for async tests)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            await asyncio.sleep(0.02)
        with self.lock:
            raise AssertionError(f"expected {count} messages, got {len(self.messages)}")

    def __enter__(self) -> SmtpServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
