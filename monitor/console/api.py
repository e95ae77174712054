"""The JSON API (DESIGN.md contract): sign-in, incidents and their actions.

    POST /api/login {"person","password"} → 200 {"csrf",…} + session cookie | 401 | 429
    POST /api/logout                        (X-CSRF-Token)
    GET  /api/session                       → who is signed in, and the CSRF token
    GET  /api/incidents[?all=1]             → [incident_json(…)]  (= incident list --json)
    GET  /api/incidents/{id}                → {incident, events, deliveries}
    POST /api/incidents/{id}/{action}       (X-CSRF-Token; actions.ACTIONS) → incident
    POST /api/events {"source","text"}      a report from source 2–4 opens an incident
    POST /api/notices/{id}/retry            a failed delivery goes back into the queue
    GET  /api/board                         → the board as JSON

No session → 401; a missing or wrong CSRF token (or a foreign Origin) → 403;
an action the plan refuses → 403 {"error": the engine's RefusedError, naming
the clause}; a bad body → 400; an unknown incident → 404.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dispatch.acks import DeliveryNotFoundError
from dispatch.calls import CallNotFoundError
from monitor.console.actions import ACTIONS, BadRequestError, parse
from monitor.console.context import Console
from monitor.console.notices import retry_failed
from monitor.console.passwords import PasswordError
from monitor.console.sessions import COOKIE, Session
from monitor.console.views import board_now, incident_detail
from monitor.incidents.authority import RefusedError
from monitor.incidents.engine import IncidentNotFoundError
from monitor.incidents.listing import incident_json, to_json

Handler = Callable[[Request], Awaitable[Response]]
NOT_FOUND = (IncidentNotFoundError, DeliveryNotFoundError, CallNotFoundError)  # → 404
log = logging.getLogger(__name__)


def error(status: int, message: str, **extra: Any) -> JSONResponse:
    """A JSON error body."""
    return JSONResponse({"error": message, **extra}, status_code=status)


async def read_body(request: Request) -> Any:
    """The request's JSON body ({} when empty; BadRequestError when not JSON)."""
    raw = await request.body()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise BadRequestError(f"请求体不是 JSON：{exc}") from exc


