"""Notices (outbox backlog, retry of a failed delivery) and windows pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from dispatch.models import deliveries, notices
from monitor.config import Config
from monitor.config.windows import GuaranteePeriod, MaintenanceWindow
from monitor.console.windows import windows_view
from tests.monitor.console.support import client, login, make_console

NOW = datetime(2026, 7, 1, 3, 0, tzinfo=UTC)


def _failed_delivery(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.begin() as connection:
        notice = connection.execute(
            insert(notices).values(
                dedupe_key="incident:1:warning:1",
                kind="warning",
                incident_id=None,
                created_at=NOW,
                due_at=NOW,
                status="routed",
                deliveries=1,
                context={},
            )
        ).inserted_primary_key[0]
        return int(
            connection.execute(
                insert(deliveries).values(
                    notice_id=notice,
                    dedupe_key="incident:1:warning:1",
                    channel="sms",
                    address="13800000004",
                    recipient_key="duty-officer",
                    recipient="指挥部办公室值班员",
                    status="failed",
                    attempts=5,
                    next_attempt_at=NOW,
                    body="<b>预警</b>",
                    last_error="gateway said <no>",
                    permanent=True,
                    created_at=NOW,
                    updated_at=NOW,
                )
            ).inserted_primary_key[0]
        )


def test_notices_page_lists_failed_and_retry_requeues(tmp_path: Path) -> None:
    console = make_console(tmp_path)
    delivery = _failed_delivery(console.engine)
    http = client(console)
    token = login(http, "duty-officer")
    page = http.get("/notices")
    assert f"#{delivery}" in page.text
    assert "gateway said &lt;no&gt;" in page.text
    assert http.post(f"/api/notices/{delivery}/retry").status_code == 403  # no CSRF token
    done = http.post(f"/api/notices/{delivery}/retry", headers={"X-CSRF-Token": token})
    assert done.status_code == 200
    with console.engine.connect() as connection:
        row = connection.execute(select(deliveries).where(deliveries.c.id == delivery)).one()
    assert (row.status, row.permanent) == ("pending", False)
    again = http.post(f"/api/notices/{delivery}/retry", headers={"X-CSRF-Token": token})
    assert again.status_code == 409


def test_windows_view_lists_active_first(tmp_path: Path) -> None:
    base = make_console(tmp_path).config()
    past = MaintenanceWindow(
        name="旧割接",
        nodes=["cmcc-core-1"],
        start=NOW - timedelta(days=3),
        end=NOW - timedelta(days=2),
    )
    now_on = GuaranteePeriod(
        name="中考保障",
        systems=["portal"],
        start=NOW - timedelta(hours=1),
        end=NOW + timedelta(days=1),
    )
    config = Config(
        base.directory,
        base.daemon,
        base.plan.model_copy(update={"guarantee": [now_on]}),
        base.contacts,
        base.inventory.model_copy(update={"maintenance": [past]}),
    )
    rows = windows_view(config, NOW)
    assert [(r.kind, r.name, r.active) for r in rows] == [
        ("保障期", "中考保障", True),
        ("维护", "旧割接", False),
    ]
