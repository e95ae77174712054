"""Loopback stand-ins for the 钉钉, 企业微信 and 飞书 robot webhooks (test code, never shipped).

Each checks a request the way the vendor's public documentation describes it
and answers in the vendor's shape — a wrong signature gets the vendor's error:

- 钉钉 custom robot (加签): `POST /robot/send?access_token=T&timestamp=<ms>&sign=<s>`,
  s = urlEncode(Base64(HmacSHA256(key=secret, data=timestamp + "\\n" + secret))),
  timestamp within one hour; JSON body with `msgtype`. Wrong: errcode 310000.
- 企业微信 group robot: `POST /cgi-bin/webhook/send?key=K`; no signature; markdown
  content ≤ 4096 bytes, text ≤ 2048 bytes. Wrong key: errcode 93000.
- 飞书 custom bot (签名校验): `POST /open-apis/bot/v2/hook/<token>`; body `timestamp`
  (seconds, string) and `sign` = Base64(HmacSHA256(key=timestamp + "\\n" + secret,
  data="")); body ≤ 20 KB. Wrong: code 19021.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Record = dict[str, Any]


class RobotStandIn:
    """One HTTP server on 127.0.0.1 playing all three vendors."""

    def __init__(
        self,
        ding_token: str,
        ding_secret: str,
        wecom_key: str,
        feishu_hook: str,
        feishu_secret: str,
    ) -> None:
        self.ding_token = ding_token
        self.ding_secret = ding_secret
        self.wecom_key = wecom_key
        self.feishu_hook = feishu_hook
        self.feishu_secret = feishu_secret
        self.accepted: list[Record] = []
        self.refused: list[Record] = []
        self.answer_override: tuple[int, Record] | None = None
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> RobotStandIn:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- the vendors' rules -----------------------------------------------------------

    def check(self, path: str, query: dict[str, list[str]], body: Record) -> tuple[str, Record]:
        """(vendor, answer) for one request."""
        if path == "/robot/send":
            return "dingtalk", self._dingtalk(query, body)
        if path == "/cgi-bin/webhook/send":
            return "wecom", self._wecom(query, body)
        if path.startswith("/open-apis/bot/v2/hook/"):
            return "feishu", self._feishu(path.rsplit("/", 1)[-1], body)
        return "unknown", {"errcode": 404, "errmsg": "no such path"}

    def _dingtalk(self, query: dict[str, list[str]], body: Record) -> Record:
        if query.get("access_token") != [self.ding_token]:
            return {"errcode": 300001, "errmsg": "token is not exist"}
        stamp = query.get("timestamp", ["0"])[0]
        sign = query.get("sign", [""])[0]  # parse_qs has URL-decoded it once
        digest = hmac.new(
            self.ding_secret.encode(), f"{stamp}\n{self.ding_secret}".encode(), hashlib.sha256
        ).digest()
        fresh = abs(int(stamp) - time.time() * 1000) < 3_600_000
        if not fresh or not hmac.compare_digest(sign, base64.b64encode(digest).decode()):
            return {"errcode": 310000, "errmsg": "sign not match"}
        if body.get("msgtype") not in ("text", "markdown", "link", "actionCard", "feedCard"):
            return {"errcode": 40035, "errmsg": "缺少参数 msgtype"}
        return {"errcode": 0, "errmsg": "ok"}

    def _wecom(self, query: dict[str, list[str]], body: Record) -> Record:
        if query.get("key") != [self.wecom_key]:
            return {"errcode": 93000, "errmsg": "invalid webhook url"}
        kind = body.get("msgtype")
        limits = {"markdown": 4096, "text": 2048}
        if kind not in limits:
            return {"errcode": 40008, "errmsg": "invalid message type"}
        if len(body[kind]["content"].encode("utf-8")) > limits[kind]:
            return {"errcode": 40058, "errmsg": "content exceed max length"}
        return {"errcode": 0, "errmsg": "ok"}

    def _feishu(self, hook: str, body: Record) -> Record:
        if hook != self.feishu_hook:
            return {"code": 19001, "msg": "param invalid: incoming webhook access token invalid"}
        stamp = str(body.get("timestamp", "0"))
        key = f"{stamp}\n{self.feishu_secret}".encode()
        expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
        fresh = abs(int(stamp) - time.time()) < 3600
        if not fresh or not hmac.compare_digest(str(body.get("sign", "")), expected):
            return {
                "code": 19021,
                "msg": "sign match fail or timestamp is not within one hour from current time",
            }
        if body.get("msg_type") not in ("text", "post", "image", "share_chat", "interactive"):
            return {"code": 19002, "msg": "params error, msg_type need"}
        return {"code": 0, "msg": "success", "data": {}}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                split = urlsplit(self.path)
                record: Record = {"path": split.path, "query": parse_qs(split.query)}
                if not self.headers.get("Content-Type", "").startswith("application/json"):
                    answer: Record = {"errcode": 400, "errmsg": "content-type"}
                    vendor = "unknown"
                elif split.path.startswith("/open-apis/") and len(raw) > 20 * 1024:
                    answer, vendor = {"code": 9499, "msg": "body too large"}, "feishu"
                else:
                    record["body"] = json.loads(raw)
                    vendor, answer = stand_in.check(split.path, record["query"], record["body"])
                record["vendor"] = vendor
                ok = answer.get("errcode", answer.get("code")) == 0
                (stand_in.accepted if ok else stand_in.refused).append(record)
                status, payload = 200, answer
                if stand_in.answer_override is not None:
                    status, payload = stand_in.answer_override
                data = json.dumps(payload, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: object) -> None:
                pass

        return Handler
