"""Models of the [[notifier]] tables in commwatch.toml: one per delivery channel."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import Field, model_validator

from monitor.config.types import Duration, Identifier, Secret, StrictModel


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
    dlr_url: str | None = None
    ec_name: str | None = None
    ap_id: str | None = None
    secret_key: Secret | None = None
    sign: str | None = None
    add_serial: str = ""


class FileNotifierConfig(_NotifierBase):
    """Writes each notice to a directory: the demo default and an audit trail."""

    type: Literal["file"]
    directory: str = "${STATE_DIRECTORY:-var}/outbox"


NotifierConfig = Annotated[
    EmailNotifierConfig | SmsHttpNotifierConfig | FileNotifierConfig,
    Field(discriminator="type"),
]
