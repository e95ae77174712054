"""Models of the [[notifier]] tables and the [dispatch] section of commwatch.toml.

`[[notifier]]` names the delivery channels (one per gateway); `[dispatch]`
holds the outbox policy and the routing rules (`[[dispatch.route]]`): which
notice kinds, in which situation, go to whom, by which channel.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator

from monitor.config.contacts import Role
from monitor.config.names import ChannelName as ChannelName  # re-exported
from monitor.config.types import Duration, Identifier, Interval, Secret, StrictModel
from monitor.incidents.notices import NoticeKind


class _NotifierBase(StrictModel):
    name: Identifier
    timeout: Interval = timedelta(seconds=15)
    max_attempts: int = Field(default=8, ge=1, le=100)
    # monitored [[system]] ids this channel rides on: while one is down, routing skips it
    depends_on: list[Identifier] = []


class SmtpNotifierConfig(_NotifierBase):
    """What an SMTP channel (email, email-to-fax) needs: server, security, sender, login."""

    host: str
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["none", "starttls", "tls"] = "starttls"
    sender: str
    sender_name: str = "区通信网络指挥部办公室"
    username: str | None = None
    password: Secret | None = None
    ca_file: str | None = None

    @model_validator(mode="after")
    def _auth_pair(self) -> SmtpNotifierConfig:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together")
        return self


class EmailNotifierConfig(SmtpNotifierConfig):
    """SMTP through aiosmtplib."""

    type: Literal["email"]


class FaxEmailNotifierConfig(SmtpNotifierConfig):
    """An email-to-fax gateway: the notice in 公文 form as a PDF mailed to `<number>@gateway`."""

    type: Literal["fax_email"]
    gateway: str = Field(
        pattern=r"^[^@\s]*\{number\}[^@\s]*@[^@\s]+$"
    )  # "{number}@fax.example.net"


class SmsHttpNotifierConfig(_NotifierBase):
    """An HTTP SMS gateway: a preset (Kannel sendsms, China Mobile 云MAS) or fully templated."""

    type: Literal["sms_http"]
    preset: Literal["kannel", "yunmas"] | None = None
    url: str
    method: Literal["GET", "POST"] = "GET"
    username: str | None = None
    password: Secret | None = None
    sender: str | None = None
    params: dict[str, str] = {}
    headers: dict[str, str] = {}
    body: str | None = None
    success_status: list[int] = [200, 201, 202]
    success_pattern: str | None = None
    dlr_url: Secret | None = None  # carries the receiver's token: never printed
    ec_name: str | None = None
    ap_id: str | None = None
    secret_key: Secret | None = None
    sign: str | None = None
    add_serial: str = ""

    @model_validator(mode="after")
    def _preset_needs(self) -> SmsHttpNotifierConfig:
        if self.preset == "kannel" and (self.username is None or self.password is None):
            raise ValueError("preset kannel needs username and password (a sendsms-user)")
        if self.preset == "yunmas":
            missing = [
                key
                for key in ("ec_name", "ap_id", "secret_key", "sign")
                if getattr(self, key) is None
            ]
            if missing:
                raise ValueError(f"preset yunmas needs {', '.join(missing)}")
        return self


class SmppNotifierConfig(_NotifierBase):
    """An SMPP 3.4 account at an operator's or aggregator's SMSC."""

    type: Literal["sms_smpp"]
    host: str = Field(min_length=1)
    port: int = Field(default=2775, ge=1, le=65535)
    system_id: str = Field(min_length=1, max_length=15, pattern=r"^[\x20-\x7e]+$")
    password: Secret
    source_addr: str = Field(min_length=1, max_length=20, pattern=r"^[\x20-\x7e]+$")
    system_type: str = Field(default="", max_length=12)
    bind: Literal["transmitter", "transceiver"] = "transceiver"
    tls: bool = False
    ca_file: str | None = None
    source_ton: int | None = Field(default=None, ge=0, le=6)  # None: 5 (alphanumeric) or 0
    source_npi: int | None = Field(default=None, ge=0, le=18)  # None: 0 (alphanumeric) or 1
    dest_ton: int = Field(default=0, ge=0, le=6)
    dest_npi: int = Field(default=1, ge=0, le=18)
    window: int = Field(default=10, ge=1, le=1000)  # submit_sm awaiting their response
    rate: float = Field(default=10.0, gt=0, le=10000)  # submit_sm per second (the account's)
    throttle_pause: Duration = timedelta(seconds=1)  # first pause after ESME_RTHROTTLED
    enquire_link: Duration = timedelta(seconds=30)
    reconnect_max: Duration = timedelta(seconds=60)
    registered_delivery: bool = True  # ask for deliver_sm receipts

    @field_validator("password")
    @classmethod
    def _password_fits(cls, value: SecretStr) -> SecretStr:
        raw = value.get_secret_value()
        if len(raw) > 8 or not raw.isascii():
            raise ValueError("an SMPP 3.4 password is at most 8 ASCII characters")
        return value


class _RobotBase(_NotifierBase):
    url: Secret  # the webhook: its access_token / key is the credential, printed as <secret>
    at_all: bool = False  # also @所有人

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith(("https://", "http://")):
            raise ValueError("a robot webhook is an http(s):// URL")
        return value


class DingtalkNotifierConfig(_RobotBase):
    """钉钉 custom robot: `url` = https://oapi.dingtalk.com/robot/send?access_token=…"""

    type: Literal["dingtalk"]
    secret: Secret | None = None  # 加签 secret (SEC…); None: the robot uses keywords or IPs