class Api:
    """The API routes over one Console."""

    def __init__(self, console: Console) -> None:
        self.c = console

    def routes(self) -> list[Route]:
        return [
            Route("/api/login", self.login, methods=["POST"]),
            Route("/api/logout", self.change(self.logout), methods=["POST"]),
            Route("/api/session", self.read(self.who), methods=["GET"]),
            Route("/api/incidents", self.read(self.list_incidents), methods=["GET"]),
            Route("/api/incidents/{id:int}", self.read(self.show), methods=["GET"]),
            Route("/api/incidents/{id:int}/{action:path}", self.change(self.act), methods=["POST"]),
            Route("/api/events", self.change(self.report), methods=["POST"]),
            Route("/api/board", self.read(self.board), methods=["GET"]),
            Route("/api/notices/{id:int}/retry", self.change(self.retry), methods=["POST"]),
        ]

    # -- guards --------------------------------------------------------------------

    def read(self, handler: Callable[[Request, Session], Awaitable[Response]]) -> Handler:
        """A GET that needs a session."""

        async def guarded(request: Request) -> Response:
            session = self.c.session(request)
            if session is None:
                return error(401, "未登录或登录已失效（POST /api/login）")
            return await handler(request, session)

        return guarded

    def change(self, handler: Callable[[Request, Session], Awaitable[Response]]) -> Handler:
        """A state change: a session, the session's CSRF token, a same-origin request."""

        async def guarded(request: Request) -> Response:
            session = self.c.session(request)
            if session is None:
                return error(401, "未登录或登录已失效（POST /api/login）")
            if not session.csrf_ok(request.headers.get("x-csrf-token")):
                return error(403, "缺少或错误的 X-CSRF-Token")
            if not self.c.same_origin(request):
                return error(403, "跨站请求被拒绝（Origin）")
            try:
                return await handler(request, session)
            except BadRequestError as exc:
                return error(400, str(exc))
            except RefusedError as exc:
                return error(403, str(exc.args[0]) if exc.args else str(exc))
            except NOT_FOUND as exc:
                return error(404, str(exc.args[0]) if exc.args else str(exc))

        return guarded

    # -- sign-in -------------------------------------------------------------------

    async def login(self, request: Request) -> Response:
        if not self.c.same_origin(request):
            return error(403, "跨站请求被拒绝（Origin）")
        try:
            body = await read_body(request)
        except BadRequestError as exc:
            return error(400, str(exc))
        person = body.get("person") if isinstance(body, dict) else None
        password = body.get("password") if isinstance(body, dict) else None
        if not isinstance(person, str) or not isinstance(password, str):
            return error(400, '请求体须为 {"person": 人员编号, "password": 密码}')
        address = self.c.client(request)
        wait = self.c.limiter.locked_for(person, address)
        if wait > 0:
            log.warning(
                "console sign-in locked",
                extra={"fields": {"person": person[:64], "address": address}},
            )
            return JSONResponse(
                {"error": f"密码错误次数过多，请{int(wait) + 1}秒后再试"},
                status_code=429,
                headers={"Retry-After": str(int(wait) + 1)},
            )
        known = person in self.c.config().people
        try:
            good = await asyncio.to_thread(self.c.passwords.verify, person, password)
            stamp = self.c.passwords.stamp(person)
        except PasswordError as exc:
            log.error("console password file unreadable", extra={"fields": {"error": str(exc)}})
            return error(503, "控制台密码文件无法读取，请联系管理员（见守护进程日志）")
        if not (known and good and stamp is not None):
            self.c.limiter.failed(person, address)
            log.warning(
                "console sign-in failed",
                extra={"fields": {"person": person[:64], "address": address}},
            )
            return error(401, "人员编号或密码错误")
        self.c.limiter.succeeded(person)
        log.info("console sign-in", extra={"fields": {"person": person[:64], "address": address}})
        cookie, session = self.c.sessions.create(person, stamp)
        response = JSONResponse(self._who(session))
        response.set_cookie(
            COOKIE,
            cookie,
            max_age=int(self.c.sessions.lifetime),
            httponly=True,
            samesite="strict",
            secure=self.c.https(request),
            path="/",
        )
        return response

    async def logout(self, request: Request, session: Session) -> Response:
        self.c.sessions.end(session.id)
        response = JSONResponse({"ok": True})
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return response

    def _who(self, session: Session) -> dict[str, Any]:
        person = self.c.config().people[session.person]
        return {
            "person": person.id,
            "name": person.name,
            "roles": person.roles,
            "csrf": session.csrf,
        }

    async def who(self, request: Request, session: Session) -> Response:
        return JSONResponse(self._who(session))

    # -- incidents -----------------------------------------------------------------

    async def list_incidents(self, request: Request, session: Session) -> Response:
        everything = request.query_params.get("all") in ("1", "true", "yes")
        rows = await asyncio.to_thread(self.c.incidents().incidents, everything)
        return JSONResponse([incident_json(i) for i in rows])

    async def show(self, request: Request, session: Session) -> Response:
        try:
            detail = await asyncio.to_thread(
                incident_detail, self.c, request.path_params["id"], self.c.actor(session)
            )
        except IncidentNotFoundError as exc:
            return error(404, str(exc.args[0]))
        return JSONResponse(
            {
                "incident": incident_json(detail.incident),
                "events": to_json(detail.events),
                "deliveries": to_json(detail.deliveries),
                "actions": [asdict(choice) for choice in detail.choices],
            }
        )

    async def act(self, request: Request, session: Session) -> Response:
        spec = ACTIONS.get(request.path_params["action"])
        if spec is None:
            return error(404, f"没有这个操作：{request.path_params['action']}")
        values = parse(spec, await read_body(request))
        actor = self.c.actor(session)
        incident = await asyncio.to_thread(
            spec.run, self.c.incidents(), request.path_params["id"], actor, values
        )
        self.c.nudge()
        self.c.feed.bump()
        return JSONResponse(incident_json(incident))

    async def report(self, request: Request, session: Session) -> Response:
        values = parse(ACTIONS["information"], await read_body(request))
        actor = self.c.actor(session)
        incident = await asyncio.to_thread(
            self.c.incidents().add_event, values["source"], values["text"], actor
        )
        self.c.nudge()
        self.c.feed.bump()
        return JSONResponse(incident_json(incident), status_code=201)

    async def board(self, request: Request, session: Session) -> Response:
        view = await asyncio.to_thread(board_now, self.c)
        return JSONResponse(to_json(view))

    async def retry(self, request: Request, session: Session) -> Response:
        delivery = request.path_params["id"]
        done = await asyncio.to_thread(retry_failed, self.c.engine, delivery, self.c.clock())
        if not done:
            return error(409, f"投递#{delivery}不是失败状态，无需重试")
        self.c.nudge()
        self.c.feed.bump()
        return JSONResponse({"id": delivery, "status": "pending"})
