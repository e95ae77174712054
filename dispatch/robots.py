"""Group robots: 钉钉 custom robot, 企业微信 group robot, 飞书 custom bot (channel "robot").

A robot message is the notice's Markdown (`notice.md.j2`) posted to the
group; the address is the mobile(s) of the people concerned, comma-separated,
to @-mention. Request builders and signatures are pure; the notifier posts
through the injected `httpx.AsyncClient`.

- 钉钉: POST `url&timestamp=<ms>&sign=<s>` with
  `s = urlencode(base64(HMAC-SHA256(key=secret, msg="<ms>\\n<secret>")))`;
  body `msgtype=markdown` with `at.atMobiles` — DingTalk only renders the
  mention when "@<mobile>" is also in the text, so it is appended.
  Answer `{"errcode":0}`; 130101 (too fast) is transient.
- 企业微信: no signature (the `key` in the URL is the secret). Markdown cannot
  mention by mobile, so the notice is a `markdown` message followed by a
  `text` message with `mentioned_mobile_list`. 45009 (rate limit) is transient.
- 飞书: body `{"timestamp":"<s>","sign":…}` with
  `sign = base64(HMAC-SHA256(key="<s>\\n<secret>", msg=""))` (the key is the
  string; the DingTalk formula is the known trap) and an interactive card with
  a Markdown element. A custom bot cannot @ by mobile: the people and their
  mobiles are named in the text (`at_all` adds `<at id=all></at>`).
  11232 (rate limit) is transient.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeAlias

import httpx

from dispatch.base import Delivery, Message, NotifyError

if TYPE_CHECKING:
    from monitor.config.notifiers import (
        DingtalkNotifierConfig,
        FeishuNotifierConfig,
        WecomNotifierConfig,
    )

RobotConfig: TypeAlias = "DingtalkNotifierConfig | WecomNotifierConfig | FeishuNotifierConfig"
Clock = Callable[[], float]

_TRANSIENT = {"dingtalk": {130101, 130102}, "wecom": {45009, -1}, "feishu": {11232, 9499}}


@dataclass(frozen=True)
class Post:
    """One JSON POST to a robot webhook."""

    url: str
    body: dict[str, Any]


def mobiles_of(address: str) -> list[str]:
    """The mobiles to @-mention in a robot delivery's address."""
    return [m.strip() for m in address.split(",") if m.strip()]


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk 加签: urlencoded base64 HMAC-SHA256(secret, "<ms>\\n<secret>")."""
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode("ascii"))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu 签名校验: base64 HMAC-SHA256 keyed by "<s>\\n<secret>" over the empty string."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


def dingtalk_posts(config: DingtalkNotifierConfig, message: Message, now: float) -> list[Post]:
    """The signed markdown message with its @-mentions."""
    mobiles = mobiles_of(message.address)
    url = config.url.get_secret_value()
    if config.secret is not None:
        stamp = int(now * 1000)
        sign = dingtalk_sign(config.secret.get_secret_value(), stamp)
        url = f"{url}{'&' if '?' in url else '?'}timestamp={stamp}&sign={sign}"
    mentions = " ".join(f"@{m}" for m in mobiles)
    text = f"{message.text.rstrip()}\n\n{mentions}" if mentions else message.text
    body = {
        "msgtype": "markdown",
        "markdown": {"title": message.subject or "通知", "text": text},
        "at": {"atMobiles": mobiles, "isAtAll": config.at_all},
    }
    return [Post(url, body)]


def wecom_posts(config: WecomNotifierConfig, message: Message, _now: float) -> list[Post]:
    """Markdown notice, then a text message mentioning the mobiles (markdown cannot)."""
    url = config.url.get_secret_value()
    posts = [Post(url, {"msgtype": "markdown", "markdown": {"content": message.text}})]
    mentioned = mobiles_of(message.address) + (["@all"] if config.at_all else [])
    if mentioned:
        text = {"content": f"请查收：{message.subject}", "mentioned_mobile_list": mentioned}
        posts.append(Post(url, {"msgtype": "text", "text": text}))
    return posts


def feishu_posts(config: FeishuNotifierConfig, message: Message, now: float) -> list[Post]:
    """Signed interactive card with the Markdown; mobiles named in the text."""
    content = message.text.rstrip()
    mobiles = mobiles_of(message.address)
    if mobiles:
        content += f"\n\n请 {'、'.join(mobiles)} 查收"
    if config.at_all:
        content += " <at id=all></at>"
    body: dict[str, Any] = {
        "msg_type": "interactive",
        "card": {
            "header": {"title": {"tag": "plain_text", "content": message.subject or "通知"}},
            "elements": [{"tag": "markdown", "content": content}],
        },
    }
    if config.secret is not None:
        stamp = int(now)
        body = {
            "timestamp": str(stamp),
            "sign": feishu_sign(config.secret.get_secret_value(), stamp),
            **body,
        }
    return [Post(config.url.get_secret_value(), body)]


def judge(vendor: str, status: int, text: str) -> str:
    """The vendor's verdict on one POST: "ok", or NotifyError (transient or permanent)."""
    if status >= 500 or status == 429:
        raise NotifyError(f"{vendor} robot: HTTP {status}")
    try:
        answer = json.loads(text)
    except ValueError:
        raise NotifyError(f"{vendor} robot: HTTP {status}, not JSON: {text[:120]!r}") from None
    if not isinstance(answer, dict):
        raise NotifyError(f"{vendor} robot: unexpected answer {text[:120]!r}", permanent=True)
    code = answer.get("errcode", answer.get("code", answer.get("StatusCode")))
    if status == 200 and code == 0:
        return "ok"
    why = answer.get("errmsg") or answer.get("msg") or answer.get("StatusMessage") or ""
    permanent = code not in _TRANSIENT[vendor]
    raise NotifyError(f"{vendor} robot refused: code {code} {why}".strip(), permanent=permanent)


_BUILDERS: dict[str, Callable[[Any, Message, float], list[Post]]] = {
    "dingtalk": dingtalk_posts,
    "wecom": wecom_posts,
    "feishu": feishu_posts,
}


class RobotNotifier:
    """Posts notices to one group robot; see the module docstring."""

    channel = "robot"

    def __init__(
        self, config: RobotConfig, client: httpx.AsyncClient, clock: Clock = time.time
    ) -> None:
        self.name = config.name
        self.config = config
        self.client = client
        self.clock = clock

    async def send(self, message: Message) -> Delivery:
        """Post (signed where the vendor signs); returns when the robot accepted it."""
        vendor = self.config.type
        limit = self.config.timeout.total_seconds()
        for post in _BUILDERS[vendor](self.config, message, self.clock()):
            try:
                response = await self.client.post(post.url, json=post.body, timeout=limit)
            except httpx.TimeoutException:
                raise NotifyError(f"{vendor} robot: no answer within {limit:g}s") from None
            except httpx.TransportError as exc:
                raise NotifyError(f"{vendor} robot connection: {type(exc).__name__}") from None
            judge(vendor, response.status_code, response.text)
        return Delivery(datetime.now(UTC), None, f"{vendor} robot accepted")

    async def close(self) -> None:
        """The client belongs to whoever injected it."""
