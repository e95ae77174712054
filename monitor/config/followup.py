"""Models of what follows a notice: [escalation], [calls] and [receiver] in commwatch.toml.

[escalation]
ack_within = "10m"                 # default for every notice kind
[[escalation.chain]]
unit = "区工信局"                   # or person = "deputy-govoffice"
then = ["deputy-miit", "commander"]  # person ids, in order
kinds = ["warning", "upgrade"]      # optional: only these kinds (default: all)
ack_within = "5m"                   # optional: this chain's own time

[calls]                             # 电话通知: the HQ office duty phones units
kinds = ["warning", "upgrade", "downgrade", "lift"]   # §3.4 通过电话…通知
within = "15m"                      # a call not made by then escalates

[receiver]                          # delivery reports, SMS replies, ack links
enabled = true
listen = "127.0.0.1:9812"
token = { env = "COMMWATCH_RECEIVER_TOKEN" }
public_url = "http://commwatch.ops.example:9812"   # how email readers reach /ack/<token>
link_valid = "24h"
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, field_validator, model_validator

from monitor.config.types import Duration, Identifier, ListenAddress, Listener, Secret, StrictModel
from monitor.incidents.notices import NoticeKind


class ChainConfig(StrictModel):
    """[[escalation.chain]]: who is told next when a unit or person does not acknowledge."""

    unit: str | None = None
    person: Identifier | None = None
    then: list[Identifier] = Field(min_length=1, max_length=10)
    kinds: list[NoticeKind] = []
    ack_within: Duration | None = None

    @model_validator(mode="after")
    def _one_head(self) -> ChainConfig:
        if (self.unit is None) == (self.person is None):
            raise ValueError("a chain starts at exactly one of unit or person")
        return self

    @property
    def head(self) -> str:
        """The recipient key the chain starts at ("unit:…" or "person:…")."""
        return f"unit:{self.unit}" if self.unit is not None else f"person:{self.person}"


class EscalationConfig(StrictModel):
    """[escalation]: how long a notice may go unacknowledged, and the chains."""

    enabled: bool = True
    ack_within: Duration = timedelta(minutes=10)
    chain: list[ChainConfig] = []

    @field_validator("ack_within")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("ack_within must be positive")
        return value


_BY_PHONE = [NoticeKind.WARNING, NoticeKind.UPGRADE, NoticeKind.DOWNGRADE, NoticeKind.LIFT]


class CallsConfig(StrictModel):
    """[calls]: which notices the HQ office duty phones to units (and by when)."""

    enabled: bool = True
    kinds: list[NoticeKind] = _BY_PHONE
    within: Duration = timedelta(minutes=15)


class ReceiverConfig(Listener):
    """[receiver]: the HTTP listener for delivery reports, SMS replies and ack links."""

    enabled: bool = False
    listen: ListenAddress = "127.0.0.1:9812"
    token: Secret | None = None
    public_url: str | None = None
    link_valid: Duration = timedelta(hours=24)

    @model_validator(mode="after")
    def _token(self) -> ReceiverConfig:
        if self.enabled and self.token is None:
            raise ValueError("the receiver needs token (a shared secret in its URLs)")
        if self.token is not None and len(self.token.get_secret_value()) < 16:
            raise ValueError("token must be at least 16 characters")
        return self
