"""The console served by uvicorn for real: HTTPS with a trustme certificate, headers, SSE, stop, bind errors."""

from __future__ import annotations

import asyncio
import ssl
import time
from pathlib import Path

import httpx
import pytest
import trustme

from monitor.config import Config
from monitor.console.server import ConsoleServer
from tests.daemon_harness import free_port
from tests.monitor.console.support import PASSWORD, make_console


def _tls_console(tmp_path: Path, ca: trustme.CA, port: int) -> ConsoleServer:
    tmp_path.mkdir(parents=True, exist_ok=True)
    cert = ca.issue_cert("127.0.0.1")
    chain, key = tmp_path / "console.crt", tmp_path / "console.key"
    cert.private_key_and_cert_chain_pem.write_to_path(str(chain))
    cert.private_key_pem.write_to_path(str(key))
    console = make_console(tmp_path)
    base = console.config()
    settings = base.daemon.console.model_copy(
        update={"listen": f"127.0.0.1:{port}", "tls_cert": chain, "tls_key": key}
    )
    config = Config(
        base.directory,
        base.daemon.model_copy(update={"console": settings}),
        base.plan,
        base.contacts,
        base.inventory,
    )
    console.config = lambda: config
    console.secure = True
    return ConsoleServer(console)


async def test_https_headers_secure_cookie_and_a_prompt_stop(tmp_path: Path) -> None:
    ca = trustme.CA()
    port = free_port()
    server = _tls_console(tmp_path, ca, port)
    await server.start()
    context = ssl.create_default_context()
    ca.configure_trust(context)
    base = f"https://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(verify=context, base_url=base, timeout=10) as http:
            page = await http.get("/login")
            assert page.status_code == 200
            assert "default-src 'self'" in page.headers["content-security-policy"]
            assert page.headers["strict-transport-security"].startswith("max-age=")
            assert page.headers["x-frame-options"] == "DENY"
            login = await http.post(
                "/api/login", json={"person": "commander", "password": PASSWORD}
            )
            assert login.status_code == 200
            assert "secure" in login.headers["set-cookie"].lower()
            async with http.stream("GET", "/events") as stream:
                assert stream.headers["content-type"].startswith("text/event-stream")
                first = await anext(stream.aiter_lines())
                assert first.startswith("retry:")
                started = time.monotonic()
                await asyncio.wait_for(server.stop(), 10)
                assert time.monotonic() - started < 5  # an open stream does not hold the stop
    finally:
        await server.stop()


async def test_a_taken_port_is_an_oserror(tmp_path: Path) -> None:
    ca = trustme.CA()
    port = free_port()
    first = _tls_console(tmp_path / "a", ca, port)
    await first.start()
    try:
        second = _tls_console(tmp_path / "b", ca, port)
        with pytest.raises(OSError, match="cannot listen"):
            await second.start()
    finally:
        await first.stop()


async def test_a_missing_certificate_is_an_oserror(tmp_path: Path) -> None:
    server = _tls_console(tmp_path, trustme.CA(), free_port())
    server.settings.tls_cert.unlink()  # type: ignore[union-attr]
    server.options.ssl_certfile = str(server.settings.tls_cert)
    with pytest.raises(OSError, match="cannot listen"):
        await server.start()
