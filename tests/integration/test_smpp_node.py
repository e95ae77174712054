"""The sms_smpp channel against an SMSC we did not write: node-smpp's server (npm `smpp`).

A 300-character Chinese notice arrives as correctly joined UCS-2 parts (a
non-BMP character at a part boundary included), receipts and replies come
back through the event sink, ESME_RTHROTTLED narrows the window and slows the
submits, the account's rate spaces them, errors name the command_status and
never the password, and the bind comes back after the SMSC drops it.
"""

from __future__ import annotations

import asyncio
import itertools
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import Metric

from dispatch.base import Message, NotifyError
from dispatch.events import Event, Inbound, Receipt
from dispatch.smpp_metrics import smpp_families
from dispatch.sms_smpp import SmppNotifier
from monitor.cli import main
from monitor.config.notifiers import SmppNotifierConfig
from tests.dispatch.fakes import eventually
from tests.dispatch.support import base_toml, write_config
from tests.requirements import require_binary
from tests.smsc import NodeSmsc

pytestmark = pytest.mark.peer

PASSWORD = "pw7Xq2"
NOTICE = (
    "【预警通知】区通信网络指挥部办公室：据监测，移动城区分公司核心网络于今日上午发生大面积中断，"
    "影响东街街道、西街街道、北街街道等区域的语音通话与数据业务，城区政务外网部分链路随之中断。"
    "根据《区通信网络突发事件应急预案》，现发布情形2预警。请各成员单位立即启动值班值守，"
    "保持通信畅通，按职责做好先期处置；移动城区分公司立即组织抢修并每30分钟报告一次进展，"
    "电信、联通城区分公司做好话务疏导与应急通信保障准备。请收到后回复“收到”。联系电话：0356-2039294。"
)


@pytest.fixture(scope="module")
def smsc() -> Iterator[NodeSmsc]:
    with NodeSmsc(system_id="commwatch", password=PASSWORD) as running:
        yield running


def smpp_config(smsc: NodeSmsc, **changes: Any) -> SmppNotifierConfig:
    values: dict[str, Any] = {
        "name": "smpp",
        "type": "sms_smpp",
        "host": "127.0.0.1",
        "port": smsc.port,
        "system_id": "commwatch",
        "password": PASSWORD,
        "source_addr": "10690001",
        "timeout": "5s",
        "rate": 200,
        "throttle_pause": "200ms",
    }
    values.update(changes)
    return SmppNotifierConfig.model_validate(values)


def submits_for(smsc: NodeSmsc, dest: str, count: int = 1) -> list[dict[str, Any]]:
    """The submits the SMSC logged for `dest`, once at least `count` are read (its stdout lags)."""
    mine = lambda: [e for e in smsc.events("submit") if e["dest"] == dest]  # noqa: E731
    smsc.wait_for(lambda _e: len(mine()) >= count)
    return mine()


def submits_to(smsc: NodeSmsc, prefix: str, count: int) -> list[dict[str, Any]]:
    """Like submits_for, for every destination starting with `prefix`."""
    mine = lambda: [e for e in smsc.events("submit") if e["dest"].startswith(prefix)]  # noqa: E731
    smsc.wait_for(lambda _e: len(mine()) >= count)
    return mine()


def long_notice() -> str:
    text = NOTICE[:66] + "𠀀" + NOTICE[66:]  # 66 + 2 code units: cannot fit the first part
    text = (text + "。" * 300)[:300]
    assert len(text) == 300
    assert text[66] == "𠀀"
    return text


async def test_long_chinese_notice_arrives_joined_with_receipts(smsc: NodeSmsc) -> None:
    events: list[Event] = []
    notifier = SmppNotifier(smpp_config(smsc), events.append)
    text = long_notice()
    try:
        delivery = await notifier.send(Message(1, "13800138001", "", text, key="k1"))
        await eventually(lambda: any(isinstance(e, Receipt) for e in events))
    finally:
        await notifier.close()
    parts = submits_for(smsc, "13800138001", 5)
    ids = [p["message_id"] for p in parts]
    assert len(parts) == 5
    assert delivery.gateway_id == ids[0]
    assert ",".join(ids) in delivery.detail
    assert all(p["data_coding"] == 8 and p["esm_class"] & 0x40 for p in parts)
    udhs = [bytes.fromhex(p["udh"][0]) for p in parts]
    assert {u[:4] for u in udhs} == {udhs[0][:4]}  # 00 03 ref: one reference
    assert [(u[3], u[4]) for u in udhs] == [(5, i) for i in range(1, 6)]
    assert all("\ufffd" not in p["text"] for p in parts)  # no half surrogate pair …
    assert all(p["text"].encode("utf-8") for p in parts)  # … not even a lone one
    assert parts[0]["text"] == text[:66]
    assert parts[1]["text"].startswith("𠀀")
    assert "".join(p["text"] for p in parts) == text
    receipts = [e for e in events if isinstance(e, Receipt)]  # five part receipts, one message
    assert receipts == [Receipt("smpp", ids[0], "delivered", "stat:DELIVRD err:000")]
    assert parts[0]["source"] == "10690001"
    assert parts[0]["registered_delivery"] == 1


