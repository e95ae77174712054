"""`commwatch status`: 全部业务 and 部分业务 (§3.3) from the stored node states."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.config import load_config
from monitor.nodes.state import NodeState, Status
from monitor.storage.engine import open_engine
from monitor.storage.migrations import upgrade as create_schema
from monitor.storage.store import Store
from tests.paths import ROOT


def _config(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(ROOT / "config", target)
    toml = target / "commwatch.toml"
    text = toml.read_text(encoding="utf-8").replace(
        'url = "sqlite:///${STATE_DIRECTORY:-var}/commwatch.db"',
        f'url = "sqlite:///{tmp_path}/cw.db"',
    )
    toml.write_text(text, encoding="utf-8")
    return target


def _store_states(config_dir: Path, down: set[str]) -> None:
    config = load_config(config_dir)
    engine = open_engine(config.daemon.storage.url)
    try:
        create_schema(engine)
        store = Store(engine)
        store.sync_nodes(config.inventory.node)
        now = datetime.now(UTC)
        states = {
            n.id: NodeState(status=Status.DOWN if n.id in down else Status.UP, since=now)
            for n in config.inventory.node
        }
        store.write_batch([], [], states)
    finally:
        engine.dispose()


# id (clause), nodes down, the whole line, the partial line
CASES = [
    ("nothing-3.3", set(), "全部业务中断：无", "部分业务受影响：无"),
    (
        "operator-aggregations-partial-3.3",
        {"cmcc-agg-dongjie", "cmcc-agg-xijie"},
        "全部业务中断：无",
        "部分业务受影响：移动城区分公司网络（cmcc）",
    ),
    (
        "core-down-whole-priority-first-3.3-6.3",
        {"cmcc-core-1", "cmcc-agg-dongjie", "emergency-platform-1", "egov-gw-2"},
        "全部业务中断：区应急指挥平台（emergency-platform）、移动城区分公司网络（cmcc）",
        "部分业务受影响：区电子政务外网（egov）",
    ),
]


@pytest.mark.parametrize(
    ("down", "whole", "partial"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_status_names_whole_and_partial_business(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    down: set[str],
    whole: str,
    partial: str,
) -> None:
    config_dir = _config(tmp_path)
    _store_states(config_dir, down)
    assert main(["status", "-c", str(config_dir)]) == 0
    out = capsys.readouterr().out
    assert whole in out.splitlines()
    assert partial in out.splitlines()
