"""Models of plan.toml: the emergency plan's thresholds (§3.3, §4.1, §4.3, §7.1)."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator

from monitor.config.types import Duration, StrictModel
from monitor.config.windows import GuaranteePeriod


class SystemsConfig(StrictModel):
    """When a system's business counts as affected."""

    affected_share: float = Field(default=0.5, gt=0.0, le=1.0)


class ScenarioConfig(StrictModel):
    """Counts behind 情形1–3 (§3.3); "以上" includes the number (§7.1)."""

    operators_for_scenario2: int = Field(default=2, ge=1)
    key_systems_with_spread: int = Field(default=2, ge=1)
    key_systems_without_spread: int = Field(default=3, ge=1)
    all_share: float = Field(default=0.9, gt=0.0, le=1.0)


class SpreadConfig(StrictModel):
    """扩散性: each rule can be switched off."""

    window: Duration = timedelta(minutes=15)
    growth: bool = True
    min_streets: int = Field(default=4, ge=0)
    multiple_operators: bool = True

    @field_validator("window")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("the spread window must be longer than 0s")
        return value


class WarningConfig(StrictModel):
    """Which scenarios are issued without a person (default: propose and wait)."""

    auto_issue: list[Literal[1, 2, 3]] = []


class ReportConfig(StrictModel):
    """The written report clock (§4.1)."""

    deadline: Duration = timedelta(minutes=30)
    reminders: list[Duration] = [timedelta(minutes=20), timedelta(minutes=25)]


class PlanConfig(StrictModel):
    """plan.toml."""

    systems: SystemsConfig = SystemsConfig()
    scenario: ScenarioConfig = ScenarioConfig()
    spread: SpreadConfig = SpreadConfig()
    warning: WarningConfig = WarningConfig()
    report: ReportConfig = ReportConfig()
    guarantee: list[GuaranteePeriod] = []
