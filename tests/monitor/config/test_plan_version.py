"""§7.2: plan.toml names the plan; check-config warns when its revision is due."""

from __future__ import annotations

from datetime import date

import pytest

from monitor.config import load_config
from monitor.config.advice import revision_advice
from monitor.config.plan import PlanDocumentConfig
from tests.paths import SHIPPED_CONFIG


def test_the_shipped_plan_is_named() -> None:
    plan = load_config(SHIPPED_CONFIG).plan.plan
    assert (plan.number, plan.version, plan.effective) == (
        "城政办发〔2024〕22号",
        "2024",
        date(2024, 7, 4),
    )
    assert plan.revision_due == date(2027, 7, 4)  # §7.2 "一般情况下3年修订一次"


@pytest.mark.parametrize(
    ("plan", "today", "warned"),
    [
        (PlanDocumentConfig(), date(2027, 7, 3), False),
        (PlanDocumentConfig(), date(2027, 7, 4), True),
        (PlanDocumentConfig(next_revision=date(2026, 1, 1)), date(2026, 12, 1), True),
        (PlanDocumentConfig(effective=date(2024, 2, 29)), date(2027, 2, 28), True),
    ],
    ids=["before", "due", "explicit date passed", "29 February"],
)
def test_revision_warning(plan: PlanDocumentConfig, today: date, warned: bool) -> None:
    advice = revision_advice(plan, today)
    assert bool(advice) is warned
    if warned:
        assert advice[0].startswith("plan.toml: plan.")
        assert "§7.2" in advice[0]
        assert "城政办发〔2024〕22号" in advice[0]
