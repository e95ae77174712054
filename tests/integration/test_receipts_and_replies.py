"""Receipts and 收到 through real peers: Kannel + fakesmsc (MT, DLR, MO) and aiosmtpd (ack link).

The receiver runs in the test's event loop as the daemon runs it; Kannel's
dlr-url and its sms-service get-url point at it, so a delivery report and a
reply from the fake handset travel Kannel → HTTP → commwatch.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from dispatch.dispatcher import Dispatcher
from dispatch.receiver import Receiver
from dispatch.states import notice_lines
from monitor.config import Config
from monitor.incidents.engine import IncidentEngine
from tests.dispatch.fakes import eventually
from tests.dispatch.support import base_toml, database, load, write_config
from tests.kannel import Kannel
from tests.smtp_server import SmtpServer, free_tcp_port

pytestmark = pytest.mark.peer


@dataclass
class Setup:
    config: Config
    dispatcher: Dispatcher
    receiver: Receiver
    incident: int
    base: str
    token: str


def receiver_toml(port: int, token: str) -> str:
    return f"""
[receiver]
enabled = true
listen = "127.0.0.1:{port}"
token = "{token}"
public_url = "http://127.0.0.1:{port}"
link_valid = "1h"
"""


async def started(tmp_path: Path, channels: str, port: int, token: str) -> Setup:
    toml = base_toml(tmp_path / "cw.db", channels + receiver_toml(port, token))
    config = load(write_config(tmp_path / "c", toml))
    engine = database(config)
    incident = IncidentEngine(engine, config).add_event("upper", "上级通报：移动网络中断").id
    dispatcher = Dispatcher(config, engine)
    receiver = Receiver(config, engine)
    await receiver.start()
    dispatcher.start()
    return Setup(config, dispatcher, receiver, incident, f"http://127.0.0.1:{port}", token)


@pytest.fixture
async def kannel_setup(tmp_path: Path) -> AsyncIterator[tuple[Setup, Kannel]]:
    port, token = free_tcp_port(), secrets.token_urlsafe(24)
    mo_url = f"http://127.0.0.1:{port}/kannel/mo/{token}"
    with Kannel(tmp_path / "kannel", mo_url=mo_url) as kannel:
        dlr = f"http://127.0.0.1:{port}/kannel/dlr/{token}?key={{{{ key }}}}&status=%d&answer=%A"
        channels = f"""
[[notifier]]
name = "kannel"
type = "sms_http"
preset = "kannel"
url = "{kannel.sendsms_url}"
username = "{kannel.username}"
password = "{kannel.password}"
dlr_url = "{dlr}"
timeout = "3s"

[[notifier]]
name = "outbox"
type = "file"
directory = "{tmp_path}/outbox"
"""
        setup = await started(tmp_path, channels, port, token)
        try:
            yield setup, kannel
        finally:
            await setup.dispatcher.stop(2)
            await setup.receiver.stop()


def sms_states(setup: Setup) -> dict[tuple[int, str], str]:
    """The state of every SMS delivery, by (notice, number)."""
    lines = notice_lines(setup.dispatcher.outbox.engine, setup.config.daemon.notifier)
    return {(line.notice, line.address): line.state for line in lines if line.medium == "sms"}


async def test_kannel_delivery_reports_and_a_reply_from_the_handset(
    kannel_setup: tuple[Setup, Kannel],
) -> None:
    setup, kannel = kannel_setup  # 接报 and the brief-report draft: 2 notices x 3 mobiles
    mobiles = {"13800000003", "13800000004", "13800000010"}
    await eventually(lambda: len(sms_states(setup)) == 6, within=15)
    await eventually(lambda: set(sms_states(setup).values()) == {"delivered"}, within=15)
    assert {r[1] for r in kannel.received()} == mobiles

    kannel.reply("13800000003", "收到")  # the 区工信局局长's handset answers the latest one
    latest = max(notice for notice, _ in sms_states(setup))
    await eventually(lambda: sms_states(setup)[(latest, "13800000003")] == "acknowledged", 15)
    states = sms_states(setup)
    assert sorted(k for k, v in states.items() if v == "acknowledged") == [(latest, "13800000003")]
    lines = notice_lines(setup.dispatcher.outbox.engine, setup.config.daemon.notifier)
    director = [line for line in lines if line.recipient == "deputy-miit" and line.notice == latest]
    assert {(line.medium, line.state, line.ack_means, line.acked_by) for line in director} == {
        ("sms", "acknowledged", "sms", "deputy-miit"),
        ("email", "acknowledged", "sms", "deputy-miit"),
    }
    timeline = IncidentEngine(setup.dispatcher.outbox.engine, setup.config).timeline(setup.incident)
    acks = [e for e in timeline if e.kind == "acknowledged"]
    assert [(e.actor, e.data["means"]) for e in acks] == [("deputy-miit", "sms")]

    async with httpx.AsyncClient() as client:  # a stranger cannot forge a receipt or a reply
        target = next(line for line in lines if line.address == "13800000004")
        forged = await client.get(
            f"{setup.base}/kannel/dlr/wrong-token?key=commwatch.{target.id}&status=2&answer=x"
        )
        assert forged.status_code == 404
        answer = await client.get(f"{setup.base}/kannel/mo/wrong-token?from=13800000004&text=1")
        assert answer.status_code == 404
    assert "acknowledged" not in {
        v for (_, a), v in sms_states(setup).items() if a != "13800000003"
    }


async def test_the_email_link_acknowledges_once(tmp_path: Path) -> None:
    port, token = free_tcp_port(), secrets.token_urlsafe(24)
    with SmtpServer() as server:
        channels = f"""
[[notifier]]
name = "mail"
type = "email"
host = "127.0.0.1"
port = {server.port}
security = "none"
sender = "commwatch@example.org"
timeout = "3s"
"""
        setup = await started(tmp_path, channels, port, token)
        try:
            received = await server.arrived(6)  # 接报 and the brief-report draft, 3 mailboxes
        finally:
            await setup.dispatcher.stop(2)
        mail = next(
            m
            for m in received
            if "director@example.org" in m.rcpt_tos and "接报" in m.message["Subject"]
        )
        text = mail.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        link = re.search(r"http://127\.0\.0\.1:\d+/ack/\S+", text)
        assert link is not None
        assert token not in link.group(0)  # the shared token never travels in mail
        try:
            async with httpx.AsyncClient() as client:
                page = await client.get(link.group(0))  # a mail scanner's fetch changes nothing
                assert page.status_code == 200
                assert "确认收到" in page.text
                before = notice_lines(setup.dispatcher.outbox.engine, setup.config.daemon.notifier)
                assert {line.state for line in before} == {"sent"}
                first = await client.post(link.group(0))
                assert first.status_code == 200
                again = await client.post(link.group(0))
                assert again.status_code == 410
                assert "已使用" in again.text
                tampered = await client.post(link.group(0)[:-3] + "AAA")
                assert tampered.status_code == 410
        finally:
            await setup.receiver.stop()
    lines = notice_lines(setup.dispatcher.outbox.engine, setup.config.daemon.notifier)
    states = {
        line.address: (line.state, line.ack_means) for line in lines if line.kind == "detection"
    }
    assert states["director@example.org"] == ("acknowledged", "email")
    assert states["duty@example.org"] == ("sent", None)
