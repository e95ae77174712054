"""Loopback stand-ins for Aliyun (dysms/dyvms) and Tencent Cloud (sms/vms) APIs (test code only).

Both check every request's signature from their own copy of the secret, as the
vendors' public documentation describes it, and answer in the vendor's shape:

- Aliyun V3 (ACS3-HMAC-SHA256): CanonicalRequest = method \\n "/" \\n
  CanonicalQueryString (sorted, RFC 3986 encoded) \\n CanonicalHeaders
  ("name:value\\n" for each signed header, lower-case, sorted) \\n SignedHeaders
  \\n hex(SHA256(body)); StringToSign = "ACS3-HMAC-SHA256\\n" +
  hex(SHA256(CanonicalRequest)); Signature = hex(HMAC-SHA256(secret, StringToSign)).
  host and every x-acs-* header must be signed; x-acs-content-sha256 must be
  the body's hash. A mismatch: HTTP 400, Code "SignatureDoesNotMatch".
- Tencent TC3-HMAC-SHA256: CanonicalRequest = "POST\\n/\\n\\n" + headers
  content-type and host (lower-case, "k:v\\n") + "\\ncontent-type;host\\n" +
  hex(SHA256(payload)); StringToSign = "TC3-HMAC-SHA256\\n<ts>\\n<date>/<service>/
  tc3_request\\n" + hex(SHA256(CanonicalRequest)); the key is derived
  HMAC("TC3"+secret, date) → service → "tc3_request". The timestamp must be
  within 5 minutes. A mismatch: Error Code "AuthFailure.SignatureFailure".
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

Record = dict[str, Any]
SERVICES = {"SendSms": "sms", "SendTtsVoice": "vms"}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


class CloudStandIn:
    """One HTTP server on 127.0.0.1 answering as Aliyun (x-acs-action) or Tencent (X-TC-Action)."""

    def __init__(self, key_id: str, secret: str) -> None:
        self.key_id = key_id
        self.secret = secret
        self.requests: list[Record] = []
        self.call_state = "200000"  # what QueryCallDetailByCallId reports
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self._server.server_address[1]
        self.endpoint = f"127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> CloudStandIn:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- Aliyun ---------------------------------------------------------------------

    def aliyun_signature_ok(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> bool:
        auth = headers.get("authorization", "")
        if not auth.startswith("ACS3-HMAC-SHA256 "):
            return False
        fields = dict(
            part.split("=", 1) for part in auth.removeprefix("ACS3-HMAC-SHA256 ").split(",")
        )
        signed = fields.get("SignedHeaders", "").split(";")
        required = {"host"} | {h for h in headers if h.startswith("x-acs-")}
        if fields.get("Credential") != self.key_id or not required <= set(signed):
            return False
        if headers.get("x-acs-content-sha256") != _sha256(body):
            return False
        query = sorted(parse_qsl(urlsplit(path).query, keep_blank_values=True))
        canonical_query = "&".join(
            f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in query
        )
        canonical_headers = "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in signed)
        canonical = "\n".join(
            [method, "/", canonical_query, canonical_headers, ";".join(signed), _sha256(body)]
        )
        to_sign = "ACS3-HMAC-SHA256\n" + _sha256(canonical.encode())
        expected = hmac.new(self.secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(fields.get("Signature", ""), expected)

    def aliyun(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Record]:
        if not self.aliyun_signature_ok(method, path, headers, body):
            return 400, {
                "Code": "SignatureDoesNotMatch",
                "Message": "Specified signature does not match our calculation.",
                "RequestId": "stand-in",
            }
        action = headers.get("x-acs-action")
        params = dict(parse_qsl(urlsplit(path).query, keep_blank_values=True))
        if action == "SendSms":
            if not params.get("PhoneNumbers", "").isdigit():
                return 200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"}
            return 200, {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0"}
        if action == "SingleCallByTts":
            return 200, {"Code": "OK", "Message": "OK", "CallId": "116012354148^10281378****"}
        if action == "QueryCallDetailByCallId":
            data = {"state": self.call_state, "stateDesc": self.call_state, "duration": 9}
            return 200, {"Code": "OK", "Message": "OK", "Data": json.dumps(data)}
        return 404, {"Code": "InvalidAction.NotFound", "Message": str(action)}

    # -- Tencent ----------------------------------------------------------------------

    def tencent_signature_ok(self, headers: dict[str, str], body: bytes) -> bool:
        auth = headers.get("authorization", "")
        if not auth.startswith("TC3-HMAC-SHA256 "):
            return False
        fields = dict(
            part.strip().split("=", 1) for part in auth.removeprefix("TC3-HMAC-SHA256 ").split(",")
        )
        stamp = headers.get("x-tc-timestamp", "0")
        date = datetime.fromtimestamp(int(stamp), UTC).strftime("%Y-%m-%d")
        service = SERVICES.get(headers.get("x-tc-action", ""), "?")
        scope = f"{date}/{service}/tc3_request"
        if (
            fields.get("Credential") != f"{self.key_id}/{scope}"
            or abs(int(stamp) - time.time()) > 300
        ):
            return False
        if fields.get("SignedHeaders") != "content-type;host":
            return False
        canonical_headers = f"content-type:{headers.get('content-type', '').lower()}\nhost:{headers.get('host', '').lower()}\n"
        canonical = f"POST\n/\n\n{canonical_headers}\ncontent-type;host\n{_sha256(body)}"
        to_sign = f"TC3-HMAC-SHA256\n{stamp}\n{scope}\n{_sha256(canonical.encode())}"
        key = _hmac(_hmac(_hmac(("TC3" + self.secret).encode(), date), service), "tc3_request")
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(fields.get("Signature", ""), expected)

    def tencent(self, headers: dict[str, str], body: bytes) -> tuple[int, Record]:
        if not self.tencent_signature_ok(headers, body):
            error = {
                "Code": "AuthFailure.SignatureFailure",
                "Message": "The provided credentials could not be validated.",
            }
            return 200, {"Response": {"Error": error, "RequestId": "stand-in"}}
        action = headers.get("x-tc-action")
        payload = json.loads(body)
        if action == "SendSms":
            phone = payload["PhoneNumberSet"][0]
            ok = phone.startswith("+861") and len(phone) == 14
            status = {
                "SerialNo": "2028:f825e6b16e23f73f4123",
                "PhoneNumber": phone,
                "Fee": 1,
                "SessionContext": payload.get("SessionContext", ""),
                "Code": "Ok" if ok else "InvalidParameterValue.IncorrectPhoneNumber",
                "Message": "send success" if ok else "手机号格式错误",
                "IsoCode": "CN",
            }
            return 200, {"Response": {"SendStatusSet": [status], "RequestId": "stand-in"}}
        if action == "SendTtsVoice":
            send = {
                "CallId": "8b3f3bc3-8d4c-4c8b",
                "SessionContext": payload.get("SessionContext", ""),
            }
            return 200, {"Response": {"SendStatus": send, "RequestId": "stand-in"}}
        error = {"Code": "InvalidAction", "Message": str(action)}
        return 200, {"Response": {"Error": error, "RequestId": "stand-in"}}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                if "x-acs-action" in headers:
                    vendor = "aliyun"
                    status, answer = stand_in.aliyun(self.command, self.path, headers, body)
                else:
                    vendor = "tencent"
                    status, answer = stand_in.tencent(headers, body)
                stand_in.requests.append(
                    {
                        "vendor": vendor,
                        "path": self.path,
                        "headers": headers,
                        "body": body,
                        "status": status,
                        "answer": answer,
                    }
                )
                data = json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(status)
                kind = (
                    "application/json;charset=utf-8" if vendor == "aliyun" else "application/json"
                )
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                self._answer()

            def log_message(self, *_args: object) -> None:
                pass

        return Handler
