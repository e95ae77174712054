"""The `sms_http` channel: an HTTP SMS gateway through an injected `httpx.AsyncClient`.

Three shapes, each a pure request builder plus a pure success rule:

- `preset = "kannel"`: POST `/cgi-bin/sendsms`, the text as a `text/plain;
  charset=UTF-8` body and everything else — the sendsms-user's name and
  password included — in `X-Kannel-*` headers (Kannel's POST interface), so
  no credential ever sits in a URL that a proxy or an HTTP library may log;
  `X-Kannel-Coding: 2` (without it Kannel turns Chinese into "??" and still
  answers 202), optional `X-Kannel-DLR-Mask: 31` and `X-Kannel-DLR-Url`;
  `params` (e.g. `smsc`) become `X-Kannel-<name>` headers. Accepted = 202 with a body starting `0:`
  (accepted) or `3:` (queued for later delivery); 403 (bad sendsms-user) and
  other 4xx are permanent, 5xx transient.
- `preset = "yunmas"`: China Mobile 云MAS HTTP `norsubmit`: POST of Base64(JSON)
  with `mac = md5(ecName+apId+secretKey+mobiles+content+sign+addSerial)` (lower
  hex); the secret key itself is not sent. Accepted = `rspcod == "success"`.
- no preset: `method`, `url`, `params`, `headers`, `body` are Jinja templates
  (sandboxed) over `to`, `text`, `key`, `username`, `password`, `sender`;
  accepted = status in `success_status` and, if set, `success_pattern` found
  in the body.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from dispatch.base import Delivery, Message, NotifyError

if TYPE_CHECKING:
    from monitor.config.notifiers import SmsHttpNotifierConfig

_KANNEL_OK = re.compile(r"^[03]:")
_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


@dataclass(frozen=True)
class HttpRequest:
    """What to send to the gateway."""

    method: str
    url: str
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None


def _secret(config: SmsHttpNotifierConfig, name: str) -> str:
    value = getattr(config, name)
    return value.get_secret_value() if value is not None else ""


def _fill(template: str, values: dict[str, str]) -> str:
    return _ENV.from_string(template).render(**values)


def kannel_request(config: SmsHttpNotifierConfig, message: Message) -> HttpRequest:
    """Kannel sendsms by POST: UCS-2 (coding 2) from a UTF-8 body, credentials in headers."""
    headers = {
        "Content-Type": "text/plain; charset=UTF-8",
        "X-Kannel-Username": config.username or "",
        "X-Kannel-Password": _secret(config, "password"),
        "X-Kannel-To": message.address,
        "X-Kannel-Coding": "2",
    }
    if config.sender:
        headers["X-Kannel-From"] = config.sender
    if config.dlr_url:
        headers["X-Kannel-DLR-Mask"] = "31"
        url = config.dlr_url.get_secret_value()
        headers["X-Kannel-DLR-Url"] = _fill(url, {"key": message.key, "to": message.address})
    headers.update({f"X-Kannel-{name}": value for name, value in config.params.items()})
    headers.update(config.headers)
    return HttpRequest("POST", config.url, {}, headers, message.text.encode("utf-8"))


def yunmas_mac(config: SmsHttpNotifierConfig, mobiles: str, content: str) -> str:
    """云MAS mac: md5(ecName+apId+secretKey+mobiles+content+sign+addSerial), lower hex."""
    secret = _secret(config, "secret_key")
    parts = (config.ec_name, config.ap_id, secret, mobiles, content, config.sign, config.add_serial)
    joined = "".join(p or "" for p in parts)
    return hashlib.md5(joined.encode("utf-8")).hexdigest()


def yunmas_request(config: SmsHttpNotifierConfig, message: Message) -> HttpRequest:
    """云MAS norsubmit: the JSON fields Base64-encoded as the request body."""
    payload = {
        "ecName": config.ec_name or "",
        "apId": config.ap_id or "",
        "mobiles": message.address,
        "content": message.text,
        "sign": config.sign or "",
        "addSerial": config.add_serial,
        "mac": yunmas_mac(config, message.address, message.text),
    }
    body = base64.b64encode(json.dumps(payload, ensure_ascii=False).encode("utf-8"))
    headers = {"Content-Type": "application/json; charset=utf-8", **config.headers}
    return HttpRequest("POST", config.url, {}, headers, body)


def templated_request(config: SmsHttpNotifierConfig, message: Message) -> HttpRequest:
    """A fully templated request: every string may use {{ to }}, {{ text }}, {{ key }}, …"""
    values = {
        "to": message.address,
        "text": message.text,
        "key": message.key,
        "username": config.username or "",
        "password": _secret(config, "password"),
        "sender": config.sender or "",
    }
    params = {k: _fill(v, values) for k, v in config.params.items()}
    headers = {k: _fill(v, values) for k, v in config.headers.items()}
    body = _fill(config.body, values).encode("utf-8") if config.body is not None else None
    return HttpRequest(config.method, _fill(config.url, values), params, headers, body)


def judge_kannel(status: int, body: str) -> str:
    """Kannel's verdict: the accepted body, or NotifyError."""
    if status == 202 and _KANNEL_OK.match(body):
        return body
    raise _http_error(status, body)


