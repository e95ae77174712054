"""The JSON API beyond incidents' own steps: 收到, calls, 保障期 (same guards as `api`).

    POST /api/deliveries/{id}/ack            收到 for the signed-in person (self or own unit)
    POST /api/calls/{id}/done                {"answered_by","outcome"}: a call made
    GET  /api/guarantees                     stored 保障期 (the keys of `guarantee list --json`)
    POST /api/guarantees                     {"name","start","end","systems"?,"fail_after"?} → 201
    POST /api/guarantees/{id}/end            end a stored 保障期 now
    GET  /api/maintenance                    maintenance windows entered on duty
    POST /api/maintenance                    {"name","start","end","nodes"?,"systems"?,"streets"?}
    POST /api/maintenance/{id}/end           end a stored maintenance window now

The acting person is the signed-in one; a body naming someone else is refused
(403), as for every incident action.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from monitor.console.actions import ON_BEHALF, BadRequestError, refuse_behalf
from monitor.console.api import Api, read_body
from monitor.console.followups import acknowledge_as, record_call
from monitor.console.sessions import Session
from monitor.console.windows import (
    add_period,
    add_window,
    period_json,
    stored_windows,
    window_json,
)
from monitor.incidents import maintenance


def _object(body: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequestError("请求体须为 JSON 对象")
    refuse_behalf(body)
    unknown = set(body) - set(fields) - ON_BEHALF
    if unknown:
        raise BadRequestError(
            f"未知字段：{'、'.join(sorted(unknown))}（可用：{'、'.join(fields)}）"
        )
    return body


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key, "")
    if not isinstance(value, str):
        raise BadRequestError(f"字段 {key} 须为字符串")
    return value.strip()


class FollowApi:
    """收到, calls and 保障期 over one console's API guards."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.c = api.c

    def routes(self) -> list[Route]:
        change, read = self.api.change, self.api.read
        return [
            Route("/api/deliveries/{id:int}/ack", change(self.ack), methods=["POST"]),
            Route("/api/calls/{id:int}/done", change(self.call), methods=["POST"]),
            Route("/api/guarantees", read(self.periods), methods=["GET"]),
            Route("/api/guarantees", change(self.add), methods=["POST"]),
            Route("/api/guarantees/{id:int}/end", change(self.end), methods=["POST"]),
            Route("/api/maintenance", read(self.windows), methods=["GET"]),
            Route("/api/maintenance", change(self.add_window), methods=["POST"]),
            Route("/api/maintenance/{id:int}/end", change(self.end_window), methods=["POST"]),
        ]

    def _changed(self) -> None:
        self.c.nudge()
        self.c.feed.bump()

    async def ack(self, request: Request, session: Session) -> Response:
        _object(await read_body(request), ())
        actor = self.c.actor(session)
        result = await asyncio.to_thread(acknowledge_as, self.c, request.path_params["id"], actor)
        self._changed()
        return JSONResponse(
            {
                "delivery": result.delivery_id,
                "incident": result.incident_id,
                "recipient": result.recipient,
                "fresh": result.fresh,
                "acked_at": result.acked_at.isoformat() if result.acked_at else None,
                "acked_by": result.acked_by,
                "means": result.means,
            }
        )

    async def call(self, request: Request, session: Session) -> Response:
        body = _object(await read_body(request), ("answered_by", "outcome"))
        outcome = _text(body, "outcome")
        if not outcome:
            raise BadRequestError("缺少字段 outcome（通话结果）")
        actor = self.c.actor(session)
        task = await asyncio.to_thread(
            record_call,
            self.c,
            request.path_params["id"],
            actor,
            _text(body, "answered_by"),
            outcome,
        )
        self._changed()
        return JSONResponse(
            {
                "id": task.id,
                "unit": task.unit,
                "incident": task.incident,
                "done_at": task.done_at.isoformat() if task.done_at else None,
                "done_by": task.done_by,
                "answered_by": task.answered_by,
                "outcome": task.outcome,
            }
        )

    async def periods(self, request: Request, session: Session) -> Response:
        rows = await asyncio.to_thread(self.c.incidents().guarantees)
        now = self.c.clock()
        return JSONResponse([period_json(r, now) for r in rows])

    async def add(self, request: Request, session: Session) -> Response:
        body = await read_body(request)
        if isinstance(body, dict):
            refuse_behalf(body)
        if not isinstance(body, dict):
            raise BadRequestError("请求体须为 JSON 对象")
        actor = self.c.actor(session)
        record = await asyncio.to_thread(add_period, self.c.incidents(), actor, body)
        self._changed()
        return JSONResponse(period_json(record, self.c.clock()), status_code=201)

    async def end(self, request: Request, session: Session) -> Response:
        _object(await read_body(request), ())
        actor = self.c.actor(session)
        engine = self.c.incidents()
        record = await asyncio.to_thread(engine.end_guarantee, request.path_params["id"], actor)
        self._changed()
        return JSONResponse(period_json(record, self.c.clock()))

    async def windows(self, request: Request, session: Session) -> Response:
        rows = await asyncio.to_thread(stored_windows, self.c.engine)
        now = self.c.clock()
        return JSONResponse([window_json(r, now) for r in rows])

    async def add_window(self, request: Request, session: Session) -> Response:
        body = await read_body(request)
        if not isinstance(body, dict):
            raise BadRequestError("请求体须为 JSON 对象")
        refuse_behalf(body)
        actor = self.c.actor(session)
        record = await asyncio.to_thread(add_window, self.c.incidents(), actor, body)
        self._changed()
        return JSONResponse(window_json(record, self.c.clock()), status_code=201)

    async def end_window(self, request: Request, session: Session) -> Response:
        _object(await read_body(request), ())
        actor = self.c.actor(session)
        now = self.c.clock()
        record = await asyncio.to_thread(
            maintenance.end, self.c.engine, request.path_params["id"], actor, now
        )
        self._changed()
        return JSONResponse(window_json(record, now))
