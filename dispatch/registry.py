"""The channel registry: one entry per `[[notifier]] type`, and channel → notifier choice.

Adding a channel touches its module, its config model and one line of `NOTIFIERS`
(a test checks that the registry and the config's `NOTIFIER_TYPES` agree). The outbox
asks `Notifiers.for_channel("email"|"sms")`: the first configured notifier of
that channel, else the first `file` notifier (so a demo writes what would go
out), else the built-in file notifier writing to ${STATE_DIRECTORY:-var}/outbox.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, cast

from dispatch.base import Notifier
from dispatch.events import EventSink
from dispatch.file import FileNotifier
from dispatch.sms_smpp import SmppNotifier
from monitor.config.plain import plain_model

if TYPE_CHECKING:  # httpx (~6 MiB with httpcore) loads only when an HTTP notifier is built
    import httpx

    from monitor.config.notifiers import (
        CloudCredentialConfig,
        DingtalkNotifierConfig,
        EmailNotifierConfig,
        FaxEmailNotifierConfig,
        FeishuNotifierConfig,
        FileNotifierConfig,
        NotifierConfig,
        SmppNotifierConfig,
        SmsHttpNotifierConfig,
        WecomNotifierConfig,
    )


@dataclass(frozen=True)
class Seams:
    """What notifiers are built with: the shared HTTP client (None when no configured
    notifier speaks HTTP), named cloud credentials, the sink for receipts and replies
    (dispatch.events)."""

    client: httpx.AsyncClient | None
    credentials: Mapping[str, CloudCredentialConfig] = field(default_factory=dict)
    on_event: EventSink | None = None


NotifierFactory = Callable[["NotifierConfig", Seams], Notifier]


# Each channel's module (and its library: aiosmtplib, httpx, jinja2's sandbox) is
# imported when a notifier of that type is built, so a daemon pays only for the
# channels its config has.


def _email(config: NotifierConfig, _seams: Seams) -> Notifier:
    from dispatch.email import EmailNotifier

    return EmailNotifier(cast("EmailNotifierConfig", config))


def _sms_http(config: NotifierConfig, seams: Seams) -> Notifier:
    from dispatch.sms_http import SmsHttpNotifier

    assert seams.client is not None  # Plugin.http: the caller made one
    return SmsHttpNotifier(cast("SmsHttpNotifierConfig", config), seams.client)


def _sms_smpp(config: NotifierConfig, seams: Seams) -> Notifier:
    return SmppNotifier(cast("SmppNotifierConfig", config), seams.on_event)


def _robot(config: NotifierConfig, seams: Seams) -> Notifier:
    from dispatch.robots import RobotNotifier

    robot = cast("DingtalkNotifierConfig | WecomNotifierConfig | FeishuNotifierConfig", config)
    assert seams.client is not None  # Plugin.http: the caller made one
    return RobotNotifier(robot, seams.client)


def _cloud(config: NotifierConfig, seams: Seams) -> Notifier:
    # The vendors' SDKs take ~1 s to import: only a config that uses them pays for it.
    from dispatch.cloud_aliyun import AliyunSmsNotifier, AliyunVoiceNotifier
    from dispatch.cloud_tencent import TencentSmsNotifier, TencentVoiceNotifier

    credential = seams.credentials[getattr(config, "credential", "")]  # checked at load
    if config.type == "aliyun_sms":
        return AliyunSmsNotifier(config, credential)
    if config.type == "aliyun_voice":
        return AliyunVoiceNotifier(config, credential, seams.on_event)
    if config.type == "tencent_sms":
        return TencentSmsNotifier(config, credential)
    assert config.type == "tencent_voice", config.type
    return TencentVoiceNotifier(config, credential)


def _fax_email(config: NotifierConfig, _seams: Seams) -> Notifier:
    from dispatch.fax import FaxEmailNotifier  # WeasyPrint (~0.7 s to import) only when used

    return FaxEmailNotifier(cast("FaxEmailNotifierConfig", config))


def _file(config: NotifierConfig, _seams: Seams) -> Notifier:
    return FileNotifier(cast("FileNotifierConfig", config))


@dataclass(frozen=True)
class Plugin:
    """A notifier type: the channel its deliveries belong to, how to build one, and
    whether it needs the shared HTTP client."""

    channel: str
    build: NotifierFactory
    http: bool = False


NOTIFIERS: dict[str, Plugin] = {
    "email": Plugin("email", _email),
    "sms_http": Plugin("sms", _sms_http, http=True),
    "sms_smpp": Plugin("sms", _sms_smpp),
    "dingtalk": Plugin("robot", _robot, http=True),
    "wecom": Plugin("robot", _robot, http=True),
    "feishu": Plugin("robot", _robot, http=True),
    "aliyun_sms": Plugin("sms", _cloud),
    "aliyun_voice": Plugin("voice", _cloud),
    "tencent_sms": Plugin("sms", _cloud),
    "tencent_voice": Plugin("voice", _cloud),
    "fax_email": Plugin("fax", _fax_email),
    "file": Plugin("file", _file),
}


# The built-in file notifier: FileNotifierConfig(name="outbox", type="file") in the config's
# plain form (the daemon never imports pydantic; a test checks it is the model's).
DEFAULT_FILE = cast(
    "FileNotifierConfig",
    plain_model(
        "FileNotifierConfig",
        name="outbox",
        timeout=timedelta(seconds=15),
        max_attempts=8,
        depends_on=[],
        type="file",
        directory="${STATE_DIRECTORY:-var}/outbox",
    ),
)


def _stand_in(notifier: Notifier) -> NotifierConfig:
    """A config for an injected notifier: its channel decides the type; defaults otherwise."""
    from monitor.config.notifiers import (
        EmailNotifierConfig,
        FileNotifierConfig,
        SmsHttpNotifierConfig,
    )

    if notifier.channel == "email":
        return EmailNotifierConfig(name=notifier.name, type="email", host="-", sender="-")
    if notifier.channel == "sms":
        return SmsHttpNotifierConfig(name=notifier.name, type="sms_http", url="-")
    return FileNotifierConfig(name=notifier.name, type="file")


def needs_http(configs: Sequence[NotifierConfig]) -> bool:
    """Whether any of these notifiers needs the shared HTTP client."""
    return any(NOTIFIERS[c.type].http for c in configs)


def build_notifier(
    config: NotifierConfig,
    client: httpx.AsyncClient | None,
    *,
    credentials: Mapping[str, CloudCredentialConfig] | None = None,
    on_event: EventSink | None = None,
) -> Notifier:
    """One notifier from its config."""
    seams = Seams(client, credentials or {}, on_event)
    return NOTIFIERS[config.type].build(config, seams)


def channel_of(config: NotifierConfig) -> str:
    """The channel ("email", "sms", "file") a configured notifier carries."""
    return NOTIFIERS[config.type].channel


class Notifiers:
    """The configured notifiers by name, with their configs (timeouts, max_attempts)."""

    def __init__(
        self, notifiers: Mapping[str, Notifier], configs: Sequence[NotifierConfig] = ()
    ) -> None:
        self.by_name: dict[str, Notifier] = dict(notifiers)
        self.configs: dict[str, NotifierConfig] = {c.name: c for c in configs}
        for name, notifier in self.by_name.items():
            if name not in self.configs:  # injected without a config: channel from the object
                self.configs[name] = _stand_in(notifier)
        self._default: Notifier | None = None

    @classmethod
    def build(
        cls,
        configs: Sequence[NotifierConfig],
        client: httpx.AsyncClient | None,
        *,
        credentials: Mapping[str, CloudCredentialConfig] | None = None,
        on_event: EventSink | None = None,
    ) -> Notifiers:
        """Notifiers for the configured `[[notifier]]` tables, sharing one HTTP client."""
        built = {
            c.name: build_notifier(c, client, credentials=credentials, on_event=on_event)
            for c in configs
        }
        return cls(built, configs)

    def for_channel(self, channel: str) -> Notifier:
        """Who carries a channel's deliveries (see the module docstring)."""
        for name, config in self.configs.items():
            if channel_of(config) == channel and name in self.by_name:
                return self.by_name[name]
        for name, config in self.configs.items():
            if channel_of(config) == "file" and name in self.by_name:
                return self.by_name[name]
        if self._default is None:
            self._default = FileNotifier(DEFAULT_FILE)
        return self._default

    def config_of(self, notifier: Notifier) -> NotifierConfig:
        """The config of a notifier (the built-in default file notifier has one too)."""
        return self.configs.get(notifier.name, DEFAULT_FILE)

    async def close(self) -> None:
        """Close every notifier (not the shared HTTP client)."""
        for notifier in self.by_name.values():
            await notifier.close()
