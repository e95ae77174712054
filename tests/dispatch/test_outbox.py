"""The durable outbox with the Dispatcher on SQLite: dedupe, coalescing, retries, fallback, drain.

Channels are in-memory fakes injected at the Notifier seam; the real SMTP server
and Kannel are in tests/integration/test_dispatch_*.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update

from dispatch.base import NotifyError
from dispatch.dispatcher import Dispatcher
from dispatch.models import PENDING, SENDING, SENT, deliveries, notices
from dispatch.status import deliveries_for
from monitor.config import Config
from monitor.incidents.authority import RefusedError
from monitor.incidents.engine import IncidentEngine
from monitor.incidents.notices import NoticeKind
from monitor.incidents.tables import utcnow
from monitor.storage.migrations import upgrade as create_schema
from tests.conftest import Db
from tests.dispatch.fakes import FakeChannel, eventually
from tests.dispatch.support import ONE_OPERATOR, base_toml, load, request, write_config

CHANNELS = """
[[notifier]]
name = "mail"
type = "email"
host = "127.0.0.1"
sender = "commwatch@example.org"
max_attempts = 3
timeout = "2s"

[[notifier]]
name = "sms"
type = "sms_http"
url = "http://127.0.0.1:9/"
max_attempts = 3
timeout = "2s"
"""
OFFICE_EMAILS = {"gxj@example.org", "director@example.org", "duty@example.org"}
OFFICE_MOBILES = {"13800000010", "13800000003", "13800000004"}
DUTY_MOBILES = ["13800000010", "13800000004"]  # 区工信局's duty mobile, the 值班员


def configured(
    tmp_path: Path, db: Db, extra: str = "", horizon: str = "1h", fallback_after: str = "1h"
) -> tuple[Config, Engine]:
    """The shipped contacts with fake channels, on SQLite or PostgreSQL (the `db` fixture)."""
    toml = base_toml(tmp_path / "cw.db", CHANNELS + extra, horizon, fallback_after)
    config = load(write_config(tmp_path / "conf", toml))
    engine = db.engine()
    create_schema(engine)
    return config, engine


@pytest.fixture
def setup(tmp_path: Path, db: Db) -> Iterator[tuple[Config, Engine]]:
    config, engine = configured(tmp_path, db)
    yield config, engine
    engine.dispose()


class Rig:
    def __init__(self, config: Config, engine: Engine) -> None:
        self.mail = FakeChannel("mail", "email")
        self.sms = FakeChannel("sms", "sms")
        self.config, self.engine = config, engine
        self.dispatcher = self.new()

    def new(self) -> Dispatcher:
        return Dispatcher(self.config, self.engine, notifiers={"mail": self.mail, "sms": self.sms})


@pytest.fixture
async def rig(setup: tuple[Config, Engine]) -> AsyncIterator[Rig]:
    made = Rig(*setup)
    made.dispatcher.start()
    yield made
    await made.dispatcher.stop(2)


def count(engine: Engine, table: object, *where: object) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
        )  # type: ignore[arg-type]


async def test_delivers_each_address_once(rig: Rig) -> None:
    first = request(NoticeKind.DETECTION, "incident:1:detection:1", ONE_OPERATOR, 1)
    rig.dispatcher.submit(first)
    rig.dispatcher.submit(first)  # the same request twice
    await eventually(lambda: rig.dispatcher.stats.sent == 6)
    assert {m.address for m in rig.mail.sent} == OFFICE_EMAILS
    assert {m.address for m in rig.sms.sent} == OFFICE_MOBILES
    assert count(rig.engine, notices) == 1
    # "sent" is counted when the gateway accepts and recorded right after, in a worker
    # thread: restart once all six are recorded (one still SENDING is sent again, by design)
    await eventually(lambda: count(rig.engine, deliveries, deliveries.c.status == SENT) == 6)

    restarted = rig.new()  # a restart resubmits: nothing new goes out
    restarted.start()
    restarted.submit(first)
    await restarted.cycle()
    await restarted.stop(2)
    assert len(rig.mail.sent) + len(rig.sms.sent) == 6
    assert rig.mail.sent[0].subject == "【接报】事件#1：情形3，移动城区分公司网络中断"


async def test_burst_is_coalesced(rig: Rig) -> None:
    def follow_up(i: int) -> None:
        rig.dispatcher.submit(
            request(
                NoticeKind.FOLLOW_UP, f"incident:1:follow_up:{i}", ONE_OPERATOR, 1, note=f"变化{i}"
            )
        )

    follow_up(0)  # the first change goes out at once (leading edge)
    await eventually(lambda: len(rig.mail.to("gxj@example.org")) == 1, within=2)
    for i in range(1, 5):  # a burst within the window: held and merged
        follow_up(i)
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    assert len(rig.mail.to("gxj@example.org")) == 1  # nothing more within the window
    await eventually(lambda: len(rig.mail.to("gxj@example.org")) == 2, within=3)
    first, merged = rig.mail.to("gxj@example.org")
    assert "变化0" in first.text
    assert "变化4" in merged.text
    assert "本续报汇总了4次变化" in merged.text
    assert count(rig.engine, notices, notices.c.status == "superseded") == 3
    await eventually(lambda: rig.dispatcher.stats.sent == 2 * 9)  # office, 移动, 东街
    assert rig.dispatcher.stats.coalesced == 3


async def test_transient_failures_are_retried_with_backoff(rig: Rig) -> None:
    rig.sms.failures.extend(NotifyError("gateway busy") for _ in range(2))
    rig.dispatcher.submit(request(NoticeKind.DETECTION, "k-retry", ONE_OPERATOR, 1))
    await eventually(lambda: rig.dispatcher.stats.sent == 6)
    stats = rig.dispatcher.stats
    assert (stats.retries, stats.retries_by_channel["sms"], stats.failed_permanent) == (2, 2, 0)
    assert 0.05 <= stats.last_backoff_seconds <= 1.0
    rows = deliveries_for(rig.engine, 1)
    assert sorted(r.attempts for r in rows if r.channel == "sms") == [1, 2, 2]


async def test_permanent_failure_is_recorded_not_retried(rig: Rig) -> None:
    rig.mail.refuse = lambda m: (
        NotifyError("550 no such user", permanent=True) if m.address == "duty@example.org" else None
    )
    rig.dispatcher.submit(request(NoticeKind.DETECTION, "k-perm", ONE_OPERATOR, 1))
    await eventually(
        lambda: rig.dispatcher.stats.sent == 5 and rig.dispatcher.stats.failed_permanent == 1
    )
    failed = [r for r in deliveries_for(rig.engine, 1) if r.status == "failed"]
    assert [(r.address, r.attempts, r.error) for r in failed] == [
        ("duty@example.org", 1, "550 no such user")
    ]
    assert len(rig.mail.attempts) == 3


async def test_expired_after_the_retry_horizon_not_after_max_attempts(
    tmp_path: Path, db: Db
) -> None:
    config, engine = configured(tmp_path, db, horizon="2s")
    rig = Rig(config, engine)
    rig.dispatcher.start()
    try:
        await _expires(rig)
    finally:
        await rig.dispatcher.stop(2)
        engine.dispose()


async def _expires(rig: Rig) -> None:
    rig.mail.refuse = lambda m: NotifyError("timeout") if m.address == "gxj@example.org" else None
    rig.dispatcher.submit(request(NoticeKind.DETECTION, "k-exhaust", ONE_OPERATOR, 1))
    await eventually(lambda: rig.dispatcher.stats.failed_exhausted == 1, within=8)
    tries = len([m for m in rig.mail.attempts if m.address == "gxj@example.org"])
    assert tries > 3, "max_attempts = 3 no longer ends a transient failure: the 2s horizon does"
    reasons = rig.dispatcher.stats.failures_by_reason
    assert reasons[("email", "expired")] == 1
    assert reasons[("email", "timeout")] == tries - 1


async def test_stop_drains_the_outbox(rig: Rig) -> None:
    rig.dispatcher.submit(request(NoticeKind.DETECTION, "k-drain", ONE_OPERATOR, 1))
    await rig.dispatcher.stop(5)
    assert rig.dispatcher.stats.sent == 6


async def test_in_flight_deliveries_are_recovered_at_start(setup: tuple[Config, Engine]) -> None:
    made = Rig(*setup)
    made.dispatcher.start()
    made.mail.failures.extend(NotifyError("x") for _ in range(3))
    made.dispatcher.submit(request(NoticeKind.DETECTION, "k-recover", ONE_OPERATOR, 1))
    # every mail failed once and waits for its retry; whatever is still open at the stop
    # (mails, or an SMS whose "sent" was not recorded yet) is "in flight" for the next start
    # (the database, not the counter: an outcome is counted just before its commit)
    await eventually(
        lambda: (
            count(made.engine, deliveries, deliveries.c.status == SENT) >= 3
            and not made.mail.failures
        )
    )
    await made.dispatcher.stop(0.01)
    with made.engine.begin() as connection:  # as if the process died while sending
        in_flight = connection.execute(
            update(deliveries)
            .where(deliveries.c.status.in_([PENDING, SENDING]))
            .values(status=SENDING, lease_until=utcnow() + timedelta(hours=1))
        ).rowcount
    assert in_flight >= 1
    again = made.new()
    again.start()
    await eventually(lambda: again.stats.sent == in_flight)
    await again.stop(2)
    assert {m.address for m in made.mail.sent} == OFFICE_EMAILS


async def test_fallback_to_the_next_channel(tmp_path: Path, db: Db) -> None:
    route = """
