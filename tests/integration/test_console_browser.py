"""The duty console in a real browser (headless Chromium via Selenium) against a real daemon.

The daemon runs in the lab's monitor namespace and probes a host inside the
lab; the browser reaches the console through a forwarder on the host's
loopback (tests/forward.py). A whole 情形3 event is worked in the browser,
from detection to the final report, every step under the signed-in person:
the node taken down appears on the board without a reload; the duty officer
confirms it, records a phone report, and is refused Ⅰ级 with the clause; the
副总指挥 issues the warning and starts Ⅱ级; the duty officer says 收到 for
the own unit (and is refused someone else's, with the clause), records a
call, submits the brief report (which prints); an email's 收到 link lands on
the console; a 保障期 is entered and ended; the node recovers; the 副总指挥
ends the response and lifts the warning; the duty officer closes the incident
and completes the §5 report, which prints and downloads.
Screenshots go to tmp_path, or to $COMMWATCH_SCREENSHOTS (docs/guide) when set:
    COMMWATCH_SCREENSHOTS=docs/guide .venv/bin/python -m pytest tests/integration/test_console_browser.py
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.browser import chromium
from tests.daemon_harness import ROOT, DaemonProcess, daemon_toml, free_port, make_config
from tests.forward import Forwarder
from tests.netns import netns_lab

PASSWORD = "值班演练-password-1"
NODES = """
[[system]]
id = "portal"
name = "区政府门户网站"
kind = "key_system"
unit = "区政府办公室"

[[node]]
id = "portal-web"
name = "门户网站服务器"
system = "portal"
address = "{a0}"
critical = true
street = "东街街道办事处"
"""


def _passwd(config: Path, person: str) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "monitor",
            "user",
            "passwd",
            person,
            "--password-stdin",
            "-c",
            str(config),
        ],
        cwd=ROOT,
        input=PASSWORD + "\n",
        text=True,
        capture_output=True,
        timeout=60,
        check=True,
    )


def _wait(driver: Any, what: str, check: Any, timeout: float = 20.0) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.2).until(lambda d: check(d))
    except Exception as exc:
        raise AssertionError(
            f"browser: timed out waiting for {what}\n{driver.page_source[:3000]}"
        ) from exc


def _sign_in(driver: Any, base: str, person: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.get(base + "/")
    _wait(driver, "the sign-in page", lambda d: "/login" in d.current_url)
    driver.find_element(By.ID, "person").send_keys(person)
    driver.find_element(By.ID, "password").send_keys(PASSWORD + Keys.ENTER)  # keyboard only
    _wait(driver, "the board", lambda d: d.find_elements(By.ID, "assessment-h"))


def _sign_out(driver: Any) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "logout").click()
    _wait(driver, "signed out", lambda d: "/login" in d.current_url)


def _message(driver: Any) -> str:
    """The alert line at the top of the page (empty while hidden)."""
    return text(driver, "#message:not([hidden])")


def text(driver: Any, css: str) -> str:
    """An element's text, read in one step (live parts are replaced while the test reads)."""
    found = driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.textContent : '';", css
    )
    return str(found)


def portal(driver: Any) -> str:
    """The portal system's row on the board."""
    return text(driver, '#key-systems tr[data-id="portal"]')


def _shots() -> Path | None:
    target = os.environ.get("COMMWATCH_SCREENSHOTS")
    return Path(target) if target else None


SHOTS = (
    "console-board.png",
    "console-incident.png",
    "console-acks.png",
    "console-ack-link.png",
    "console-windows.png",
    "console-report.png",
)
ACTORS = {  # timeline event → who must be recorded (the signed-in person)
    "confirmed": "duty-officer",
    "information": "duty-officer",
    "warning_issued": "deputy-miit",
    "response_started": "deputy-miit",
    "called": "duty-officer",
    "report_submitted": "duty-officer",
    "response_ended": "deputy-miit",
    "warning_lifted": "deputy-miit",
    "closed": "duty-officer",
    "report_edited": "duty-officer",
}


