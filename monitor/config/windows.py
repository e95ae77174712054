"""Scheduled windows: maintenance (nodes.toml) and guarantee periods (plan.toml)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from monitor.config.types import Duration, StrictModel

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class WindowSchedule(StrictModel):
    """A one-off window (start/end) or a recurring one (weekdays/at/duration)."""

    start: datetime | None = None
    end: datetime | None = None
    weekdays: list[Weekday] = []
    at: time | None = None
    duration: Duration | None = None
    timezone: str = "Asia/Shanghai"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f'unknown time zone {value!r} (e.g. "Asia/Shanghai")') from None
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> WindowSchedule:
        one_off = self.start is not None or self.end is not None
        recurring = bool(self.weekdays) or self.at is not None or self.duration is not None
        if one_off == recurring:
            raise ValueError(
                "give either start and end (a one-off window) or weekdays, at and duration "
                "(a recurring one)"
            )
        if one_off:
            if self.start is None or self.end is None:
                raise ValueError("a one-off window needs both start and end")
            if self.end <= self.start:
                raise ValueError("end must be after start")
        elif not self.weekdays or self.at is None or self.duration is None:
            raise ValueError("a recurring window needs weekdays, at and duration")
        elif self.duration > timedelta(days=7):
            raise ValueError("a recurring window lasts at most 7d")
        return self


class MaintenanceWindow(WindowSchedule):
    """[[maintenance]]: suppresses creating incidents (never resolving them) for its scope."""

    name: str
    nodes: list[str] = []
    systems: list[str] = []
    streets: list[str] = []

    @model_validator(mode="after")
    def _has_scope(self) -> MaintenanceWindow:
        if not (self.nodes or self.systems or self.streets):
            raise ValueError("a maintenance window names at least one of nodes, systems, streets")
        return self


class GuaranteePeriod(WindowSchedule):
    """[[guarantee]] (保障期, §3.1.2 (4)): stricter thresholds for named systems."""

    name: str
    systems: list[str] = Field(min_length=1)
    fail_after: int = Field(default=1, ge=1)
    recover_after: int | None = Field(default=None, ge=1)
    degraded_loss: float | None = Field(default=None, gt=0.0, le=1.0)
    degraded_rtt: Duration | None = None
