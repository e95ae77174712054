"""Group robots against loopback stand-ins that check requests as the vendors document them.

The notice is planned and rendered from the shipped templates (Markdown) with
a route whose channel is "robot"; each vendor's stand-in recomputes the
signature from its own copy of the secret, so a wrong secret fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from dispatch.base import Message, NotifyError
from dispatch.contact_check import contact_warnings
from dispatch.planner import plan_notice
from dispatch.render import Renderer
from dispatch.robots import RobotNotifier, dingtalk_sign, feishu_sign
from monitor.cli import main
from monitor.config.notifiers import (
    DingtalkNotifierConfig,
    FeishuNotifierConfig,
    WecomNotifierConfig,
)
from monitor.incidents.notices import NoticeKind
from tests.dispatch.support import ONE_OPERATOR, base_toml, load, request, write_config
from tests.standins.robots import RobotStandIn

DING_SECRET = "SEC0f1e2d3c4b5a69788796a5b4c3d2e1f0aabbccddeeff00112233445566778899"
FEISHU_SECRET = "fsQ8mX2pL0vB7nK4"
ROUTE = """
[[dispatch.route]]
name = "值班群"
hq_office = true
channels = ["robot"]
"""


@pytest.fixture
def stand_in() -> Iterator[RobotStandIn]:
    with RobotStandIn("tok123", DING_SECRET, "key-abc", "hook-uuid", FEISHU_SECRET) as server:
        yield server


RobotConfigs = dict[str, DingtalkNotifierConfig | WecomNotifierConfig | FeishuNotifierConfig]


def notifier_configs(
    base: str, ding_secret: str = DING_SECRET, feishu_secret: str = FEISHU_SECRET
) -> RobotConfigs:
    return {
        "dingtalk": DingtalkNotifierConfig(
            name="ding",
            type="dingtalk",
            url=SecretStr(f"{base}/robot/send?access_token=tok123"),
            secret=SecretStr(ding_secret),
        ),
        "wecom": WecomNotifierConfig(
            name="wecom", type="wecom", url=SecretStr(f"{base}/cgi-bin/webhook/send?key=key-abc")
        ),
        "feishu": FeishuNotifierConfig(
            name="feishu",
            type="feishu",
            url=SecretStr(f"{base}/open-apis/bot/v2/hook/hook-uuid"),
            secret=SecretStr(feishu_secret),
        ),
    }


def warning_message(tmp_path: Path) -> Message:
    config = load(write_config(tmp_path / "c", base_toml(tmp_path / "cw.db", ROUTE)))
    notice = request(
        NoticeKind.WARNING,
        "w1",
        ONE_OPERATOR,
        incident_id=3,
        warning_scenario=3,
        issuer="system",
        issuer_name="区通信网络指挥部",
    )
    planned = plan_notice(notice, config, Renderer.for_config(config))
    robot = [p for p in planned if p.channel == "robot"]
    assert robot, planned
    first = robot[0]
    return Message(1, first.address, first.subject, first.body, None, "w1:robot")


@pytest.mark.parametrize("vendor", ["dingtalk", "wecom", "feishu"])
async def test_markdown_notice_is_accepted_with_mentions(
    tmp_path: Path, stand_in: RobotStandIn, vendor: str
) -> None:
    message = warning_message(tmp_path)
    assert "13800000010" in message.address  # the office's duty mobile
    assert message.text.startswith("### 【预警通知】事件#3")
    async with httpx.AsyncClient() as client:
        delivery = await RobotNotifier(notifier_configs(stand_in.base)[vendor], client).send(
            message
        )
    assert delivery.detail == f"{vendor} robot accepted"
    assert not stand_in.refused
    bodies = [r["body"] for r in stand_in.accepted if r["vendor"] == vendor]
    if vendor == "dingtalk":
        (body,) = bodies
        assert body["msgtype"] == "markdown"
        assert "13800000010" in body["at"]["atMobiles"]
        assert "@13800000010" in body["markdown"]["text"]
        assert "移动" in body["markdown"]["text"] or "cmcc" in body["markdown"]["text"]
    elif vendor == "wecom":
        markdown, mention = bodies
        assert markdown["msgtype"] == "markdown"
        assert markdown["markdown"]["content"] == message.text
        assert "13800000010" in mention["text"]["mentioned_mobile_list"]
    else:
        (body,) = bodies
        assert body["msg_type"] == "interactive"
        content = body["card"]["elements"][0]["content"]
        assert content.startswith(message.text.rstrip())
        assert "13800000010" in content


@pytest.mark.parametrize(
    ("vendor", "code"), [("dingtalk", "310000"), ("feishu", "19021")], ids=["dingtalk", "feishu"]
)
async def test_a_wrong_secret_is_refused_permanently(
    stand_in: RobotStandIn, vendor: str, code: str
) -> None:
    configs = notifier_configs(stand_in.base, "SECwrong", "wrong")
    async with httpx.AsyncClient() as client:
        with pytest.raises(NotifyError) as caught:
            await RobotNotifier(configs[vendor], client).send(
                Message(1, "13800000010", "测试", "测试", None, "k")
            )
    assert caught.value.permanent
    assert code in str(caught.value)
    assert "wrong" not in str(caught.value)
    assert not stand_in.accepted


async def test_a_wrong_wecom_key_and_a_stale_timestamp_are_refused(stand_in: RobotStandIn) -> None:
    config = WecomNotifierConfig(
        name="wecom",
        type="wecom",
        url=SecretStr(f"{stand_in.base}/cgi-bin/webhook/send?key=other"),
    )
    stale = notifier_configs(stand_in.base)["dingtalk"]
    async with httpx.AsyncClient() as client:
        with pytest.raises(NotifyError, match="93000"):
            await RobotNotifier(config, client).send(Message(1, "", "t", "t", None, "k"))
        old = RobotNotifier(stale, client, clock=lambda: 1_700_000_000.0)
        with pytest.raises(NotifyError, match="310000"):
            await old.send(Message(1, "", "t", "t", None, "k"))


async def test_rate_limits_are_transient(stand_in: RobotStandIn) -> None:
    stand_in.answer_override = (200, {"errcode": 130101, "errmsg": "send too fast"})
    async with httpx.AsyncClient() as client:
        with pytest.raises(NotifyError) as caught:
            await RobotNotifier(notifier_configs(stand_in.base)["dingtalk"], client).send(
                Message(1, "", "t", "t", None, "k")
            )
    assert not caught.value.permanent


def test_signatures_match_the_documented_examples() -> None:
    # Computed with openssl, independently of Python's hmac:
    #   printf '1700000000000\nSECabc' | openssl dgst -sha256 -hmac SECabc -binary | base64
    #   printf '' | openssl dgst -sha256 -hmac "$(printf '1700000000\nabc')" -binary | base64
    assert (
        dingtalk_sign("SECabc", 1700000000000) == "jcUpW0QmtKduN03n4JqQ0PBosVjqnM8gU7fIIvsDmCM%3D"
    )
    assert feishu_sign("abc", 1700000000) == "VIS10b0EBvzzSdFnuk4tznEmK5wHaruvf/WnViv2yR4="


def test_notify_test_to_a_dingtalk_robot(
    tmp_path: Path, stand_in: RobotStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    def run(secret: str) -> int:
        channels = f"""
[[notifier]]
name = "ding"
type = "dingtalk"
url = "{stand_in.base}/robot/send?access_token=tok123"
secret = "{secret}"
timeout = "3s"
"""
        directory = write_config(tmp_path / secret[-4:], base_toml(tmp_path / "cw.db", channels))
        return main(
            ["notify-test", "-c", str(directory), "--notifier", "ding", "--to", "13800000004"]
        )

    assert run(DING_SECRET) == 0
    body = stand_in.accepted[-1]["body"]
    assert body["at"]["atMobiles"] == ["13800000004"]
    assert "测试" in body["markdown"]["text"]
    assert run("SECwrongwrongwrong") == 1
    err = capsys.readouterr().err
    assert "310000" in err
    assert "SECwrongwrongwrong" not in err


def test_check_config_warns_of_a_robot_route_without_a_robot(tmp_path: Path) -> None:
    config = load(write_config(tmp_path / "c", base_toml(tmp_path / "cw.db", ROUTE)))
    warnings = contact_warnings(config)
    assert (
        "commwatch.toml: no [[notifier]] for the robot channel (dingtalk | wecom | feishu): "
        "robot notices are written to the built-in outbox directory ${STATE_DIRECTORY:-var}/outbox, not sent"
    ) in warnings
