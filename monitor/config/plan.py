"""Models of plan.toml: the emergency plan's thresholds (§3.3, §4.1, §4.3, §7.1)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from pydantic import Field, field_validator, model_validator

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
    """The clocks of §4.1: the written brief, follow-ups (续报), answers to queries (催报)."""

    deadline: Duration = timedelta(minutes=30)
    reminders: list[Duration] = [timedelta(minutes=20), timedelta(minutes=25)]
    follow_up_every: Duration = timedelta(hours=1)
    follow_up_reminder: Duration = timedelta(minutes=10)
    query_deadline: Duration = timedelta(minutes=30)
    query_reminders: list[Duration] = [timedelta(minutes=20), timedelta(minutes=25)]

    @model_validator(mode="after")
    def _reminders_before_deadlines(self) -> ReportConfig:
        for name, spans, limit in (
            ("reminders", self.reminders, self.deadline),
            ("query_reminders", self.query_reminders, self.query_deadline),
            ("follow_up_reminder", [self.follow_up_reminder], self.follow_up_every),
        ):
            late = [s for s in spans if s <= timedelta(0) or s >= limit]
            if late:
                raise ValueError(f"{name}: every reminder must fall inside its deadline ({limit})")
        return self


class PlanDocumentConfig(StrictModel):
    """[plan]: which plan the rules follow (§7.2: revised every 3 years, §7.4: effective)."""

    title: str = "晋城市城区通信网络事故应急预案"
    number: str = "城政办发〔2024〕22号"  # 文号
    version: str = "2024"
    effective: date = date(2024, 7, 4)
    revision_years: int = Field(default=3, ge=1, le=10)  # §7.2 "一般情况下3年修订一次"
    next_revision: date | None = None  # default: effective + revision_years

    @property
    def revision_due(self) -> date:
        """When the next revision is due (§7.2)."""
        if self.next_revision is not None:
            return self.next_revision
        effective = self.effective
        try:
            return effective.replace(year=effective.year + self.revision_years)
        except ValueError:  # 29 February
            return effective.replace(year=effective.year + self.revision_years, day=28)

    @property
    def label(self) -> str:
        """How reasons, notices and reports cite it: 《title》（number，version版）."""
        return f"《{self.title}》（{self.number}）"


class PlanConfig(StrictModel):
    """plan.toml."""

    plan: PlanDocumentConfig = PlanDocumentConfig()
    systems: SystemsConfig = SystemsConfig()
    scenario: ScenarioConfig = ScenarioConfig()
    spread: SpreadConfig = SpreadConfig()
    warning: WarningConfig = WarningConfig()
    report: ReportConfig = ReportConfig()
    guarantee: list[GuaranteePeriod] = []
