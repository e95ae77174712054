"""Aliyun and Tencent Cloud SMS and voice through their official SDKs, pointed at loopback
stand-ins that check each request's signature as the vendors document it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from pydantic import SecretStr

from dispatch.base import Message, NotifyError
from dispatch.cloud_aliyun import AliyunSmsNotifier, AliyunVoiceNotifier
from dispatch.cloud_callbacks import callback_receipt
from dispatch.cloud_tencent import TencentSmsNotifier, TencentVoiceNotifier
from dispatch.events import Event, Receipt
from dispatch.outbox import Outbox
from dispatch.receiver import Receiver
from monitor.cli import main
from monitor.config.notifiers import (
    AliyunSmsNotifierConfig,
    AliyunVoiceNotifierConfig,
    CloudCredentialConfig,
    TencentSmsNotifierConfig,
    TencentVoiceNotifierConfig,
)
from monitor.incidents.notices import NoticeKind
from tests.conftest import Db
from tests.dispatch.fakes import eventually
from tests.dispatch.followup_support import open_incident, rows, send_notice, setup
from tests.dispatch.support import T0, base_toml, write_config
from tests.standins.clouds import CloudStandIn

KEY_ID = "LTAI5tStandIn"
SECRET = "wJalrXUtnFEMI7K7MDENGbPxRfiCYz9"
TOKEN = "tok-3f9a1c77e2b54d08"
RECEIVER = f"""
[receiver]
enabled = true
listen = "127.0.0.1:9"
token = "{TOKEN}"
"""
SCRIPT = "【预警通知】区通信网络指挥部发布情形3预警：移动城区分公司网络中断。回电0356-2039294"


@pytest.fixture
def cloud() -> Iterator[CloudStandIn]:
    with CloudStandIn(KEY_ID, SECRET) as server:
        yield server


def credential(secret: str = SECRET) -> CloudCredentialConfig:
    return CloudCredentialConfig(access_key_id=KEY_ID, access_key_secret=SecretStr(secret))


def common(cloud: CloudStandIn, **more: Any) -> dict[str, Any]:
    return {
        "credential": "ops",
        "endpoint": cloud.endpoint,
        "protocol": "http",
        "timeout": "5s",
        **more,
    }


def aliyun_params(record: dict[str, Any]) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(record["path"]).query))


async def test_aliyun_sms_is_signed_and_templated(cloud: CloudStandIn) -> None:
    config = AliyunSmsNotifierConfig(
        name="ali-sms",
        type="aliyun_sms",
        sign_name="区通信网络指挥部",
        template_code="SMS_4711",
        **common(cloud),
    )
    delivery = await AliyunSmsNotifier(config, credential()).send(
        Message(1, "13800000010", "", SCRIPT, key="k1")
    )
    assert delivery.gateway_id == "900619746936498440^0"
    (record,) = cloud.requests
    assert record["status"] == 200
    assert record["headers"]["x-acs-action"] == "SendSms"
    assert record["headers"]["x-acs-version"] == "2017-05-25"
    params = aliyun_params(record)
    assert params["PhoneNumbers"] == "13800000010"
    assert params["SignName"] == "区通信网络指挥部"
    assert params["TemplateCode"] == "SMS_4711"
    assert json.loads(params["TemplateParam"]) == {"content": SCRIPT}


async def test_aliyun_wrong_secret_fails_permanently_without_the_secret(
    cloud: CloudStandIn,
) -> None:
    config = AliyunSmsNotifierConfig(
        name="ali-sms", type="aliyun_sms", sign_name="签名", template_code="SMS_1", **common(cloud)
    )
    notifier = AliyunSmsNotifier(config, credential("not-the-secret"))
    with pytest.raises(NotifyError) as caught:
        await notifier.send(Message(1, "13800000010", "", "测试", key="k"))
    assert caught.value.permanent
    assert "SignatureDoesNotMatch" in str(caught.value)
    assert "not-the-secret" not in str(caught.value)
    assert cloud.requests[-1]["status"] == 400


@pytest.mark.parametrize(
    ("state", "expected"),
    [("200000", "delivered"), ("200003", "failed")],
    ids=["heard", "unanswered"],
)
async def test_aliyun_voice_calls_a_landline_twice_and_reports_the_result(
    cloud: CloudStandIn, state: str, expected: str
) -> None:
    cloud.call_state = state
    events: list[Event] = []
    config = AliyunVoiceNotifierConfig(
        name="ali-voice",
        type="aliyun_voice",
        tts_code="TTS_10001",
        result_after="50ms",
        **common(cloud),
    )
    notifier = AliyunVoiceNotifier(config, credential(), events.append)
    try:
        delivery = await notifier.send(Message(1, "03562039294", "", SCRIPT, key="k"))
        await eventually(lambda: bool(events), within=5)
    finally:
        await notifier.close()
    call, query = cloud.requests
    params = aliyun_params(call)
    assert call["headers"]["x-acs-action"] == "SingleCallByTts"
    assert params["CalledNumber"] == "03562039294"
    assert params["PlayTimes"] == "2"
    assert json.loads(params["TtsParam"]) == {"content": SCRIPT}
    assert query["headers"]["x-acs-action"] == "QueryCallDetailByCallId"
    assert aliyun_params(query)["ProdId"] == "11000000300006"
    assert events == [Receipt("ali-voice", delivery.gateway_id or "", expected, events[0].detail)]  # type: ignore[union-attr]
    assert state in events[0].detail  # type: ignore[union-attr]


async def test_tencent_sms_is_signed_with_tc3(cloud: CloudStandIn) -> None:
    config = TencentSmsNotifierConfig(
        name="tc-sms",
        type="tencent_sms",
        sdk_app_id="1400006666",
        sign_name="区指挥部",
        template_id="1110",
        **common(cloud),
    )
    delivery = await TencentSmsNotifier(config, credential()).send(
        Message(1, "13800000010", "", SCRIPT, key="k2")
    )
    assert delivery.gateway_id == "2028:f825e6b16e23f73f4123"
    (record,) = cloud.requests
    body = json.loads(record["body"])
    assert body["PhoneNumberSet"] == ["+8613800000010"]
    assert body["TemplateParamSet"] == [SCRIPT]
    assert body["SmsSdkAppId"] == "1400006666"
    assert record["headers"]["x-tc-version"] == "2021-01-11"


async def test_tencent_wrong_secret_and_bad_number(cloud: CloudStandIn) -> None:
    config = TencentSmsNotifierConfig(
        name="tc-sms",
        type="tencent_sms",
        sdk_app_id="1",
        sign_name="签名",
        template_id="1",
        **common(cloud),
    )
    with pytest.raises(NotifyError) as caught:
        await TencentSmsNotifier(config, credential("wrong-secret")).send(
            Message(1, "13800000010", "", "t", key="k")
        )
    assert caught.value.permanent
    assert "AuthFailure.SignatureFailure" in str(caught.value)
    assert "wrong-secret" not in str(caught.value)
    with pytest.raises(NotifyError, match="IncorrectPhoneNumber"):
        await TencentSmsNotifier(config, credential()).send(Message(1, "12345", "", "t", key="k"))


async def test_tencent_voice_rings_mobiles_and_refuses_landlines(cloud: CloudStandIn) -> None:
    config = TencentVoiceNotifierConfig(
        name="tc-voice",
        type="tencent_voice",
        voice_sdk_app_id="1400000001",
        template_id="2001",
        **common(cloud),
    )
    notifier = TencentVoiceNotifier(config, credential())
    with pytest.raises(NotifyError, match="mobiles only") as caught:
        await notifier.send(Message(1, "03562039294", "", SCRIPT, key="k"))
    assert caught.value.permanent
    assert cloud.requests == []
    delivery = await notifier.send(Message(1, "13800000010", "", SCRIPT, key="k"))
    assert delivery.gateway_id == "8b3f3bc3-8d4c-4c8b"
    body = json.loads(cloud.requests[0]["body"])
    assert body["CalledNumber"] == "+8613800000010"
    assert body["PlayTimes"] == 2
    assert body["TemplateParamSet"] == [SCRIPT]
    callback = {
        "voiceprompt_callback": {
            "result": "1",
            "callid": "8b3f3bc3-8d4c-4c8b",
            "mobile": "13800000010",
        }
    }
    assert callback_receipt("tc-voice", callback) == Receipt(
        "tc-voice", "8b3f3bc3-8d4c-4c8b", "failed", "not answered"
    )


def test_notify_test_rings_a_landline_through_aliyun(
    tmp_path: Path, cloud: CloudStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    channels = f"""
