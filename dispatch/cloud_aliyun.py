"""Aliyun 短信服务 (`aliyun_sms`) and 语音服务 TTS notices (`aliyun_voice`), official SDKs.

- SMS: `SendSms` with `SignName`, `TemplateCode` and the notice text as the
  template variable `template_param` (the template must be approved with that
  one variable). Accepted = `Code == "OK"`; the `BizId` is the gateway id.
- Voice: `SingleCallByTts` to a mobile or a landline (`0356…`), the notice's
  short script as the TTS variable, played `play_times` (default 2). The call
  result comes from `QueryCallDetailByCallId` (ProdId 11000000300006 = 语音通知)
  `result_after` the call (the detail is ready 3–5 minutes later) and is handed
  to the EventSink: 200000/200001 (heard, wholly or partly) → delivered; the
  other final codes (busy, no answer, off, invalid…) → failed.
- The SDKs sign with ACS3-HMAC-SHA256 (V3). Their errors are translated here:
  throttling and server faults are transient; everything else (bad number,
  signature, template, balance) is permanent. A secret never reaches a message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeAlias

from alibabacloud_dysmsapi20170525 import models as sms_models
from alibabacloud_dysmsapi20170525.client import Client as SmsClient
from alibabacloud_dyvmsapi20170525 import models as vms_models
from alibabacloud_dyvmsapi20170525.client import Client as VmsClient
from alibabacloud_tea_openapi import models as openapi
from darabonba.runtime import RuntimeOptions

from dispatch.base import Delivery, Message, NotifyError
from dispatch.events import EventSink, Receipt, log_event

if TYPE_CHECKING:
    from monitor.config.notifiers import (
        AliyunSmsNotifierConfig,
        AliyunVoiceNotifierConfig,
        CloudCredentialConfig,
    )

SMS_ENDPOINT = "dysmsapi.aliyuncs.com"
VMS_ENDPOINT = "dyvmsapi.aliyuncs.com"
VOICE_PRODUCT = 11000000300006  # ProdId of 语音通知
HEARD = frozenset({"200000", "200001"})
FAILED_CALLS = frozenset(
    {"200002", "200003", "200004", "200005", "200006", "200007", "200010", "200011"}
    | {"200012", "200104", "200105", "200117", "482", "476"}
)
_TRANSIENT = ("Throttling", "isv.BUSINESS_LIMIT_CONTROL", "ServiceUnavailable", "InternalError")

AliyunConfig: TypeAlias = "AliyunSmsNotifierConfig | AliyunVoiceNotifierConfig"


def openapi_config(
    config: AliyunConfig, credential: CloudCredentialConfig, default: str
) -> openapi.Config:
    """The SDK's client config: AccessKey, endpoint, protocol, timeouts."""
    millis = int(config.timeout.total_seconds() * 1000)
    return openapi.Config(
        access_key_id=credential.access_key_id,
        access_key_secret=credential.access_key_secret.get_secret_value(),
        endpoint=config.endpoint or default,
        protocol=config.protocol,
        read_timeout=millis,
        connect_timeout=millis,
    )


def runtime(config: AliyunConfig) -> RuntimeOptions:
    """One attempt per send (the outbox retries), bounded by the notifier's timeout."""
    millis = int(config.timeout.total_seconds() * 1000)
    return RuntimeOptions(autoretry=False, read_timeout=millis, connect_timeout=millis)


def refused(what: str, code: str | None, message: str | None) -> NotifyError:
    """A refusal with the vendor's code; transient for throttling and server faults."""
    transient = code is not None and code.startswith(_TRANSIENT)
    text = f"{what} refused: {code or '?'} {(message or '')[:160]}".strip()
    return NotifyError(text, permanent=not transient)


async def _call(what: str, coroutine: Any) -> Any:
    """Await an SDK call; its exceptions become NotifyError (codes, never secrets)."""
    try:
        return await coroutine
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # Tea/Darabonba raise several unrelated classes
        code = getattr(exc, "code", None)
        if code:
            raise refused(what, str(code), getattr(exc, "message", None)) from None
        raise NotifyError(f"{what}: {type(exc).__name__}") from None


