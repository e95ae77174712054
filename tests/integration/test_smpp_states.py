"""The SMPP contract end to end: deliveries over SMPP appear in `commwatch notice list --json`
with `channel` = the notifier's name, move to `delivered` when node-smpp's SMSC sends the
receipt, and a handset's "收到" over SMPP acknowledges the notice."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from dispatch.dispatcher import Dispatcher
from dispatch.event_records import record_events
from dispatch.states import notice_lines
from monitor.cli import main
from monitor.config import Config
from monitor.incidents.engine import IncidentEngine
from tests.dispatch.fakes import eventually
from tests.dispatch.support import base_toml, database, load, write_config
from tests.smsc import NodeSmsc

pytestmark = pytest.mark.peer


@pytest.fixture(scope="module")
def smsc() -> Iterator[NodeSmsc]:
    with NodeSmsc("commwatch", "pw3Kd") as running:
        yield running


def smpp_config(tmp_path: Path, smsc: NodeSmsc) -> tuple[Path, Config]:
    channels = f"""
[[notifier]]
name = "smpp-cmcc"
type = "sms_smpp"
host = "127.0.0.1"
port = {smsc.port}
system_id = "commwatch"
password = "pw3Kd"
source_addr = "10690001"
timeout = "5s"

[[notifier]]
name = "outbox"
type = "file"
directory = "{tmp_path}/outbox"
"""
    directory = write_config(tmp_path / "c", base_toml(tmp_path / "cw.db", channels))
    return directory, load(directory)


async def test_smpp_deliveries_are_delivered_and_acknowledged(
    tmp_path: Path, smsc: NodeSmsc, capsys: pytest.CaptureFixture[str]
) -> None:
    directory, config = smpp_config(tmp_path, smsc)
    engine = database(config)
    incidents = IncidentEngine(engine, config)
    incident = incidents.add_event("upper", "上级通报：移动网络中断").id
    dispatcher = Dispatcher(config, engine, on_event=record_events(engine, incidents))
    dispatcher.start()

    def sms() -> dict[tuple[int, str], str]:
        lines = notice_lines(engine, config.daemon.notifier)
        return {(line.notice, line.address): line.state for line in lines if line.medium == "sms"}

    try:
        await eventually(lambda: len(sms()) == 6, within=15)  # 接报 and the brief draft, 3 mobiles
        await eventually(lambda: set(sms().values()) == {"delivered"}, within=15)
        latest = max(notice for notice, _ in sms())
        smsc.command({"cmd": "mo", "from": "13800000003", "to": "10690001", "text": "收到"})
        await eventually(lambda: sms()[(latest, "13800000003")] == "acknowledged", within=15)
    finally:
        await dispatcher.stop(2)
    capsys.readouterr()
    assert (
        main(["notice", "list", "-c", str(directory), "--incident", str(incident), "--json"]) == 0
    )
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    over_smpp = [n for n in listed if n["address"] in {"13800000003", "13800000004", "13800000010"}]
    assert len(over_smpp) == 6
    assert {n["channel"] for n in over_smpp} == {"smpp-cmcc"}
    assert sorted(n["state"] for n in over_smpp) == ["acknowledged"] + ["delivered"] * 5
    sent = {e["dest"] for e in smsc.events("submit") if e.get("status") == "accepted"}
    assert {"13800000003", "13800000004", "13800000010"} <= sent
