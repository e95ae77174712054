"""From a notice to its planned deliveries: route, then render once per channel (pure).

If routing or rendering breaks (a bad template override, a bug), the notice is
not lost: it goes to the HQ office unit in the plain built-in text.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from html import escape

from dispatch.ack_links import footer
from dispatch.fate import down_systems, route_note
from dispatch.notice_data import TITLES, request_view
from dispatch.outbox_rows import Planned
from dispatch.render import Renderer, fallback
from dispatch.router import Target, route, unit_recipient
from monitor.config import Config
from monitor.incidents.notices import NoticeRequest

log = logging.getLogger(__name__)


def plan_notice(request: NoticeRequest, config: Config, renderer: Renderer) -> list[Planned]:
    """Every delivery of a notice with its rendered subject, text and HTML."""
    try:
        targets = route(request, config)
        view = request_view(config, request)
        rendered = {c: renderer.message(view, c) for c in sorted({t.channel for t in targets})}
    except Exception:
        log.exception("notice planning failed; the HQ office gets a plain text")
        return _office_only(request, config)
    if not targets:
        log.warning(
            "notice has no recipient with an address",
            extra={"fields": {"kind": str(request.kind), "key": request.dedupe_key}},
        )
    down = down_systems(config, request.assessment)
    planned = []
    for target in targets:
        text = rendered[target.channel]
        note = ""
        if target.via is not None:
            short = target.channel == "sms"
            note = route_note(config, target.via, target.skipped, down, short)
        planned.append(_planned(target, text.subject, text.text, text.html, note))
    return [_with_ack_link(p, request, config) for p in planned]


def _with_ack_link(item: Planned, request: NoticeRequest, config: Config) -> Planned:
    """Emails get a signed 收到 link when the receiver serves them (`dispatch.ack_links`)."""
    if item.channel != "email":
        return item
    link = footer(config, request.dedupe_key, item.recipient_key, request.created_at)
    if link is None:
        return item
    html = item.html + link[1] if item.html is not None else None
    return replace(item, body=item.body + link[0], html=html)


def _planned(target: Target, subject: str, body: str, html: str | None, note: str) -> Planned:
    """A planned delivery; a route note (fate-sharing) ends the text and the HTML."""
    if note:
        body = f"{body}{note}" if target.channel == "sms" else f"{body.rstrip()}\n\n{note}\n"
        html = _with_note(html, note) if html is not None else None
    return Planned(
        target.recipient_key,
        target.recipient,
        target.channel,
        target.address,
        target.stage,
        subject,
        body,
        html,
        target.notifier,
    )


def _with_note(html: str, note: str) -> str:
    paragraph = f"<p>{escape(note)}</p>"
    if "</body>" in html:
        return html.replace("</body>", f"{paragraph}</body>", 1)
    return html + paragraph


def _office_only(request: NoticeRequest, config: Config) -> list[Planned]:
    office = config.units.get(config.contacts.hq.office_unit)
    if office is None:
        return []
    recipient = unit_recipient(office)
    view = {
        "title": TITLES.get(str(request.kind), str(request.kind)),
        "incident_label": f"事件#{request.incident_id}" if request.incident_id else "",
        "incident_title": str(request.context.get("title", "")),
        "at": request.created_at.isoformat(),
        "office_phone": office.duty_phone or "",
    }
    planned = []
    for channel in ("email", "sms"):
        text = fallback(view, channel)
        for address in recipient.addresses(channel):
            planned.append(
                Planned(
                    recipient.key, recipient.label, channel, address, 0, text.subject, text.text
                )
            )
    return planned