class WecomNotifierConfig(_RobotBase):
    """企业微信 group robot: `url` = https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"""

    type: Literal["wecom"]


class FeishuNotifierConfig(_RobotBase):
    """飞书 custom bot: `url` = https://open.feishu.cn/open-apis/bot/v2/hook/…"""

    type: Literal["feishu"]
    secret: Secret | None = None  # 签名校验 secret


class CloudCredentialConfig(StrictModel):
    """[cloud.credential.NAME]: an Aliyun AccessKey or a Tencent Cloud SecretId/SecretKey pair."""

    access_key_id: str = Field(min_length=1)
    access_key_secret: Secret


class CloudConfig(StrictModel):
    """[cloud]: credentials defined once, referenced by name from cloud notifiers."""

    credential: dict[Identifier, CloudCredentialConfig] = {}


class _CloudBase(_NotifierBase):
    credential: Identifier  # a [cloud.credential.NAME]
    endpoint: str | None = None  # host[:port]; None: the vendor's public endpoint
    protocol: Literal["https", "http"] = "https"


class AliyunSmsNotifierConfig(_CloudBase):
    """Aliyun 短信服务 (dysmsapi 2017-05-25 SendSms): an approved template with one variable."""

    type: Literal["aliyun_sms"]
    sign_name: str = Field(min_length=1)
    template_code: str = Field(min_length=1)
    template_param: str = "content"  # the template variable that receives the notice text


class AliyunVoiceNotifierConfig(_CloudBase):
    """Aliyun 语音服务 TTS notice (dyvmsapi 2017-05-25 SingleCallByTts): landlines too."""

    type: Literal["aliyun_voice"]
    tts_code: str = Field(min_length=1)
    template_param: str = "content"
    called_show_number: str | None = None
    play_times: int = Field(default=2, ge=1, le=3)
    volume: int = Field(default=100, ge=0, le=100)
    speed: int = Field(default=0, ge=-500, le=500)
    result_after: Duration = timedelta(minutes=5)  # the call detail is ready 3–5 min after
    result_tries: int = Field(default=3, ge=0, le=20)


class TencentSmsNotifierConfig(_CloudBase):
    """Tencent Cloud 短信 (sms 2021-01-11 SendSms): an approved template, the text its parameter."""

    type: Literal["tencent_sms"]
    region: str = "ap-guangzhou"
    sdk_app_id: str = Field(min_length=1)
    sign_name: str = Field(min_length=1)
    template_id: str = Field(min_length=1)


