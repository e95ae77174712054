"""Sessions: a signed cookie naming a server-side session; a CSRF token per session.

The cookie holds only a random session id, signed with a key kept in
`<state_dir>/console-secret` (mode 0600, made on first start). The session
table lives in the daemon's memory: signing out, a password change, or a
restart ends sessions, and a copied cookie of an ended session is refused
even though its signature is good.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from time import time

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner

COOKIE = "commwatch_session"
SECRET_FILE = "console-secret"


@dataclass(frozen=True)
class Session:
    """One signed-in person."""

    id: str
    person: str
    csrf: str
    stamp: str  # fingerprint of the password hash at sign-in
    created: float

    def csrf_ok(self, token: str | None) -> bool:
        """Constant-time check of a request's X-CSRF-Token."""
        return token is not None and hmac.compare_digest(token.encode(), self.csrf.encode())


def load_secret(state_dir: Path) -> bytes:
    """The session signing key; created (0600) when missing."""
    path = state_dir / SECRET_FILE
    try:
        key = path.read_bytes().strip()
    except FileNotFoundError:
        key = b""
    if len(key) >= 32:
        return key
    state_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key + b"\n")
    return key


class SessionTable:
    """Signed session cookies backed by an in-memory table."""

    def __init__(
        self, secret: bytes, lifetime: timedelta, clock: Callable[[], float] = time
    ) -> None:
        self.signer = TimestampSigner(secret, salt="commwatch-console-session")
        self.lifetime = lifetime.total_seconds()
        self.clock = clock
        self._sessions: dict[str, Session] = {}

    def create(self, person: str, stamp: str) -> tuple[str, Session]:
        """A new session; returns the cookie value and the session."""
        self._expire()
        session = Session(
            secrets.token_urlsafe(24), person, secrets.token_urlsafe(24), stamp, self.clock()
        )
        self._sessions[session.id] = session
        return self.signer.sign(session.id).decode(), session

    def load(self, cookie: str | None) -> Session | None:
        """The live session a cookie names, or None (bad signature, expired, ended)."""
        if not cookie:
            return None
        try:
            sid = self.signer.unsign(cookie, max_age=int(self.lifetime)).decode()
        except (BadSignature, SignatureExpired, UnicodeDecodeError):
            return None
        session = self._sessions.get(sid)
        if session is None or self.clock() - session.created > self.lifetime:
            self._sessions.pop(sid, None)
            return None
        return session

    def end(self, session_id: str) -> None:
        """Sign out."""
        self._sessions.pop(session_id, None)

    def end_person(self, person: str) -> None:
        """End every session of a person (password changed, person removed)."""
        for sid in [s.id for s in self._sessions.values() if s.person == person]:
            self._sessions.pop(sid, None)

    def _expire(self) -> None:
        horizon = self.clock() - self.lifetime
        for sid in [s.id for s in self._sessions.values() if s.created < horizon]:
            self._sessions.pop(sid, None)
