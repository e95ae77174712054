"""Email through a real SMTP server (aiosmtpd on 127.0.0.1): TLS modes, AUTH, Chinese, outages."""

from __future__ import annotations

from pathlib import Path

import pytest

from dispatch.dispatcher import Dispatcher
from dispatch.status import deliveries_for
from monitor.incidents.notices import NoticeKind
from tests.dispatch.fakes import eventually
from tests.dispatch.support import ONE_OPERATOR, base_toml, database, load, request, write_config
from tests.smtp_server import SmtpServer

pytestmark = [
    pytest.mark.peer,
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
    pytest.mark.filterwarnings("ignore:Session.login_data is deprecated"),
]
OFFICE = {"gxj@example.org", "director@example.org", "duty@example.org"}
SECURITY = {"plain": "none", "starttls": "starttls", "tls": "tls"}


def mail_toml(tmp_path: Path, server: SmtpServer, password: str | None = None) -> str:
    auth = f'username = "cw"\npassword = "{password}"\n' if password else ""
    return f"""
[[notifier]]
name = "mail"
type = "email"
host = "127.0.0.1"
port = {server.port}
security = "{SECURITY[server.mode]}"
sender = "commwatch@example.org"
ca_file = "{server.ca_file(tmp_path)}"
timeout = "3s"
max_attempts = 20
{auth}
[[notifier]]
name = "outbox"
type = "file"
directory = "{tmp_path}/outbox"
"""


async def dispatch_detection(
    tmp_path: Path, server: SmtpServer, password: str | None
) -> Dispatcher:
    config = load(
        write_config(
            tmp_path / "c", base_toml(tmp_path / "cw.db", mail_toml(tmp_path, server, password))
        )
    )
    dispatcher = Dispatcher(config, database(config))
    dispatcher.start()
    dispatcher.submit(request(NoticeKind.DETECTION, "incident:1:detection:1", ONE_OPERATOR, 1))
    return dispatcher


@pytest.mark.parametrize(
    ("mode", "password"),
    [("plain", None), ("starttls", "s3cret"), ("tls", "s3cret")],
    ids=["plain", "starttls-auth", "tls-auth"],
)
async def test_chinese_notice_arrives_intact(
    tmp_path: Path, mode: str, password: str | None
) -> None:
    with SmtpServer(mode=mode, users={"cw": "s3cret"} if password else None) as server:  # type: ignore[arg-type]
        dispatcher = await dispatch_detection(tmp_path, server, password)
        try:
            received = await server.arrived(3)
        finally:
            await dispatcher.stop(5)
    assert {r.rcpt_tos[0] for r in received} == OFFICE
    stored = {d.address: d for d in deliveries_for(dispatcher.outbox.engine, 1)}
    for item in received:
        message = item.message
        assert message["Subject"] == "【接报】事件#1：情形3，移动城区分公司网络中断"
        assert str(message["From"]) == "区通信网络指挥部办公室 <commwatch@example.org>"
        body = message.get_body(("plain",))
        assert body is not None
        assert "移动城区核心路由器1（cmcc-core-1，127.0.1.1）" in body.get_content()
        html = message.get_body(("html",))
        assert html is not None
        assert "<td>移动城区核心路由器1</td>" in html.get_content()
        assert (
            b"=?utf-8?b?" in item.message.as_bytes().lower()
        )  # RFC 2047 encoded-words, not SMTPUTF8
        assert stored[item.rcpt_tos[0]].status == "sent"
    assert len({r.message_id for r in received}) == 3


async def test_bad_password_is_permanent_and_not_retried(tmp_path: Path) -> None:
    with SmtpServer(mode="starttls", users={"cw": "s3cret"}) as server:
        dispatcher = await dispatch_detection(tmp_path, server, "wrong")
        try:
            await eventually(lambda: dispatcher.stats.failed_permanent == 3)
        finally:
            await dispatcher.stop(2)
        assert server.messages == []
    failed = [d for d in deliveries_for(dispatcher.outbox.engine, 1) if d.channel == "email"]
    assert {(d.status, d.attempts) for d in failed} == {("failed", 1)}
    assert all(d.error and "535" in d.error for d in failed)
    assert dispatcher.stats.retries_by_channel["email"] == 0


async def test_server_down_then_back_is_delivered_with_backoff(tmp_path: Path) -> None:
    server = SmtpServer(mode="plain")  # not started: connection refused
    dispatcher = await dispatch_detection(tmp_path, server, None)
    try:
        await eventually(lambda: dispatcher.stats.retries_by_channel["email"] >= 6, within=10)
        assert dispatcher.stats.sent_by_channel["email"] == 0
        assert dispatcher.stats.last_backoff_seconds > 0.1  # growing delays, visible in metrics
        server.start()
        received = await server.arrived(3, within=10)
    finally:
        await dispatcher.stop(2)
        server.stop()
    assert {r.rcpt_tos[0] for r in received} == OFFICE
    assert dispatcher.stats.sent_by_channel["email"] == 3
    attempts = [
        d.attempts for d in deliveries_for(dispatcher.outbox.engine, 1) if d.channel == "email"
    ]
    assert min(attempts) >= 3