def _act(driver: Any, form_id: str, expect: str = "已完成", **values: str) -> str:
    """Fill a form's fields, press its button, wait for the message line; returns it.

    Live parts are replaced when the feed announces a change: a form found a
    moment ago may be gone, so filling starts over (a bounded number of times).
    """
    from selenium.common.exceptions import (
        ElementNotInteractableException,
        StaleElementReferenceException,
    )
    from selenium.webdriver.common.by import By

    driver.execute_script("const m = document.getElementById('message'); if (m) m.hidden = true;")
    visible = "const f = document.getElementById(arguments[0]); return !!f && !!f.offsetParent;"
    for attempt in range(5):
        _wait(driver, f"the form #{form_id} shown", lambda d: d.execute_script(visible, form_id))
        try:
            form = driver.find_element(By.ID, form_id)
            for name, value in values.items():
                field = form.find_element(By.NAME, name)
                field.clear()
                field.send_keys(value)
            form.find_element(By.TAG_NAME, "button").click()
            break
        except (StaleElementReferenceException, ElementNotInteractableException):
            if attempt == 4:
                raise
            time.sleep(0.2)
    return str(
        _wait(driver, f"{form_id}: {expect}", lambda d: expect in _message(d) and _message(d))
    )


def _reloaded(driver: Any, what: str, check: Any) -> None:
    """Pages without a live part reload after an action: wait until `check` holds."""
    _wait(driver, what, check)


def _json(driver: Any, url: str) -> Any:
    from selenium.webdriver.common.by import By

    driver.get(url)
    return json.loads(driver.find_element(By.TAG_NAME, "pre").text)


