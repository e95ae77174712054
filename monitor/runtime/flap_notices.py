"""One notice when a node starts FLAPPING and one when it stops: bounded, whatever it does between.

While a node flaps, its system is judged on its held state (`monitor.nodes.flapping`),
so the incident neither restores nor returns with every flip; these two notices,
to the HQ office through the default routes, are all the flips produce. Written
through the incident engine's notice sink (no incident: `incident_id` None).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from monitor.config import Config
from monitor.incidents.notices import NoticeKind, NoticeRequest, NoticeSink
from monitor.nodes.flapping import FlapState, flap_edges

log = logging.getLogger(__name__)


class FlapNotices:
    """Turns FLAPPING edges into notice requests (see the module docstring)."""

    def __init__(self, sink: NoticeSink) -> None:
        self.sink = sink
        self._last: dict[str, FlapState] = {}
        self._since: dict[str, datetime] = {}

    def update(self, config: Config, flaps: Mapping[str, FlapState], now: datetime) -> int:
        """Announce the edges since the last call; returns how many."""
        edges = flap_edges(self._last, flaps)
        self._last = dict(flaps)
        for node_id, started in edges:
            since = (
                self._since.setdefault(node_id, now) if started else self._since.pop(node_id, now)
            )
            text = _text(config, node_id, flaps[node_id], started)
            node = config.nodes.get(node_id)
            title = f"{node.name if node else node_id}{'状态频繁变化' if started else '恢复稳定'}"
            kind = NoticeKind.FLAPPING_START if started else NoticeKind.FLAPPING_END
            log.warning(
                "node flapping started" if started else "node flapping ended",
                extra={"fields": {"node": node_id, "share": round(flaps[node_id].share, 3)}},
            )
            self.sink.submit(
                NoticeRequest(
                    kind=kind,
                    incident_id=None,
                    dedupe_key=f"flapping:{node_id}:{since.isoformat()}:{kind}",
                    context={"note": text, "title": title, "node": node_id},
                    created_at=now,
                )
            )
        return len(edges)


def _text(config: Config, node_id: str, flap: FlapState, started: bool) -> str:
    node = config.nodes.get(node_id)
    system = config.systems.get(node.system) if node is not None else None
    label = (
        f"{node.name}（{node_id}，{system.name if system else node.system}）" if node else node_id
    )
    limits = config.daemon.state
    if started:
        return (
            f"{label}状态频繁变化：近{limits.flap_window}轮加权变化率{flap.share:.0%}，"
            f"达到{limits.flap_high:.0%}以上；所属系统按变化前的状态（{flap.held.value}）研判，"
            "其间不再逐次通知，稳定后再报"
        )
    status = flap.last_status.value if flap.last_status is not None else "UNKNOWN"
    return (
        f"{label}恢复稳定：加权变化率{flap.share:.0%}，低于{limits.flap_low:.0%}；"
        f"按实际状态（{status}）研判"
    )
