"""The daemon's self-monitor: probe the own uplink each round, judge blindness, announce edges.

The judgement is `monitor.plan.blindness` (pure); this module does the I/O
around it: it reads the routing table, pings the uplink targets with its own
ICMP prober (concurrently with the round it guards; one check serves every
round within `FRESH`), logs one line when the monitor goes blind and one when
it sees again, and writes one out-of-band notice for each edge
(`NoticeKind.MONITOR_BLIND` / `MONITOR_SIGHTED`, routed to the HQ office duty
only, on every channel at once) through the incident engine's notice sink.

A default gateway seen once is remembered: taking an interface down removes
its routes, and exactly then the gateway must still be checked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, cast

from prometheus_client.core import Metric

from monitor.config import Config
from monitor.config.plain import plain_class
from monitor.incidents.notices import NoticeKind, NoticeRequest, NoticeSink
from monitor.nodes.table import NodeTable
from monitor.plan.blindness import (
    Blindness,
    Uplink,
    judge_mass_failure,
    judge_uplink,
    uplink_of,
)
from monitor.runtime.metrics import gauge
from monitor.runtime.routes import detect_gateways
from probes.base import ProbeError
from probes.icmp import IcmpProbe

if TYPE_CHECKING:
    from monitor.config.inventory import NodeConfig

# What the ICMP probe reads of a node (its id and address), without the node model.
UplinkTarget = plain_class("UplinkTarget", ("id", "name", "system", "address"))

log = logging.getLogger(__name__)

FRESH = 1.0  # seconds: a check this recent serves the next round too
GATEWAY_EVERY = 30.0  # seconds between readings of the routing table (and the uplink list)
TITLES = {
    NoticeKind.MONITOR_BLIND: "监测系统自身上联中断",
    NoticeKind.MONITOR_SIGHTED: "监测系统恢复观察",
}


class SelfMonitor:
    """Blindness of the running daemon (see the module docstring)."""

    def __init__(self, config: Config, sink: NoticeSink) -> None:
        self.sink = sink
        self.state = Blindness()
        self.since: datetime | None = None
        self.unseen: frozenset[str] = frozenset()
        self._gateways: list[str] = []
        self._probe: IcmpProbe | None = None
        self._stale: IcmpProbe | None = None  # replaced on reload, closed on the next check
        self._task: asyncio.Task[dict[str, bool]] | None = None
        self._checked_at = -FRESH
        self._answered: dict[str, bool] = {}
        self._uplink: Uplink | None = None
        self._uplink_at = 0.0
        self._uplink_config = config
        self.reconfigure(config)

    def reconfigure(self, config: Config) -> None:
        """Adopt a reloaded config (a new prober when the ICMP settings changed)."""
        self.config = config
        if self._probe is not None and self._probe.config != config.daemon.probes.icmp:
            self._stale, self._probe = self._probe, None
        self._answered = {}
        if self._uplink is not None and (
            self._uplink_config.daemon.self_monitor != config.daemon.self_monitor
            or self._uplink_config.inventory is not config.inventory
        ):
            self._uplink = None  # a 保障期 merge keeps both: the cached uplink stays

    @property
    def uplink(self) -> Uplink:
        """Configured uplink nodes plus the gateways seen (remembered; the routing table is
        read again at most every GATEWAY_EVERY seconds, not on every round)."""
        now = time.monotonic()
        if self._uplink is None or now - self._uplink_at >= GATEWAY_EVERY:
            gateways = self._gateways
            if self.config.daemon.self_monitor.detect_gateway:
                gateways = detect_gateways() or self._gateways
            # uplink_of reads every node's address: only when the gateways or the config
            # changed (reconfigure drops the cached uplink), not every GATEWAY_EVERY
            if self._uplink is None or gateways != self._gateways:
                self._uplink = uplink_of(self.config, gateways)
                self._uplink_config = self.config
            self._gateways, self._uplink_at = gateways, now
        return self._uplink

    @property
    def holding(self) -> bool:
        """True while blind, or while nodes made UNKNOWN by blindness are not judged again."""
        return self.state.blind or bool(self.unseen)

    async def check(self) -> dict[str, bool]:
        """Ping the uplink targets (one shared check per FRESH seconds); target → answered."""
        if self._task is not None:
            return await asyncio.shield(self._task)
        if time.monotonic() - self._checked_at < FRESH:
            return dict(self._answered)
        self._task = asyncio.get_running_loop().create_task(self._ping())
        try:
            self._answered = await asyncio.shield(self._task)
        finally:
            self._task = None
            self._checked_at = time.monotonic()
        return dict(self._answered)

    async def _ping(self) -> dict[str, bool]:
        uplink = self.uplink
        if not uplink.determinable:
            return {}
        nodes = self.config.nodes
        targets = [
            UplinkTarget(
                f"uplink-{index}",
                target,
                "",
                nodes[target].address if target in nodes else str(ipaddress.ip_address(target)),
            )
            for index, target in enumerate(uplink.targets)
        ]
        if self._stale is not None:
            stale, self._stale = self._stale, None
            await stale.close()
        if self._probe is None:
            self._probe = IcmpProbe(self.config.daemon.probes.icmp)
        try:
            results = await self._probe.probe_round(cast("list[NodeConfig]", targets))
        except (ProbeError, OSError, ValueError) as exc:
            log.error("uplink check cannot run", extra={"fields": {"error": str(exc)}})
            return {}
        return {t: r.ok for t, r in zip(uplink.targets, results, strict=True)}

    def judge(self, table: NodeTable, answered: dict[str, bool], now: datetime) -> bool:
        """Decide blindness for this round (before its results are applied); returns it."""
        uplink = self.uplink
        if uplink.determinable:
            state = judge_uplink(self.config, uplink, answered)
        else:
            window = self.config.daemon.probes.icmp.interval
            fresh = table.fresh_failures(now - window)
            state = judge_mass_failure(self.config, fresh, table.failing(), self.state.blind)
        self._edge(state, table, now)
        return state.blind

    def settle(self, table: NodeTable) -> None:
        """After the round's results: which nodes still wait to be seen again."""
        self.unseen = frozenset(table.unseen())

    def _edge(self, state: Blindness, table: NodeTable, now: datetime) -> None:
        was = self.state
        self.state = state
        if state.blind == was.blind:
            return
        if state.blind:
            self.since = now
            log.error(
                "monitor blind: its own uplink failed; nodes it cannot see are UNKNOWN, "
                "no scenario, no incident",
                extra={"fields": {"why": state.why, "failing": len(table.failing())}},
            )
            self._announce(NoticeKind.MONITOR_BLIND, now, state.why)
            return
        log.warning(
            "monitor sees again: uplink answers; unseen nodes are judged afresh",
            extra={"fields": {"blind_since": self.since.isoformat() if self.since else None}},
        )
        self._announce(NoticeKind.MONITOR_SIGHTED, now, was.why)

    def _announce(self, kind: NoticeKind, now: datetime, why: str) -> None:
        since = self.since or now
        request = NoticeRequest(
            kind=kind,
            incident_id=None,
            dedupe_key=f"monitor:{kind}:{since.isoformat()}",
            context={"note": why, "at": now.isoformat(), "title": TITLES[kind]},
            created_at=now,
        )
        try:
            self.sink.submit(request)
        except Exception:
            log.exception("monitor blindness notice could not be written")

    def families(self) -> Iterator[Metric]:
        """`commwatch_monitor_blind` for the metrics collector."""
        yield gauge(
            "commwatch_monitor_blind",
            "1 while the monitor cannot see the district (its own uplink failed)",
            float(self.state.blind),
        )

    async def close(self) -> None:
        """Close the uplink prober."""
        for probe in (self._probe, self._stale):
            if probe is not None:
                await probe.close()
