"""Everything the console's routes share: config, database, live view, sessions, templates."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import HTMLResponse

from monitor.config import Config
from monitor.console.feed import Feed
from monitor.console.limits import LoginLimiter
from monitor.console.live import Live
from monitor.console.passwords import PasswordError, PasswordStore
from monitor.console.proxy import Proxies
from monitor.console.sessions import COOKIE, Session, SessionTable
from monitor.incidents.authority import Actor, actor_of
from monitor.incidents.engine import IncidentEngine
from monitor.incidents.tables import utcnow

log = logging.getLogger(__name__)


def template_environment() -> Environment:
    """Jinja2 over the shipped templates; every value is escaped."""
    env = Environment(
        loader=PackageLoader("monitor.console", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["local"] = lambda value: (
        value.astimezone().strftime("%Y-%m-%d %H:%M:%S") if value else "-"
    )
    env.filters["iso"] = lambda value: value.isoformat() if value else ""
    return env


@dataclass
class Console:
    """The console's dependencies (built once by `ConsoleServer`)."""

    config: Callable[[], Config]
    engine: Engine
    live: Live
    sessions: SessionTable
    passwords: PasswordStore
    limiter: LoginLimiter
    feed: Feed
    nudge: Callable[[], None]
    secure: bool
    templates: Environment
    clock: Callable[[], datetime] = utcnow

    def incidents(self) -> IncidentEngine:
        """An incident engine on the current config (notices go through notice_requests)."""
        return IncidentEngine(self.engine, self.config(), clock=self.clock)

    def session(self, request: Request) -> Session | None:
        """The live session of a request whose person is still on the duty list."""
        session = self.sessions.load(request.cookies.get(COOKIE))
        if session is None:
            return None
        if session.person not in self.config().people:
            self.sessions.end_person(session.person)
            return None
        try:
            stamp = self.passwords.stamp(session.person)
        except PasswordError as exc:
            log.error("console password file unreadable", extra={"fields": {"error": str(exc)}})
            return None
        if stamp != session.stamp:
            self.sessions.end_person(session.person)
            return None
        return session

    def actor(self, session: Session) -> Actor:
        """The signed-in person as the engine's Actor."""
        return actor_of(self.config().people[session.person])

    def client(self, request: Request) -> str:
        """The client's address (through trusted proxies: `monitor.console.proxy`)."""
        return self.proxies().client(request)

    def https(self, request: Request) -> bool:
        """True under TLS here, or when a trusted proxy says the browser used HTTPS."""
        return self.secure or self.proxies().https(request)

    def proxies(self) -> Proxies:
        """`[console] trusted_proxies` as the config stands now (a reload applies it)."""
        return Proxies.of(self.config().daemon.console.trusted_proxies)

    def same_origin(self, request: Request) -> bool:
        """False when a browser says the request comes from another site."""
        origin = request.headers.get("origin")
        if origin is None:
            return True
        host = request.headers.get("host", "")
        return any(
            hmac.compare_digest(origin, f"{scheme}://{host}") for scheme in ("http", "https")
        )

    def page(self, name: str, request: Request, status: int = 200, **values: Any) -> HTMLResponse:
        """Render a template with the common values (person, csrf token, config)."""
        session = values.pop("session", None)
        person = self.config().people.get(session.person) if session is not None else None
        body = self.templates.get_template(name).render(
            request=request,
            person=person,
            csrf=session.csrf if session is not None else "",
            config=self.config(),
            **values,
        )
        return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})