[cloud.credential.ops]
access_key_id = "{KEY_ID}"
access_key_secret = "{SECRET}"

[[notifier]]
name = "ali-voice"
type = "aliyun_voice"
credential = "ops"
endpoint = "{cloud.endpoint}"
protocol = "http"
tts_code = "TTS_10001"
result_tries = 0
timeout = "5s"
"""
    directory = write_config(tmp_path / "c", base_toml(tmp_path / "cw.db", channels))
    code = main(
        ["notify-test", "-c", str(directory), "--notifier", "ali-voice", "--to", "0356-2039294"]
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "accepted by ali-voice (aliyun_voice) for 03562039294" in out.out
    assert aliyun_params(cloud.requests[0])["CalledNumber"] == "03562039294"
    assert SECRET not in out.out + out.err


async def test_tencent_voice_callback_sets_the_call_state(tmp_path: Path, db: Db) -> None:
    config, engine = setup(tmp_path, db, RECEIVER)
    incident = open_incident(engine, config)
    (first, *_) = send_notice(engine, config, NoticeKind.WARNING, incident)
    Outbox(engine).record_sent(first, T0, "tc-voice", "call-77", "Tencent voice call placed")
    receiver = Receiver(config, engine)
    transport = httpx.ASGITransport(app=receiver.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as client:
        body = {
            "voiceprompt_callback": {"result": "1", "callid": "call-77", "mobile": "13800000010"}
        }
        wrong = await client.post("/tencent/voice/not-the-token", json=body)
        answer = await client.post(f"/tencent/voice/{TOKEN}", json=body)
        junk = await client.post(f"/tencent/voice/{TOKEN}", json={"x": 1})
    assert wrong.status_code == 404
    assert answer.json() == {"result": 0, "errmsg": "OK"}
    assert junk.status_code == 400
    row = next(r for r in rows(engine) if r["id"] == first)
    assert row["receipt"] == "not answered"
    assert receiver.counts[("tencent_voice", "matched")] == 1
