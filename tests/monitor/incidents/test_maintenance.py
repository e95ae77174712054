"""Maintenance windows entered on duty: stored, merged into the running config, ended early."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.config import load_config
from monitor.incidents import maintenance
from monitor.incidents.authority import Actor, RefusedError
from monitor.nodes.windows import maintained_nodes
from monitor.runtime.guarantee_sync import GuaranteeSync
from monitor.storage.migrations import upgrade
from tests.conftest import Db
from tests.paths import SHIPPED_CONFIG

CONFIG = load_config(SHIPPED_CONFIG)
T0 = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
DUTY = Actor("duty-officer", "值班员", frozenset({"值班员"}))
NOBODY = Actor("liaison", "联络员", frozenset())
NODE = CONFIG.inventory.node[0]


def test_a_stored_window_maintains_its_nodes_while_it_lasts(db: Db) -> None:
    engine = db.engine()
    try:
        upgrade(engine)
        scope = ([NODE.id], [], [])
        with pytest.raises(RefusedError, match=r"§4\.2 \(2\)"):
            maintenance.add(engine, CONFIG, "割接", T0, T0 + timedelta(hours=2), NOBODY, T0, scope)
        with pytest.raises(RefusedError, match="须晚于"):
            maintenance.add(engine, CONFIG, "割接", T0, T0, DUTY, T0, scope)
        with pytest.raises(RefusedError, match="至少指定"):
            maintenance.add(
                engine, CONFIG, "割接", T0, T0 + timedelta(hours=1), DUTY, T0, ([], [], [])
            )
        with pytest.raises(RefusedError, match="没有节点 nope"):
            maintenance.add(
                engine, CONFIG, "割接", T0, T0 + timedelta(hours=1), DUTY, T0, (["nope"], [], [])
            )
        added = maintenance.add(
            engine, CONFIG, "割接", T0, T0 + timedelta(hours=2), DUTY, T0, scope
        )
        assert (added.nodes, added.created_by) == ((NODE.id,), "duty-officer")

        sync = GuaranteeSync(engine)
        assert NODE.id not in maintained_nodes(CONFIG, T0 + timedelta(minutes=5))
        merged = sync.refresh(CONFIG, T0)
        assert merged is not None
        assert sync.current(CONFIG) is merged
        assert NODE.id in maintained_nodes(merged, T0 + timedelta(minutes=5))
        assert NODE.id not in maintained_nodes(merged, T0 + timedelta(hours=3))  # after its end

        with pytest.raises(RefusedError, match=r"§4\.2 \(2\)"):
            maintenance.end(engine, added.id, NOBODY, T0 + timedelta(minutes=10))
        ended = maintenance.end(engine, added.id, DUTY, T0 + timedelta(minutes=10))
        assert (ended.ended_by, ended.ended_at) == ("duty-officer", T0 + timedelta(minutes=10))
        with pytest.raises(RefusedError, match="已结束"):
            maintenance.end(engine, added.id, DUTY, T0 + timedelta(minutes=11))
        again = sync.refresh(CONFIG, T0 + timedelta(minutes=20))
        assert again is not None
        assert NODE.id not in maintained_nodes(again, T0 + timedelta(minutes=30))
        assert NODE.id in maintained_nodes(again, T0 + timedelta(minutes=5))  # it did cover then
        other = load_config(SHIPPED_CONFIG)
        assert sync.current(other) is other  # a reloaded config until the next refresh
    finally:
        engine.dispose()
