"""Models of plan.toml: the emergency plan's thresholds (§3.3, §4.1, §4.3, §7.1).

The counts of §3.3 and §4.3 are fixed by the plan; the keys exist so that the
file says them out loud, and a value that contradicts the plan (or reads §7.1
"以上含本数" wrongly) is rejected with the clause it contradicts. The one real
choice is where the plan's two sections differ: §3.3 情形3 names "1家基础运营网络",
§4.3.2 ① "1至2家" (`max_operators_without_spread`, 1 or 2).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from monitor.config.types import Duration, StrictModel
from monitor.config.windows import GuaranteePeriod

REMOVED_SCENARIO_KEYS = {
    "operators_for_scenario2": (
        "removed: two operator networks without spread are Ⅱ级 by §4.3.2 ① "
        '("1至2家基础运营网络……无扩散性"); use max_operators_without_spread (1 or 2)'
    ),
    "key_systems_without_spread": (
        'removed: §3.3 情形3 and §4.3.2 ① end at "1至2家" (max_key_systems_without_spread = 2)'
    ),
}
REMOVED_SPREAD_KEYS = {
    "multiple_operators": (
        "removed: the number of operator networks is not 扩散性 (§3.3, §4.3.2 ① gives 1至2家 "
        "without spread Ⅱ级); spread is measured: growth within the window or min_streets"
    ),
}


def _reject_removed(data: Any, removed: dict[str, str]) -> Any:
    if isinstance(data, dict):
        for key, message in removed.items():
            if key in data:
                raise ValueError(f"{key} = {data[key]!r}: {message}")
    return data


class SystemsConfig(StrictModel):
    """When a system's whole business (全部业务, §3.3) counts as down."""

    affected_share: float = Field(default=1.0, gt=0.0, le=1.0)


class ScenarioConfig(StrictModel):
    """Counts behind 情形1–3 (§3.3) and Ⅰ/Ⅱ级 (§4.3); "以上" includes the number (§7.1)."""

    max_operators_without_spread: int = 2
    max_key_systems_without_spread: int = 2
    key_systems_with_spread: int = 2
    all_share: float = 1.0

    @model_validator(mode="before")
    @classmethod
    def _removed(cls, data: Any) -> Any:
        return _reject_removed(data, REMOVED_SCENARIO_KEYS)

    @field_validator("max_operators_without_spread")
    @classmethod
    def _operators(cls, value: int) -> int:
        if value not in (1, 2):
            raise ValueError(
                f"{value}: §3.3 情形3 names 1家基础运营网络 and §4.3.2 ① 1至2家 without spread; "
                "only 1 or 2 follow the plan"
            )
        return value

    @field_validator("max_key_systems_without_spread")
    @classmethod
    def _key_systems(cls, value: int) -> int:
        if value != 2:
            raise ValueError(
                f'{value}: §3.3 情形3 and §4.3.2 ① say "1至2家重要信息系统……无扩散性"; '
                "3 or more is 情形2 — the plan fixes 2"
            )
        return value

    @field_validator("key_systems_with_spread")
    @classmethod
    def _with_spread(cls, value: int) -> int:
        if value != 2:
            raise ValueError(
                f'{value}: §3.3 情形2 says "2家以上重要信息系统……并有继续扩散的可能性" and §7.1 '
                '"以上" includes the number — the plan fixes 2'
            )
        return value

    @field_validator("all_share")
    @classmethod
    def _all(cls, value: float) -> float:
        if value != 1.0:
            raise ValueError(
                f'{value}: §3.3 情形1 says "本区所有网络和重要信息系统" — every one of them; '
                "fewer is 情形2 (the plan fixes 1.0)"
            )
        return value


class SpreadConfig(StrictModel):
    """扩散性, measured: growth within the window, or a reach across streets."""

    window: Duration = timedelta(minutes=15)
    growth: bool = True
    min_streets: int = Field(default=0, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _removed(cls, data: Any) -> Any:
        return _reject_removed(data, REMOVED_SPREAD_KEYS)

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