class TencentVoiceNotifierConfig(_CloudBase):
    """Tencent Cloud 语音消息 (vms 2020-09-02 SendTtsVoice): mainland mobiles only."""

    type: Literal["tencent_voice"]
    region: str = "ap-guangzhou"
    voice_sdk_app_id: str = Field(min_length=1)
    template_id: str = Field(min_length=1)
    play_times: int = Field(default=2, ge=1, le=3)


class FileNotifierConfig(_NotifierBase):
    """Writes each notice to a directory: the demo default and an audit trail."""

    type: Literal["file"]
    directory: str = "${STATE_DIRECTORY:-var}/outbox"


NotifierConfig = Annotated[
    EmailNotifierConfig
    | SmsHttpNotifierConfig
    | SmppNotifierConfig
    | DingtalkNotifierConfig
    | WecomNotifierConfig
    | FeishuNotifierConfig
    | AliyunSmsNotifierConfig
    | AliyunVoiceNotifierConfig
    | TencentSmsNotifierConfig
    | TencentVoiceNotifierConfig
    | FaxEmailNotifierConfig
    | FileNotifierConfig,
    Field(discriminator="type"),
]
# Every `[[notifier]] type`, derived from the union above (dispatch.registry maps each to its code).
NOTIFIER_TYPES: tuple[str, ...] = tuple(
    get_args(model.model_fields["type"].annotation)[0]
    for model in get_args(get_args(NotifierConfig)[0])
)


class RouteConfig(StrictModel):
    """[[dispatch.route]]: when (every non-empty condition holds) → whom → by which channels."""

    name: str = Field(min_length=1)
    # -- when: an empty list matches anything ---------------------------------
    kinds: list[NoticeKind] = []
    scenarios: list[Literal[1, 2, 3]] = []
    levels: list[Literal["I", "II"]] = []
    operators: list[str] = []  # only when one of these operator units is concerned
    streets: list[str] = []  # only when one of these towns/streets is concerned
    # -- whom -------------------------------------------------------------------
    hq_office: bool = False  # the office unit and its 办公室主任/值班员
    units: list[str] = []
    roles: list[Role] = []
    people: list[Identifier] = []
    working_groups: list[str] = []  # lead and members; INCIDENT_SITE = the streets concerned
    concerned_operators: bool = False  # units responsible for the affected operator networks
    concerned_units: bool = False  # units responsible for the affected key systems
    concerned_streets: bool = False
    member_units: bool = False  # every member unit (§2.1) plus the streets concerned
    issuer: bool = False  # who issued the warning (谁发布、谁解除)
    starter: bool = False  # who started the response (谁启动、谁结束)
    target_group: bool = False  # the working group a notice is addressed to (工作组任务, 发布稿)
    district_committee: bool = False  # 区委办公室 (contacts.toml [hq] party_office)
    district_government: bool = False  # 区政府办公室 ([hq] government_office)
    # -- how --------------------------------------------------------------------
    channels: list[ChannelName] = Field(default=["email", "sms"], min_length=1)
    fallback: bool = False  # true: only the first channel; the next when it fails

    @field_validator("channels")
    @classmethod
    def _unique(cls, value: list[ChannelName]) -> list[ChannelName]:
        if len(set(value)) != len(value):
            raise ValueError("a channel is listed twice")
        return value


_OPERATIONAL: list[NoticeKind] = [
    NoticeKind.WARNING,
    NoticeKind.UPGRADE,
    NoticeKind.DOWNGRADE,
    NoticeKind.FOLLOW_UP,
    NoticeKind.RESPONSE_START,
    NoticeKind.RESPONSE_END,
    NoticeKind.LIFT,
]

