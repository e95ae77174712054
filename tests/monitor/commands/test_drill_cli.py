"""§6.1 演练 end to end: notices marked 【演练】, only to the drill's recipients, an exercise report."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from sqlalchemy import select

from dispatch.dispatcher import Dispatcher
from dispatch.followup import FollowUp
from dispatch.followup_tables import call_tasks, escalations
from dispatch.status import deliveries_for
from monitor.config import load_config
from monitor.incidents.engine import IncidentEngine
from monitor.storage.engine import open_engine
from tests.dispatch.support import ONE_OPERATOR, base_toml, write_config
from tests.monitor.commands.support import run

# the HQ office: the drill's recipients when [dispatch] names none
OFFICE = {"区工信局", "区工信局局长（兼指挥部办公室主任）", "指挥部办公室值班员（值班员）"}


@pytest.fixture
def drill_config(tmp_path: Path) -> Path:
    extra = (
        f'[[notifier]]\nname = "outbox"\ntype = "file"\ndirectory = "{tmp_path}/out"\n'
        "[calls]\nenabled = true\n"  # a warning is also phoned to every unit concerned …
        '[escalation]\nack_within = "1m"\n'  # … and an unacknowledged notice escalates
        '[[escalation.chain]]\nunit = "区工信局"\nthen = ["deputy-miit", "commander"]\n'
    )
    directory = write_config(tmp_path / "c", base_toml(tmp_path / "cw.db", extra))
    from monitor.cli import main

    assert main(["db", "upgrade", "-c", str(directory)]) == 0
    return directory


def deliver(directory: Path) -> None:
    config = load_config(directory)
    engine = open_engine(config.daemon.storage.url)

    async def once() -> None:
        dispatcher = Dispatcher(config, engine)
        dispatcher.start()
        await dispatcher.stop(5)

    try:
        asyncio.run(once())
    finally:
        engine.dispose()


def test_a_drill_end_to_end(
    capsys: pytest.CaptureFixture[str], drill_config: Path, tmp_path: Path
) -> None:
    capsys.readouterr()
    code, out, err = run(
        capsys, drill_config, "drill", "start", "--name", "2026年冬季通信保障", "--by", "值班员"
    )
    assert (code, err) == (0, "")
    assert "演练#1（2026年冬季通信保障）已于" in out
    code, _, err = run(capsys, drill_config, "drill", "start", "--name", "x", "--by", "值班员")
    assert code == 2
    assert "§6.1" in err
    steps = [
        ["event", "add", "--source", "public", "--text", "演练：群众反映东街移动信号中断"],
        ["incident", "confirm", "1", "--by", "值班员", "--note", "演练：移动回告光缆中断"],
        ["phone-report", "add", "1", "--caller", "区工信局值班员", "--callee", "区政府办公室",
         "--text", "演练：东街移动信号中断", "--by", "值班员"],
        ["warning", "issue", "1", "--scenario", "3", "--by", "deputy-miit"],
        ["response", "start", "1", "--level", "II", "--by", "deputy-miit"],
        ["query", "add", "1", "--from", "市工信局", "--text", "演练：请核实影响范围", "--by", "值班员"],
    ]  # fmt: skip
    for argv in steps:
        code, _, err = run(capsys, drill_config, *argv)
        assert (code, err) == (0, ""), argv
    _, out, _ = run(capsys, drill_config, "incident", "list", "--json")
    assert json.loads(out)["drill"] is True

    # the monitor's own detection during this drill stays real (no --include-monitor)
    config = load_config(drill_config)
    engine = open_engine(config.daemon.storage.url)
    try:
        real = IncidentEngine(engine, config).apply_assessment(ONE_OPERATOR, config_now())
        assert real is not None
        assert real.drill is False
    finally:
        engine.dispose()

    deliver(drill_config)
    engine = open_engine(config.daemon.storage.url)
    try:
        drill_deliveries = deliveries_for(engine, 1)
        real_deliveries = deliveries_for(engine, real.id)
    finally:
        engine.dispose()
    kinds = {d.notice for d in drill_deliveries}
    assert {"detection", "warning", "response_start", "group_tasks", "query"} <= kinds
    assert {d.recipient for d in drill_deliveries} == OFFICE  # nobody else, whatever the rules
    assert "移动城区分公司" in {d.recipient for d in real_deliveries}  # real routing untouched
    texts = [p.read_text(encoding="utf-8") for p in (tmp_path / "out").glob("*.txt")]
    mails = [message_from_bytes(p.read_bytes()) for p in (tmp_path / "out").glob("*.eml")]
    subjects = [str(make_header(decode_header(m["Subject"]))) for m in mails]
    drill_subjects = [s for s in subjects if "事件#1：" in s]
    assert drill_subjects
    assert all(s.startswith("【演练】") for s in drill_subjects)
    drill_sms = [t.splitlines()[2] for t in texts if "事件#1：" in t]  # "To:", a blank, the text
    assert drill_sms
    assert all(line.startswith("【演练】") for line in drill_sms)
    assert not any(s.startswith("【演练】") for s in subjects if f"事件#{real.id}：" in s)

    # follow-up (收到 escalation, 电话通知) never reaches beyond the drill's recipients
    later = config_now() + timedelta(hours=1)
    engine = open_engine(config.daemon.storage.url)
    try:
        FollowUp(config, engine).cycle(later)
        with engine.connect() as connection:
            escalated = set(connection.execute(select(escalations.c.incident_id)).scalars())
            called = set(connection.execute(select(call_tasks.c.incident_id)).scalars())
    finally:
        engine.dispose()
    assert 1 not in escalated
    assert 1 not in called
    assert real.id in escalated  # the same machinery did run for the real incident

    code, out, _ = run(capsys, drill_config, "report", "render", "1")
    assert out.startswith("【演练】（本报告为演练，非真实事件）\n")

    code, out, err = run(capsys, drill_config, "drill", "end", "--by", "值班员")
    assert (code, err) == (0, "")
    assert out.startswith("关于2026年冬季通信保障演练情况的报告\n")
    assert "共处置演练事件1起" in out
    assert "启动响应　副总指挥区工信局局长" in out
    assert "接报后" in out
    assert "电话快报" in out
    assert "超时事项：书面报告未报送。" in out
    assert "区通信网络指挥部办公室\n" in out
    code, again, _ = run(capsys, drill_config, "drill", "report")
    assert again.strip() == out.strip()
    code, _, err = run(capsys, drill_config, "drill", "end", "--by", "值班员")
    assert code == 2
    assert "没有进行中的演练" in err


def config_now():  # type: ignore[no-untyped-def]
    from monitor.incidents.tables import utcnow

    return utcnow()
