"""Times as the CLI shows them: in the plan's zone, labelled with the offset (no database)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:  # annotations only: `status` reads a cached config without pydantic
    from monitor.config import Config


def plan_zone(config: Config) -> ZoneInfo:
    """The zone notices and reports are written in (`[dispatch] timezone`); the CLI uses it too."""
    return ZoneInfo(config.daemon.dispatch.timezone)


def when(value: datetime | None, zone: tzinfo) -> str:
    """A time as notices show it, in the plan's zone, labelled with its offset."""
    return value.astimezone(zone).isoformat(sep=" ", timespec="seconds") if value else "-"
