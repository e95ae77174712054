"""The trap receiver's bounds, step by step with a fake clock."""

from __future__ import annotations

import logging

import pytest

from probes.trap_guard import OTHER, RejectLog, ReprobeLimit, trap_label


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_unknown_trap_names_share_one_label() -> None:
    known = ("linkDown", "linkUp")
    assert trap_label("linkDown", known) == "linkDown"
    assert trap_label("1.3.6.1.4.1.9.9.41.2.7", known) == OTHER


def test_one_reprobe_per_node_per_interval() -> None:
    clock = Clock()
    limit = ReprobeLimit(10.0, clock)
    assert limit.allow("a")
    assert not limit.allow("a")
    assert limit.allow("b")
    clock.now = 9.9
    assert not limit.allow("a")
    clock.now = 10.0
    assert limit.allow("a")
    assert limit.suppressed == 2


def test_rejects_are_counted_always_and_logged_once_a_minute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    rejects = RejectLog(60.0, clock)
    with caplog.at_level(logging.WARNING):
        for n in range(1000):
            clock.now = n * 0.1  # 100 s of garbage
            rejects.reject("malformed" if n % 2 else "unauthenticated", "127.0.0.9", "x")
    assert rejects.total == {"malformed": 500, "unauthenticated": 500}
    assert len(caplog.records) == 2