def call_state(data: str | None) -> tuple[str, str] | None:
    """(state, detail) from QueryCallDetailByCallId's `Data`, or None while undecided."""
    if not data:
        return None
    try:
        detail = json.loads(data)
    except ValueError:
        return None
    code = str(detail.get("state", ""))
    if code in HEARD:
        return "delivered", f"call {code} duration {detail.get('duration', '?')}s"
    if code in FAILED_CALLS:
        return "failed", f"call {code} {detail.get('stateDesc', '')}".strip()
    return None


class AliyunSmsNotifier:
    """One templated SMS per request (see the module docstring)."""

    channel = "sms"

    def __init__(self, config: AliyunSmsNotifierConfig, credential: CloudCredentialConfig) -> None:
        self.name = config.name
        self.config = config
        self.client = SmsClient(openapi_config(config, credential, SMS_ENDPOINT))

    async def send(self, message: Message) -> Delivery:
        """SendSms; returns when Aliyun accepted it (Code OK)."""
        request = sms_models.SendSmsRequest(
            phone_numbers=message.address,
            sign_name=self.config.sign_name,
            template_code=self.config.template_code,
            template_param=json.dumps(
                {self.config.template_param: message.text}, ensure_ascii=False
            ),
            out_id=message.key[:64] or None,
        )
        coroutine = self.client.send_sms_with_options_async(request, runtime(self.config))
        body = (await _call("Aliyun SMS", coroutine)).body
        if body.code != "OK":
            raise refused("Aliyun SMS", body.code, body.message)
        return Delivery(datetime.now(UTC), body.biz_id, "Aliyun SMS accepted")

    async def close(self) -> None:
        """The SDK keeps no connection we own."""


class AliyunVoiceNotifier:
    """TTS voice notices, the call result fetched later (see the module docstring)."""

    channel = "voice"

    def __init__(
        self,
        config: AliyunVoiceNotifierConfig,
        credential: CloudCredentialConfig,
        on_event: EventSink | None = None,
    ) -> None:
        self.name = config.name
        self.config = config
        self.on_event = on_event or log_event
        self.client = VmsClient(openapi_config(config, credential, VMS_ENDPOINT))
        self._watching: set[asyncio.Task[None]] = set()

    async def send(self, message: Message) -> Delivery:
        """SingleCallByTts; returns when the call was accepted (the result comes later)."""
        request = vms_models.SingleCallByTtsRequest(
            called_number=message.address,
            called_show_number=self.config.called_show_number,
            tts_code=self.config.tts_code,
            tts_param=json.dumps({self.config.template_param: message.text}, ensure_ascii=False),
            play_times=self.config.play_times,
            volume=self.config.volume,
            speed=self.config.speed,
            out_id=message.key[:64] or None,
        )
        coroutine = self.client.single_call_by_tts_with_options_async(request, runtime(self.config))
        body = (await _call("Aliyun voice", coroutine)).body
        if body.code != "OK":
            raise refused("Aliyun voice", body.code, body.message)
        if self.config.result_tries:
            task = asyncio.get_running_loop().create_task(self._watch(body.call_id, time.time()))
            self._watching.add(task)
            task.add_done_callback(self._watching.discard)
        return Delivery(datetime.now(UTC), body.call_id, "Aliyun voice call placed")

    async def call_result(self, call_id: str, placed_at: float) -> tuple[str, str] | None:
        """The call's outcome (delivered/failed, detail), or None while unknown."""
        request = vms_models.QueryCallDetailByCallIdRequest(
            call_id=call_id, prod_id=VOICE_PRODUCT, query_date=int(placed_at * 1000)
        )
        coroutine = self.client.query_call_detail_by_call_id_with_options_async(
            request, runtime(self.config)
        )
        body = (await _call("Aliyun call detail", coroutine)).body
        return call_state(body.data) if body.code == "OK" else None

    async def _watch(self, call_id: str, placed_at: float) -> None:
        delay = self.config.result_after.total_seconds()
        for _ in range(self.config.result_tries):
            await asyncio.sleep(delay)
            with contextlib.suppress(NotifyError):
                result = await self.call_result(call_id, placed_at)
                if result is not None:
                    self.on_event(Receipt(self.name, call_id, *result))
                    return
            delay *= 2

    async def close(self) -> None:
        """Stop waiting for call results (a restart does not fetch them again)."""
        for task in list(self._watching):
            task.cancel()
        await asyncio.gather(*self._watching, return_exceptions=True)
