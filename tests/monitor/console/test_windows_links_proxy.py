"""保障期 in the console, email 收到 links landing on the console, and trusted reverse proxies."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from dispatch.ack_links import landing_url
from dispatch.states import notice_lines
from monitor.config import Config
from monitor.config.errors import ConfigError
from monitor.console.context import Console
from monitor.incidents.notices import NoticeKind
from tests.conftest import Db
from tests.dispatch.followup_support import open_incident, rows, send_notice
from tests.dispatch.support import ONE_OPERATOR, T0, base_toml, load, write_config
from tests.monitor.console.follow_support import follow_config, follow_console
from tests.monitor.console.support import PASSWORD, client, login, make_console

RECEIVER = '\n[receiver]\ntoken = "link-secret-0123456789"\n'
PUBLIC = "https://duty.example.org"


def _post(http: Any, path: str, token: str | None, body: dict[str, Any] | None = None) -> Any:
    headers = {"X-CSRF-Token": token} if token is not None else {}
    return http.post(path, json=body or {}, headers=headers)


# -- 保障期 ---------------------------------------------------------------------------


def test_guarantee_periods_added_and_ended_in_the_console(tmp_path: Path, db: Db) -> None:
    console = follow_console(tmp_path, db)
    http = client(console)
    body = {"name": "区两会", "start": "2026-12-01T08:00", "end": "2030-12-31T18:00"}
    assert _post(http, "/api/guarantees", "x", body).status_code == 401
    assert http.get("/api/guarantees").status_code == 401
    token = login(http, "duty-officer")
    assert _post(http, "/api/guarantees", None, body).status_code == 403
    assert _post(http, "/api/guarantees", token, {**body, "by": "commander"}).status_code == 403
    assert _post(http, "/api/guarantees", token, {**body, "start": "昨天"}).status_code == 400
    assert _post(http, "/api/guarantees", token, {**body, "room": "1"}).status_code == 400
    backwards = _post(http, "/api/guarantees", token, {**body, "end": "2026-11-30T08:00"})
    assert backwards.status_code == 403
    assert "§3.1.2 (4)" in backwards.json()["error"]
    unknown = _post(http, "/api/guarantees", token, {**body, "systems": ["nope"]})
    assert unknown.status_code == 403
    assert "nope" in unknown.json()["error"]
    liaison = client(console)
    refused = _post(liaison, "/api/guarantees", login(liaison, "liaison"), body)
    assert refused.status_code == 403
    assert "§4.2 (2)" in refused.json()["error"]

    added = _post(http, "/api/guarantees", token, {**body, "systems": "portal"})
    assert added.status_code == 201, added.text
    period = added.json()
    assert period["by"] == "指挥部办公室值班员"
    assert period["systems"] == ["portal"]
    assert period["start"] == "2026-12-01T00:00:00+00:00"  # no offset: [dispatch] timezone
    assert [p["id"] for p in http.get("/api/guarantees").json()] == [period["id"]]
    page = http.get("/windows")
    assert "区两会" in page.text
    assert f'id="end-period-{period["id"]}"' in page.text

    end = f"/api/guarantees/{period['id']}/end"
    assert _post(http, end, None).status_code == 403
    ended = _post(http, end, token)
    assert ended.status_code == 200
    assert ended.json()["ended_at"] is not None
    stored = console.incidents().guarantees()[0]
    assert (stored.created_by, stored.ended_by) == ("duty-officer", "duty-officer")
    twice = _post(http, end, token)
    assert twice.status_code == 403
    assert "§3.1.2 (4)" in twice.json()["error"]


def test_maintenance_windows_added_and_ended_in_the_console(tmp_path: Path, db: Db) -> None:
    console = follow_console(tmp_path, db)
    node = next(iter(console.config().nodes))
    http = client(console)
    body = {"name": "核心割接", "start": "2026-12-01T01:00", "end": "2030-12-01T05:00"}
    assert _post(http, "/api/maintenance", "x", {**body, "nodes": [node]}).status_code == 401
    assert http.get("/api/maintenance").status_code == 401
    token = login(http, "duty-officer")
    assert _post(http, "/api/maintenance", None, {**body, "nodes": [node]}).status_code == 403
    behalf = _post(http, "/api/maintenance", token, {**body, "nodes": [node], "by": "commander"})
    assert behalf.status_code == 403
    assert _post(http, "/api/maintenance", token, {**body, "nodes": 3}).status_code == 400
    empty = _post(http, "/api/maintenance", token, body)
    assert empty.status_code == 403
    assert "至少指定" in empty.json()["error"]
    liaison = client(console)
    refused = _post(
        liaison, "/api/maintenance", login(liaison, "liaison"), {**body, "nodes": [node]}
    )
    assert refused.status_code == 403
    assert "§4.2 (2)" in refused.json()["error"]

    added = _post(
        http, "/api/maintenance", token, {**body, "nodes": node, "streets": "东街街道办事处"}
    )
    assert added.status_code == 201, added.text
    window = added.json()
    assert (window["nodes"], window["by"]) == ([node], "指挥部办公室值班员")
    assert [w["id"] for w in http.get("/api/maintenance").json()] == [window["id"]]
    page = http.get("/windows")
    assert "核心割接" in page.text
    assert f'id="end-window-{window["id"]}"' in page.text

    end = f"/api/maintenance/{window['id']}/end"
    assert _post(http, end, None).status_code == 403
    ended = _post(http, end, token)
    assert ended.status_code == 200
    assert ended.json()["ended_at"] is not None
    twice = _post(http, end, token)
    assert twice.status_code == 403
    assert "已结束" in twice.json()["error"]


# -- 收到 links -----------------------------------------------------------------------


def _linked(tmp_path: Path, db: Db) -> tuple[Console, int, str]:
    console = follow_console(tmp_path, db, RECEIVER, public_url=PUBLIC)
    console.clock = lambda: T0 + timedelta(minutes=1)
    incident = open_incident(console.engine, console.config())
    send_notice(console.engine, console.config(), NoticeKind.DETECTION, incident, ONE_OPERATOR)
    mail = next(
        r for r in rows(console.engine)
        if r["channel"] == "email" and r["recipient_key"] == "person:duty-officer"
    )  # fmt: skip
    found = re.search(r"https://duty\.example\.org/ack/(\S+)", str(mail["body"]))
    assert found, "the email's link lands on the console's public_url"
    return console, int(str(mail["id"])), found.group(1)


def test_email_links_land_on_the_console(tmp_path: Path, db: Db) -> None:
    console, delivery, link = _linked(tmp_path, db)
    http = client(console)  # no sign-in: the reader of an email
    shown = http.get(f"/ack/{link}")
    assert shown.status_code == 200
    assert "指挥部办公室值班员" in shown.text
    assert 'id="ack-form"' in shown.text
    assert http.get(f"/ack/{link}").status_code == 200  # a mail scanner's fetch: nothing happens
    line = notice_lines(console.engine, console.config().daemon.notifier, delivery_id=delivery)
    assert line[0].state != "acknowledged"

    foreign = http.post(f"/ack/{link}", headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403
    done = http.post(f"/ack/{link}")
    assert done.status_code == 200
    assert "已确认收到" in done.text
    line = notice_lines(console.engine, console.config().daemon.notifier, delivery_id=delivery)
    assert (line[0].state, line[0].ack_means) == ("acknowledged", "email")
    used = http.post(f"/ack/{link}")
    assert used.status_code == 410
    assert "已使用" in used.text
    assert http.get(f"/ack/{link}").status_code == 410

    body, _, mac = link.partition(".")
    forged = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1] + "." + mac
    assert http.get(f"/ack/{forged}").status_code == 410
    assert http.post(f"/ack/{forged}").status_code == 410
    assert http.post("/ack/garbage").status_code == 410


def test_without_the_link_key_there_is_no_ack_page(tmp_path: Path) -> None:
    console = make_console(tmp_path)
    assert client(console).get("/ack/anything").status_code == 404


def test_links_land_on_the_receiver_without_a_console_url(tmp_path: Path) -> None:
    receiver = '[receiver]\nenabled = true\npublic_url = "http://192.0.2.5:9812/"'
    toml = base_toml(tmp_path / "cw.db", RECEIVER.replace("[receiver]", receiver))
    config = load(write_config(tmp_path / "c", toml))
    assert landing_url(config) == "http://192.0.2.5:9812"

    def with_console(**settings: object) -> Config:
        console = config.daemon.console.model_copy(update=settings)
        daemon = config.daemon.model_copy(update={"console": console})
        return Config(config.directory, daemon, config.plan, config.contacts, config.inventory)

    assert landing_url(with_console(public_url=PUBLIC)) == PUBLIC
    assert landing_url(with_console(public_url=PUBLIC, enabled=False)) == "http://192.0.2.5:9812"


# -- reverse proxies --------------------------------------------------------------------


def _login(http: Any, person: str, password: str, via: str | None = None, **headers: str) -> Any:
    if via is not None:
        headers["X-Forwarded-For"] = via
    return http.post("/api/login", json={"person": person, "password": password}, headers=headers)


def test_login_limits_count_the_real_client_behind_a_trusted_proxy(tmp_path: Path) -> None:
    from tests.monitor.console.support import console_config

    config = console_config(tmp_path, trusted_proxies=["127.0.0.1"], address_failures=3)
    console = make_console(tmp_path, config=config)
    proxy = client(console, peer="127.0.0.1")
    for n in range(3):  # three people's wrong passwords from one client behind the proxy
        assert _login(proxy, f"p{n}", "wrong-wrong", "198.51.100.7, 203.0.113.9").status_code == 401
    # the proxy appends whom it saw (203.0.113.9); the left end is only the client's say
    assert _login(proxy, "duty-officer", PASSWORD, "203.0.113.9").status_code == 429
    assert _login(proxy, "duty-officer", PASSWORD, "203.0.113.8").status_code == 200

    direct = client(console)  # "testclient": not a trusted proxy, its X-Forwarded-For is ignored
    for n in range(3):
        assert _login(direct, f"q{n}", "wrong-wrong", "203.0.113.11").status_code == 401
    assert _login(direct, "duty-officer", PASSWORD, "203.0.113.12").status_code == 429


def test_secure_cookie_when_a_trusted_proxy_says_https(tmp_path: Path) -> None:
    from tests.monitor.console.support import console_config

    config = console_config(tmp_path, trusted_proxies=["127.0.0.0/8"])
    console = make_console(tmp_path, config=config)
    proxied = client(console, peer="127.0.0.1")
    https = _login(proxied, "duty-officer", PASSWORD, **{"X-Forwarded-Proto": "https"})
    assert "secure" in https.headers["set-cookie"].lower()
    plain = _login(proxied, "duty-officer", PASSWORD)
    assert "secure" not in plain.headers["set-cookie"].lower()
    spoofed = _login(client(console), "duty-officer", PASSWORD, **{"X-Forwarded-Proto": "https"})
    assert "secure" not in spoofed.headers["set-cookie"].lower()  # not from a trusted proxy


@pytest.mark.parametrize("value", ['["localhost"]', '["192.0.2.0/33"]', '"127.0.0.1"'])
def test_trusted_proxies_are_validated(tmp_path: Path, value: str) -> None:
    toml = base_toml(tmp_path / "cw.db") + f"\n[console]\ntrusted_proxies = {value}\n"
    with pytest.raises(ConfigError) as caught:
        load(write_config(tmp_path / "c", toml))
    text = str(caught.value)
    assert "commwatch.toml" in text
    assert "trusted_proxies" in text


def test_public_url_is_validated(tmp_path: Path) -> None:
    toml = base_toml(tmp_path / "cw.db") + '\n[console]\npublic_url = "duty.example.org"\n'
    with pytest.raises(ConfigError, match="public_url"):
        load(write_config(tmp_path / "c", toml))


def test_follow_config_is_loadable(tmp_path: Path) -> None:
    assert "liaison" in follow_config(tmp_path).people