async def test_replies_come_back_as_inbound_messages(smsc: NodeSmsc) -> None:
    events: list[Event] = []
    notifier = SmppNotifier(smpp_config(smsc), events.append)
    try:
        await notifier.send(Message(2, "13800138002", "", "测试", key="k2"))
        smsc.command({"cmd": "mo", "from": "13800138002", "to": "10690001", "text": "收到"})
        reply = "收到，移动城区分公司已组织抢修，预计两小时内恢复核心网络。" * 3
        smsc.command(
            {"cmd": "mo", "from": "13800138003", "to": "10690001", "text": reply, "parts": 2}
        )
        inbound = lambda: [e for e in events if isinstance(e, Inbound)]  # noqa: E731
        await eventually(lambda: len(inbound()) == 2)
    finally:
        await notifier.close()
    assert inbound() == [
        Inbound("smpp", "13800138002", "收到"),
        Inbound("smpp", "13800138003", reply),
    ]


async def test_throttling_narrows_the_window_and_slows_submits(smsc: NodeSmsc) -> None:
    notifier = SmppNotifier(smpp_config(smsc, window=4), lambda _e: None)
    smsc.command({"cmd": "throttle", "count": 3})
    try:
        await notifier.send(Message(3, "13800138004", "", "限速测试", key="k3"))
    finally:
        await notifier.close()
    tries = submits_for(smsc, "13800138004", 4)
    assert [t["status"] for t in tries] == ["throttled"] * 3 + ["accepted"]
    gaps = [(b["t"] - a["t"]) / 1000 for a, b in itertools.pairwise(tries)]
    assert gaps[0] >= 0.19
    assert gaps[1] >= 0.39
    assert gaps[2] >= 0.79
    window = notifier.session.window
    assert window.throttles == 3
    assert window.size == 2  # 4 → 2 → 1 → 1, then one accepted submit: 2


async def test_submits_are_spaced_to_the_account_rate(smsc: NodeSmsc) -> None:
    notifier = SmppNotifier(smpp_config(smsc, rate=10), lambda _e: None)
    try:
        await asyncio.gather(
            *(
                notifier.send(Message(4, f"1380013810{i}", "", "速率", key=f"r{i}"))
                for i in range(6)
            )
        )
    finally:
        await notifier.close()
    times = sorted(e["t"] for e in submits_to(smsc, "1380013810", 6))
    assert len(times) == 6
    assert (times[-1] - times[0]) / 1000 >= 0.45  # 6 submits at 10/s: 0.5 s, less timer slack


async def test_the_window_bounds_submits_awaiting_their_response(smsc: NodeSmsc) -> None:
    smsc.command({"cmd": "delay", "ms": 150})
    notifier = SmppNotifier(smpp_config(smsc, window=2), lambda _e: None)
    try:
        await asyncio.gather(
            *(
                notifier.send(Message(8, f"1380013820{i}", "", "窗口", key=f"w{i}"))
                for i in range(6)
            )
        )
    finally:
        smsc.command({"cmd": "delay", "ms": 0})
        await notifier.close()
    seen = [e["outstanding"] for e in submits_to(smsc, "1380013820", 6)]
    assert len(seen) == 6
    assert max(seen) == 2  # never more than the window, and the window was used


async def test_smpp_over_tls(tmp_path: Path) -> None:
    authority = trustme.CA()
    cert = authority.issue_cert("127.0.0.1")
    cert_file, key_file, ca_file = (tmp_path / n for n in ("cert.pem", "key.pem", "ca.pem"))
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    authority.cert_pem.write_to_path(str(ca_file))
    with NodeSmsc("commwatch", PASSWORD, tls=(str(cert_file), str(key_file))) as secure:
        config = smpp_config(secure, tls=True, ca_file=str(ca_file))
        notifier = SmppNotifier(config, lambda _e: None)
        try:
            delivery = await notifier.send(Message(9, "13800138009", "", "加密链路", key="t"))
        finally:
            await notifier.close()
        untrusted = SmppNotifier(smpp_config(secure, tls=True), lambda _e: None)
        try:
            with pytest.raises(NotifyError) as caught:
                await untrusted.send(Message(9, "13800138009", "", "加密链路", key="t"))
        finally:
            await untrusted.close()
    assert delivery.gateway_id
    assert submits_for(secure, "13800138009")[0]["text"] == "加密链路"
    assert caught.value.permanent
    assert "TLS" in str(caught.value)


