"""Rendering notices and reports with Jinja2 in a sandbox (pure given the templates).

Templates ship in `dispatch/templates/`; a file of the same name in the config
directory's `templates/` (or `[dispatch] templates`) overrides it, and a
per-kind file (`warning.sms.j2`) overrides the generic one (`notice.sms.j2`).
The environment is a `SandboxedEnvironment` with `StrictUndefined`: templates
are operator-editable and must not reach Python internals; a broken override
falls back to a plain built-in text rather than stopping the outbox.

Jinja2 is imported, and the environment built, when the first text is rendered:
a daemon that sends nothing keeps neither in memory.

SMS texts are made to fit one UCS-2 segment (70 characters, a non-BMP
character counting 2) where they can: lists are shortened ("A、B等3个") step by
step; a text that still does not fit goes out in 67-character parts.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dispatch.brief import brief_sections
from monitor.config import Config

if TYPE_CHECKING:
    from jinja2.sandbox import SandboxedEnvironment

log = logging.getLogger(__name__)

SHIPPED = Path(__file__).parent / "templates"
SMS_SEGMENT = 70
SMS_PART = 67
_SMS_ITEMS = (3, 2, 1)
_LAYOUT = re.compile(r"\s{2,}")
_BRIEF_KINDS = ("brief_report", "follow_up", "upgrade", "downgrade")


@dataclass(frozen=True)
class Rendered:
    """One channel's rendering of a notice: SMS has no subject and no HTML."""

    subject: str
    text: str
    html: str | None = None


DRILL_MARK = "【演练】"
_BODY = re.compile(r"<body[^>]*>")


def ucs2_length(text: str) -> int:
    """Length in UCS-2 code units: characters outside the BMP take two."""
    return sum(2 if ord(c) > 0xFFFF else 1 for c in text)


def sms_parts(text: str) -> int:
    """How many SMS a UCS-2 text takes (70 in one, 67 per part when split)."""
    length = ucs2_length(text)
    return 1 if length <= SMS_SEGMENT else math.ceil(length / SMS_PART)


def some(items: Sequence[str], limit: int = 3, counter: str = "个") -> str:
    """At most `limit` items joined with 、, ending "等N个…" when some were left out."""
    items = list(items)
    if len(items) <= limit:
        return "、".join(items)
    return "、".join(items[:limit]) + f"等{len(items)}{counter}"


def template_dirs(config: Config) -> list[Path]:
    """The override directory (if any) first, then the shipped templates."""
    configured = config.daemon.dispatch.templates
    override = Path(configured) if configured else config.directory / "templates"
    if not override.is_absolute():
        override = config.directory / override
    return [override, SHIPPED] if override.is_dir() else [SHIPPED]


