"""The audit's CLI findings, one per test, each citing the clause it enforces (exit 2 + clause)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from dispatch.notice_data import build_view
from dispatch.render import Renderer
from monitor.config import load_config
from monitor.incidents.engine import IncidentEngine
from monitor.incidents.tables import notice_requests
from monitor.plan.assessment import Assessment
from monitor.storage.engine import open_engine
from tests.dispatch.support import T0
from tests.monitor.commands.support import run

S3 = Assessment(
    3,
    "II",
    operator_networks=("cmcc",),
    reasons=("移动城区分公司网络全部业务中断（§3.3 情形3）",),
    nodes_down=("cmcc-core-1",),
)


def monitor_incident(config_dir: Path) -> int:
    """An incident the monitor opened; its node stays down."""
    config = load_config(config_dir)
    engine = open_engine(config.daemon.storage.url)
    try:
        opened = IncidentEngine(engine, config).apply_assessment(S3, T0)
        assert opened is not None
        return opened.id
    finally:
        engine.dispose()


def stored(config_dir: Path, kind: str) -> list[dict[str, object]]:
    engine = open_engine(load_config(config_dir).daemon.storage.url)
    try:
        with engine.connect() as connection:
            query = select(notice_requests.c.context).where(notice_requests.c.kind == kind)
            return [dict(c) for c in connection.execute(query).scalars()]
    finally:
        engine.dispose()


def test_raising_a_warning_by_hand_says_adjusted(
    capsys: pytest.CaptureFixture[str], config_dir: Path, reported: int
) -> None:
    """§3.5 (4): the 总指挥 raises a 副总指挥's 情形3 to 情形2; the notice says so."""
    assert run(capsys, config_dir, "warning", "issue", "1", "--scenario", "3", "--by", "deputy-govoffice")[0] == 0  # fmt: skip
    code, out, err = run(
        capsys, config_dir, "warning", "issue", "1", "--scenario", "2", "--by", "commander"
    )
    assert (code, err) == (0, "")
    assert "预警已由情形3调整为情形2" in out
    [context] = stored(config_dir, "upgrade")
    assert context["data"] == {
        "from": 3,
        "to": 2,
        "warning_adjusted": True,
        "by_person": True,
        "previous_issuer": "区政府办公室协调通信网络工作的副主任",
        "office": "总指挥",
        "plan": "城政办发〔2024〕22号",  # §7.2: which plan the decision followed
        "plan_version": "2024",
    }
    config = load_config(config_dir)
    view = build_view(config, "upgrade", 1, None, context, T0)
    texts = [Renderer().sms(view), Renderer().email(view).subject, Renderer().email(view).text]
    assert "调整为情形2" in texts[0]
    for text in texts:
        assert "情形3→情形3" not in text
        assert "是否调整" not in text
    # §3.6: the warning now in force was issued by the 总指挥, who alone lifts it
    code, _, err = run(capsys, config_dir, "warning", "lift", "1", "--by", "deputy-govoffice")
    assert code == 2
    assert "§3.6 谁发布谁解除" in err


def test_a_deputy_cannot_override_the_commanders_level_one(
    capsys: pytest.CaptureFixture[str], config_dir: Path, reported: int
) -> None:
    """§4.3.1 (2) and §4.6 谁启动谁结束."""
    assert run(capsys, config_dir, "incident", "confirm", "1", "--by", "值班员")[0] == 0
    assert run(capsys, config_dir, "response", "start", "1", "--level", "I", "--by", "总指挥")[0] == 0  # fmt: skip
    for argv in (
        ["response", "start", "1", "--level", "II", "--by", "deputy-govoffice"],
        ["response", "end", "1", "--by", "deputy-govoffice"],
        ["response", "end", "1", "--by", "deputy-miit"],
    ):
        code, out, err = run(capsys, config_dir, *argv)
        assert (code, out) == (2, ""), argv
        assert "§4.6 谁启动谁结束" in err
    code, out, _ = run(capsys, config_dir, "incident", "list", "--json")
    row = json.loads(out)
    assert (row["response_level"], row["response_starter"]) == ("I", "commander")


def test_no_response_before_confirmation(
    capsys: pytest.CaptureFixture[str], config_dir: Path, reported: int
) -> None:
    """§4.2 (2)(3): 确认 comes before 分析 and 定级."""
    code, _, err = run(
        capsys, config_dir, "response", "start", "1", "--level", "II", "--by", "deputy-govoffice"
    )
    assert code == 2
    assert "§4.2 (2)(3)" in err
    assert "待确认" in err


def test_lift_and_close_wait_for_recovery_unless_the_hq_decides(
    capsys: pytest.CaptureFixture[str], config_dir: Path
) -> None:
    """§3.6: lifted after 处置结束且通信网络恢复; earlier only by the HQ's recorded decision."""
    incident = str(monitor_incident(config_dir))
    assert run(capsys, config_dir, "warning", "issue", incident, "--by", "commander")[0] == 0
    code, _, err = run(capsys, config_dir, "warning", "lift", incident, "--by", "commander")
    assert code == 2
    assert "§3.6 处置结束且通信网络恢复" in err
    assert "监测仍见中断" in err
    code, _, err = run(
        capsys, config_dir, "warning", "lift", incident, "--by", "deputy-govoffice",
        "--hq-decision", "x",
    )  # fmt: skip
    assert code == 2
    assert "§3.6" in err
    code, out, err = run(
        capsys, config_dir, "warning", "lift", incident, "--by", "commander",
        "--hq-decision", "上级指挥机构接管处置",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert "预警已解除" in out
    code, _, err = run(capsys, config_dir, "incident", "close", incident, "--by", "值班员")
    assert code == 2
    assert "§3.6" in err
    code, out, _ = run(capsys, config_dir, "incident", "list", "--json")
    assert json.loads(out)["restored"] is False  # still tracked: the outage goes on


def test_transfer_of_a_confirmed_outage_does_not_drop_it(
    capsys: pytest.CaptureFixture[str], config_dir: Path
) -> None:
    """§4.2 (2) ③ is for unrelated events; a confirmed outage that goes on stays tracked."""
    incident = str(monitor_incident(config_dir))
    assert run(capsys, config_dir, "incident", "confirm", incident, "--by", "值班员")[0] == 0
    code, out, err = run(
        capsys, config_dir, "incident", "transfer", incident, "--to", "x", "--by", "值班员"
    )
    assert (code, out) == (2, "")
    assert "§4.2 (2)" in err
    assert "脱离跟踪" in err
    code, out, _ = run(capsys, config_dir, "incident", "list", "--json")
    row = json.loads(out)
    assert (row["id"], row["status"]) == (int(incident), "confirmed")


def test_list_json_contract_and_labelled_times(
    capsys: pytest.CaptureFixture[str], config_dir: Path
) -> None:
    """DESIGN.md contract keys; times in the plan's zone (Asia/Shanghai), labelled."""
    incident = monitor_incident(config_dir)
    capsys.readouterr()  # the fixture's `db upgrade` line
    _, out, _ = run(capsys, config_dir, "incident", "list", "--json")
    row = json.loads(out)
    for key in ("id", "status", "scenario", "level", "warning_issuer", "response_starter"):
        assert key in row
    assert (row["id"], row["scenario"], row["level"], row["restored"]) == (incident, 3, "II", False)
    _code, out, _ = run(capsys, config_dir, "incident", "show", str(incident))
    assert "2026-11-28 14:00:00+08:00" in out  # T0 = 06:00 UTC, as the notices show it
    assert "06:00:00" not in out
