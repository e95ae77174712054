"""Console security: sessions, forged cookies, CSRF, replayed sessions, lock-out, escaping, acting as oneself."""

from __future__ import annotations

from pathlib import Path

import pytest
from itsdangerous import TimestampSigner

from monitor.config import Config
from monitor.console.context import Console
from monitor.console.server import build_console
from monitor.console.sessions import COOKIE
from monitor.incidents.authority import actor_of
from monitor.nodes.state import Status
from tests.monitor.console.support import (
    PASSWORD,
    FakeLive,
    client,
    console_config,
    database,
    login,
    make_console,
)


@pytest.fixture
def console(tmp_path: Path) -> Console:
    return make_console(tmp_path)


def _incident(console) -> int:
    duty = actor_of(console.config().people["duty-officer"])
    return console.incidents().add_event("upper", "上级通报：联通城区网络中断", duty).id


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/incidents"),
        ("GET", "/api/board"),
        ("GET", "/api/session"),
        ("GET", "/api/incidents/1"),
        ("POST", "/api/incidents/1/confirm"),
        ("POST", "/api/incidents/1/response/start"),
        ("POST", "/api/logout"),
    ],
    ids=lambda v: v,
)
def test_no_session_is_401(console: Console, method: str, path: str) -> None:
    response = client(console).request(method, path, json={"note": "x"})
    assert response.status_code == 401
    assert "error" in response.json()


@pytest.mark.parametrize("path", ["/", "/incidents", "/incidents/1", "/notices", "/events"])
def test_pages_without_session_go_to_login(console: Console, path: str) -> None:
    response = client(console).get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize(
    "cookie",
    [
        "garbage",
        TimestampSigner(b"k" * 64, salt="commwatch-console-session").sign("made-up").decode(),
        "",
    ],
    ids=["garbage", "signed-with-another-key", "empty"],
)
def test_forged_cookie_is_401(console: Console, cookie: str) -> None:
    http = client(console)
    http.cookies.set(COOKIE, cookie)
    assert http.get("/api/incidents").status_code == 401


def test_tampered_cookie_is_401(console: Console) -> None:
    http = client(console)
    login(http, "duty-officer")
    good = http.cookies[COOKIE]
    sid, rest = good.split(".", 1)
    http.cookies.set(COOKIE, sid[:-1] + ("A" if sid[-1] != "A" else "B") + "." + rest)
    assert http.get("/api/incidents").status_code == 401


