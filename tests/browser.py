"""Headless Chromium driven by Selenium: Debian's /usr/bin/chromium and chromedriver, nothing downloaded.

with chromium(tmp_path) as driver:
    driver.get("http://127.0.0.1:…/")
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.requirements import require_binary

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--window-size=1366,768",
    "--lang=zh-CN",
)


@contextlib.contextmanager
def chromium(scratch: Path) -> Iterator[Any]:
    """A fresh browser profile under `scratch`; the browser and its driver are stopped on exit."""
    binary = require_binary("chromium")
    driver_path = require_binary("chromedriver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in FLAGS:
        options.add_argument(flag)
    profile = scratch / "chromium-profile"
    profile.mkdir(parents=True, exist_ok=True)
    options.add_argument(f"--user-data-dir={profile}")
    service = Service(executable_path=driver_path, log_output=str(scratch / "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    try:
        driver.set_page_load_timeout(30)
        yield driver
    finally:
        driver.quit()