[[dispatch.route]]
name = "移动：先邮件，失败再短信"
units = ["移动城区分公司"]
fallback = true
"""
    config, engine = configured(tmp_path, db, route)
    rig = Rig(config, engine)
    rig.mail.refuse = lambda _m: NotifyError("550 mailbox unavailable", permanent=True)
    rig.dispatcher.start()
    rig.dispatcher.submit(request(NoticeKind.WARNING, "k-fallback", ONE_OPERATOR, 1))
    await eventually(lambda: len(rig.sms.sent) == 3)  # the unit, then the HQ duty told
    await rig.dispatcher.stop(2)
    assert [m.address for m in rig.sms.sent] == ["13800000020", *DUTY_MOBILES]
    assert rig.dispatcher.stats.fallbacks == 1
    rows = {(r.channel, r.status) for r in deliveries_for(engine, 1) if r.notice == "warning"}
    assert rows == {("email", "failed"), ("sms", "sent")}
    assert "移动城区分公司的邮件通知未送达，已改发短信" in rig.sms.sent[1].text
    engine.dispose()


async def test_a_channel_down_for_fallback_after_falls_through(tmp_path: Path, db: Db) -> None:
    route = """
[[dispatch.route]]
name = "移动：先邮件，不通再短信"
units = ["移动城区分公司"]
fallback = true
"""
    config, engine = configured(tmp_path, db, route, fallback_after="1s")
    rig = Rig(config, engine)
    rig.mail.refuse = lambda _m: NotifyError("SMTP connection: [Errno 111] Connection refused")
    rig.dispatcher.start()
    try:
        rig.dispatcher.submit(request(NoticeKind.WARNING, "k-through", ONE_OPERATOR, 1))
        await eventually(lambda: len(rig.sms.sent) == 3, within=10)
        unit = [m for m in rig.mail.attempts if m.address == "noc-cmcc@example.org"]
        await asyncio.sleep(1.5)
    finally:
        await rig.dispatcher.stop(2)
    assert [m.address for m in rig.sms.sent] == ["13800000020", *DUTY_MOBILES]
    again = [m for m in rig.mail.attempts if m.address == "noc-cmcc@example.org"]
    assert again == unit, "reached by SMS: the email stops retrying"
    assert rig.dispatcher.stats.fallbacks == 1
    assert rig.dispatcher.stats.failed_exhausted == 0
    rows = {(r.channel, r.status) for r in deliveries_for(engine, 1) if r.notice == "warning"}
    assert rows == {("email", "skipped"), ("sms", "sent")}
    told = [r for r in deliveries_for(engine, 1) if r.notice == "fallthrough"]
    assert {(r.channel, r.address) for r in told} == {
        ("email", "gxj@example.org"),
        ("email", "duty@example.org"),
        *(("sms", m) for m in DUTY_MOBILES),
    }, "the HQ office duty, every channel at once, once"
    engine.dispose()


async def test_after_a_fall_through_the_first_to_arrive_wins(tmp_path: Path, db: Db) -> None:
    route = '[[dispatch.route]]\nname = "x"\nunits = ["移动城区分公司"]\nfallback = true\n'
    config, engine = configured(tmp_path, db, route, fallback_after="1s")
    rig = Rig(config, engine)
    down = NotifyError("connection refused")
    rig.mail.refuse = lambda _m: down
    rig.sms.refuse = lambda _m: down
    rig.dispatcher.start()
    try:
        rig.dispatcher.submit(request(NoticeKind.WARNING, "k-race", ONE_OPERATOR, 1))
        await eventually(lambda: rig.dispatcher.stats.fallbacks == 1, within=10)
        rig.mail.refuse = lambda _m: None  # email comes back first
        await eventually(lambda: len(rig.mail.to("noc-cmcc@example.org")) == 1, within=10)
        await asyncio.sleep(1.5)
    finally:
        await rig.dispatcher.stop(2)
    assert rig.sms.sent == []
    assert {(r.channel, r.status) for r in deliveries_for(engine, 1) if r.notice == "warning"} == {
        ("email", "sent"),
        ("sms", "skipped"),
    }
    assert {m.address for m in rig.mail.sent} == {
        "noc-cmcc@example.org",
        "gxj@example.org",  # the HQ duty was told of the fall-through (once)
        "duty@example.org",
    }
    assert len(rig.mail.sent) == 3
    engine.dispose()


async def test_email_first_skips_sms_when_delivered(tmp_path: Path, db: Db) -> None:
    route = '[[dispatch.route]]\nname = "x"\nunits = ["移动城区分公司"]\nfallback = true\n'
    config, engine = configured(tmp_path, db, route)
    rig = Rig(config, engine)
    rig.dispatcher.start()
    rig.dispatcher.submit(request(NoticeKind.WARNING, "k-first", ONE_OPERATOR, 1))
    await rig.dispatcher.stop(5)
    assert {(r.channel, r.status) for r in deliveries_for(engine, 1)} == {
        ("email", "sent"),
        ("sms", "skipped"),
    }
    assert rig.sms.sent == []
    engine.dispose()


async def test_takes_requests_written_by_the_incident_engine(rig: Rig) -> None:
    incidents = IncidentEngine(
        rig.engine, rig.config
    )  # its default sink: the notice_requests table
    incident = incidents.apply_assessment(ONE_OPERATOR, utcnow())
    assert incident is not None
    rig.dispatcher.nudge()
    await eventually(
        lambda: (
            {m.subject.split("】")[0] for m in rig.mail.to("gxj@example.org")}
            >= {"【接报", "【预警建议", "【响应建议", "【书面简要报告（草稿）"}
        )
    )
    assert all(r.taken_at is not None for r in incidents.notice_requests(incident.id))
    leaders = {m.address for m in rig.mail.sent if m.subject.startswith("【响应建议】")}
    assert {"commander@example.org", "deputy-govoffice@example.org"} <= leaders


async def test_report_clock_escalates_until_submitted(rig: Rig) -> None:
    from monitor.incidents.authority import actor_of

    incidents = IncidentEngine(rig.engine, rig.config)
    detected = utcnow() - timedelta(minutes=31)
    incident = incidents.apply_assessment(ONE_OPERATOR, detected)
    assert incident is not None
    rig.dispatcher.nudge()
    escalated = OFFICE_EMAILS | {"commander@example.org", "deputy-govoffice@example.org"}
    await eventually(
        lambda: (
            {m.address for m in rig.mail.sent if m.subject.startswith("【报告超时】")} == escalated
        )
    )
    assert not any(
        m.subject.startswith("【报告时限提醒】") for m in rig.mail.sent
    )  # stale: skipped
    duty = actor_of(rig.config.people["duty-officer"])
    incidents.submit_report(incident.id, duty)
    submitted = incidents.timeline(incident.id)[-1]
    assert (submitted.kind, submitted.data["on_time"]) == ("report_submitted", False)
    with pytest.raises(RefusedError, match="已于"):
        incidents.submit_report(incident.id, duty)
