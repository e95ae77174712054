"""Helpers for the follow-up tests: an incident whose notice went out through the real outbox."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select

from dispatch.models import deliveries
from dispatch.outbox import Outbox
from dispatch.planner import plan_notice
from dispatch.render import Renderer
from monitor.config import Config
from monitor.incidents.engine import IncidentEngine
from monitor.incidents.notices import NoticeKind
from monitor.plan.assessment import Assessment
from monitor.storage.migrations import upgrade as create_schema
from tests.conftest import Db
from tests.dispatch.support import T0, base_toml, load, request, write_config

CHANNELS = """
[[notifier]]
name = "mail"
type = "email"
host = "127.0.0.1"
sender = "commwatch@example.org"

[[notifier]]
name = "kannel"
type = "sms_http"
url = "http://127.0.0.1:9/"
"""


def setup(tmp_path: Path, db: Db, extra: str = "") -> tuple[Config, Engine]:
    """The shipped contacts, an email and an SMS notifier (never reached), a fresh database."""
    config = load(write_config(tmp_path / "conf", base_toml(tmp_path / "cw.db", CHANNELS + extra)))
    engine = db.engine()
    create_schema(engine)
    return config, engine


def clock(start: datetime = T0) -> tuple[list[datetime], object]:
    """A settable clock for IncidentEngine: `now[0] = …` moves it."""
    now = [start]
    return now, lambda: now[0]


def open_incident(engine: Engine, config: Config) -> int:
    """An incident reported by the upper level (source 2), as the CLI opens one."""
    return IncidentEngine(engine, config).add_event("upper", "上级通报：移动网络中断").id


def send_notice(
    engine: Engine,
    config: Config,
    kind: NoticeKind,
    incident_id: int,
    assessment: Assessment | None = None,
    at: datetime = T0,
    key: str | None = None,
    **context: object,
) -> list[int]:
    """Accept, route, claim and record as sent every delivery of one notice; their ids."""
    outbox = Outbox(engine)
    dedupe = key or f"incident:{incident_id}:{kind}:{at.timestamp()}"
    outbox.accept([request(kind, dedupe, assessment, incident_id, at, **context)], at, timedelta(0))
    renderer = Renderer.for_config(config)
    outbox.route_due(at, lambda r: plan_notice(r, config, renderer))
    ids: list[int] = []
    for channel in ("email", "sms"):
        for item in outbox.claim(at, channel, 1000, timedelta(minutes=1)):
            outbox.record_sent(
                item.id, at, "mail" if channel == "email" else "kannel", item.key, "ok"
            )
            ids.append(item.id)
    return sorted(ids)


def rows(engine: Engine) -> list[dict[str, object]]:
    """Every delivery row as a dict, by id."""
    with engine.connect() as connection:
        return [
            dict(r._mapping)
            for r in connection.execute(select(deliveries).order_by(deliveries.c.id))
        ]


def deliver_pending(engine: Engine, at: datetime) -> list[int]:
    """Claim every due delivery (escalation steps included) and record it as sent."""
    outbox = Outbox(engine)
    ids: list[int] = []
    for channel in ("email", "sms"):
        for item in outbox.claim(at, channel, 1000, timedelta(minutes=1)):
            outbox.record_sent(
                item.id, at, "mail" if channel == "email" else "kannel", item.key, "ok"
            )
            ids.append(item.id)
    return ids
