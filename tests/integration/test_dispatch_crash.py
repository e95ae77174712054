"""Crash safety: SIGKILL a dispatcher while notices are pending; after a restart every
notice reaches every recipient exactly once (counted at a real SMTP server).

The kill lands while the SMTP server is holding messages in DATA (not yet
accepted), after some deliveries were accepted and recorded. Those must not be
sent again; the held ones and the ones never tried must be sent once. (A kill
in the instant between the server's acceptance and the database commit would
re-send that one message: the at-least-once side of an unavoidable window, and
the reason every message carries a stable Message-ID.)
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dispatch.models import deliveries
from dispatch.outbox import Outbox
from monitor.incidents.notices import NoticeKind
from tests.dispatch.support import (
    ONE_OPERATOR,
    base_toml,
    database,
    load,
    request,
    start_dispatcher,
    write_config,
)
from tests.smtp_server import SmtpServer

pytestmark = pytest.mark.peer
NOTICES = 12
OFFICE = ("gxj@example.org", "director@example.org", "duty@example.org")


def wait(check: object, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not (callable(check) and check()):
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_sigkill_mid_way_then_restart_delivers_exactly_once(tmp_path: Path) -> None:
    server = SmtpServer(mode="plain")
    server.hold_after = 10  # accept 10, then hold the rest in DATA
    server.start()
    route = '[[dispatch.route]]\nname = "office"\nhq_office = true\nchannels = ["email"]\n'
    mail = f"""
[[notifier]]
name = "mail"
type = "email"
host = "127.0.0.1"
port = {server.port}
security = "none"
sender = "commwatch@example.org"
timeout = "30s"
"""
    config_dir = write_config(tmp_path / "c", base_toml(tmp_path / "cw.db", mail + route))
    config = load(config_dir)
    engine = database(config)
    window = config.daemon.dispatch.coalesce_window
    pending = [
        request(NoticeKind.DETECTION, f"incident:{i}:detection:{i}", ONE_OPERATOR, i)
        for i in range(1, NOTICES + 1)
    ]
    Outbox(engine).accept(pending, pending[0].created_at, window)  # written before any send

    def sent() -> int:
        with engine.connect() as connection:
            query = select(func.count()).where(deliveries.c.status == "sent")
            return int(connection.execute(query).scalar_one())

    first = start_dispatcher(config_dir)
    try:
        wait(lambda: sent() == 10 and server.hold.is_set())
        time.sleep(0.3)  # more are now held in DATA at the server
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=5)
    server.stop()  # the held messages were never accepted
    assert len(server.messages) == 10
    server.hold_after = None
    server.start()

    second = start_dispatcher(config_dir)
    try:
        received = server.wait_for(NOTICES * 3, timeout=20)
        wait(lambda: sent() == NOTICES * 3)
        time.sleep(0.5)  # nothing more may arrive
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=10)
        server.stop()
    received = server.messages
    per_recipient = Counter((r.rcpt_tos[0], r.message["Subject"]) for r in received)
    assert len(received) == NOTICES * 3
    assert set(per_recipient.values()) == {1}
    assert {r for r, _ in per_recipient} == set(OFFICE)
    assert len({r.message_id for r in received}) == NOTICES * 3
    engine.dispose()
