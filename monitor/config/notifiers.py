"""Models of the [[notifier]] tables and the [dispatch] section of commwatch.toml.

`[[notifier]]` names the delivery channels (one per gateway); `[dispatch]`
holds the outbox policy and the routing rules (`[[dispatch.route]]`): which
notice kinds, in which situation, go to whom, by which channel.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from monitor.config.contacts import Role
from monitor.config.types import Duration, Identifier, Secret, StrictModel
from monitor.incidents.notices import NoticeKind

ChannelName = Literal["email", "sms"]


class _NotifierBase(StrictModel):
    name: Identifier
    timeout: Duration = timedelta(seconds=15)
    max_attempts: int = Field(default=8, ge=1, le=100)


class EmailNotifierConfig(_NotifierBase):
    """SMTP through aiosmtplib."""

    type: Literal["email"]
    host: str
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["none", "starttls", "tls"] = "starttls"
    sender: str
    sender_name: str = "区通信网络指挥部办公室"
    username: str | None = None
    password: Secret | None = None
    ca_file: str | None = None

    @model_validator(mode="after")
    def _auth_pair(self) -> EmailNotifierConfig:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together")
        return self


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


class FileNotifierConfig(_NotifierBase):
    """Writes each notice to a directory: the demo default and an audit trail."""

    type: Literal["file"]
    directory: str = "${STATE_DIRECTORY:-var}/outbox"


NotifierConfig = Annotated[
    EmailNotifierConfig | SmsHttpNotifierConfig | FileNotifierConfig,
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
]


class DispatchConfig(StrictModel):
    """[dispatch]: the outbox policy, notice templates and routing rules."""

    coalesce_window: Duration = timedelta(seconds=10)
    poll_interval: Duration = timedelta(seconds=1)
    retry_base: Duration = timedelta(seconds=5)
    retry_max: Duration = timedelta(minutes=10)
    concurrency: int = Field(default=4, ge=1, le=64)
    timezone: str = "Asia/Shanghai"
    templates: str | None = None
    route: list[RouteConfig] = DEFAULT_ROUTES

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Shanghai)") from None
        return value
