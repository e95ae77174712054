"""Which rules route a notice: the configured ones, a drill's one rule, or the HQ office duty.

`rules_for(request, config)` is used by `dispatch.router.route` and the call
tasks (`dispatch.calls`). Pure functions, no I/O.
"""

from __future__ import annotations

from typing import get_args

from dispatch.registry import channel_of
from monitor.config import Config
from monitor.config.notifiers import ChannelName, RouteConfig
from monitor.incidents.authority import DUTY_OFFICER
from monitor.incidents.notices import NoticeKind, NoticeRequest

# The monitor's own blindness goes to the HQ office duty only, on every channel at once
# (whichever still works), whatever [[dispatch.route]] says.
_OFFICE_DUTY_ONLY = (NoticeKind.MONITOR_BLIND, NoticeKind.MONITOR_SIGHTED)
_OFFICE_DUTY = RouteConfig(
    name="监测系统自身状态：指挥部办公室值班", hq_office=True, channels=list(get_args(ChannelName))
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
    return RouteConfig(
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
        return RouteConfig(name="演练：指挥部办公室", hq_office=True)
    return RouteConfig(name="演练接收人", people=dispatch.drill_people, units=dispatch.drill_units)
