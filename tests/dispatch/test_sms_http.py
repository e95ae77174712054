"""The sms_http channel: request shapes per preset and the success rules (injected client)."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from dispatch.base import Message, NotifyError
from dispatch.sms_http import (
    SmsHttpNotifier,
    judge_kannel,
    judge_templated,
    judge_yunmas,
    kannel_request,
    templated_request,
    yunmas_mac,
    yunmas_request,
)
from monitor.config.notifiers import SmsHttpNotifierConfig

MESSAGE = Message(7, "13800000000", "", "测试短信", None, "commwatch.7.abc")


def config(**values: Any) -> SmsHttpNotifierConfig:
    return SmsHttpNotifierConfig.model_validate({"name": "sms", "type": "sms_http", **values})


KANNEL = config(
    preset="kannel",
    url="http://127.0.0.1:13013/cgi-bin/sendsms",
    username="tester",
    password="foobar",
)
YUNMAS = config(
    preset="yunmas", url="http://127.0.0.1:1992/sms/norsubmit", ec_name="区工信局",
    ap_id="commwatch", secret_key="s3cr3t", sign="WUmwCDzQ7",
)  # fmt: skip


def test_kannel_request() -> None:
    with_dlr = KANNEL.model_copy(
        update={
            "dlr_url": SecretStr("http://127.0.0.1:9811/dlr?id={{ key }}&type=%d"),
            "sender": "10086",
        }
    )
    request = kannel_request(with_dlr, MESSAGE)
    assert (request.method, request.url) == ("POST", "http://127.0.0.1:13013/cgi-bin/sendsms")
    assert request.params == {}, "nothing in the URL: it is what libraries and proxies log"
    assert request.content == "测试短信".encode()
    assert request.headers == {
        "Content-Type": "text/plain; charset=UTF-8",
        "X-Kannel-Username": "tester",
        "X-Kannel-Password": "foobar",
        "X-Kannel-To": "13800000000",
        "X-Kannel-Coding": "2",
        "X-Kannel-From": "10086",
        "X-Kannel-DLR-Mask": "31",
        "X-Kannel-DLR-Url": "http://127.0.0.1:9811/dlr?id=commwatch.7.abc&type=%d",
    }


def test_yunmas_request_and_mac() -> None:
    assert yunmas_mac(YUNMAS, "13800000000", "测试短信") == "223058d47e3d0fee56862f1d4aac9bd5"
    request = yunmas_request(YUNMAS, MESSAGE)
    assert request.method == "POST"
    assert request.content is not None
    payload = json.loads(base64.b64decode(request.content))
    assert payload == {
        "ecName": "区工信局",
        "apId": "commwatch",
        "mobiles": "13800000000",
        "content": "测试短信",
        "sign": "WUmwCDzQ7",
        "addSerial": "",
        "mac": "223058d47e3d0fee56862f1d4aac9bd5",
    }
    assert "s3cr3t" not in base64.b64decode(request.content).decode()


def test_templated_request() -> None:
    templated = config(
        method="POST",
        url="https://sms.example.com/send?user={{ username }}",
        username="u1",
        headers={"X-To": "{{ to }}"},
        body='{"mobile": {{ to|tojson }}, "content": {{ text|tojson }}}',
        params={"ref": "{{ key }}"},
    )
    request = templated_request(templated, MESSAGE)
    assert request.url == "https://sms.example.com/send?user=u1"
    assert request.headers == {"X-To": "13800000000"}
    assert request.params == {"ref": "commwatch.7.abc"}
    assert request.content is not None
    assert json.loads(request.content) == {"mobile": "13800000000", "content": "测试短信"}


@pytest.mark.parametrize(
    ("status", "body", "permanent"),
    [
        (202, "0: Accepted for delivery", None),
        (202, "3: Queued for later delivery", None),
        (403, "Authorization failed for sendsms", True),
        (400, "Missing receiver number, rejected", True),
        (503, "Temporal failure, try again later", False),
        (202, "Sendsms failed", False),
    ],
    ids=["accepted", "queued", "auth", "bad-request", "busy", "odd-2xx"],
)
def test_judge_kannel(status: int, body: str, permanent: bool | None) -> None:
    if permanent is None:
        assert judge_kannel(status, body) == body
        return
    with pytest.raises(NotifyError) as caught:
        judge_kannel(status, body)
    assert caught.value.permanent is permanent


@pytest.mark.parametrize(
    ("status", "body", "result"),
    [
        (200, '{"msgGroup":"1012171730000000744297","rspcod":"success","success":true}', "1012171730000000744297"),
        (200, '{"msgGroup":"","rspcod":"IllegalMac","success":false}', "permanent"),
        (200, "<html>busy</html>", "transient"),
        (502, "bad gateway", "transient"),
    ],
    ids=["success", "illegal-mac", "not-json", "5xx"],
)  # fmt: skip
def test_judge_yunmas(status: int, body: str, result: str) -> None:
    if result not in ("permanent", "transient"):
        assert judge_yunmas(status, body) == result
        return
    with pytest.raises(NotifyError) as caught:
        judge_yunmas(status, body)
    assert caught.value.permanent is (result == "permanent")


@pytest.mark.parametrize(
    ("status", "body", "result"),
    [(200, '{"code": 0}', "ok"), (200, '{"code": 1001}', "permanent"), (429, "slow down", "transient"), (401, "", "permanent")],
    ids=["ok", "pattern-miss", "rate-limited", "unauthorized"],
)  # fmt: skip
def test_judge_templated(status: int, body: str, result: str) -> None:
    rule = config(url="http://x", success_status=[200], success_pattern=r'"code":\s*0\b')
    if result == "ok":
        assert judge_templated(rule, status, body) == body
        return
    with pytest.raises(NotifyError) as caught:
        judge_templated(rule, status, body)
    assert caught.value.permanent is (result == "permanent")


async def test_notifier_through_injected_client() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202, text="0: Accepted for delivery")

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        delivery = await SmsHttpNotifier(KANNEL, client).send(MESSAGE)
    assert delivery.detail == "0: Accepted for delivery"
    assert seen[0].content.decode() == "测试短信"
    assert seen[0].headers["X-Kannel-Coding"] == "2"
    assert "foobar" not in str(seen[0].url)


async def test_connection_refused_is_transient() -> None:
    dead = config(
        **{
            **KANNEL.model_dump(),
            "password": "foobar",
            "url": "http://127.0.0.1:9/cgi-bin/sendsms",
            "timeout": "2s",
        }
    )
    async with httpx.AsyncClient() as client:
        with pytest.raises(NotifyError) as caught:
            await SmsHttpNotifier(dead, client).send(MESSAGE)
    assert caught.value.permanent is False


def test_preset_needs_its_keys() -> None:
    with pytest.raises(ValueError, match="needs ec_name, ap_id, secret_key, sign"):
        config(preset="yunmas", url="http://x")
    with pytest.raises(ValueError, match="needs username and password"):
        config(preset="kannel", url="http://x")
