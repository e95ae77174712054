"""Secrets out of printed text: secret-looking keys, masked URLs, the log scrubber."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from monitor.config import load_config
from monitor.config.masking import looks_secret, mask_text, secret_values
from monitor.runtime.logs import remember_secrets, setup_logging
from tests.paths import SHIPPED_CONFIG


@pytest.mark.parametrize(
    "key",
    ["password", "pasword", "passwd", "pwd", "secret_key", "secert", "token", "community",
     "auth_key", "privkey", "api_key", "access_key"],
)  # fmt: skip
def test_secret_looking_keys(key: str) -> None:
    assert looks_secret(key)


@pytest.mark.parametrize("key", ["interval", "host", "url", "username", "sender", "street"])
def test_ordinary_keys(key: str) -> None:
    assert not looks_secret(key)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("postgres://cw:PW1@db/x", "postgres://cw:<secret>@db/x"),
        ("GET http://k/cgi?username=u&password=p%40ss&to=1", "GET http://k/cgi?username=u&password=<secret>&to=1"),
        ("https://oapi.dingtalk.com/robot/send?access_token=abc123", "https://oapi.dingtalk.com/robot/send?access_token=<secret>"),
        ("sqlite:///var/lib/commwatch.db", "sqlite:///var/lib/commwatch.db"),
    ],
)  # fmt: skip
def test_mask_text(text: str, masked: str) -> None:
    assert mask_text(text) == masked


def test_secret_values_of_the_shipped_config() -> None:
    assert "public" in secret_values(load_config(SHIPPED_CONFIG).daemon)


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    out = io.StringIO()
    setup_logging("kv", "debug", stream=out)
    yield out
    setup_logging("kv", "info")


def test_remembered_secrets_are_scrubbed_from_any_logger(stream: io.StringIO) -> None:
    remember_secrets({"S3cret/value+1"})
    logging.getLogger("some.library").warning(
        "sent %s", "x?u=S3cret%2Fvalue%2B1 and S3cret/value+1"
    )
    line = stream.getvalue()
    assert "S3cret" not in line
    assert line.count("<secret>") == 2


def test_third_party_request_logs_are_quiet(stream: io.StringIO) -> None:
    logging.getLogger("httpx").info("HTTP Request: GET http://k/?password=x")
    logging.getLogger("pysnmp").debug("trace")
    assert stream.getvalue() == ""