def test_login_sets_a_strict_httponly_cookie_and_returns_csrf(console: Console) -> None:
    response = client(console).post(
        "/api/login", json={"person": "duty-officer", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert response.json()["csrf"]
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "secure" not in cookie  # plain HTTP on loopback


def test_cookie_is_secure_under_tls(tmp_path: Path) -> None:
    config = console_config(tmp_path)
    settings = config.daemon.console.model_copy(
        update={"tls_cert": tmp_path / "c.pem", "tls_key": tmp_path / "k.pem"}
    )
    config = Config(
        config.directory,
        config.daemon.model_copy(update={"console": settings}),
        config.plan,
        config.contacts,
        config.inventory,
    )
    console = build_console(lambda: config, database(tmp_path), FakeLive())
    console.passwords.set("duty-officer", PASSWORD)
    response = client(console).post(
        "/api/login", json={"person": "duty-officer", "password": PASSWORD}
    )
    assert "secure" in response.headers["set-cookie"].lower()


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-CSRF-Token": "wrong"}, {"X-CSRF-Token": ""}],
    ids=["missing", "wrong", "empty"],
)
def test_change_without_the_csrf_token_is_403(console: Console, headers: dict[str, str]) -> None:
    incident = _incident(console)
    http = client(console)
    login(http, "duty-officer")
    response = http.post(f"/api/incidents/{incident}/confirm", json={"note": "x"}, headers=headers)
    assert response.status_code == 403
    assert console.incidents().get(incident).status == "detected"


def test_csrf_token_of_another_session_is_403(console: Console) -> None:
    incident = _incident(console)
    other = login(client(console), "duty-officer")
    http = client(console)
    login(http, "duty-officer")
    response = http.post(
        f"/api/incidents/{incident}/confirm", json={}, headers={"X-CSRF-Token": other}
    )
    assert response.status_code == 403


def test_foreign_origin_is_403(console: Console) -> None:
    incident = _incident(console)
    http = client(console)
    token = login(http, "duty-officer")
    response = http.post(
        f"/api/incidents/{incident}/confirm",
        json={},
        headers={"X-CSRF-Token": token, "Origin": "http://evil.example"},
    )
    assert response.status_code == 403


def test_replayed_session_after_logout_is_401(console: Console) -> None:
    http = client(console)
    token = login(http, "duty-officer")
    captured = http.cookies[COOKIE]
    assert http.post("/api/logout", headers={"X-CSRF-Token": token}).status_code == 200
    replay = client(console)
    replay.cookies.set(COOKIE, captured)
    assert replay.get("/api/incidents").status_code == 401
    incident = _incident(console)
    response = replay.post(
        f"/api/incidents/{incident}/confirm", json={}, headers={"X-CSRF-Token": token}
    )
    assert response.status_code == 401


def test_password_change_ends_sessions(console: Console) -> None:
    http = client(console)
    login(http, "duty-officer")
    console.passwords.set("duty-officer", "a new password 2")
    assert http.get("/api/incidents").status_code == 401


def test_ten_wrong_passwords_lock_the_person(console: Console) -> None:
    http = client(console)
    codes = [
        http.post(
            "/api/login", json={"person": "duty-officer", "password": f"wrong{n}"}
        ).status_code
        for n in range(10)
    ]
    assert codes == [401] * 5 + [429] * 5
    locked = http.post("/api/login", json={"person": "duty-officer", "password": PASSWORD})
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    assert (
        http.post("/api/login", json={"person": "commander", "password": PASSWORD}).status_code
        == 200
    )


def test_lock_ends_after_the_window(console: Console) -> None:
    now = [1000.0]
    console.limiter.clock = lambda: now[0]
    http = client(console)
    for n in range(5):
        http.post("/api/login", json={"person": "duty-officer", "password": f"wrong{n}"})
    assert (
        http.post("/api/login", json={"person": "duty-officer", "password": PASSWORD}).status_code
        == 429
    )
    now[0] += console.limiter.window + 1
    assert (
        http.post("/api/login", json={"person": "duty-officer", "password": PASSWORD}).status_code
        == 200
    )


def test_many_people_from_one_address_lock_the_address(console: Console) -> None:
    http = client(console)
    for n in range(console.limiter.per_address):
        http.post("/api/login", json={"person": f"nobody{n}", "password": "x"})
    response = http.post("/api/login", json={"person": "commander", "password": PASSWORD})
    assert response.status_code == 429


def test_unknown_person_is_401(console: Console) -> None:
    response = client(console).post("/api/login", json={"person": "mallory", "password": PASSWORD})
    assert response.status_code == 401


def test_node_name_with_script_is_rendered_inert(tmp_path: Path) -> None:
    config = console_config(tmp_path)
    evil = "<script>alert('x')</script>"
    nodes = [
        n.model_copy(update={"name": evil}) if n.id == "cmcc-core-1" else n
        for n in config.inventory.node
    ]
    inventory = config.inventory.model_copy(update={"node": nodes})
    config = Config(config.directory, config.daemon, config.plan, config.contacts, inventory)
    live = FakeLive({"cmcc-core-1": Status.DOWN})
    console = build_console(lambda: config, database(tmp_path), live)
    console.passwords.set("duty-officer", PASSWORD)
    http = client(console)
    login(http, "duty-officer")
    for path in ("/", "/board/live"):
        page = http.get(path)
        assert page.status_code == 200
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page.text
        assert evil not in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
    assert http.get("/api/board").json()["board"]["nodes"][0]["name"] == evil


@pytest.mark.parametrize("field", ["by", "person", "actor"])
def test_acting_on_someone_elses_behalf_is_refused(console: Console, field: str) -> None:
    incident = _incident(console)
    http = client(console)
    token = login(http, "duty-officer")
    response = http.post(
        f"/api/incidents/{incident}/response/start",
        json={"level": "II", "note": "代总指挥启动", field: "commander"},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 403
    assert "登录者本人" in response.json()["error"]
    assert console.incidents().get(incident).response_started_at is None


def test_the_timeline_names_the_signed_in_person(console: Console) -> None:
    incident = _incident(console)
    http = client(console)
    token = login(http, "deputy-miit")
    response = http.post(
        f"/api/incidents/{incident}/confirm", json={"note": "核实"}, headers={"X-CSRF-Token": token}
    )
    assert response.status_code == 200
    last = console.incidents().timeline(incident)[-1]
    assert (last.kind, last.actor, last.note) == ("confirmed", "deputy-miit", "核实")


def test_removed_person_loses_the_session(tmp_path: Path) -> None:
    config = console_config(tmp_path)
    current = [config]
    console = build_console(lambda: current[0], database(tmp_path), FakeLive())
    console.passwords.set("duty-officer", PASSWORD)
    http = client(console)
    login(http, "duty-officer")
    people = [p for p in config.contacts.person if p.id != "duty-officer"]
    contacts = config.contacts.model_copy(update={"person": people})
    current[0] = Config(config.directory, config.daemon, config.plan, contacts, config.inventory)
    assert http.get("/api/incidents").status_code == 401


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/incidents/3", "/incidents/3"),
        ("//evil.example/", "/"),
        ("/\\evil.example/", "/"),
        ("https://evil.example/", "/"),
    ],
    ids=["local", "scheme-relative", "backslash", "absolute"],
)
def test_sign_in_page_only_returns_to_local_pages(
    console: Console, target: str, expected: str
) -> None:
    page = client(console).get("/login", params={"next": target})
    assert f'data-next="{expected}"' in page.text


def test_unreadable_password_file_is_503_and_ends_sessions(console: Console) -> None:
    http = client(console)
    login(http, "duty-officer")
    console.passwords.path.write_text("not json", encoding="utf-8")
    assert http.get("/api/incidents").status_code == 401
    response = http.post("/api/login", json={"person": "duty-officer", "password": PASSWORD})
    assert response.status_code == 503
    assert "not json" not in response.text
