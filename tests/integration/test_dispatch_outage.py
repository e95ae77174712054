"""Delivery outlasts a gateway outage: real SMTP (aiosmtpd) down for a minute, then back.

Before: connection refused counted toward max_attempts, so a few minutes of
outage failed notices for good, and after recovery every queued delivery kept
its own backoff (the last one left minutes later). Now transient failures retry
until [dispatch] retry_horizon (24 h by default), the backoff is capped
(retry_max), and the channel's first success releases the rest at once.

Kept short by configuration: max_attempts = 3 (would have failed all of them
within seconds), retry_max = 20s, an outage of 60 s.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from dispatch.dispatcher import Dispatcher
from dispatch.status import deliveries_for
from monitor.incidents.notices import NoticeKind
from tests.dispatch.fakes import eventually
from tests.dispatch.support import ONE_OPERATOR, database, load, request, write_config
from tests.smtp_server import SmtpServer

pytestmark = [pytest.mark.peer]
OUTAGE_S = 60.0
INCIDENTS = 4
OFFICE = {"gxj@example.org", "director@example.org", "duty@example.org"}


def _toml(tmp_path: Path, server: SmtpServer) -> str:
    return f"""
[storage]
url = "sqlite:///{tmp_path}/cw.db"

[metrics]
enabled = false

[dispatch]
poll_interval = "200ms"
retry_base = "1s"
retry_max = "20s"
coalesce_window = "1s"

[[notifier]]
name = "mail"
type = "email"
host = "127.0.0.1"
port = {server.port}
security = "none"
sender = "commwatch@example.org"
timeout = "3s"
max_attempts = 3

[[notifier]]
name = "outbox"
type = "file"
directory = "{tmp_path}/outbox"
"""


async def test_smtp_down_a_minute_then_every_notice_within_30s_none_lost_none_twice(
    tmp_path: Path,
) -> None:
    server = SmtpServer(mode="plain")  # not started: connection refused
    config = load(write_config(tmp_path / "c", _toml(tmp_path, server)))
    dispatcher = Dispatcher(config, database(config))
    dispatcher.start()
    started = time.monotonic()
    try:
        for incident in range(1, INCIDENTS + 1):
            key = f"incident:{incident}:detection:{incident}"
            dispatcher.submit(request(NoticeKind.DETECTION, key, ONE_OPERATOR, incident))
        await eventually(lambda: dispatcher.stats.retries_by_channel["email"] >= 12, within=20)
        await asyncio.sleep(OUTAGE_S - (time.monotonic() - started))
        assert dispatcher.stats.sent_by_channel["email"] == 0
        assert dispatcher.stats.failed_exhausted == 0, "an outage is not a reason to give up"
        assert dispatcher.stats.queued == INCIDENTS * len(OFFICE)
        assert dispatcher.stats.oldest_pending_age_seconds >= OUTAGE_S - 5
        server.start()
        recovered = time.time()
        received = await server.arrived(INCIDENTS * len(OFFICE), within=30)
    finally:
        await dispatcher.stop(2)
        server.stop()
    arrivals = sorted(r.at for r in received)
    assert arrivals[-1] - recovered <= 30.0
    assert arrivals[-1] - arrivals[0] <= 5.0, "the first success drains the queue at once"
    assert len(received) == INCIDENTS * len(OFFICE)
    assert len({r.message_id for r in received}) == len(received), "none twice"
    subjects = {(r.rcpt_tos[0], str(r.message["Subject"])) for r in received}
    assert len(subjects) == INCIDENTS * len(OFFICE), "none lost"
    emails = [
        d for i in range(1, INCIDENTS + 1) for d in deliveries_for(dispatcher.outbox.engine, i)
    ]
    assert {d.status for d in emails if d.channel == "email"} == {"sent"}
    reasons = dispatcher.stats.failures_by_reason
    assert reasons[("email", "connection")] == dispatcher.stats.retries_by_channel["email"]
