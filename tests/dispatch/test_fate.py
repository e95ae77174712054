"""Fate-sharing: notifiers that depend on a system that is down are avoided, and the notice says so."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from dispatch.fate import ChannelRoute, channel_routes, down_systems
from dispatch.planner import plan_notice
from dispatch.render import Renderer
from monitor.config import Config
from monitor.config.notifiers import SmppNotifierConfig
from monitor.incidents.notices import NoticeKind
from tests.dispatch.support import (
    ONE_OPERATOR,
    TWO_OPERATORS,
    base_toml,
    load,
    request,
    write_config,
)

SMPP = """
[[notifier]]
name = "{name}"
type = "sms_smpp"
host = "127.0.0.1"
system_id = "cw"
password = "pw"
source_addr = "{source}"
depends_on = {depends}
"""
ROUTE = """
[[dispatch.route]]
name = "办公室：短信优先，其次邮件"
hq_office = true
channels = ["sms", "email"]
fallback = true
"""


def config_with(tmp_path: Path, *smpp: tuple[str, str, list[str]]) -> Config:
    channels = "".join(
        SMPP.format(name=n, source=s, depends=str(d).replace("'", '"')) for n, s, d in smpp
    )
    return load(write_config(tmp_path / "c", base_toml(tmp_path / "cw.db", channels + ROUTE)))


@pytest.mark.parametrize(
    ("down", "expected"),
    [
        ((), ChannelRoute("sms", "sms-cmcc")),
        (("cmcc",), ChannelRoute("sms", "sms-ctcc", ("sms-cmcc",))),
        (("cmcc", "ctcc"), ChannelRoute("sms", None, ("sms-cmcc", "sms-ctcc"))),
    ],
    ids=["all-up", "cmcc-down", "both-down"],
)
def test_the_first_notifier_sharing_no_fate_carries_the_channel(
    down: tuple[str, ...], expected: ChannelRoute
) -> None:
    configs = [
        SmppNotifierConfig(
            name=name,
            type="sms_smpp",
            host="127.0.0.1",
            system_id="cw",
            password=SecretStr("pw"),
            source_addr="106900",
            depends_on=[system],
        )
        for name, system in (("sms-cmcc", "cmcc"), ("sms-ctcc", "ctcc"))
    ]
    routes = channel_routes(configs, {"sms-cmcc": "sms", "sms-ctcc": "sms"}, down)
    assert routes["sms"] == expected
    assert routes["sms"].usable is (expected.notifier is not None)


def test_down_systems_come_from_the_assessment(tmp_path: Path) -> None:
    config = config_with(tmp_path)
    assert down_systems(config, TWO_OPERATORS) == {"cmcc", "cucc"}
    assert down_systems(config, None) == frozenset()


def test_a_cmcc_outage_goes_by_the_other_gateway_and_says_so(tmp_path: Path) -> None:
    config = config_with(
        tmp_path, ("sms-cmcc", "10690001", ["cmcc"]), ("sms-other", "10690002", [])
    )
    notice = request(NoticeKind.DETECTION, "d1", ONE_OPERATOR, incident_id=1)
    planned = plan_notice(notice, config, Renderer.for_config(config))
    sms = [p for p in planned if p.channel == "sms"]
    assert sms
    assert {p.notifier for p in sms} == {"sms-other"}
    assert all(p.body.endswith("〔移动城区分公司网络中断，改经sms-other发送〕") for p in sms)
    quiet = plan_notice(
        request(NoticeKind.DETECTION, "d2", None, incident_id=2),
        config,
        Renderer.for_config(config),
    )
    assert {p.notifier for p in quiet if p.channel == "sms"} == {"sms-cmcc"}
    assert not any("改经" in p.body for p in quiet)


def test_when_every_sms_path_shares_the_fate_the_next_channel_is_first(tmp_path: Path) -> None:
    config = config_with(tmp_path, ("sms-cmcc", "10690001", ["cmcc"]))
    notice = request(NoticeKind.DETECTION, "d3", ONE_OPERATOR, incident_id=1)
    planned = plan_notice(notice, config, Renderer.for_config(config))
    office = [p for p in planned if p.recipient_key == "unit:区工信局"]
    assert [(p.channel, p.stage) for p in office] == [("email", 0)]
    assert "sms-cmcc 依赖的移动城区分公司网络中断，未使用" in office[0].body
    assert office[0].html is not None
    assert "sms-cmcc 依赖的移动城区分公司网络中断" in office[0].html
    calm = plan_notice(
        request(NoticeKind.DETECTION, "d4", None, incident_id=2),
        config,
        Renderer.for_config(config),
    )
    calm_office = [p for p in calm if p.recipient_key == "unit:区工信局"]
    assert [(p.channel, p.stage) for p in calm_office] == [("sms", 0), ("email", 1)]
