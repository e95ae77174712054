"""Fate-sharing: which notifier carries a channel while monitored systems are down (pure).

A `[[notifier]]` may declare `depends_on = ["cmcc"]`: the monitored systems
its path rides on (an SMS gateway on 移动's network, a robot behind one
uplink). While the notice's assessment has one of them down, that notifier is
not used: the channel goes by its next notifier that does not depend on them,
and when every notifier of a channel shares the fate, the channel itself is
skipped and the recipient's next channel is used (routes with several
`channels`). The notice then says which route it took (`route_note`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from monitor.config import Config
from monitor.plan.assessment import Assessment

if TYPE_CHECKING:
    from monitor.config.notifiers import NotifierConfig


@dataclass(frozen=True)
class ChannelRoute:
    """How one channel goes now: the notifier chosen and those avoided."""

    channel: str
    notifier: str | None  # None: no notifier of the channel configured (the file fallback)
    avoided: tuple[str, ...] = ()  # notifier names skipped: a system they depend on is down

    @property
    def usable(self) -> bool:
        """False when every notifier of the channel depends on a system that is down."""
        return self.notifier is not None or not self.avoided


def down_systems(config: Config, assessment: Assessment | None) -> frozenset[str]:
    """The ids of the systems an assessment finds down (operator networks and key systems)."""
    if assessment is None:
        return frozenset()
    by_name = {s.name: s.id for s in config.inventory.system}
    refs = (*assessment.operator_networks, *assessment.key_systems)
    return frozenset(ref if ref in config.systems else by_name.get(ref, ref) for ref in refs)


def channel_routes(
    notifiers: Sequence[NotifierConfig], channel_of: dict[str, str], down: Iterable[str]
) -> dict[str, ChannelRoute]:
    """Per channel: the first configured notifier that shares no fate with `down`."""
    down_set = set(down)
    routes: dict[str, ChannelRoute] = {}
    for config in notifiers:
        channel = channel_of[config.name]
        current = routes.get(channel, ChannelRoute(channel, None))
        if current.notifier is not None:
            continue
        if down_set & set(config.depends_on):
            routes[channel] = ChannelRoute(channel, None, (*current.avoided, config.name))
        else:
            routes[channel] = ChannelRoute(channel, config.name, current.avoided)
    return routes


def route_note(
    config: Config,
    route: ChannelRoute,
    skipped: Sequence[ChannelRoute],
    down: Iterable[str],
    short: bool = False,
) -> str:
    """What the notice says about its route, or "" when nothing was avoided."""
    avoided = [*(n for r in skipped for n in r.avoided), *route.avoided]
    if not avoided:
        return ""
    names = {n.name: n for n in config.daemon.notifier}
    down_set = set(down)
    systems = []
    for name in avoided:
        for system in names[name].depends_on if name in names else ():
            if system in down_set:
                label = config.systems[system].name if system in config.systems else system
                systems.append(label)
    via = route.notifier or route.channel
    because = "、".join(dict.fromkeys(systems))
    if short:
        return f"〔{because}中断，改经{via}发送〕"
    return f"发送途径：经 {via} 发送；{'、'.join(avoided)} 依赖的{because}中断，未使用。"
