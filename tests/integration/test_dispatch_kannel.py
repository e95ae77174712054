"""SMS through a real Kannel (bearerbox + smsbox + fakesmsc on 127.0.0.1).

fakesmsc accepts any number, a landline too, so "landlines never get SMS" is
asserted on commwatch's side: every number it received is a mobile, and none
is an annex duty phone.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dispatch.base import Message
from dispatch.dispatcher import Dispatcher
from dispatch.numbers import classify
from dispatch.sms_http import SmsHttpNotifier
from dispatch.status import deliveries_for
from monitor.config import Config
from monitor.config.notifiers import SmsHttpNotifierConfig
from monitor.incidents.notices import NoticeKind
from tests.dispatch.fakes import eventually
from tests.dispatch.support import TWO_OPERATORS, base_toml, database, load, request, write_config
from tests.kannel import Kannel

pytestmark = pytest.mark.peer


@pytest.fixture(scope="module")
def kannel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kannel]:
    with Kannel(tmp_path_factory.mktemp("kannel")) as running:
        yield running


def sms_config(tmp_path: Path, kannel: Kannel) -> Config:
    channels = f"""
[[notifier]]
name = "sms"
type = "sms_http"
preset = "kannel"
url = "{kannel.sendsms_url}"
username = "{kannel.username}"
password = "{kannel.password}"
timeout = "3s"
max_attempts = 30

[[notifier]]
name = "outbox"
type = "file"
directory = "{tmp_path}/outbox"
"""
    return load(write_config(tmp_path / "c", base_toml(tmp_path / "cw.db", channels)))


async def test_warning_sms_arrive_as_rendered(tmp_path: Path, kannel: Kannel) -> None:
    before = len(kannel.received())
    config = sms_config(tmp_path, kannel)
    dispatcher = Dispatcher(config, database(config))
    dispatcher.start()
    warning = request(
        NoticeKind.WARNING, "incident:1:warning:2", TWO_OPERATORS, 1,
        warning_scenario=2, issuer="deputy-miit", issuer_name="区工信局局长",
    )  # fmt: skip
    dispatcher.submit(warning)
    try:
        await eventually(lambda: dispatcher.stats.sent_by_channel["sms"] == 5)
        await eventually(lambda: len(kannel.received()) >= before + 5, within=10)
    finally:
        await dispatcher.stop(2)
    sms = [d for d in deliveries_for(dispatcher.outbox.engine, 1) if d.channel == "sms"]
    received = kannel.received()[before:]
    assert sorted(r[1] for r in received) == sorted(d.address for d in sms) == [
        "13800000003", "13800000004", "13800000010", "13800000020", "13800000021",
    ]  # fmt: skip
    expected = "【预警通知】事件#1：区工信局局长发布情形2预警：移动城区分公司网络、联通城区分公司网络中断。请做好应急准备。回电0356-2039294"
    assert {r[2] for r in received} == {expected}
    duty_phones = {classify(u.duty_phone).e164 for u in config.contacts.unit if u.duty_phone}
    for _sender, receiver, _text in received:
        number = classify(receiver)
        assert number.sms_capable
        assert number.e164 not in duty_phones


async def test_long_text_is_concatenated_not_truncated(kannel: Kannel) -> None:
    before = len(kannel.received())
    text = "【续报】" + "东街街道办事处通信恢复中，" * 10 + "𠀀完"
    config = SmsHttpNotifierConfig(
        name="sms", type="sms_http", preset="kannel", url=kannel.sendsms_url,
        username=kannel.username, password=kannel.password,  # type: ignore[arg-type]
    )  # fmt: skip
    async with httpx.AsyncClient() as client:
        await SmsHttpNotifier(config, client).send(Message(1, "13800000099", "", text, None, "k"))
    await eventually(lambda: len(kannel.received()) > before, within=10)
    assert kannel.received()[before:] == [("10086", "13800000099", text)]


async def test_gateway_down_then_up_is_delivered(tmp_path: Path, kannel: Kannel) -> None:
    before = len(kannel.received())
    config = sms_config(tmp_path, kannel)
    dispatcher = Dispatcher(config, database(config))
    kannel.stop_smsbox()
    try:
        dispatcher.start()
        dispatcher.submit(request(NoticeKind.DETECTION, "incident:1:detection:1", TWO_OPERATORS, 1))
        await eventually(lambda: dispatcher.stats.retries_by_channel["sms"] >= 3, within=10)
        assert dispatcher.stats.sent_by_channel["sms"] == 0
    finally:
        kannel.start_smsbox()
    try:
        await eventually(lambda: dispatcher.stats.sent_by_channel["sms"] == 3, within=10)
        await eventually(lambda: len(kannel.received()) >= before + 3, within=10)
    finally:
        await dispatcher.stop(2)
    assert sorted(r[1] for r in kannel.received()[before:]) == [
        "13800000003",
        "13800000004",
        "13800000010",
    ]
