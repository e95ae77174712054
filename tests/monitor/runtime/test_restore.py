"""Restart safety of the plan: the spread memory rebuilt from stored state changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.config import load_config
from monitor.nodes.state import Status
from monitor.plan.situation import score_round
from monitor.plan.spread import SpreadHistory
from monitor.runtime.restore import seed_spread, statuses_at_start
from monitor.storage.store import ChangeRow
from tests.paths import SHIPPED_CONFIG

CONFIG = load_config(SHIPPED_CONFIG)
NOW = datetime(2026, 7, 4, 8, 0, tzinfo=UTC)
ALL_UP = {node.id: Status.UP for node in CONFIG.inventory.node}


def _down(*nodes: str) -> dict[str, Status]:
    return {**ALL_UP, **dict.fromkeys(nodes, Status.DOWN)}


def _change(node: str, minutes_ago: int) -> ChangeRow:
    return ChangeRow(node, NOW - timedelta(minutes=minutes_ago), Status.UP, Status.DOWN, "")


def test_statuses_at_start_undo_the_changes() -> None:
    changes = [_change("portal-web", 3), _change("media-encoder", 1)]
    assert statuses_at_start(_down("portal-web", "media-encoder"), changes) == ALL_UP


def test_a_growing_outage_stays_spreading_across_a_restart() -> None:
    changes = [_change("portal-web", 3), _change("media-encoder", 1)]
    running = SpreadHistory(CONFIG)
    score_round(CONFIG, ALL_UP, {}, running, NOW - timedelta(minutes=4))
    score_round(CONFIG, _down("portal-web"), {}, running, NOW - timedelta(minutes=3))
    now_down = _down("portal-web", "media-encoder")
    score_round(CONFIG, now_down, {}, running, NOW - timedelta(minutes=1))
    kept = score_round(CONFIG, now_down, {}, running, NOW).assessment
    assert kept.spread

    forgetful = score_round(CONFIG, now_down, {}, SpreadHistory(CONFIG), NOW).assessment
    assert not forgetful.spread, "without the replay the restart would announce 'no spread'"

    restarted = SpreadHistory(CONFIG)
    assert seed_spread(CONFIG, restarted, now_down, changes, NOW) == 3
    assert score_round(CONFIG, now_down, {}, restarted, NOW).assessment == kept


def test_changes_of_removed_nodes_are_ignored() -> None:
    history = SpreadHistory(CONFIG)
    seed_spread(CONFIG, history, ALL_UP, [_change("gone-node", 2)], NOW)
    assert not score_round(CONFIG, ALL_UP, {}, history, NOW).assessment.affected
