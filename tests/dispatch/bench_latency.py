"""Dispatch latency: incident opened (notice requests committed) → SMTP server / Kannel accepted.

    PYTHONPATH=. python -m tests.dispatch.bench_latency [TRIALS]

Real peers on 127.0.0.1 (aiosmtpd, Kannel); SQLite; the shipped contacts and
routes. Each trial opens an incident through the IncidentEngine (as the daemon
does after a scorer run), then measures until the HQ office's first email is
accepted by the SMTP server and its first SMS by Kannel's sendsms (202), once
with `dispatcher.nudge()` after the engine step (what app.py should do) and
once relying on the `poll_interval` alone. This is dispatch's share of the
outage→notice latency; detection (fail_after × interval + timeout) comes first.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from dispatch.dispatcher import Dispatcher
from dispatch.models import deliveries
from monitor.incidents.authority import actor_of
from monitor.incidents.engine import IncidentEngine
from monitor.incidents.tables import utcnow
from monitor.plan.assessment import Assessment
from tests.dispatch.support import ONE_OPERATOR, base_toml, database, load, write_config
from tests.kannel import Kannel
from tests.smtp_server import SmtpServer


async def trial(
    dispatcher: Dispatcher, incidents: IncidentEngine, server: SmtpServer, nudge: bool
) -> tuple[float, float]:
    before = len(server.messages)
    start = time.time()
    incident = await asyncio.to_thread(incidents.apply_assessment, ONE_OPERATOR, utcnow())
    assert incident is not None
    if nudge:
        dispatcher.nudge()
    await server.arrived(before + 1, within=10)
    email = server.messages[before].at - start
    sms = await _first_sms(dispatcher, incident.id, start)
    officer = actor_of(incidents.config.people["duty-officer"])
    await asyncio.to_thread(incidents.false_alarm, incident.id, officer, "bench")
    await asyncio.to_thread(incidents.apply_assessment, Assessment(), utcnow())
    await asyncio.sleep(0.3)  # let the closing notices go before the next trial
    return email, sms


async def _first_sms(dispatcher: Dispatcher, incident_id: int, start: float) -> float:
    from dispatch.models import notices

    query = (
        select(deliveries.c.sent_at)
        .join(notices, deliveries.c.notice_id == notices.c.id)
        .where(notices.c.incident_id == incident_id, deliveries.c.channel == "sms")
        .where(deliveries.c.sent_at.is_not(None))
        .order_by(deliveries.c.sent_at)
        .limit(1)
    )
    for _ in range(500):
        with dispatcher.outbox.engine.connect() as connection:
            sent = connection.execute(query).scalar()
        if sent is not None:
            return float(sent.timestamp() - start)
        await asyncio.sleep(0.01)
    raise AssertionError("no SMS accepted")


async def main(trials: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="cw-bench-"))
    with SmtpServer() as server, Kannel(work / "kannel") as kannel:
        channels = f"""
[[notifier]]
name = "mail"
type = "email"
host = "127.0.0.1"
port = {server.port}
security = "none"
sender = "commwatch@example.org"

[[notifier]]
name = "sms"
type = "sms_http"
preset = "kannel"
url = "{kannel.sendsms_url}"
username = "{kannel.username}"
password = "{kannel.password}"
"""
        toml = base_toml(work / "cw.db", channels).replace(
            'poll_interval = "100ms"', 'poll_interval = "1s"'
        )
        config = load(write_config(work / "c", toml))
        engine = database(config)
        incidents = IncidentEngine(engine, config)
        dispatcher = Dispatcher(config, engine)
        dispatcher.start()
        try:
            for nudge in (True, False):
                results = [await trial(dispatcher, incidents, server, nudge) for _ in range(trials)]
                label = "with nudge" if nudge else "poll only (1s)"
                for i, channel in enumerate(("email", "sms")):
                    values = [r[i] * 1000 for r in results]
                    print(
                        f"{label:15} {channel:5} median {statistics.median(values):6.0f} ms"
                        f"  max {max(values):6.0f} ms  (n={trials})"
                    )
        finally:
            await dispatcher.stop(5)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10))
