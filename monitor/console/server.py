"""The console inside the daemon: a Starlette app on uvicorn, in the daemon's event loop.

`ConsoleServer.start()` binds `[console] listen` (HTTPS when tls_cert/tls_key
are set) and serves until `stop()`. uvicorn's own signal handling is switched
off: the daemon owns SIGTERM/SIGHUP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections.abc import Callable, Generator
from importlib.resources import files
from pathlib import Path

import uvicorn
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from monitor.config import Config
from monitor.console.ack_page import AckPages
from monitor.console.api import Api
from monitor.console.api_follow import FollowApi
from monitor.console.context import Console, template_environment
from monitor.console.feed import Feed, database_digest
from monitor.console.limits import LoginLimiter
from monitor.console.live import Live
from monitor.console.pages import Pages
from monitor.console.passwords import PasswordStore, password_path
from monitor.console.sessions import SessionTable, load_secret

log = logging.getLogger(__name__)

SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]


class SecurityHeaders:
    """Adds the CSP and friends to every response (pure ASGI: streams stay streams)."""

    def __init__(self, app: ASGIApp, tls: bool) -> None:
        self.app = app
        self.headers = list(SECURITY_HEADERS)
        if tls:
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + self.headers
            await send(message)

        await self.app(scope, receive, sending)


def openapi_document() -> bytes:
    """The hand-written OpenAPI 3.1 document shipped with the package."""
    return files("monitor.console").joinpath("openapi.json").read_bytes()


def build_app(console: Console) -> ASGIApp:
    """The console's ASGI app."""

    async def openapi(_request: Request) -> Response:
        return Response(openapi_document(), media_type="application/json")

    static = StaticFiles(packages=[("monitor.console", "static")])
    api = Api(console)
    routes = [
        Route("/api/openapi.json", openapi, methods=["GET"]),
        *api.routes(),
        *FollowApi(api).routes(),
        *Pages(console).routes(),
        *AckPages(console).routes(),
        Mount("/static", app=static, name="static"),
    ]
    return SecurityHeaders(Starlette(routes=routes), console.secure)


def build_console(
    config: Callable[[], Config],
    engine: Engine,
    live: Live,
    nudge: Callable[[], None] = lambda: None,
) -> Console:
    """The console's parts from `[console]` (creates the session key on first use)."""
    settings = config().daemon.console
    state = Path(settings.state_dir)
    return Console(
        config=config,
        engine=engine,
        live=live,
        sessions=SessionTable(load_secret(state), settings.session_lifetime),
        passwords=PasswordStore(password_path(state)),
        limiter=LoginLimiter(
            settings.login_failures, settings.address_failures, settings.login_window
        ),
        feed=Feed(live, lambda: database_digest(engine)),
        nudge=nudge,
        secure=settings.tls,
        templates=template_environment(),
    )


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the daemon handles signals


class ConsoleServer:
    """Serves one Console on `[console] listen` until stopped."""

    def __init__(self, console: Console) -> None:
        self.console = console
        settings = console.config().daemon.console
        self.settings = settings
        options = uvicorn.Config(
            build_app(console),
            host=settings.host,
            port=settings.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            proxy_headers=False,
            server_header=False,
            timeout_graceful_shutdown=2,
            ssl_certfile=str(settings.tls_cert) if settings.tls_cert else None,
            ssl_keyfile=str(settings.tls_key) if settings.tls_key else None,
        )
        self.options = options
        self.server = _Server(options)
        self._task: asyncio.Task[None] | None = None

    def _bind(self) -> socket.socket:
        """The listening socket, bound here: uvicorn would sys.exit() on a bind error."""
        family = socket.AF_INET6 if ":" in self.settings.host else socket.AF_INET
        try:
            self.options.load()  # TLS files are read here
            return socket.create_server((self.settings.host, self.settings.port), family=family)
        except (OSError, ssl.SSLError, ValueError) as exc:
            raise OSError(f"console cannot listen on {self.settings.listen}: {exc}") from exc

    async def start(self) -> None:
        """Bind and serve in the background; raises OSError when it cannot listen."""
        sock = self._bind()
        self.console.feed.start()
        self._task = asyncio.get_running_loop().create_task(self.server.serve(sockets=[sock]))
        for _ in range(200):
            if self.server.started or self._task.done():
                break
            await asyncio.sleep(0.025)
        if not self.server.started:
            await self.stop()
            sock.close()
            raise OSError(f"console cannot listen on {self.settings.listen}")
        scheme = "https" if self.settings.tls else "http"
        log.info(
            "console listening", extra={"fields": {"url": f"{scheme}://{self.settings.listen}"}}
        )

    async def stop(self) -> None:
        """End the streams, stop serving."""
        await self.console.feed.stop()
        self.server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
