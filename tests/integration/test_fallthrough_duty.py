"""A fall-through tells the HQ office duty — once, batched, durable across a SIGKILL.

Real peers: aiosmtpd with STARTTLS and AUTH (trustme certificates) and Kannel
(bearerbox + smsbox + fakesmsc). Two operators' warnings of one incident and one
of another are routed email first, SMS when email has not gone within
`fallback_after` (2 s). The SMTP server is down throughout the first run and
Kannel's HTTP side too, so nothing can leave. The fall-through opens the SMS
stage and writes the 通知改发 notices in one transaction; the dispatcher is
SIGKILLed right after. On restart Kannel is back (the SMTP server later):

- each operator gets its warning by SMS exactly once, never by email (skipped);
- the duty (区工信局's duty mobile and mailbox, the 值班员) gets exactly one
  通知改发 per incident on each channel, the first naming both operators;
- the duty's own email, pending past `fallback_after` while SMTP is still down,
  opens nothing and tells nobody: no second 通知改发 (no loop).

Before: the fall-through happened silently; the duty learnt nothing.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from dispatch.models import deliveries, notices
from dispatch.outbox import Outbox
from monitor.incidents.notices import NoticeKind
from tests.dispatch.support import (
    ONE_OPERATOR,
    database,
    load,
    request,
    start_dispatcher,
    write_config,
)
from tests.kannel import Kannel
from tests.smtp_server import SmtpServer

pytestmark = [
    pytest.mark.peer,
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
    pytest.mark.filterwarnings("ignore:Session.login_data is deprecated"),
]
OPERATORS = {"13800000020": "移动城区分公司", "13800000021": "联通城区分公司"}
DUTY_MOBILES = ("13800000010", "13800000004")  # 区工信局's duty mobile, the 值班员
DUTY_EMAILS = ("gxj@example.org", "duty@example.org")
AFTER_S = 2.0
PASS_S = 5.0  # the dispatcher looks for overdue deliveries this often (CLOCK_EVERY)


def _toml(tmp_path: Path, smtp: SmtpServer, kannel: Kannel) -> str:
    return f"""
[storage]
url = "sqlite:///{tmp_path}/cw.db"

[metrics]
enabled = false

[dispatch]
poll_interval = "100ms"
retry_base = "500ms"
retry_max = "1s"
fallback_after = "{AFTER_S:g}s"
coalesce_window = "1s"

[[dispatch.route]]
name = "运营企业：先邮件，不通再短信"
units = ["移动城区分公司", "联通城区分公司"]
channels = ["email", "sms"]
fallback = true

[[notifier]]
name = "mail"
type = "email"
host = "127.0.0.1"
port = {smtp.port}
security = "starttls"
ca_file = "{smtp.ca_file(tmp_path)}"
username = "cw"
password = "mail-pw"
sender = "commwatch@example.org"
timeout = "3s"

[[notifier]]
name = "sms"
type = "sms_http"
preset = "kannel"
url = "{kannel.sendsms_url}"
username = "{kannel.username}"
password = "{kannel.password}"
timeout = "3s"
"""


@pytest.fixture
def kannel(tmp_path: Path) -> Iterator[Kannel]:
    with Kannel(tmp_path / "kannel") as running:
        yield running


def _wait(check: object, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not (callable(check) and check()):
        assert time.monotonic() < deadline, f"{what}: not reached in time"
        time.sleep(0.05)


def _told(engine: Engine) -> int:
    """通知改发 notices in the outbox."""
    with engine.connect() as connection:
        query = select(func.count()).where(notices.c.kind == NoticeKind.FALLTHROUGH)
        return int(connection.execute(query).scalar_one())


def _routed_fallthroughs(engine: Engine) -> int:
    """Deliveries of 通知改发 notices."""
    with engine.connect() as connection:
        query = (
            select(func.count())
            .select_from(deliveries.join(notices, deliveries.c.notice_id == notices.c.id))
            .where(notices.c.kind == NoticeKind.FALLTHROUGH)
        )
        return int(connection.execute(query).scalar_one())


def test_fall_through_tells_the_duty_once_across_a_sigkill(tmp_path: Path, kannel: Kannel) -> None:
    smtp = SmtpServer(mode="starttls", users={"cw": "mail-pw"})  # down: connection refused
    kannel.stop_smsbox()  # and no SMS can leave either
    config_dir = write_config(tmp_path / "c", _toml(tmp_path, smtp, kannel))
    config = load(config_dir)
    engine = database(config)
    warnings = [
        request(NoticeKind.WARNING, "incident:1:warning:1", ONE_OPERATOR, 1, warning_scenario=3),
        request(NoticeKind.WARNING, "incident:2:warning:2", ONE_OPERATOR, 2, warning_scenario=3),
    ]
    Outbox(engine).accept(warnings, warnings[0].created_at, config.daemon.dispatch.coalesce_window)

    first = start_dispatcher(config_dir)
    try:
        _wait(lambda: _routed_fallthroughs(engine) > 0, "the fall-through", AFTER_S + 3 * PASS_S)
    finally:
        os.kill(first.pid, signal.SIGKILL)  # the duty's notices are written, none sent
        first.wait(timeout=5)
    assert _told(engine) == 2, "one 通知改发 per incident, both operators of incident 1 in one"
    assert kannel.received() == []
    assert smtp.messages == []

    kannel.start_smsbox()
    second = start_dispatcher(config_dir)
    try:
        sms_expected = len(OPERATORS) * 2 + len(DUTY_MOBILES) * 2
        kannel.wait_received(sms_expected, timeout=20)
        time.sleep(AFTER_S + 2 * PASS_S)  # the duty's email is overdue now: nothing may follow
        assert _told(engine) == 2, "the duty's own notice never falls through"
        smtp.start()
        smtp.wait_for(len(DUTY_EMAILS) * 2, timeout=20)
        time.sleep(1.0)  # anything sent twice would arrive now
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=10)
        smtp.stop()
    engine.dispose()

    sms = kannel.received()
    per_number = Counter(receiver for _, receiver, _ in sms)
    assert per_number == Counter({n: 2 for n in (*OPERATORS, *DUTY_MOBILES)}), sms
    duty_sms = [text for _, receiver, text in sms if receiver == DUTY_MOBILES[0]]
    assert all(text.startswith("【通知改发】") for text in duty_sms), duty_sms
    assert len(set(duty_sms)) == 2, "one per incident"
    first_sms = next(t for t in duty_sms if "事件#1" in t)
    assert "移动城区分公司、联通城区分公司的邮件通知未送达，已改发短信" in first_sms
    mails = list(smtp.messages)
    assert Counter(m.rcpt_tos[0] for m in mails) == Counter({a: 2 for a in DUTY_EMAILS})
    assert len({m.message_id for m in mails}) == len(mails), "none twice"
    subjects = {str(m.message["Subject"]) for m in mails}
    assert all(s.startswith("【通知改发】") for s in subjects), subjects
    body = next(m for m in mails if "事件#1" in str(m.message["Subject"]))
    text = body.message.get_body(("plain",))
    assert text is not None
    content = text.get_content()
    assert "1. 移动城区分公司：预警通知，邮件2秒内未发出，已改发短信" in content
    assert "2. 联通城区分公司：预警通知，邮件2秒内未发出，已改发短信" in content
    assert not any(m.rcpt_tos[0].startswith("noc-") for m in mails), "reached by SMS: skipped"
