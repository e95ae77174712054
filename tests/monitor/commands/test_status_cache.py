"""`status` on the cached config says byte for byte what it says after validating."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from monitor.cli import main
from monitor.config import load_config
from monitor.config.cache import CACHE_FILE, load_cached
from monitor.nodes.state import NodeState, Status
from monitor.storage.store import Store
from tests.conftest import Db
from tests.monitor.commands.support import run
from tests.paths import SHIPPED_CONFIG

DOWN = {"cmcc-core-1", "cmcc-agg-dongjie", "emergency-platform-1", "egov-gw-2"}
ATTEMPTS = (
    3  # a minute boundary between two runs changes a clock's 剩N分钟; a real difference stays
)


def _url(db: Db) -> str:
    if db.schema is None:
        return db.url
    options = {"options": f"-csearch_path={db.schema}"}
    return make_url(db.url).update_query_dict(options).render_as_string(hide_password=False)


@pytest.fixture
def config_dir(
    tmp_path: Path, db: Db, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Path:
    """The shipped config on `db`, with node states, an incident, its clocks and a query."""
    state = tmp_path / "state"
    state.mkdir()
    monkeypatch.setenv("STATE_DIRECTORY", str(state))
    target = tmp_path / "config"
    shutil.copytree(SHIPPED_CONFIG, target)
    daemon = target / "commwatch.toml"
    text = re.sub(r'(?m)^url = ".*"$', f'url = "{_url(db)}"', daemon.read_text(encoding="utf-8"))
    daemon.write_text(text, encoding="utf-8")
    assert main(["db", "upgrade", "-c", str(target)]) == 0  # validates; records the cache
    config = load_config(target)
    engine = db.engine()
    try:
        store = Store(engine)
        store.sync_nodes(config.inventory.node)
        since = datetime.now(UTC) - timedelta(days=3, hours=1)  # "3d" for hours: a stable FOR
        states = {
            n.id: NodeState(status=Status.DOWN if n.id in DOWN else Status.UP, since=since)
            for n in config.inventory.node
        }
        store.write_batch([], [], states)
    finally:
        engine.dispose()
    code, _, _ = run(capsys, target, "event", "add", "--source", "public", "--text", "东街无信号")
    assert code == 0
    query = (
        "query",
        "add",
        "1",
        "--from",
        "市工信局",
        "--text",
        "请核实影响范围",
        "--by",
        "值班员",
    )
    assert run(capsys, target, *query)[0] == 0
    return target


@pytest.mark.parametrize("db", ["sqlite", "postgresql"], indirect=True)
@pytest.mark.parametrize(
    "argv", [(), ("--json",), ("--problems",)], ids=["text", "json", "problems"]
)
def test_status_on_the_cached_config_says_what_the_validated_one_says(
    config_dir: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    cache = Path(load_config(config_dir).daemon.console.state_dir) / CACHE_FILE
    for _ in range(ATTEMPTS):
        assert load_cached(config_dir) is not None  # the fast path is taken
        fast = run(capsys, config_dir, "status", *argv)
        saved = cache.read_bytes()
        cache.unlink()
        assert load_cached(config_dir) is None  # the full path: validate as before
        full = run(capsys, config_dir, "status", *argv)
        cache.write_bytes(saved)
        if fast == full:
            break
    assert fast == full
    code, out, _ = fast
    assert code == 0
    if argv == ():
        assert (
            "全部业务中断：区应急指挥平台（emergency-platform）、移动城区分公司网络（cmcc）" in out
        )
        assert "事件#1 书面报告" in out
        assert "答复催报/核实（市工信局：请核实影响范围）" in out
    else:
        assert "cmcc-core-1" in out