async def test_invalid_destination_is_permanent_and_named(smsc: NodeSmsc) -> None:
    notifier = SmppNotifier(smpp_config(smsc), lambda _e: None)
    try:
        with pytest.raises(NotifyError) as caught:
            await notifier.send(Message(5, "03562022492", "", "座机", key="k5"))
    finally:
        await notifier.close()
    assert caught.value.permanent
    assert "ESME_RINVDSTADR" in str(caught.value)
    assert "0x0000000B" in str(caught.value)


@pytest.mark.parametrize(
    ("system_id", "password", "status"),
    [("commwatch", "wrong1", "ESME_RINVPASWD"), ("nobody", PASSWORD, "ESME_RINVSYSID")],
    ids=["password", "system_id"],
)
async def test_bind_failure_names_the_status_never_the_password(
    smsc: NodeSmsc, system_id: str, password: str, status: str
) -> None:
    notifier = SmppNotifier(smpp_config(smsc, system_id=system_id, password=password))
    try:
        with pytest.raises(NotifyError) as caught:
            await notifier.send(Message(6, "13800138005", "", "绑定", key="k6"))
    finally:
        await notifier.close()
    message = str(caught.value)
    assert caught.value.permanent
    assert status in message
    assert "bind_transceiver" in message
    assert password not in message


async def test_enquire_link_and_reconnect_after_the_smsc_drops_the_bind(smsc: NodeSmsc) -> None:
    events: list[Event] = []
    config = smpp_config(smsc, enquire_link="200ms")
    notifier = SmppNotifier(config, events.append)
    links = len(smsc.events("enquire_link"))
    try:
        await notifier.send(Message(7, "13800138006", "", "保活", key="k7"))
        await eventually(lambda: len(smsc.events("enquire_link")) >= links + 2)
        smsc.command({"cmd": "drop"})
        await eventually(lambda: notifier.session.binds == 2, within=8)
        smsc.command({"cmd": "mo", "from": "13800138006", "to": "10690001", "text": "1"})
        await eventually(lambda: Inbound("smpp", "13800138006", "1") in events)
    finally:
        await notifier.close()


def test_notify_test_over_smpp(
    tmp_path: Path, smsc: NodeSmsc, capsys: pytest.CaptureFixture[str]
) -> None:
    def run(password: str) -> int:
        channels = f"""
[[notifier]]
name = "smpp"
type = "sms_smpp"
host = "127.0.0.1"
port = {smsc.port}
system_id = "commwatch"
password = "{password}"
source_addr = "10690001"
timeout = "3s"
"""
        directory = write_config(tmp_path / password, base_toml(tmp_path / "cw.db", channels))
        args = ["notify-test", "-c", str(directory), "--notifier", "smpp", "--to", "13800138007"]
        return main(args)

    assert run(PASSWORD) == 0
    assert "accepted by smpp (sms_smpp) for 13800138007" in capsys.readouterr().out
    assert submits_for(smsc, "13800138007")[-1]["status"] == "accepted"
    assert run("bad9pw") == 1
    err = capsys.readouterr().err
    assert "ESME_RINVPASWD" in err
    assert "bad9pw" not in err
    assert "permanent" in err


async def test_smpp_figures_pass_promtool(smsc: NodeSmsc) -> None:
    promtool = require_binary("promtool")
    notifier = SmppNotifier(smpp_config(smsc, name="smpp-cmcc"), lambda _e: None)
    try:
        await notifier.send(Message(10, "13800138010", "", "指标", key="m"))
        await eventually(lambda: sum(notifier.receipts.values()) == 1)
        registry = CollectorRegistry()
        registry.register(_Families([notifier]))
        text = generate_latest(registry).decode()
    finally:
        await notifier.close()
    assert 'commwatch_smpp_window{notifier="smpp-cmcc"} 10.0' in text
    assert 'commwatch_smpp_bound{notifier="smpp-cmcc"} 1.0' in text
    assert 'commwatch_smpp_binds_total{notifier="smpp-cmcc"} 1.0' in text
    assert 'commwatch_smpp_receipts_total{notifier="smpp-cmcc",state="delivered"} 1.0' in text
    checked = await asyncio.to_thread(
        subprocess.run,
        [promtool, "check", "metrics"],
        input=text,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


class _Families:
    def __init__(self, notifiers: list[SmppNotifier]) -> None:
        self.notifiers = notifiers

    def collect(self) -> Iterator[Metric]:
        return smpp_families(self.notifiers)
