"""The receiver: delivery reports, SMS replies and 收到 links over HTTP ([receiver]).

A small Starlette app served by uvicorn inside the daemon's event loop. Every
gateway URL carries the shared `token` in its path; a wrong token is a 404, so
strangers can neither forge receipts nor learn that the endpoint exists.

    GET  /kannel/dlr/<token>?key=…&status=%d&answer=%A     Kannel dlr-url
    GET  /kannel/mo/<token>?from=%p&text=%b&coding=%c      Kannel sms-service get-url
    POST /receipt/<token>  {"gateway_id", "state", "reason"}   any other channel
    POST /reply/<token>    {"from", "text"}                    any other channel
    GET  /ack/<link>       the email link's landing page (a button; GET changes nothing)
    POST /ack/<link>       acknowledges (`dispatch.ack_links.consume`)

Kannel's DLR types: 1 delivered, 2 failed at the handset, 16 rejected by the
SMSC → failed; 4 buffered, 8 accepted by the SMSC → pending. An MO text in
UCS-2 (coding 2) arrives as UTF-16BE bytes and is decoded here. The MO answer
body is empty: with `omit-empty = true` in the sms-service Kannel sends
nothing back.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import html
import logging
import socket
from collections.abc import Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_to_bytes

from prometheus_client.core import Metric
from sqlalchemy import Engine

from dispatch.ack_links import LinkError, consume, link_key
from dispatch.acks import record_reply
from dispatch.cloud_callbacks import callback_receipt
from dispatch.receipts import ReceiptState, record_receipt
from monitor.config import Config
from monitor.incidents.engine import IncidentEngine
from monitor.incidents.tables import utcnow
from monitor.runtime.metrics import counter

if TYPE_CHECKING:  # the web stack (starlette, uvicorn) loads only when the receiver is used
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from uvicorn import Server

log = logging.getLogger(__name__)

KANNEL_DLR = {
    "1": ReceiptState.DELIVERED,
    "2": ReceiptState.FAILED,
    "16": ReceiptState.FAILED,
    "4": ReceiptState.PENDING,
    "8": ReceiptState.PENDING,
}


def decode_mo(raw: bytes, coding: str) -> str:
    """An MO text as Kannel passes it: UTF-16BE for coding 2, else UTF-8 (latin-1 fallback)."""
    if coding == "2":
        return raw.decode("utf-16-be", errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


class Receiver:
    """The HTTP listener; `start()` binds (when enabled), `stop()` closes."""

    def __init__(self, config: Config, engine: Engine) -> None:
        self.config = config
        self.incidents = IncidentEngine(engine, config)
        self.counts: dict[tuple[str, str], int] = {}
        self._server: Server | None = None
        self._task: asyncio.Task[None] | None = None

    @cached_property
    def app(self) -> Starlette:
        """The Starlette app (built, and the web stack imported, on first use)."""
        from starlette.applications import Starlette
        from starlette.routing import Route

        return Starlette(
            routes=[
                Route("/kannel/dlr/{token}", self._kannel_dlr),
                Route("/kannel/mo/{token}", self._kannel_mo),
                Route("/receipt/{token}", self._receipt, methods=["POST"]),
                Route("/reply/{token}", self._reply, methods=["POST"]),
                Route("/tencent/voice/{token}", self._tencent_voice, methods=["POST"]),
                Route("/ack/{link}", self._ack, methods=["GET", "POST"]),
            ]
        )

    @property
    def engine(self) -> Engine:
        return self.incidents.engine

    async def start(self) -> None:
        """Bind and serve if `[receiver] enabled`; a bind failure names the address."""
        settings = self.config.daemon.receiver
        if not settings.enabled:
            return
        family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((settings.host, settings.port))
        except OSError as exc:
            sock.close()
            raise OSError(f"receiver cannot listen on {settings.listen}: {exc.strerror}") from exc
        sock.listen(64)
        sock.setblocking(False)
        import uvicorn

        class _Server(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Iterator[None]:
                yield  # the daemon owns SIGTERM/SIGHUP

        server_config = uvicorn.Config(
            self.app, lifespan="off", access_log=False, log_config=None, log_level="warning"
        )
        self._server = _Server(server_config)
        self._task = asyncio.get_running_loop().create_task(
            self._server.serve(sockets=[sock]), name="receiver"
        )
        log.info("receiver listening", extra={"fields": {"address": settings.listen}})

    def reconfigure(self, config: Config) -> None:
        """Adopt a reloaded config (token, link validity; `listen` needs a restart)."""
        if config.daemon.receiver.listen != self.config.daemon.receiver.listen:
            log.warning("config change needs a restart", extra={"fields": {"section": "receiver"}})
        self.config = config
        self.incidents.reconfigure(config)

    async def stop(self) -> None:
        """Stop serving (requests in progress finish)."""
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        await asyncio.gather(self._task, return_exceptions=True)
        self._server = None
        self._task = None

    def metric_families(self) -> Iterator[Metric]:
        """Requests the receiver handled, by endpoint and outcome."""
        yield counter(
            "commwatch_receiver_requests",
            "Requests to the receiver (delivery reports, replies, ack links) by outcome",
            {k: float(v) for k, v in self.counts.items()},
            ["endpoint", "outcome"],
        )

    # -- endpoints --------------------------------------------------------------------

    def _count(self, endpoint: str, outcome: str) -> None:
        self.counts[(endpoint, outcome)] = self.counts.get((endpoint, outcome), 0) + 1

    def _allowed(self, request: Request) -> bool:
        token = self.config.daemon.receiver.token
        given = str(request.path_params.get("token", ""))
        if token is None:
            return False
        return hmac.compare_digest(given.encode(), token.get_secret_value().encode())

    async def _kannel_dlr(self, request: Request) -> Response:
        if not self._allowed(request):
            self._count("dlr", "forbidden")
            return _text("not found", status_code=404)
        key = request.query_params.get("key", "")
        status = request.query_params.get("status", "")
        answer = request.query_params.get("answer", "")
        state = KANNEL_DLR.get(status, ReceiptState.PENDING)
        reason = f"DLR {status}: {answer}".strip()
        found = await asyncio.to_thread(record_receipt, self.engine, key, state, reason)
        self._count("dlr", "matched" if found is not None else "unknown")
        return _text("ok")

    async def _kannel_mo(self, request: Request) -> Response:
        if not self._allowed(request):
            self._count("mo", "forbidden")
            return _text("not found", status_code=404)
        raw = _raw_query(request, "text")
        text = decode_mo(raw, request.query_params.get("coding", "0"))
        sender = request.query_params.get("from", "")
        return await self._handle_reply(sender, text, "mo")

    async def _handle_reply(self, sender: str, text: str, endpoint: str) -> Response:
        result = await asyncio.to_thread(record_reply, self.incidents, sender, text)
        outcome = "acknowledged" if result.ack is not None else "ignored"
        self._count(endpoint, outcome)
        log.info(
            "SMS reply",
            extra={
                "fields": {"outcome": outcome, "why": result.why, "delivery": _delivery(result)}
            },
        )
        return _text("")

    async def _receipt(self, request: Request) -> Response:
        if not self._allowed(request):
            self._count("receipt", "forbidden")
            return _text("not found", status_code=404)
        data = await _json(request)
        try:
            state = ReceiptState(str(data.get("state", "")))
        except ValueError:
            self._count("receipt", "bad")
            return _text("state: delivered | failed | pending", status_code=400)
        gateway_id, reason = str(data.get("gateway_id", "")), str(data.get("reason", ""))
        found = await asyncio.to_thread(record_receipt, self.engine, gateway_id, state, reason)
        self._count("receipt", "matched" if found is not None else "unknown")
        return _text("ok")

    async def _tencent_voice(self, request: Request) -> Response:
        """Tencent Cloud's voice status callback: the call result as the delivery state."""
        if not self._allowed(request):
            self._count("tencent_voice", "forbidden")
            return _text("not found", status_code=404)
        receipt = callback_receipt("tencent_voice", await _json(request))
        if receipt is None:
            self._count("tencent_voice", "bad")
            return _json_reply({"result": 1, "errmsg": "not a voiceprompt_callback"}, 400)
        found = await asyncio.to_thread(
            record_receipt, self.engine, receipt.gateway_id, receipt.state, receipt.detail
        )
        self._count("tencent_voice", "matched" if found is not None else "unknown")
        return _json_reply({"result": 0, "errmsg": "OK"})

    async def _reply(self, request: Request) -> Response:
        if not self._allowed(request):
            self._count("reply", "forbidden")
            return _text("not found", status_code=404)
        data = await _json(request)
        return await self._handle_reply(
            str(data.get("from", "")), str(data.get("text", "")), "reply"
        )

    async def _ack(self, request: Request) -> Response:
        token = self.config.daemon.receiver.token
        if token is None:
            return _text("not found", status_code=404)
        link = str(request.path_params["link"])
        key = link_key(token.get_secret_value())
        if request.method == "GET":
            return _html(_page("确认收到通知", _button(link)))
        try:
            result = await asyncio.to_thread(consume, self.incidents, key, link, utcnow())
        except LinkError as exc:
            self._count("ack", "refused")
            return _html(_page("无法确认", f"<p>{html.escape(str(exc))}</p>"), 410)
        self._count("ack", "acknowledged")
        text = f"已确认收到（{html.escape(result.recipient)}）。谢谢。"
        return _html(_page("已确认收到", f"<p>{text}</p>"))


def _text(body: str, status_code: int = 200) -> Response:
    from starlette.responses import PlainTextResponse

    return PlainTextResponse(body, status_code=status_code)


def _json_reply(data: dict[str, Any], status_code: int = 200) -> Response:
    from starlette.responses import JSONResponse

    return JSONResponse(data, status_code=status_code)


def _html(body: str, status_code: int = 200) -> Response:
    from starlette.responses import HTMLResponse

    return HTMLResponse(body, status_code=status_code)


def _raw_query(request: Request, name: str) -> bytes:
    """A query parameter's raw bytes (Kannel may send UTF-16 bytes, not UTF-8)."""
    for part in request.url.query.split("&"):
        key, _, value = part.partition("=")
        if key == name:
            return unquote_to_bytes(value.replace("+", " "))
    return b""


async def _json(request: Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _delivery(result: Any) -> int | None:
    return result.ack.delivery_id if result.ack is not None else None


def _button(link: str) -> str:
    return (
        f'<form method="post" action="/ack/{html.escape(link)}">'
        '<button type="submit">确认收到</button></form>'
    )


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>{title}</title>'
        f"<body><h1>{title}</h1>{body}</body></html>"
    )
