"""Which rules route a notice: the configured ones, a drill's one rule, or the HQ office duty.

`rules_for(request, config)` is used by `dispatch.router.route` and the call
tasks (`dispatch.calls`). Pure functions, no I/O.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from dispatch.registry import channel_of
from monitor.config import Config
from monitor.config.names import CHANNEL_NAMES, ChannelName
from monitor.config.plain import plain_model
from monitor.incidents.authority import DUTY_OFFICER
from monitor.incidents.notices import NoticeKind, NoticeRequest

if TYPE_CHECKING:
    from monitor.config.notifiers import RouteConfig

# RouteConfig's fields and defaults, in its order: the built-in rules are made here in the
# config's plain form (the daemon never imports pydantic). A test checks these are the model's.
ROUTE_DEFAULTS: dict[str, Any] = {
    "name": "",
    "kinds": [],
    "scenarios": [],
    "levels": [],
    "operators": [],
    "streets": [],
    "hq_office": False,
    "units": [],
    "roles": [],
    "people": [],
    "working_groups": [],
    "concerned_operators": False,
    "concerned_units": False,
    "concerned_streets": False,
    "member_units": False,
    "issuer": False,
    "starter": False,
    "target_group": False,
    "district_committee": False,
    "district_government": False,
    "channels": ["email", "sms"],
    "fallback": False,
}


def built_in_route(**values: Any) -> RouteConfig:
    """A rule with these values and RouteConfig's defaults (as validated: not checked again)."""
    unknown = sorted(set(values) - set(ROUTE_DEFAULTS))
    if unknown or not values.get("name"):
        raise TypeError(f"a route rule needs a name and known fields (got {unknown or values})")
    given = {k: list(d) if isinstance(d, list) else d for k, d in ROUTE_DEFAULTS.items()} | values
    return cast("RouteConfig", plain_model("RouteConfig", **given))


# The monitor's own blindness goes to the HQ office duty only, on every channel at once
# (whichever still works), whatever [[dispatch.route]] says.
_OFFICE_DUTY_ONLY = (NoticeKind.MONITOR_BLIND, NoticeKind.MONITOR_SIGHTED)
_OFFICE_DUTY = built_in_route(
    name="监测系统自身状态：指挥部办公室值班", hq_office=True, channels=list(CHANNEL_NAMES)
)
# A recipient not reached in time (通知改发, dispatch.fallthrough): the HQ office duty — the
# office unit's duty mailbox and mobile and the 值班员 — on every configured channel of these at
# once, no fallback stage, so the notice itself never falls through.
_FALLTHROUGH_CHANNELS: tuple[ChannelName, ...] = ("email", "sms", "robot")


def rules_for(request: NoticeRequest, config: Config) -> list[RouteConfig]:
    """The rules a notice is routed by: the configured ones, a drill's one rule (§6.1), or
    the HQ office duty — on every channel for the monitor's own blindness, on every configured
    one of email, SMS and robot for a fall-through (通知改发)."""
    if request.context.get("drill"):
        return [drill_rule(config)]
    if request.kind in _OFFICE_DUTY_ONLY:
        return [_OFFICE_DUTY]
    if request.kind == NoticeKind.FALLTHROUGH:
        return [duty_rule(config)]
    return list(config.daemon.dispatch.route)


def duty_rule(config: Config) -> RouteConfig:
    """The HQ office duty: the office unit and every 值班员, on every configured channel of
    email, SMS and group robot at once (email and SMS when none is configured)."""
    configured = {channel_of(n) for n in config.daemon.notifier}
    channels = [c for c in _FALLTHROUGH_CHANNELS if c in configured] or ["email", "sms"]
    return built_in_route(
        name="通知改发：指挥部办公室值班",
        units=[config.contacts.hq.office_unit],
        roles=[DUTY_OFFICER],
        channels=channels,
        fallback=False,
    )


def drill_rule(config: Config) -> RouteConfig:
    """The one rule of a drill: `[dispatch] drill_people`/`drill_units`, else the HQ office."""
    dispatch = config.daemon.dispatch
    if not (dispatch.drill_people or dispatch.drill_units):
        return built_in_route(name="演练：指挥部办公室", hq_office=True)
    return built_in_route(
        name="演练接收人", people=list(dispatch.drill_people), units=list(dispatch.drill_units)
    )
