"""Helpers for the dispatch tests: a config directory on the shipped contacts, a database."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from monitor.config import Config, load_config
from monitor.incidents.notices import NoticeKind, NoticeRequest
from monitor.plan.assessment import Assessment
from monitor.storage.engine import open_engine
from monitor.storage.migrations import upgrade as create_schema

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "config"
T0 = datetime(2026, 11, 28, 6, 0, 0, tzinfo=UTC)  # 14:00:00 in Asia/Shanghai

# 情形2 across two operator networks and two streets (with spread).
TWO_OPERATORS = Assessment(
    2,
    "I",
    operator_networks=("cmcc", "cucc"),
    streets=("东街街道办事处", "西街街道办事处"),
    spread=True,
    reasons=("两家基础运营网络全部业务受影响（§3.3 情形2）",),
    nodes_down=("cmcc-core-1",),
)
ONE_OPERATOR = Assessment(
    3,
    "II",
    operator_networks=("cmcc",),
    streets=("东街街道办事处",),
    reasons=("移动城区分公司网络全部业务中断（§3.3 情形3）",),
    nodes_down=("cmcc-core-1",),
)


UNREACHABLE_CHANNELS = """
[[notifier]]
name = "mail"
type = "email"
host = "127.0.0.1"
sender = "commwatch@example.org"
timeout = "2s"

[[notifier]]
name = "sms"
type = "sms_http"
url = "http://127.0.0.1:9/"
timeout = "2s"
"""  # email and SMS notifiers pointing nowhere: for tests that send at the Notifier seam


def write_config(directory: Path, commwatch_toml: str) -> Path:
    """A config directory: the shipped plan, contacts and nodes, and the given commwatch.toml."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("plan.toml", "contacts.toml", "nodes.toml"):
        shutil.copy(SHIPPED / name, directory / name)
    (directory / "commwatch.toml").write_text(commwatch_toml, encoding="utf-8")
    return directory


def base_toml(
    db_path: Path, extra: str = "", horizon: str = "1h", fallback_after: str = "1h"
) -> str:
    """commwatch.toml for tests: SQLite at db_path, no metrics server, fast dispatch."""
    return f"""
[storage]
url = "sqlite:///{db_path}"

[metrics]
enabled = false

[dispatch]
poll_interval = "100ms"
retry_base = "200ms"
retry_max = "1s"
retry_horizon = "{horizon}"
fallback_after = "{fallback_after}"
coalesce_window = "1s"
{extra}
"""


def load(directory: Path) -> Config:
    """load_config with a readable failure."""
    return load_config(directory)


def database(config: Config) -> Engine:
    """The configured database with every table created."""
    engine = open_engine(config.daemon.storage.url)
    create_schema(engine)
    return engine


def request(
    kind: NoticeKind,
    key: str,
    assessment: Assessment | None = None,
    incident_id: int | None = None,
    at: datetime = T0,
    **context: Any,
) -> NoticeRequest:
    """A NoticeRequest as the incident engine writes it (the context keys it uses)."""
    base: dict[str, Any] = {
        "incident_id": incident_id,
        "at": at.isoformat(),
        "detected_at": T0.isoformat(),
        "source": "monitor",
        "status": "detected",
        "title": "测试事件",
        "scenario": assessment.scenario if assessment else None,
        "level": assessment.level if assessment else None,
        "warning_scenario": None,
        "issuer": None,
        "issuer_name": None,
        "response_level": None,
        "starter": None,
        "starter_name": None,
        "actor": None,
        "actor_name": None,
        "note": "",
        "transferred_to": None,
        "restored": False,
        "data": {},
    }
    merged: Mapping[str, Any] = {**base, **context}
    return NoticeRequest(kind, incident_id, key, assessment, dict(merged), at)


def start_dispatcher(config_dir: Path) -> subprocess.Popen[bytes]:
    """A dispatcher in its own process (`tests.dispatch.run_dispatcher`), once it says ready."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.dispatch.run_dispatcher", str(config_dir)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"ready"
    return proc