def judge_yunmas(status: int, body: str) -> str:
    """云MAS's verdict: the msgGroup id, or NotifyError."""
    if status != 200:
        raise _http_error(status, body)
    try:
        answer = json.loads(body)
    except ValueError:
        raise NotifyError(f"云MAS: not JSON: {body[:120]!r}") from None
    if isinstance(answer, dict) and answer.get("rspcod") == "success":
        return str(answer.get("msgGroup", ""))
    rspcod = answer.get("rspcod") if isinstance(answer, dict) else None
    raise NotifyError(f"云MAS refused: rspcod={rspcod!r}", permanent=True)


def judge_templated(config: SmsHttpNotifierConfig, status: int, body: str) -> str:
    """The configured success rule: status in success_status and success_pattern found."""
    if status not in config.success_status:
        raise _http_error(status, body)
    if config.success_pattern and re.search(config.success_pattern, body) is None:
        raise NotifyError(f"gateway refused: {body[:200]!r}", permanent=True)
    return body[:200]


def _http_error(status: int, body: str) -> NotifyError:
    detail = f"HTTP {status}: {body.strip()[:200]!r}"
    transient = status >= 500 or status in (408, 429) or 200 <= status < 300
    return NotifyError(detail, permanent=not transient)


class SmsHttpNotifier:
    """Sends one SMS per request to one mobile; see the module docstring for the presets."""

    channel = "sms"

    def __init__(self, config: SmsHttpNotifierConfig, client: httpx.AsyncClient) -> None:
        self.name = config.name
        self.config = config
        self.client = client

    def request_for(self, message: Message) -> HttpRequest:
        """The HTTP request for a message, by preset."""
        if self.config.preset == "kannel":
            return kannel_request(self.config, message)
        if self.config.preset == "yunmas":
            return yunmas_request(self.config, message)
        return templated_request(self.config, message)

    async def send(self, message: Message) -> Delivery:
        """Submit to the gateway; returns when it accepted the message."""
        request = self.request_for(message)
        limit = self.config.timeout.total_seconds()
        try:
            async with asyncio.timeout(limit):
                response = await self.client.request(
                    request.method,
                    request.url,
                    params=request.params or None,
                    headers=request.headers or None,
                    content=request.content,
                    timeout=limit,
                )
        except (TimeoutError, httpx.TimeoutException):
            raise NotifyError(f"SMS gateway: no answer within {limit:g}s") from None
        except httpx.InvalidURL as exc:
            raise NotifyError(f"SMS gateway URL: {exc}", permanent=True) from exc
        except httpx.TransportError as exc:
            raise NotifyError(f"SMS gateway connection: {exc!r}") from exc
        status, body = response.status_code, response.text
        if self.config.preset == "kannel":
            detail = judge_kannel(status, body)
        elif self.config.preset == "yunmas":
            detail = judge_yunmas(status, body)
        else:
            detail = judge_templated(self.config, status, body)
        return Delivery(datetime.now(UTC), message.key or None, detail.strip())

    async def close(self) -> None:
        """The client belongs to whoever injected it."""
