"""保障期 (§3.1.2 (4)) on duty: stored periods merged with plan.toml, stricter thresholds, no incident."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.config import load_config
from monitor.incidents import guarantees
from monitor.incidents.authority import Actor, RefusedError
from monitor.incidents.engine import IncidentEngine
from monitor.incidents.guarantees import GuaranteeRecord
from monitor.nodes.windows import thresholds_for
from monitor.runtime.guarantee_sync import GuaranteeSync
from monitor.storage.migrations import upgrade
from tests.conftest import Db
from tests.paths import SHIPPED_CONFIG

CONFIG = load_config(SHIPPED_CONFIG)
T0 = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
DUTY = Actor("duty-officer", "值班员", frozenset({"值班员"}))
NODE = CONFIG.inventory.node[0]


def record(**changes: object) -> GuaranteeRecord:
    base = {
        "id": 1, "name": "区两会", "start_at": T0, "end_at": T0 + timedelta(days=2),
        "systems": (), "fail_after": 1, "created_at": T0, "created_by": "duty-officer",
        "created_by_name": "值班员",
    }  # fmt: skip
    return GuaranteeRecord(**{**base, **changes})  # type: ignore[arg-type]


def test_a_stored_period_makes_thresholds_stricter_while_it_lasts() -> None:
    merged = guarantees.with_periods(CONFIG, [record()])
    assert [p.name for p in merged.plan.guarantee][-1] == "区两会"
    assert set(merged.plan.guarantee[-1].systems) == set(CONFIG.systems)  # empty = every system
    base = thresholds_for(CONFIG, NODE.id, T0 + timedelta(hours=1))
    assert base.fail_after > 1
    assert thresholds_for(merged, NODE.id, T0 + timedelta(hours=1)).fail_after == 1
    assert thresholds_for(merged, NODE.id, T0 + timedelta(days=3)) == base  # after its end


def test_a_period_ended_early_stops_at_its_end() -> None:
    ended = record(ended_at=T0 + timedelta(hours=2))
    merged = guarantees.with_periods(CONFIG, [ended])
    assert merged.plan.guarantee[-1].end == T0 + timedelta(hours=2)
    never = guarantees.with_periods(CONFIG, [record(ended_at=T0)])
    assert never.plan.guarantee == CONFIG.plan.guarantee


@pytest.mark.parametrize(
    ("name", "start", "end", "systems", "message"),
    [
        (" ", T0, T0 + timedelta(hours=1), (), "须有名称"),
        ("区两会", T0, T0, (), "须晚于开始时间"),
        ("区两会", T0, T0 + timedelta(hours=1), ("nope",), "没有系统 nope"),
    ],
    ids=["no name", "end not after start", "unknown system"],
)
def test_bad_periods_are_refused(
    name: str, start: datetime, end: datetime, systems: tuple[str, ...], message: str
) -> None:
    with pytest.raises(RefusedError, match=message):
        guarantees.check_new(CONFIG, name, start, end, systems)


@pytest.mark.parametrize(
    ("text", "names", "period"),
    [
        ("区两会保障期开始", (), True),
        ("国庆通信保障", (), True),
        ("区两会开幕", ("区两会",), True),
        ("群众反映东街无信号", ("区两会",), False),
    ],
)
def test_a_report_that_names_a_period(text: str, names: tuple[str, ...], period: bool) -> None:
    assert guarantees.names_a_period(text, names) is period


def test_stored_add_end_and_the_daemon_picks_them_up(db: Db) -> None:
    engine = db.engine()
    try:
        upgrade(engine)
        incidents = IncidentEngine(engine, CONFIG, clock=lambda: T0)
        added = incidents.add_guarantee("区两会", T0, T0 + timedelta(days=1), DUTY, ["cmcc"])
        assert (added.systems, added.created_by) == (("cmcc",), "duty-officer")
        sync = GuaranteeSync(engine)
        merged = sync.refresh(CONFIG, T0)
        assert merged is not None
        assert merged.plan.guarantee[-1].systems == ["cmcc"]
        assert sync.refresh(CONFIG, T0 + timedelta(minutes=1)) is None  # nothing changed
        ended = incidents.end_guarantee(added.id, DUTY)
        assert ended.ended_at == T0
        with pytest.raises(RefusedError, match="已结束"):
            incidents.end_guarantee(added.id, DUTY)
        again = sync.refresh(CONFIG, T0 + timedelta(minutes=2))
        assert again is not None
        assert again.plan.guarantee == CONFIG.plan.guarantee  # ended at its start: gone
        with pytest.raises(RefusedError, match="guarantee add"):
            incidents.add_event("event", "区两会保障期开始", DUTY)
        assert incidents.incidents() == []
    finally:
        engine.dispose()
