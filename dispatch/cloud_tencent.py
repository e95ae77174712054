"""Tencent Cloud 短信 (`tencent_sms`) and 语音消息 TTS notices (`tencent_voice`), official SDKs.

- SMS: `SendSms` (2021-01-11) to `+86…` with `SmsSdkAppId`, `SignName`,
  `TemplateId` and the notice text as the template's one parameter; the
  per-number `SendStatusSet[0].Code` must be "Ok"; its `SerialNo` is the
  gateway id.
- Voice: `SendTtsVoice` (vms 2020-09-02), mainland mobiles only (Tencent does
  not call landlines: refused here, before any request), the short script as
  the template parameter, `PlayTimes` (default 2). The call result arrives by
  Tencent's status callback (`dispatch.cloud_callbacks`, served by the
  receiver at /tencent/voice/<token>).
- The SDK signs with TC3-HMAC-SHA256 and is synchronous (requests): each call
  runs in a worker thread under the notifier's timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeAlias, TypeVar

from tencentcloud.common import credential as tc_credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
    TencentCloudSDKException,
)
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models as sms_models
from tencentcloud.sms.v20210111.sms_client import SmsClient
from tencentcloud.vms.v20200902 import models as vms_models
from tencentcloud.vms.v20200902.vms_client import VmsClient

from dispatch.base import Delivery, Message, NotifyError
from dispatch.numbers import NumberKind, classify

if TYPE_CHECKING:
    from monitor.config.notifiers import (
        CloudCredentialConfig,
        TencentSmsNotifierConfig,
        TencentVoiceNotifierConfig,
    )

SMS_ENDPOINT = "sms.tencentcloudapi.com"
VMS_ENDPOINT = "vms.tencentcloudapi.com"
_TRANSIENT = ("LimitExceeded", "RequestLimitExceeded", "InternalError", "FailedOperation.Timeout")
T = TypeVar("T")

TencentConfig: TypeAlias = "TencentSmsNotifierConfig | TencentVoiceNotifierConfig"


def profile(config: TencentConfig, default: str) -> ClientProfile:
    """Endpoint, scheme and timeout for the SDK's client."""
    http = HttpProfile(
        endpoint=config.endpoint or default, reqTimeout=int(config.timeout.total_seconds())
    )
    http.scheme = config.protocol
    return ClientProfile(httpProfile=http)


def e164(address: str) -> str:
    """+86… for a Chinese mobile given as the gateway address (digits)."""
    number = classify(address)
    return number.e164 or (address if address.startswith("+") else f"+86{address}")


def refused(what: str, code: str | None, message: str | None) -> NotifyError:
    """A refusal with Tencent's code; transient for rate limits and server faults."""
    transient = code is not None and code.startswith(_TRANSIENT)
    text = f"{what} refused: {code or '?'} {(message or '')[:160]}".strip()
    return NotifyError(text, permanent=not transient)


async def _call(what: str, limit: float, call: Callable[[], T]) -> T:
    try:
        async with asyncio.timeout(limit + 1):
            return await asyncio.to_thread(call)
    except TimeoutError:
        raise NotifyError(f"{what}: no answer within {limit:g}s") from None
    except TencentCloudSDKException as exc:
        code = exc.get_code()
        if code in ("ClientNetworkError", "ServerNetworkError"):
            raise NotifyError(f"{what}: {code}") from None
        raise refused(what, code, exc.get_message()) from None


class TencentSmsNotifier:
    """One templated SMS per request (see the module docstring)."""

    channel = "sms"

    def __init__(self, config: TencentSmsNotifierConfig, credential: CloudCredentialConfig) -> None:
        self.name = config.name
        self.config = config
        secret = credential.access_key_secret.get_secret_value()
        auth = tc_credential.Credential(credential.access_key_id, secret)
        self.client = SmsClient(auth, config.region, profile(config, SMS_ENDPOINT))

    async def send(self, message: Message) -> Delivery:
        """SendSms; returns when Tencent accepted the number (Code Ok)."""
        request = sms_models.SendSmsRequest()
        request.PhoneNumberSet = [e164(message.address)]
        request.SmsSdkAppId = self.config.sdk_app_id
        request.SignName = self.config.sign_name
        request.TemplateId = self.config.template_id
        request.TemplateParamSet = [message.text]
        request.SessionContext = message.key[:128]
        timeout = self.config.timeout.total_seconds()
        answer = await _call("Tencent SMS", timeout, lambda: self.client.SendSms(request))
        statuses = answer.SendStatusSet or []
        if not statuses:
            raise NotifyError("Tencent SMS: no SendStatusSet in the answer")
        status = statuses[0]
        if status.Code != "Ok":
            raise refused("Tencent SMS", status.Code, status.Message)
        return Delivery(datetime.now(UTC), status.SerialNo, "Tencent SMS accepted")

    async def close(self) -> None:
        """The SDK keeps no connection we own."""


class TencentVoiceNotifier:
    """TTS voice notices to mobiles (see the module docstring)."""

    channel = "voice"

    def __init__(
        self, config: TencentVoiceNotifierConfig, credential: CloudCredentialConfig
    ) -> None:
        self.name = config.name
        self.config = config
        secret = credential.access_key_secret.get_secret_value()
        auth = tc_credential.Credential(credential.access_key_id, secret)
        self.client = VmsClient(auth, config.region, profile(config, VMS_ENDPOINT))

    async def send(self, message: Message) -> Delivery:
        """SendTtsVoice; returns when the call was accepted (the result comes by callback)."""
        if classify(message.address).kind is not NumberKind.MOBILE:
            raise NotifyError(
                f"Tencent voice calls mainland mobiles only, not {message.address}", permanent=True
            )
        request = vms_models.SendTtsVoiceRequest()
        request.TemplateId = self.config.template_id
        request.TemplateParamSet = [message.text]
        request.CalledNumber = e164(message.address)
        request.VoiceSdkAppid = self.config.voice_sdk_app_id
        request.PlayTimes = self.config.play_times
        request.SessionContext = message.key[:128]
        timeout = self.config.timeout.total_seconds()
        answer = await _call("Tencent voice", timeout, lambda: self.client.SendTtsVoice(request))
        call_id = answer.SendStatus.CallId if answer.SendStatus else None
        return Delivery(datetime.now(UTC), call_id, "Tencent voice call placed")

    async def close(self) -> None:
        """The SDK keeps no connection we own."""
