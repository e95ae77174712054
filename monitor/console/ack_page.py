"""The landing page of the signed 收到 links in notice emails (`/ack/<link>`, no sign-in).

GET verifies the link and shows what it acknowledges, with a button; it never
acknowledges (mail scanners fetch links). POST acknowledges once
(`dispatch.ack_links.consume`, means "email"). A forged, garbled, expired or
used link is 410 with the reason; without `[receiver] token` (the links' key)
there are no links: 404.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dispatch.ack_links import LinkError, consume, link_key, verify
from dispatch.models import deliveries, notices
from dispatch.notice_data import TITLES
from monitor.console.context import Console


@dataclass(frozen=True)
class LinkView:
    """What a genuine link names, for the page."""

    recipient: str
    notice: str
    incident: int | None
    acknowledged: bool


def link_view(console: Console, key: bytes, link: str) -> LinkView:
    """The notice and recipient a link names (LinkError when invalid, expired or used)."""
    claim = verify(key, link, console.clock())
    query = (
        select(deliveries.c.recipient, deliveries.c.acked_at, notices.c.kind, notices.c.incident_id)
        .join(notices, deliveries.c.notice_id == notices.c.id)
        .where(
            deliveries.c.dedupe_key == claim.dedupe_key,
            deliveries.c.recipient_key == claim.recipient_key,
        )
        .order_by(deliveries.c.id)
    )
    with console.engine.connect() as connection:
        rows = connection.execute(query).all()
    if not rows:
        raise LinkError("链接无效")
    if all(row.acked_at is not None for row in rows):
        raise LinkError("此链接已使用：该通知已确认收到")
    first = rows[0]
    return LinkView(first.recipient, TITLES.get(first.kind, first.kind), first.incident_id, False)


class AckPages:
    """`/ack/{link}` on the console."""

    def __init__(self, console: Console) -> None:
        self.c = console

    def routes(self) -> list[Route]:
        return [Route("/ack/{link}", self.ack, methods=["GET", "POST"])]

    def _key(self) -> bytes | None:
        token = self.c.config().daemon.receiver.token
        return link_key(token.get_secret_value()) if token is not None else None

    async def ack(self, request: Request) -> Response:
        key = self._key()
        if key is None:
            return self.c.page("missing.html.j2", request, 404, text="没有这个链接")
        link = str(request.path_params["link"])
        if request.method == "GET":
            try:
                view = await asyncio.to_thread(link_view, self.c, key, link)
            except LinkError as exc:
                return self.c.page("ack_link.html.j2", request, 410, refused=str(exc), link=link)
            return self.c.page("ack_link.html.j2", request, view=view, link=link)
        if not self.c.same_origin(request):
            return self.c.page(
                "ack_link.html.j2", request, 403, refused="跨站请求被拒绝", link=link
            )
        try:
            result = await asyncio.to_thread(consume, self.c.incidents(), key, link, self.c.clock())
        except LinkError as exc:
            return self.c.page("ack_link.html.j2", request, 410, refused=str(exc), link=link)
        self.c.nudge()
        self.c.feed.bump()
        return self.c.page("ack_link.html.j2", request, done=result.recipient, link=link)
