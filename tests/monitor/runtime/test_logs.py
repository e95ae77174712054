"""monitor.runtime.logs: exact log lines in kv and JSON, journal priorities, redaction."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import sys
from collections.abc import Iterator
from datetime import UTC, timedelta, timezone
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from monitor.runtime.logs import (
    JsonFormatter,
    KvFormatter,
    RedactingFilter,
    is_journal,
    kv,
    setup_logging,
    syslog_priority,
)

CREATED = 1_778_313_600.25  # 2026-05-09T08:00:00.250Z


class Color(Enum):
    RED = "red"


def record(
    msg: str,
    *args: Any,
    level: int = logging.INFO,
    fields: dict[str, Any] | None = None,
    exc: bool = False,
) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("boom")
        except ValueError:
            exc_info = sys.exc_info()
    rec = logging.LogRecord("monitor.test", level, __file__, 1, msg, args or None, exc_info)
    rec.created = CREATED
    if fields is not None:
        rec.fields = fields
    return rec


def kv_line(rec: logging.LogRecord, journal: bool = False) -> str:
    RedactingFilter().filter(rec)
    return KvFormatter(journal=journal, tz=UTC).format(rec)


def json_line(rec: logging.LogRecord, journal: bool = False) -> str:
    RedactingFilter().filter(rec)
    return JsonFormatter(journal=journal, tz=UTC).format(rec)


KV_CASES = [
    (
        record("commwatch started", fields={"nodes": 18, "config": "/etc/commwatch"}),
        'ts=2026-05-09T08:00:00.250+00:00 level=info msg="commwatch started" nodes=18 '
        "config=/etc/commwatch logger=monitor.test",
    ),
    (
        record("probe round done", fields=kv(probe="icmp", nodes=12, seconds=0.125)["fields"]),
        'ts=2026-05-09T08:00:00.250+00:00 level=info msg="probe round done" probe=icmp nodes=12 '
        "seconds=0.125 logger=monitor.test",
    ),
    (
        record("节点状态变化", level=logging.WARNING, fields={"node": "cmcc-core-1", "to": "DOWN"}),
        "ts=2026-05-09T08:00:00.250+00:00 level=warning msg=节点状态变化 node=cmcc-core-1 "
        "to=DOWN logger=monitor.test",
    ),
    (
        record(
            "quoting",
            fields={
                "empty": "",
                "space": "a b",
                "quote": 'say "hi"',
                "eq": "a=b",
                "nl": "x\ny",
                "backslash": "C:\\x",
                "cjk_space": "东街　街道",
                "none": None,
                "yes": True,
                "list": ["a", 1],
                "enum": Color.RED,
                "delta": timedelta(seconds=1.5),
            },
        ),
        'ts=2026-05-09T08:00:00.250+00:00 level=info msg=quoting empty="" space="a b" '
        'quote="say \\"hi\\"" eq="a=b" nl="x\\ny" backslash="C:\\\\x" cjk_space="东街　街道" '
        'none=null yes=true list="[\\"a\\", 1]" enum=red delta=1.5 logger=monitor.test',
    ),
    (
        record("clash", fields={"msg": "m", "level": "l", "bad key!": 1}),
        "ts=2026-05-09T08:00:00.250+00:00 level=info msg=clash _msg=m _level=l bad_key_=1 "
        "logger=monitor.test",
    ),
    (
        record("%s of %d nodes", "3", 18),
        'ts=2026-05-09T08:00:00.250+00:00 level=info msg="3 of 18 nodes" logger=monitor.test',
    ),
]


@pytest.mark.parametrize(
    ("rec", "expected"),
    KV_CASES,
    ids=["started", "kv-helper", "chinese", "quoting", "reserved-keys", "percent-args"],
)
def test_kv_exact_line(rec: logging.LogRecord, expected: str) -> None:
    assert kv_line(rec) == expected


def test_json_exact_line() -> None:
    rec = record(
        "probe round done",
        fields=kv(probe="icmp", nodes=12, 名称="东街", nan=float("nan"))["fields"],
    )
    assert json_line(rec) == (
        '{"ts": "2026-05-09T08:00:00.250+00:00", "level": "info", "msg": "probe round done", '
        '"probe": "icmp", "nodes": 12, "名称": "东街", "nan": "nan", "logger": "monitor.test"}'
    )


@pytest.mark.parametrize(
    ("level", "priority", "name"),
    [
        (logging.DEBUG, 7, "debug"),
        (logging.INFO, 6, "info"),
        (logging.WARNING, 4, "warning"),
        (logging.ERROR, 3, "error"),
        (logging.CRITICAL, 2, "critical"),
        (logging.INFO + 5, 6, "info"),
        (5, 7, "debug"),
    ],
    ids=["debug", "info", "warning", "error", "critical", "between", "below-debug"],
)
def test_journal_prefix_and_no_timestamp(level: int, priority: int, name: str) -> None:
    assert syslog_priority(level) == priority
    rec = record("x", level=level, fields={"a": 1})
    assert kv_line(rec, journal=True) == f"<{priority}>level={name} msg=x a=1 logger=monitor.test"
    assert json_line(record("x", level=level), journal=True) == (
        f'<{priority}>{{"level": "{name}", "msg": "x", "logger": "monitor.test"}}'
    )


def test_timestamp_uses_given_zone() -> None:
    formatter = KvFormatter(tz=timezone(timedelta(hours=8)))
    assert formatter.format(record("x")).startswith("ts=2026-05-09T16:00:00.250+08:00 ")


def test_traceback_stays_on_one_line() -> None:
    line = kv_line(record("failed", level=logging.ERROR, exc=True), journal=True)
    assert "\n" not in line
    assert line.startswith('<3>level=error msg=failed logger=monitor.test exc="Traceback ')
    assert line.endswith('ValueError: boom"')
    event = json.loads(json_line(record("failed", exc=True)))
    assert event["exc"].startswith("Traceback (most recent call last):\n")
    assert event["exc"].endswith("ValueError: boom")


SECRET = "hunter2-s3cret"


@pytest.mark.parametrize(
    "fields",
    [
        {"password": SECRET},
        {"smtp_password": SECRET},
        {"community": SECRET},
        {"auth_key": SECRET},
        {"priv_key": SECRET},
        {"privKey": SECRET},
        {"secret": SECRET},
        {"secret_key": SECRET},
        {"token": SECRET},
        {"access_token": SECRET},
        {"api_key": SECRET},
        {"value": SecretStr(SECRET)},
        {"nested": {"password": SECRET, "host": "smtp"}},
        {"nested": [{"community": SECRET}]},
        {"list": [SecretStr(SECRET)]},
    ],
    ids=lambda f: "-".join(f),
)
@pytest.mark.parametrize("render", [kv_line, json_line], ids=["kv", "json"])
def test_secret_fields_never_printed(fields: dict[str, Any], render: Any) -> None:
    line = render(record("config loaded", fields=fields))
    assert SECRET not in line
    assert "<secret>" in line


def test_secret_field_exact() -> None:
    rec = record("smtp login", fields={"user": "ops", "password": SECRET, "port": 587})
    assert kv_line(rec, journal=True) == (
        '<6>level=info msg="smtp login" user=ops password=<secret> port=587 logger=monitor.test'
    )


def test_secret_percent_argument_redacted() -> None:
    rec = record("community is %s", SecretStr(SECRET))
    assert (
        kv_line(rec, journal=True)
        == '<6>level=info msg="community is <secret>" logger=monitor.test'
    )


@pytest.fixture
def root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    aps = logging.getLogger("apscheduler").level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("apscheduler").setLevel(aps)
    logging.captureWarnings(False)


@pytest.mark.usefixtures("root_logging")
def test_setup_logging_terminal_line() -> None:
    stream = io.StringIO()
    setup_logging("kv", "info", stream=stream)
    log = logging.getLogger("monitor.x")
    log.debug("hidden")
    log.info("probe round done", extra=kv(probe="icmp", nodes=12))
    line = stream.getvalue()
    assert re.fullmatch(
        r"ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d level=info "
        r'msg="probe round done" probe=icmp nodes=12 logger=monitor.x\n',
        line,
    ), line


@pytest.mark.usefixtures("root_logging")
def test_setup_logging_journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with (tmp_path / "journal").open("w", encoding="utf-8") as stream:
        info = os.fstat(stream.fileno())
        monkeypatch.setenv("JOURNAL_STREAM", f"{info.st_dev}:{info.st_ino}")
        assert is_journal(stream)
        setup_logging("json", "debug", stream=stream)
        setup_logging("json", "debug", stream=stream)  # again: no duplicate lines
        log = logging.getLogger("monitor.y")
        log.debug("d")
        log.warning("reload rejected", extra={"fields": {"problem": "bad", "token": "t0k"}})
    assert (tmp_path / "journal").read_text(encoding="utf-8").splitlines() == [
        '<7>{"level": "debug", "msg": "d", "logger": "monitor.y"}',
        '<4>{"level": "warning", "msg": "reload rejected", "problem": "bad", '
        '"token": "<secret>", "logger": "monitor.y"}',
    ]


@pytest.mark.usefixtures("root_logging")
def test_setup_logging_quiets_apscheduler_per_job_lines() -> None:
    stream = io.StringIO()
    setup_logging("kv", "info", stream=stream)
    logging.getLogger("apscheduler.executors.default").info("Running job x")
    assert stream.getvalue() == ""


def test_other_stream_is_not_journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOURNAL_STREAM", "1:2")
    with (tmp_path / "f").open("w", encoding="utf-8") as stream:
        assert not is_journal(stream)
    assert not is_journal(io.StringIO())
    monkeypatch.delenv("JOURNAL_STREAM")
    assert not is_journal(sys.stderr)


@pytest.mark.parametrize(("fmt", "level"), [("xml", "info"), ("kv", "loud")], ids=["fmt", "level"])
@pytest.mark.usefixtures("root_logging")
def test_setup_logging_rejects_unknown(fmt: Any, level: str) -> None:
    with pytest.raises(ValueError, match="unknown log"):
        setup_logging(fmt, level, stream=io.StringIO())
