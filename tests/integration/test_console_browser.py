"""The duty console in a real browser (headless Chromium via Selenium) against a real daemon.

The daemon runs in the lab's monitor namespace and probes a host inside the
lab; the browser reaches the console through a forwarder on the host's
loopback (tests/forward.py). A 情形3 event is worked in the browser: sign
in; the node taken down appears on the board without a reload; the duty
officer confirms it and is refused Ⅰ级 with the clause; the 副总指挥 issues
the warning; the brief report prints (PDF via the print stylesheet).
Screenshots go to tmp_path, or to $COMMWATCH_SCREENSHOTS (docs/guide) when set.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import sys
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


def test_a_scenario3_event_in_the_browser(tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    with netns_lab(hosts=1) as lab:
        metrics_port, console_port = free_port(), free_port()
        outbox = tmp_path / "outbox"
        extra = f'\n[[notifier]]\nname = "outbox"\ntype = "file"\ndirectory = "{outbox}"\n'
        console = f'listen = "127.0.0.1:{console_port}"\nstate_dir = "{tmp_path}/state"'
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
                fits = "return document.documentElement.scrollWidth <= window.innerWidth"
                assert driver.execute_script(fits)  # no sideways scrolling at 1366×768
                driver.save_screenshot(str(shots / "console-board.png"))

                link = driver.execute_script(
                    "return document.querySelector('#open-incidents a').href"
                )
                driver.get(link)
                _wait(driver, "the incident page", lambda d: d.find_elements(By.ID, "timeline"))
                incident_url = driver.current_url
                form = driver.find_element(By.ID, "a-confirm")
                note = form.find_element(By.NAME, "note")
                note.send_keys("电话核实：门户网站中断" + Keys.ENTER)  # by keyboard
                _wait(
                    driver,
                    "confirmed",
                    lambda d: "已确认" in text(d, "#incident-status"),
                )
                assert "指挥部办公室值班员（duty-officer）" in text(driver, "#timeline")

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

                _sign_in(driver, base, "deputy-miit")
                driver.get(incident_url)
                form = _wait(
                    driver, "the warning form", lambda d: d.find_elements(By.ID, "a-warning-issue")
                )[0]
                form.find_element(By.NAME, "note").send_keys("发布情形3预警")
                form.find_element(By.TAG_NAME, "button").click()
                _wait(
                    driver,
                    "the warning",
                    lambda d: "情形3，区工信局局长" in text(d, "#incident-warning"),
                )
                assert "发布预警" in text(driver, "#timeline")

                driver.get(incident_url.rstrip("/") + "/report/brief")
                _wait(
                    driver,
                    "the brief report",
                    lambda d: "书面简要报告" in text(d, "#document"),
                )
                driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
                assert not driver.find_element(By.CSS_SELECTOR, ".toolbar").is_displayed()
                assert not driver.find_element(By.CSS_SELECTOR, "header.top").is_displayed()
                driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
                from selenium.webdriver.common.print_page_options import PrintOptions

                pdf = base64.b64decode(driver.print_page(PrintOptions()))
                assert pdf.startswith(b"%PDF")
                (shots / "brief.pdf").write_bytes(pdf)
                assert len(pdf) > 10_000
        finally:
            code = daemon.stop()
        assert code == 0, daemon.log()[-3000:]
    target = _shots()
    if target is not None:
        for name in ("console-board.png", "console-incident.png"):
            shutil.copy(shots / name, target / name)