def _email_link(outbox: Path, taken: set[str]) -> str | None:
    """The path of a 收到 link in a notice email written by the file notifier (not yet used)."""
    for path in sorted(outbox.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        part = message.get_body(("plain",))  # type: ignore[attr-defined]
        found = re.search(r"https?://[^/\s]+(/ack/\S+)", part.get_content() if part else "")
        if found and found.group(1) not in taken:
            return found.group(1)
    return None


def test_a_whole_scenario3_event_in_the_browser(tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    with netns_lab(hosts=1) as lab:
        metrics_port, console_port = free_port(), free_port()
        outbox = tmp_path / "outbox"
        extra = (
            f'\n[[notifier]]\nname = "outbox"\ntype = "file"\ndirectory = "{outbox}"\n'
            '\n[receiver]\ntoken = "browser-link-secret-0123"\n'  # the links' key; receiver off
            '\n[calls]\nwithin = "10m"\n'
        )
        console = (
            f'listen = "127.0.0.1:{console_port}"\nstate_dir = "{tmp_path}/state"\n'
            'public_url = "https://duty.example.org"'
        )
        config = make_config(
            tmp_path / "config",
            daemon_toml(
                f"sqlite:///{tmp_path}/cw.db",
                metrics_port,
                fail_after=2,
                extra=extra,
                console=console,
            ),
            NODES.format(a0=lab.addresses[0]),
        )
        for person in ("duty-officer", "deputy-miit"):
            _passwd(config, person)
        daemon = DaemonProcess(config, metrics_port, tmp_path / "daemon.log", netns=lab.monitor_ns)

        def sample(name: str, labels: str = "") -> float | None:
            return lab.call_in(lab.monitor_ns, daemon.sample, name, labels)

        def upstream() -> socket.socket:
            return lab.call_in(
                lab.monitor_ns, socket.create_connection, ("127.0.0.1", console_port), 5
            )

        shots = tmp_path / "shots"
        shots.mkdir()
        try:
            daemon.wait_for("node UP", lambda: sample("commwatch_nodes", 'state="UP"') == 1.0)
            with Forwarder(upstream) as forward, chromium(tmp_path) as driver:
                base = f"http://127.0.0.1:{forward.port}"
                fits = "return document.documentElement.scrollWidth <= window.innerWidth"

                # 1–2. detection: the duty officer sees the outage arrive without a reload
                _sign_in(driver, base, "duty-officer")
                assert "正常" in portal(driver)
                driver.execute_script("window.__sameDocument = 'yes';")
                lab.link_down(0)  # the node goes down in its namespace
                _wait(driver, "the outage on the board", lambda d: "中断" in portal(d), timeout=30)
                _wait(
                    driver,
                    "the open incident",
                    lambda d: d.find_elements(By.CSS_SELECTOR, "#open-incidents a"),
                )
                assert driver.execute_script("return window.__sameDocument") == "yes"  # no reload
                assert "情形3" in text(driver, "#scenario")
                assert driver.execute_script(fits)  # no sideways scrolling at 1366×768
                driver.save_screenshot(str(shots / "console-board.png"))

                link = driver.execute_script(
                    "return document.querySelector('#open-incidents a').href"
                )
                incident_id = int(link.rstrip("/").rsplit("/", 1)[1])
                driver.get(link)
                _wait(driver, "the incident page", lambda d: d.find_elements(By.ID, "timeline"))
                incident_url = driver.current_url

                # 3. confirm, by keyboard
                form = driver.find_element(By.ID, "a-confirm")
                form.find_element(By.NAME, "note").send_keys("电话核实：门户网站中断" + Keys.ENTER)
                _wait(driver, "confirmed", lambda d: "已确认" in text(d, "#incident-status"))
                assert "指挥部办公室值班员（duty-officer）" in text(driver, "#timeline")

                # 4. a phone report from the unit
                _act(driver, "a-information", text="区政府办公室电话：门户网站无法访问")
                _wait(driver, "the report", lambda d: "门户网站无法访问" in text(d, "#timeline"))

                # 5. Ⅰ级 is the 总指挥's: refused with the clause, nothing recorded
                driver.find_element(By.CSS_SELECTOR, "details.refused summary").click()
                refused = driver.find_element(By.ID, "a-response-start-I")
                assert "§4.3.1" in refused.text  # shown before trying
                refused.find_element(By.TAG_NAME, "button").click()
                _wait(driver, "the refusal", lambda d: "§4.3.1" in _message(d))
                assert "总指挥" in _message(driver)
                assert driver.execute_script(fits)
                driver.execute_script("window.scrollTo(0, 0);")
                driver.save_screenshot(str(shots / "console-incident.png"))
                _sign_out(driver)

                # 6. the 副总指挥 issues the warning and starts Ⅱ级
                _sign_in(driver, base, "deputy-miit")
                driver.get(incident_url)
                _act(driver, "a-warning-issue", note="发布情形3预警")
                _wait(
                    driver,
                    "the warning",
                    lambda d: "情形3，区工信局局长" in text(d, "#incident-warning"),
                )
                _act(driver, "a-response-start-II", note="启动Ⅱ级应急响应")
                _wait(driver, "the response", lambda d: "Ⅱ级" in text(d, "#incident-response"))
                _sign_out(driver)

                # 7. the duty officer: 收到 for the own unit, refused for another, a call
                _sign_in(driver, base, "duty-officer")
                driver.get(incident_url)
                rows = _wait(
                    driver,
                    "deliveries to acknowledge",
                    lambda d: d.execute_script(
                        "return [...document.querySelectorAll('#deliveries tr[data-delivery]')]"
                        ".filter(r => r.querySelector('form'))"
                        ".map(r => [r.dataset.delivery, !!r.querySelector('.refusal')])"
                    ),
                    timeout=30,
                )
                mine = next(r[0] for r in rows if not r[1])  # to 区工信局 or duty-officer
                other = next(r[0] for r in rows if r[1])
                refusal = _act(driver, f"ack-{other}", expect="拒绝")
                assert "只能为本人或本单位" in refusal
                assert "§4.2" in refusal
                _act(driver, f"ack-{mine}")
                _wait(
                    driver,
                    "收到 recorded",
                    lambda d: "已确认收到" in text(d, f'#deliveries tr[data-delivery="{mine}"]'),
                )
                call = _wait(  # the id in one script: a live refresh may replace the form
                    driver,
                    "a call task",
                    lambda d: d.execute_script(
                        "const f = document.querySelector('#calls form.action');"
                        "return f ? f.id : null;"
                    ),
                    timeout=30,
                )
                _act(driver, call, answered_by="移动公司值班员", outcome="已传达预警")
                _wait(driver, "the call", lambda d: "已传达预警" in text(d, "#calls"))
                driver.execute_script(
                    "document.getElementById('calls-h').scrollIntoView({block: 'center'});"
                )
                driver.save_screenshot(str(shots / "console-acks.png"))

                # 8. the brief report: submitted, printed
                driver.get(incident_url.rstrip("/") + "/report/brief")
                _wait(driver, "the brief report", lambda d: "书面简要报告" in text(d, "#document"))
                _act(driver, "report-submit", note="已传真区政府总值班室")
                _reloaded(driver, "submitted", lambda d: "已于" in text(d, ".report-edit"))
                driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
                assert not driver.find_element(By.CSS_SELECTOR, ".toolbar").is_displayed()
                assert not driver.find_element(By.CSS_SELECTOR, ".report-edit").is_displayed()
                assert not driver.find_element(By.CSS_SELECTOR, "header.top").is_displayed()
                driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
                from selenium.webdriver.common.print_page_options import PrintOptions

                pdf = base64.b64decode(driver.print_page(PrintOptions()))
                assert pdf.startswith(b"%PDF")
                (shots / "brief.pdf").write_bytes(pdf)
                assert len(pdf) > 10_000

                # 9. an email's 收到 link lands on the console: GET shows, POST acknowledges
                path = _wait(driver, "an email with a link", lambda d: _email_link(outbox, set()))
                driver.get(base + path)
                _wait(driver, "the link page", lambda d: d.find_elements(By.ID, "ack-form"))
                recipient = text(driver, "#ack-recipient")
                driver.save_screenshot(str(shots / "console-ack-link.png"))
                driver.find_element(By.ID, "ack-button").click()
                _wait(driver, "acknowledged", lambda d: "已确认收到" in text(d, "#ack-result"))
                driver.get(base + path)
                assert "已使用" in text(driver, "#ack-result")  # one use only

                # 10. a maintenance window and a 保障期, entered and ended
                driver.get(base + "/windows")
                times = (
                    "const f = document.getElementById(arguments[0]);"
                    "f.start.value = '2026-03-01T08:00'; f.end.value = '2030-03-10T18:00';"
                )
                driver.execute_script(times, "add-window")
                _act(driver, "add-window", name="门户服务器换端口", nodes="portal-web")
                _reloaded(driver, "the window", lambda d: "门户服务器换端口" in text(d, "#windows"))
                driver.execute_script(times, "add-period")
                _act(driver, "add-period", name="区两会通信保障", systems="portal")
                _reloaded(driver, "the period", lambda d: "区两会通信保障" in text(d, "#windows"))
                driver.save_screenshot(str(shots / "console-windows.png"))
                for kind in ("period", "window"):
                    end = driver.find_element(
                        By.CSS_SELECTOR, f"#windows form[id^=end-{kind}-]"
                    ).get_attribute("id")
                    _act(driver, end)
                _reloaded(
                    driver, "both ended", lambda d: text(d, "#windows").count("提前结束") == 2
                )

                # 11. recovery; the 副总指挥 ends the response and lifts the warning
                lab.link_up(0)
                driver.get(incident_url)
                _wait(driver, "recovery", lambda d: "已恢复" in text(d, "#incident-status"), 40)
                _sign_out(driver)
                _sign_in(driver, base, "deputy-miit")
                driver.get(incident_url)
                _act(driver, "a-response-end", note="网络恢复，结束响应")
                _act(driver, "a-warning-lift", note="解除预警")
                _wait(driver, "lifted", lambda d: "解除" in text(d, "#incident-warning"))
                _sign_out(driver)

                # 12. the duty officer closes it and completes the §5 report
                _sign_in(driver, base, "duty-officer")
                driver.get(incident_url)
                _act(driver, "a-close", note="处置完毕")
                _wait(driver, "closed", lambda d: "关闭" in text(d, "#incident-status"))
                driver.get(incident_url.rstrip("/") + "/report/final")
                findings = {
                    "cause": "机房交换机端口故障，门户服务器失联",
                    "impact": "门户网站中断约数分钟",
                    "recovery": "更换端口后恢复",
                }
                for field, finding in findings.items():
                    driver.execute_script(
                        "document.querySelector('#report-field-' + arguments[0] + ' textarea')"
                        ".value = '';",
                        field,
                    )
                    _act(driver, f"report-field-{field}", text=finding)
                    _reloaded(driver, field, lambda d, f=finding: f in text(d, "#document"))
                driver.execute_script("document.getElementById('report-edit-h').scrollIntoView();")
                driver.save_screenshot(str(shots / "console-report.png"))
                pdf = base64.b64decode(driver.print_page(PrintOptions()))
                assert pdf.startswith(b"%PDF")
                (shots / "final.pdf").write_bytes(pdf)
                download = driver.execute_async_script(
                    "fetch(arguments[0]).then(r => r.text().then(t => arguments[1]"
                    "([r.status, r.headers.get('content-disposition'), t])));",
                    incident_url.rstrip("/") + "/report/final.txt",
                )
                assert download[0] == 200
                assert "attachment" in download[1]
                assert all(f in download[2] for f in findings.values())

                # every step under the person who was signed in
                detail = _json(driver, f"{base}/api/incidents/{incident_id}")
                events = [(e["kind"], e["actor"]) for e in detail["events"]]
                for kind, actor in events:
                    if kind in ACTORS:
                        assert actor == ACTORS[kind], (kind, actor, events)
                assert set(ACTORS) <= {k for k, _ in events}, events
                acks = [e for e in detail["events"] if e["kind"] == "acknowledged"]
                means = {(e["actor"], e["data"]["means"]) for e in acks}
                assert ("duty-officer", "console") in means
                assert any(m == "email" for _, m in means), recipient
        finally:
            code = daemon.stop()
        assert code == 0, daemon.log()[-3000:]
    target = _shots()
    if target is not None:
        for name in SHOTS:
            shutil.copy(shots / name, target / name)
