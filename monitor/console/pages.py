"""The console's pages (server-rendered, in Chinese); each live part has a fragment URL.

A page without a session sends the browser to /login. The live parts
(`/board/live`, `/incidents/{id}/live`) are re-fetched by console.js when
/events announces a change.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from dispatch.acks import MEANS_NAMES
from dispatch.official_pdf import html_to_pdf_async
from dispatch.render import Renderer
from dispatch.report_records import load_brief, load_final
from monitor.console.context import Console
from monitor.console.notices import outbox_view
from monitor.console.sessions import Session
from monitor.console.views import BoardCache, board_now, incident_detail
from monitor.console.windows import stored_windows, windows_view
from monitor.incidents.duty_log import REPORT_FIELDS
from monitor.incidents.engine import IncidentNotFoundError
from monitor.plan.names import SOURCE_NAMES, event_name, level_name, scenario_label, status_name

Page = Callable[[Request, Session], Awaitable[Response]]
FORMATS = {
    "md": ("md", "text/markdown"),
    "txt": ("txt", "text/plain"),
    "html": ("html", "text/html"),
    "pdf": ("pdf", "application/pdf"),
}
_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.DOTALL)
REPORTS = {"brief": "书面简要报告（§4.1）", "final": "事后总结材料（§5）"}


class Pages:
    """The HTML routes over one Console."""

    def __init__(self, console: Console) -> None:
        self.c = console
        self.boards = BoardCache()
        self.c.templates.globals.update(
            event_name=event_name,
            level_name=level_name,
            scenario_label=scenario_label,
            status_name=status_name,
            source_names=SOURCE_NAMES,
            reports=REPORTS,
            ack_means=MEANS_NAMES,
        )

    def routes(self) -> list[Route]:
        return [
            Route("/login", self.login, methods=["GET"]),
            Route("/", self.signed(self.board), methods=["GET"]),
            Route("/board/live", self.signed(self.board_live), methods=["GET"]),
            Route("/incidents", self.signed(self.incidents), methods=["GET"]),
            Route("/incidents/{id:int}", self.signed(self.incident), methods=["GET"]),
            Route("/incidents/{id:int}/live", self.signed(self.incident_live), methods=["GET"]),
            Route(
                "/incidents/{id:int}/report/{kind}.{fmt}",
                self.signed(self.download),
                methods=["GET"],
            ),
            Route("/incidents/{id:int}/report/{kind}", self.signed(self.report), methods=["GET"]),
            Route("/windows", self.signed(self.windows), methods=["GET"]),
            Route("/notices", self.signed(self.notices), methods=["GET"]),
            Route("/contacts", self.signed(self.contacts), methods=["GET"]),
            Route("/events", self.signed(self.events), methods=["GET"]),
        ]

    def signed(self, handler: Page) -> Callable[[Request], Awaitable[Response]]:
        """Pages need a session; without one the browser goes to the sign-in page."""

        async def guarded(request: Request) -> Response:
            session = self.c.session(request)
            if session is None:
                target = quote(request.url.path, safe="/")
                return RedirectResponse(f"/login?next={target}", status_code=303)
            return await handler(request, session)

        return guarded

    async def login(self, request: Request) -> Response:
        target = request.query_params.get("next", "/")
        if not target.startswith("/") or target.startswith(("//", "/\\")):
            target = "/"
        return self.c.page("login.html.j2", request, target=target)

    async def board(self, request: Request, session: Session) -> Response:
        view = await asyncio.to_thread(board_now, self.c, self.boards)
        return self.c.page("board.html.j2", request, session=session, view=view)

    async def board_live(self, request: Request, session: Session) -> Response:
        view = await asyncio.to_thread(board_now, self.c, self.boards)
        return self.c.page("board_live.html.j2", request, session=session, view=view)

    async def incidents(self, request: Request, session: Session) -> Response:
        rows = await asyncio.to_thread(self.c.incidents().incidents, True)
        return self.c.page("incidents.html.j2", request, session=session, rows=rows)

    async def _detail(self, request: Request, session: Session, name: str) -> Response:
        try:
            detail = await asyncio.to_thread(
                incident_detail, self.c, request.path_params["id"], self.c.actor(session)
            )
        except IncidentNotFoundError as exc:
            return self.c.page("missing.html.j2", request, 404, session=session, text=exc.args[0])
        return self.c.page(name, request, session=session, d=detail)

    async def incident(self, request: Request, session: Session) -> Response:
        return await self._detail(request, session, "incident.html.j2")

    async def incident_live(self, request: Request, session: Session) -> Response:
        return await self._detail(request, session, "incident_live.html.j2")

    def _view(self, kind: str, incident_id: int) -> dict[str, object]:
        load = load_brief if kind == "brief" else load_final
        return load(self.c.engine, self.c.config(), incident_id, self.c.clock())

    async def report(self, request: Request, session: Session) -> Response:
        kind = request.path_params["kind"]
        if kind not in REPORTS:
            return PlainTextResponse("没有这种报告", status_code=404)
        incident_id = request.path_params["id"]
        try:
            view = await asyncio.to_thread(self._view, kind, incident_id)
        except IncidentNotFoundError as exc:
            return self.c.page("missing.html.j2", request, 404, session=session, text=exc.args[0])
        html = Renderer.for_config(self.c.config()).document(kind, "html", view)
        found = _BODY.search(html)  # the document's body (its values escaped by the renderer);
        body = Markup(found.group(1) if found else html)  # its <style> is the print stylesheet's
        incident = await asyncio.to_thread(self.c.incidents().get, incident_id)
        return self.c.page(
            "report.html.j2",
            request,
            session=session,
            kind=kind,
            incident_id=incident_id,
            incident=incident,
            body=body,
            fields=REPORT_FIELDS,
        )

    async def download(self, request: Request, session: Session) -> Response:
        kind, fmt = request.path_params["kind"], request.path_params["fmt"]
        if kind not in REPORTS or fmt not in FORMATS:
            return PlainTextResponse("没有这种报告或格式", status_code=404)
        incident_id = request.path_params["id"]
        try:
            view = await asyncio.to_thread(self._view, kind, incident_id)
        except IncidentNotFoundError as exc:
            return PlainTextResponse(str(exc.args[0]), status_code=404)
        name = f"incident-{incident_id}-{kind}.{fmt}"
        disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
        if fmt == "pdf":  # the page as printed, by the renderer the fax channel uses
            html = Renderer.for_config(self.c.config()).document(kind, "html", view)
            pdf = await html_to_pdf_async(html)
            return Response(pdf, media_type="application/pdf", headers=disposition)
        extension, media = FORMATS[fmt]
        text = Renderer.for_config(self.c.config()).document(kind, extension, view)
        return Response(
            text.encode("utf-8"),
            media_type=f"{media}; charset=utf-8",
            headers=disposition,
        )

    async def windows(self, request: Request, session: Session) -> Response:
        stored = await asyncio.to_thread(self.c.incidents().guarantees)
        maintained = await asyncio.to_thread(stored_windows, self.c.engine)
        config = self.c.config()
        view = windows_view(config, self.c.clock(), stored, maintained)
        return self.c.page("windows.html.j2", request, session=session, view=view)

    async def notices(self, request: Request, session: Session) -> Response:
        view = await asyncio.to_thread(outbox_view, self.c.engine)
        return self.c.page("notices.html.j2", request, session=session, view=view)

    async def contacts(self, request: Request, session: Session) -> Response:
        return self.c.page("contacts.html.j2", request, session=session)

    async def events(self, request: Request, session: Session) -> Response:
        return StreamingResponse(
            self.c.feed.stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )
