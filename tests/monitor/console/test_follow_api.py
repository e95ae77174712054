"""The console's 收到, calls and §5 report editing through the JSON API, on SQLite and PostgreSQL.

Every action: no session → 401, no CSRF token → 403, someone else's behalf →
403, and the plan's refusal (with its clause) where its rules apply.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from dispatch.followup import FollowUp
from dispatch.followup_reads import open_calls
from dispatch.states import notice_lines
from monitor.console.context import Console
from monitor.incidents.authority import actor_of
from monitor.incidents.notices import NoticeKind
from tests.conftest import Db
from tests.dispatch.followup_support import open_incident, send_notice
from tests.dispatch.support import ONE_OPERATOR, T0
from tests.monitor.console.follow_support import follow_console
from tests.monitor.console.support import client, login


def _post(http: Any, path: str, token: str | None, body: dict[str, Any] | None = None) -> Any:
    headers = {"X-CSRF-Token": token} if token is not None else {}
    return http.post(path, json=body or {}, headers=headers)


@pytest.fixture
def console(tmp_path: Path, db: Db) -> Console:
    console = follow_console(tmp_path, db)
    console.clock = lambda: T0 + timedelta(minutes=1)
    return console


def _warning(console: Console) -> tuple[int, dict[str, int]]:
    """An incident whose warning went out; delivery ids by recipient (the email ones)."""
    incident = open_incident(console.engine, console.config())
    send_notice(
        console.engine, console.config(), NoticeKind.WARNING, incident, ONE_OPERATOR,
        key="k-warn", warning_scenario=2, issuer="deputy-miit", issuer_name="区工信局局长",
    )  # fmt: skip
    lines = notice_lines(console.engine, console.config().daemon.notifier, incident)
    return incident, {n.recipient: n.id for n in lines if n.medium == "email"}


def test_ack_for_oneself_or_ones_unit_only(console: Console) -> None:
    incident, ids = _warning(console)
    http = client(console)
    path = f"/api/deliveries/{ids['区工信局']}/ack"
    assert _post(http, path, "x").status_code == 401
    token = login(http, "duty-officer")
    assert _post(http, path, None).status_code == 403
    assert _post(http, path, "wrong").status_code == 403
    behalf = _post(http, path, token, {"by": "deputy-miit"})
    assert behalf.status_code == 403
    assert "§4.2" in behalf.json()["error"]

    other = _post(http, f"/api/deliveries/{ids['移动城区分公司']}/ack", token)
    assert other.status_code == 403
    assert "只能为本人或本单位" in other.json()["error"]
    assert "§4.2" in other.json()["error"]

    own = _post(http, path, token)
    assert own.status_code == 200, own.text
    assert own.json()["fresh"] is True
    assert (own.json()["acked_by"], own.json()["means"]) == ("duty-officer", "console")
    lines = notice_lines(console.engine, console.config().daemon.notifier, incident)
    unit = {n.state for n in lines if n.recipient == "区工信局"}
    assert unit == {"acknowledged"}  # its email and its SMS
    events = [e for e in console.incidents().timeline(incident) if e.kind == "acknowledged"]
    assert [(e.actor, e.data["means"]) for e in events] == [("duty-officer", "console")]
    again = _post(http, path, token)
    assert again.status_code == 200
    assert again.json()["fresh"] is False
    assert _post(http, "/api/deliveries/9999/ack", token).status_code == 404

    liaison = client(console)
    mine = _post(liaison, f"/api/deliveries/{ids['移动城区分公司']}/ack", login(liaison, "liaison"))
    assert mine.status_code == 200
    assert mine.json()["acked_by"] == "liaison"


def test_record_a_call_under_the_signed_in_person(console: Console) -> None:
    incident, _ = _warning(console)
    FollowUp(console.config(), console.engine, clock=console.clock).cycle(console.clock())
    tasks = [t for t in open_calls(console.engine) if t.incident == incident]
    assert tasks, "the warning makes call tasks ([calls] kinds)"
    path = f"/api/calls/{tasks[0].id}/done"
    http = client(console)
    body = {"answered_by": "王值班", "outcome": "已传达预警"}
    assert _post(http, path, "x", body).status_code == 401
    token = login(http, "duty-officer")
    assert _post(http, path, None, body).status_code == 403
    assert _post(http, path, token, {"answered_by": "王"}).status_code == 400  # no outcome
    behalf = _post(http, path, token, {**body, "person": "commander"})
    assert behalf.status_code == 403

    liaison = client(console)
    refused = _post(liaison, path, login(liaison, "liaison"), body)
    assert refused.status_code == 403
    assert "§4.2 (2)" in refused.json()["error"]

    done = _post(http, path, token, body)
    assert done.status_code == 200, done.text
    assert (done.json()["done_by"], done.json()["answered_by"]) == ("duty-officer", "王值班")
    called = [e for e in console.incidents().timeline(incident) if e.kind == "called"]
    assert [e.actor for e in called] == ["duty-officer"]
    twice = _post(http, path, token, body)
    assert twice.status_code == 403
    assert "已于" in twice.json()["error"]
    assert _post(http, "/api/calls/9999/done", token, body).status_code == 404


def test_the_office_completes_the_reports(console: Console) -> None:
    incident = open_incident(console.engine, console.config())
    http = client(console)
    edit = f"/api/incidents/{incident}/report/edit"
    body = {"field": "cause", "text": "施工挖断城区主干光缆"}
    assert _post(http, edit, "x", body).status_code == 401
    token = login(http, "duty-officer")
    assert _post(http, edit, None, body).status_code == 403
    assert _post(http, edit, token, {"field": "cause"}).status_code == 400
    unknown = _post(http, edit, token, {"field": "weather", "text": "晴"})
    assert unknown.status_code == 403
    assert "§5" in unknown.json()["error"]
    assert _post(http, edit, token, {**body, "by": "commander"}).status_code == 403

    liaison = client(console)
    refused = _post(liaison, edit, login(liaison, "liaison"), body)
    assert refused.status_code == 403
    assert "§4.2 (2)" in refused.json()["error"]

    saved = _post(http, edit, token, body)
    assert saved.status_code == 200, saved.text
    fields = console.incidents().get(incident).report_fields or {}
    assert fields["cause"]["by"] == "duty-officer"
    page = http.get(f"/incidents/{incident}/report/final")
    assert "施工挖断城区主干光缆" in page.text
    assert 'id="report-field-cause"' in page.text
    text = http.get(f"/incidents/{incident}/report/final.txt")
    assert "施工挖断城区主干光缆" in text.text

    follow = f"/api/incidents/{incident}/report/follow-up"
    early = _post(http, follow, token, {"note": "续报"})
    assert early.status_code == 403
    assert "§4.1" in early.json()["error"]
    assert _post(http, f"/api/incidents/{incident}/report/submit", token).status_code == 200
    assert _post(http, follow, token, {"note": "续报"}).status_code == 200
    kinds = [e.kind for e in console.incidents().timeline(incident)]
    assert kinds[-3:] == ["report_edited", "report_submitted", "follow_up_submitted"]


def test_the_report_page_shows_the_document_and_keeps_values_inert(console: Console) -> None:
    evil = "<img src=x onerror=alert(1)>"
    duty = console.incidents()
    incident = duty.add_event(
        "upper", f"上级通报：{evil}", actor_of(console.config().people["duty-officer"])
    ).id
    http = client(console)
    token = login(http, "duty-officer")
    body = {"field": "cause", "text": f"原因{evil}"}
    assert _post(http, f"/api/incidents/{incident}/report/edit", token, body).status_code == 200
    for kind in ("brief", "final"):
        page = http.get(f"/incidents/{incident}/report/{kind}")
        assert page.status_code == 200
        assert "&lt;!DOCTYPE" not in page.text
        assert "<h1" in page.text
        assert evil not in page.text
        assert "&lt;img src=x onerror=alert(1)&gt;" in page.text
