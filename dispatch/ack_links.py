"""Signed single-use 收到 links for emails: sign, verify (pure), consume.

    token = sign(secret, dedupe_key, recipient_key, expires)
    claim = verify(secret, token, now)          # LinkError: forged, garbled or expired
    result = consume(incidents, secret, token)  # acknowledges; a second use is refused

A token names a notice (its dedupe key) and a recipient, with an expiry; it is
`base64url(JSON) "." base64url(HMAC-SHA256(key, JSON))`. The key is derived
from `[receiver] token`, so changing that token voids every link. A link acts
once: consuming acknowledges the recipient's deliveries of that notice
(`dispatch.acks`, means "email"); when they are already acknowledged — by this
link, an SMS reply or the CLI — it is refused as used. The landing page
(`/ack/<token>` on the console, or on the receiver without one) shows a button:
the GET never acknowledges, so mail scanners that fetch links do not either.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from dispatch.acks import AckResult, acknowledge
from dispatch.models import deliveries
from monitor.config import Config
from monitor.incidents.authority import Actor
from monitor.incidents.engine import IncidentEngine

_CONTEXT = b"commwatch ack link\x00"


class LinkError(ValueError):
    """A link that cannot be used; the message is safe to show."""


@dataclass(frozen=True)
class LinkClaim:
    """What a valid token names."""

    dedupe_key: str
    recipient_key: str
    expires: datetime


def link_key(token: str) -> bytes:
    """The HMAC key for links, derived from the receiver's shared token."""
    return hashlib.sha256(_CONTEXT + token.encode("utf-8")).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(key: bytes, dedupe_key: str, recipient_key: str, expires: datetime) -> str:
    """A token for one notice and recipient, valid until `expires`."""
    payload = json.dumps(
        [dedupe_key, recipient_key, int(expires.timestamp())], ensure_ascii=False
    ).encode("utf-8")
    mac = hmac.new(key, payload, hashlib.sha256).digest()[:16]
    return f"{_b64(payload)}.{_b64(mac)}"


def verify(key: bytes, token: str, now: datetime) -> LinkClaim:
    """The claim of a genuine, unexpired token, or LinkError."""
    body, dot, signature = token.partition(".")
    try:
        payload, mac = _unb64(body), _unb64(signature)
    except ValueError:
        raise LinkError("链接无效") from None
    expected = hmac.new(key, payload, hashlib.sha256).digest()[:16]
    if not dot or not hmac.compare_digest(mac, expected):
        raise LinkError("链接无效")
    try:
        dedupe_key, recipient_key, expires = json.loads(payload.decode("utf-8"))
        until = datetime.fromtimestamp(int(expires), UTC)
    except (ValueError, TypeError):
        raise LinkError("链接无效") from None
    if now >= until:
        raise LinkError("链接已过期，请回复短信或联系指挥部办公室确认")
    return LinkClaim(str(dedupe_key), str(recipient_key), until)


def consume(incidents: IncidentEngine, key: bytes, token: str, now: datetime) -> AckResult:
    """Acknowledge what a link names, once; LinkError when invalid, expired or used."""
    claim = verify(key, token, now)
    with incidents.engine.connect() as connection:
        found = connection.execute(
            select(deliveries.c.id, deliveries.c.acked_at)
            .where(
                deliveries.c.dedupe_key == claim.dedupe_key,
                deliveries.c.recipient_key == claim.recipient_key,
            )
            .order_by(deliveries.c.id)
        ).all()
    if not found:
        raise LinkError("链接无效")
    if all(row.acked_at is not None for row in found):
        raise LinkError("此链接已使用：该通知已确认收到")
    result = acknowledge(incidents, found[0].id, _reader(incidents.config, claim), "email")
    if not result.fresh:
        raise LinkError("此链接已使用：该通知已确认收到")
    return result


def _reader(config: Config, claim: LinkClaim) -> Actor:
    kind, _, name = claim.recipient_key.partition(":")
    person = config.people.get(name) if kind == "person" else None
    if person is not None:
        return Actor(person.id, person.name, frozenset(person.roles))
    return Actor(name[:64], name)


def landing_url(config: Config) -> str | None:
    """Where links land: the console's `public_url` when it runs, else the receiver's."""
    console = config.daemon.console
    if console.enabled and console.public_url:
        return console.public_url
    receiver = config.daemon.receiver
    if receiver.enabled and receiver.public_url:
        return receiver.public_url.rstrip("/")
    return None


def footer(
    config: Config, dedupe_key: str, recipient_key: str, created_at: datetime
) -> tuple[str, str] | None:
    """The link lines for an email (text, HTML), or None when nothing serves links.

    The key comes from `[receiver] token`; the link lands on the console (its
    `/ack/<link>` page) when `[console] public_url` is set, else on the receiver.
    """
    receiver = config.daemon.receiver
    base = landing_url(config)
    if receiver.token is None or base is None:
        return None
    key = link_key(receiver.token.get_secret_value())
    token = sign(key, dedupe_key, recipient_key, created_at + receiver.link_valid)
    url = f"{base}/ack/{token}"
    text = f"\n\n收到请点击确认（一次有效）：{url}"
    html = f'<p>收到请点击确认（一次有效）：<a href="{url}">确认收到</a></p>'
    return text, html