class Renderer:
    """Renders notice views into messages and report views into documents."""

    def __init__(self, search_path: Sequence[Path] = (SHIPPED,)) -> None:
        self.search_path = tuple(search_path)

    @cached_property
    def env(self) -> SandboxedEnvironment:
        """The sandboxed Jinja2 environment (built on first use)."""
        from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined
        from jinja2.sandbox import SandboxedEnvironment

        env = SandboxedEnvironment(
            loader=ChoiceLoader([FileSystemLoader(str(p)) for p in self.search_path]),
            undefined=StrictUndefined,
            autoescape=lambda name: name is not None and name.endswith(".html.j2"),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters["some"] = some
        env.filters["cn_date"] = cn_date
        return env

    @classmethod
    def for_config(cls, config: Config) -> Renderer:
        """A renderer with the config directory's overrides."""
        return cls(template_dirs(config))

    def _render(self, kind: str, part: str, view: Mapping[str, Any]) -> str:
        template = self.env.select_template([f"{kind}.{part}.j2", f"notice.{part}.j2"])
        return template.render(**view)

    def sms(self, view: Mapping[str, Any]) -> str:
        """The SMS text, one line, shortened to one segment where it can be; 【演练】 in a drill."""
        text = ""
        mark = DRILL_MARK if view.get("drill") else ""
        for limit in _SMS_ITEMS:
            raw = self._render(view["kind"], "sms", {**view, "sms_items": limit})
            text = mark + _one_line(raw)
            if ucs2_length(text) <= SMS_SEGMENT:
                break
        return text

    def email(self, view: Mapping[str, Any]) -> Rendered:
        """Subject (one line), plain text and HTML."""
        full = dict(view)
        if view["kind"] in _BRIEF_KINDS and not view.get("adjusted_by_person"):
            full["brief"] = brief_sections(view)
        else:
            full["brief"] = []
        subject = _one_line(self._render(view["kind"], "subject", full))
        text = self._render(view["kind"], "txt", full).strip() + "\n"
        html = self._render(view["kind"], "html", full)
        if view.get("drill"):  # §6.1: every drill notice says so, whatever the template
            subject, text = (
                DRILL_MARK + subject,
                f"{DRILL_MARK}（本通知为演练，非真实事件）\n{text}",
            )
            html = html.replace(
                "<body", f"<p><b>{DRILL_MARK}本通知为演练，非真实事件</b></p><body", 1
            )
        return Rendered(subject, text, html)

    def printable(self, view: Mapping[str, Any]) -> Rendered:
        """Subject, plain text and the 公文-form page (`notice.print.html.j2`) for print and fax."""
        email = self.email(view)
        return Rendered(email.subject, email.text, self._render(view["kind"], "print.html", view))

    def markdown(self, view: Mapping[str, Any]) -> Rendered:
        """Subject and Markdown body for group robots (钉钉, 企业微信, 飞书)."""
        subject = _one_line(self._render(view["kind"], "subject", {**view, "brief": []}))
        text = self._render(view["kind"], "md", view).strip() + "\n"
        if view.get("drill"):  # §6.1, as for every other channel
            subject, text = (
                DRILL_MARK + subject,
                f"**{DRILL_MARK}本通知为演练，非真实事件**\n\n{text}",
            )
        return Rendered(subject, text)

    def message(self, view: Mapping[str, Any], channel: str) -> Rendered:
        """The rendering for one channel; a broken template falls back to plain text."""
        from jinja2 import TemplateError

        try:
            if channel in ("sms", "voice"):  # a voice notice reads the short text
                return Rendered("", self.sms(view))
            if channel == "robot":
                return self.markdown(view)
            if channel == "fax":
                return self.printable(view)
            return self.email(view)
        except TemplateError as exc:
            log.error(
                "notice template failed; plain fallback used",
                extra={"fields": {"kind": view.get("kind"), "error": str(exc)}},
            )
            return fallback(view, channel)

    def document(self, name: str, fmt: str, view: Mapping[str, Any]) -> str:
        """A report (`brief`, `final` or `drill`) as text, md or html; 【演练】 in a drill."""
        text = self.env.get_template(f"{name}.{fmt}.j2").render(**view)
        if view.get("drill") and name != "drill":
            mark = f"{DRILL_MARK}（本报告为演练，非真实事件）"
            return (
                text.replace("<body>", f"<body><p><b>{mark}</b></p>", 1)
                if fmt == "html"
                else f"{mark}\n{text}"
            )
        return text


def cn_date(value: str) -> str:
    """ "2026-12-01 08:00:00" → "2026年12月1日" (成文日期: Arabic numerals, no padding)."""
    match = re.match(r"^(\d{4})-(\d{1,2})-(\d{1,2})", value)
    if match is None:
        return value
    year, month, day = (int(g) for g in match.groups())
    return f"{year}年{month}月{day}日"


def _one_line(text: str) -> str:
    """Template layout removed: line breaks and runs of 2+ blanks vanish, single spaces stay."""
    return _LAYOUT.sub("", text.replace("\n", "  ")).strip()


def fallback(view: Mapping[str, Any], channel: str) -> Rendered:
    """A plain rendering that needs no template."""
    label = view.get("incident_label") or ""
    head = f"【{view.get('title', '')}】{label}{'：' if label else ''}"
    body = "、".join(view.get("affected") or []) or str(view.get("incident_title", ""))
    phone = f"回电{view['office_phone']}" if view.get("office_phone") else ""
    if channel in ("sms", "robot", "voice"):
        return Rendered(head if channel == "robot" else "", f"{head}{body}。{phone}")
    text = f"{head}\n{view.get('at', '')}\n{body}\n{phone}\n"
    return Rendered(head, text, None)