DEFAULT_ROUTES: list[RouteConfig] = [
    RouteConfig(name="指挥部办公室接收全部通知", hq_office=True),
    RouteConfig(
        name="指挥部领导：预警、响应与解除建议及报告超时",
        kinds=[
            NoticeKind.WARNING_PROPOSAL,
            NoticeKind.RESPONSE_PROPOSAL,
            NoticeKind.UPGRADE,
            NoticeKind.LIFT_PROPOSAL,
            NoticeKind.REPORT_OVERDUE,
            NoticeKind.FOLLOW_UP_OVERDUE,
            NoticeKind.QUERY_OVERDUE,
        ],
        roles=["总指挥", "副总指挥"],
    ),
    RouteConfig(
        name="谁发布、谁解除：发布人收到解除建议", kinds=[NoticeKind.LIFT_PROPOSAL], issuer=True
    ),
    RouteConfig(
        name="相关运营企业与责任单位",
        kinds=_OPERATIONAL,
        concerned_operators=True,
        concerned_units=True,
    ),
    RouteConfig(name="事发地镇（街道）", kinds=_OPERATIONAL, concerned_streets=True),
    RouteConfig(
        name="部分业务受影响：所属单位知悉（§3.3 不构成预警情形）",
        kinds=[NoticeKind.PARTIAL],
        concerned_operators=True,
        concerned_units=True,
        channels=["email"],
    ),
    RouteConfig(
        name="情形1：全体成员单位",
        kinds=[NoticeKind.WARNING, NoticeKind.UPGRADE, NoticeKind.LIFT],
        scenarios=[1],
        member_units=True,
        channels=["email", "sms"],
        fallback=True,
    ),
    RouteConfig(
        name="应急响应启动与结束：全体成员单位（§4.3 通知成员单位）",
        kinds=[NoticeKind.RESPONSE_START, NoticeKind.RESPONSE_END],
        member_units=True,
        fallback=True,
    ),
    RouteConfig(
        name="应急响应启动与结束：报区委、区政府（§4.3.1 (3)①、§4.3.2 (3)①）",
        kinds=[NoticeKind.RESPONSE_START, NoticeKind.RESPONSE_END],
        district_committee=True,
        district_government=True,
    ),
    RouteConfig(
        name="Ⅰ级响应建议同时报区政府（§4.3.1 (2)）",
        kinds=[NoticeKind.RESPONSE_PROPOSAL],
        levels=["I"],
        district_government=True,
    ),
    RouteConfig(
        name="响应建议通报各成员单位（§4.3.1 (2)、§4.3.2 (2)）",
        kinds=[NoticeKind.RESPONSE_PROPOSAL],
        member_units=True,
        fallback=True,
    ),
    RouteConfig(
        name="工作组任务：各工作组牵头和组成部门（§2.4）",
        kinds=[NoticeKind.GROUP_TASKS, NoticeKind.PUBLIC_STATEMENT],
        target_group=True,
    ),
    RouteConfig(
        name="先期处置：事发单位（§4.4）",
        kinds=[NoticeKind.FIRST_ACTION],
        concerned_operators=True,
        concerned_units=True,
        concerned_streets=True,
    ),
]


class DispatchConfig(StrictModel):
    """[dispatch]: the outbox policy, notice templates and routing rules."""

    coalesce_window: Duration = timedelta(seconds=10)
    poll_interval: Interval = timedelta(seconds=1)
    retry_base: Interval = timedelta(seconds=5)
    retry_max: Interval = timedelta(minutes=1)  # backoff cap: a gateway back is used within it
    retry_horizon: Interval = timedelta(hours=24)  # transient failures retry this long
    # still not delivered this long after creation (transient failures): the recipient's next
    # channel (routes with fallback = true) is opened too; the first one keeps trying
    fallback_after: Interval = timedelta(minutes=10)
    concurrency: int = Field(default=4, ge=1, le=64)
    timezone: str = "Asia/Shanghai"
    templates: str | None = None
    route: list[RouteConfig] = DEFAULT_ROUTES
    # §6.1 演练: notices about drill incidents go only to these (default: the HQ office)
    drill_people: list[Identifier] = []
    drill_units: list[str] = []

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Shanghai)") from None
        return value
