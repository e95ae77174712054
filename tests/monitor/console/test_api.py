"""The console's JSON API against the DESIGN.md contract, on a real SQLite database."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from monitor.console.context import Console
from monitor.incidents.authority import actor_of
from tests.monitor.console.support import client, login, make_console
from tests.paths import ROOT

CONTRACT_KEYS = {
    "id",
    "status",
    "scenario",
    "level",
    "warning_issuer",
    "response_starter",
    "restored",
}


@pytest.fixture
def console(tmp_path: Path) -> Console:
    return make_console(tmp_path)


def _incident(console: Console, text: str = "上级通报：移动城区网络中断") -> int:
    duty = actor_of(console.config().people["duty-officer"])
    return console.incidents().add_event("upper", text, duty).id


def _post(http, path: str, token: str, body: dict[str, object]):  # type: ignore[no-untyped-def]
    return http.post(path, json=body, headers={"X-CSRF-Token": token})


def test_login_contract(console: Console) -> None:
    http = client(console)
    assert (
        http.post(
            "/api/login", json={"person": "duty-officer", "password": "nope-nope"}
        ).status_code
        == 401
    )
    ok = http.post(
        "/api/login", json={"person": "duty-officer", "password": "correct horse battery"}
    )
    assert ok.status_code == 200
    assert set(ok.json()) >= {"csrf", "person"}
    assert http.get("/api/session").json()["csrf"] == ok.json()["csrf"]


@pytest.mark.parametrize(
    "body", [{}, {"person": "duty-officer"}, {"person": 1, "password": "x"}, []], ids=str
)
def test_login_bad_body_is_400(console: Console, body: object) -> None:
    assert client(console).post("/api/login", json=body).status_code == 400


def test_incidents_have_the_keys_of_incident_list_json(console: Console, tmp_path: Path) -> None:
    incident = _incident(console)
    http = client(console)
    login(http, "duty-officer")
    rows = http.get("/api/incidents").json()
    assert [r["id"] for r in rows] == [incident]
    assert set(rows[0]) >= CONTRACT_KEYS
    assert rows[0]["restored"] is False
    config_dir = tmp_path / "cli-config"
    config_dir.mkdir()
    for name in ("contacts.toml", "plan.toml", "nodes.toml"):
        (config_dir / name).write_text(
            (ROOT / "config" / name).read_text(encoding="utf-8"), encoding="utf-8"
        )
    (config_dir / "commwatch.toml").write_text(
        f'[storage]\nurl = "sqlite:///{tmp_path}/console.db"\n', encoding="utf-8"
    )
    out = subprocess.run(
        [sys.executable, "-m", "monitor", "incident", "list", "--json", "-c", str(config_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    cli = [json.loads(line) for line in out.stdout.splitlines()]
    assert [set(r) for r in cli] == [set(r) for r in rows]
    assert cli[0]["id"] == rows[0]["id"]


def test_confirm_and_refused_level_one(console: Console) -> None:
    incident = _incident(console)
    http = client(console)
    token = login(http, "duty-officer")
    confirmed = _post(http, f"/api/incidents/{incident}/confirm", token, {"note": "已核实"})
    assert confirmed.status_code == 200
    assert confirmed.json()["status"] == "confirmed"
    refused = _post(
        http, f"/api/incidents/{incident}/response/start", token, {"level": "I", "note": "x"}
    )
    assert refused.status_code == 403
    assert "§4.3.1" in refused.json()["error"]
    commander = client(console)
    started = _post(
        commander,
        f"/api/incidents/{incident}/response/start",
        login(commander, "commander"),
        {"level": "I", "note": ""},
    )
    assert started.status_code == 200
    assert started.json()["response_starter"] == "commander"


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/incidents/999/confirm", {}, 404),
        ("/api/incidents/{id}/response/start", {"level": "III"}, 400),
        ("/api/incidents/{id}/confirm", {"colour": "red"}, 400),
        ("/api/incidents/{id}/transfer", {"note": "x"}, 400),
        ("/api/incidents/{id}/no-such-action", {}, 404),
        ("/api/incidents/{id}/warning/issue", {"scenario": 7}, 400),
    ],
    ids=[
        "unknown-incident",
        "bad-level",
        "unknown-field",
        "transfer-without-to",
        "unknown-action",
        "bad-scenario",
    ],
)
def test_bad_requests(console: Console, path: str, body: dict[str, object], status: int) -> None:
    incident = _incident(console)
    http = client(console)
    token = login(http, "commander")
    assert _post(http, path.format(id=incident), token, body).status_code == status


def test_a_whole_scenario3_event_through_the_api(console: Console) -> None:
    """Detection → confirm → warning → Ⅱ级 → report → end → lift → close, each under its own name."""
    incident = _incident(console)
    duty, deputy = client(console), client(console)
    duty_token, deputy_token = login(duty, "duty-officer"), login(deputy, "deputy-miit")
    base = f"/api/incidents/{incident}"
    steps = [
        (duty, duty_token, "confirm", {"note": "电话核实"}),
        (duty, duty_token, "information", {"source": "upper", "text": "市工信局来电询问进展"}),
        (deputy, deputy_token, "warning/issue", {"scenario": 3, "note": "发布情形3预警"}),
        (deputy, deputy_token, "response/start", {"level": "II", "note": "启动Ⅱ级响应"}),
        (duty, duty_token, "report/submit", {"note": "书面报告已报送"}),
        (deputy, deputy_token, "response/end", {"note": "业务恢复"}),
        (duty, duty_token, "restored", {"note": "移动回告已恢复"}),  # §3.6: recovery first
        (deputy, deputy_token, "warning/lift", {"note": "解除"}),
        (duty, duty_token, "close", {"note": "关闭"}),
    ]
    for http, token, action, body in steps:
        response = _post(http, f"{base}/{action}", token, body)
        assert response.status_code == 200, (action, response.text)
    events = console.incidents().timeline(incident)
    assert [(e.kind, e.actor) for e in events] == [
        ("reported", "duty-officer"),
        ("confirmed", "duty-officer"),
        ("information", "duty-officer"),
        ("warning_issued", "deputy-miit"),
        ("response_started", "deputy-miit"),
        ("report_submitted", "duty-officer"),
        ("response_ended", "deputy-miit"),
        ("restored", "duty-officer"),
        ("warning_lifted", "deputy-miit"),
        ("closed", "duty-officer"),
    ]


def test_lift_by_someone_else_names_the_clause(console: Console) -> None:
    incident = _incident(console)
    deputy, commander = client(console), client(console)
    _post(
        deputy,
        f"/api/incidents/{incident}/warning/issue",
        login(deputy, "deputy-miit"),
        {"scenario": 3},
    )
    refused = _post(
        commander, f"/api/incidents/{incident}/warning/lift", login(commander, "commander"), {}
    )
    assert refused.status_code == 403
    assert "§3.6" in refused.json()["error"]


def test_a_report_opens_an_incident(console: Console) -> None:
    http = client(console)
    token = login(http, "duty-officer")
    response = _post(
        http, "/api/events", token, {"source": "public", "text": "群众反映电信宽带中断"}
    )
    assert response.status_code == 201
    assert response.json()["source"] == "public"


def test_incident_detail_lists_allowed_and_refused_actions(console: Console) -> None:
    incident = _incident(console)
    http = client(console)
    login(http, "duty-officer")
    detail = http.get(f"/api/incidents/{incident}").json()
    by_label = {a["label"]: a["refusal"] for a in detail["actions"]}
    assert by_label["确认事件"] is None
    assert "§4.3.1" in by_label["启动Ⅰ级响应"]
    assert "§3.4" in by_label["发布预警"]


def test_openapi_document_describes_the_contract(console: Console) -> None:
    document = client(console).get("/api/openapi.json").json()
    assert document["openapi"].startswith("3.")
    for path in (
        "/api/login",
        "/api/incidents",
        "/api/incidents/{id}/confirm",
        "/api/incidents/{id}/response/start",
    ):
        assert path in document["paths"]
    for name in ("Refused", "NoSession", "BadRequest"):
        assert name in document["components"]["responses"]
    assert "restored" in document["components"]["schemas"]["Incident"]["required"]


@pytest.mark.parametrize("path", ["/", "/incidents", "/windows", "/notices", "/contacts"])
def test_pages_render(console: Console, path: str) -> None:
    _incident(console)
    http = client(console)
    login(http, "duty-officer")
    page = http.get(path)
    assert page.status_code == 200
    assert '<html lang="zh-CN">' in page.text


def test_reports_render_and_download(console: Console) -> None:
    incident = _incident(console)
    http = client(console)
    login(http, "duty-officer")
    page = http.get(f"/incidents/{incident}/report/brief")
    assert page.status_code == 200
    assert "书面简要报告" in page.text
    for fmt in ("md", "txt", "html"):
        download = http.get(f"/incidents/{incident}/report/final.{fmt}")
        assert download.status_code == 200
        assert "attachment" in download.headers["content-disposition"]
    assert http.get(f"/incidents/{incident}/report/other").status_code == 404
    pdf = http.get(f"/incidents/{incident}/report/brief.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    pages = PdfReader(io.BytesIO(pdf.content)).pages
    fonts = {
        str(f.get_object()["/BaseFont"])
        for page in pages
        for f in page["/Resources"]["/Font"].values()
    }
    assert any("CJK-SC" in font for font in fonts), fonts  # Debian fonts-noto-cjk, embedded
    assert "书面简要报告" in "".join("".join(page.extract_text() for page in pages).split())


def test_every_api_route_and_action_is_documented(console: Console) -> None:
    from monitor.console.actions import ACTIONS
    from monitor.console.api import Api
    from monitor.console.api_follow import FollowApi

    documented = set(client(console).get("/api/openapi.json").json()["paths"])
    routes = set()
    api = Api(console)
    for route in [*api.routes(), *FollowApi(api).routes()]:
        path = route.path.replace("{id:int}", "{id}")
        if "{action:path}" in path:
            routes |= {path.replace("{action:path}", name) for name in ACTIONS}
        else:
            routes.add(path)
    assert routes <= documented
    assert (ROOT / "docs" / "api" / "openapi.json").read_bytes() == client(console).get(
        "/api/openapi.json"
    ).content
