"""The windows page: maintenance windows (nodes.toml) and 保障期 (plan.toml), active or not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.config import Config
from monitor.config.windows import WindowSchedule
from monitor.nodes.windows import window_active


@dataclass(frozen=True)
class WindowRow:
    """One window as the page lists it."""

    kind: str  # 维护 | 保障期
    name: str
    when: str
    scope: str
    active: bool


def _when(window: WindowSchedule) -> str:
    if window.start is not None and window.end is not None:
        return f"{window.start:%Y-%m-%d %H:%M} — {window.end:%Y-%m-%d %H:%M}（{window.timezone}）"
    days = "、".join(window.weekdays)
    return f"每周 {days} {window.at} 起 {window.duration}（{window.timezone}）"


def windows_view(config: Config, now: datetime) -> list[WindowRow]:
    """Every configured window, active ones first."""
    rows = [
        WindowRow(
            "维护",
            w.name,
            _when(w),
            "、".join([*w.nodes, *w.systems, *w.streets]),
            window_active(w, now),
        )
        for w in config.inventory.maintenance
    ]
    rows += [
        WindowRow("保障期", g.name, _when(g), "、".join(g.systems), window_active(g, now))
        for g in config.plan.guarantee
    ]
    return sorted(rows, key=lambda r: not r.active)
