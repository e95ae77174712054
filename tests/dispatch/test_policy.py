"""The outbox policy: coalescing groups and kinds, due times, backoff, retry verdicts."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from dispatch import policy
from monitor.incidents.notices import NoticeKind

T0 = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("kind", "incident", "group"),
    [
        (NoticeKind.FOLLOW_UP, 7, "incident:7:situation"),
        (NoticeKind.UPGRADE, 7, "incident:7:situation"),
        (NoticeKind.DOWNGRADE, 7, "incident:7:situation"),
        (NoticeKind.WARNING_PROPOSAL, 7, "incident:7:warning_proposal"),
        (NoticeKind.RESPONSE_PROPOSAL, 7, "incident:7:response_proposal"),
        (NoticeKind.DETECTION, 7, None),
        (NoticeKind.WARNING, 7, None),
        (NoticeKind.LIFT, 7, None),
        (NoticeKind.FOLLOW_UP, None, None),
    ],
    ids=lambda v: str(v),
)
def test_group_key(kind: NoticeKind, incident: int | None, group: str | None) -> None:
    assert policy.group_key(kind, incident) == group


@pytest.mark.parametrize(
    ("last", "expected"),
    [(None, T0), (T0 - 20 * SECOND, T0), (T0 - 3 * SECOND, T0 + 7 * SECOND)],
    ids=["first", "window-over", "within-window"],
)
def test_due_at(last: datetime | None, expected: datetime) -> None:
    assert policy.due_at(T0, last, 10 * SECOND) == expected


@pytest.mark.parametrize(
    ("held_kind", "held_context", "kind", "context", "merged_kind", "start"),
    [
        # 情形3 → 情形2 → 情形1 within the window: one upgrade from 情形3.
        (
            "upgrade",
            {"scenario": 2, "data": {"from": 3}},
            "upgrade",
            {"scenario": 1, "data": {"from": 2}},
            "upgrade",
            3,
        ),
        # up then back down to where it started: a follow-up, not a flip-flop.
        (
            "upgrade",
            {"scenario": 2, "data": {"from": 3}},
            "downgrade",
            {"scenario": 3, "data": {"from": 2}},
            "follow_up",
            3,
        ),
        # a follow-up then an upgrade: the upgrade from the follow-up's scenario.
        (
            "follow_up",
            {"scenario": 3, "data": {}},
            "upgrade",
            {"scenario": 2, "data": {"from": 3}},
            "upgrade",
            3,
        ),
        # better overall: downgrade.
        (
            "downgrade",
            {"scenario": 2, "data": {"from": 1}},
            "follow_up",
            {"scenario": 2, "data": {}},
            "downgrade",
            1,
        ),
    ],
    ids=["up-up", "up-down", "follow-up", "down-follow"],
)
def test_merge_situation(
    held_kind: str, held_context: dict, kind: str, context: dict, merged_kind: str, start: int
) -> None:
    merged = policy.merge(held_kind, held_context, kind, context)
    assert merged.kind == merged_kind
    assert merged.context["data"]["from"] == start
    assert merged.context["scenario"] == context["scenario"]  # the latest situation wins
    assert merged.context["coalesced"] == 2


def test_merge_counts_across_several() -> None:
    first = policy.merge("follow_up", {"scenario": 3}, "follow_up", {"scenario": 3})
    second = policy.merge(first.kind, first.context, "follow_up", {"scenario": 3, "note": "新"})
    assert second.context["coalesced"] == 3
    assert second.context["note"] == "新"


def test_merge_proposals_keep_kind() -> None:
    merged = policy.merge("warning_proposal", {"scenario": 3}, "warning_proposal", {"scenario": 2})
    assert (merged.kind, merged.context["scenario"]) == ("warning_proposal", 2)


@pytest.mark.parametrize(
    ("attempt", "low", "high"),
    [(1, 2.5, 5.0), (2, 5.0, 10.0), (3, 10.0, 20.0), (8, 30.0, 60.0)],
    ids=["1", "2", "3", "capped"],
)
def test_backoff_grows_with_jitter_and_cap(attempt: int, low: float, high: float) -> None:
    rng = random.Random(1)
    delays = [
        policy.backoff(attempt, 5 * SECOND, 60 * SECOND, rng).total_seconds() for _ in range(200)
    ]
    assert low <= min(delays)
    assert max(delays) <= high
    assert len(set(delays)) > 100  # jittered


@pytest.mark.parametrize(
    ("age_hours", "permanent", "retry"),
    [(0, False, True), (23.9, False, True), (24, False, False), (0, True, False)],
    ids=["fresh", "hours-of-outage", "past-the-horizon", "permanent"],
)
def test_should_retry(age_hours: float, permanent: bool, retry: bool) -> None:
    now = datetime(2026, 7, 4, 8, 0, tzinfo=UTC)
    created = now - timedelta(hours=age_hours)
    assert policy.should_retry(permanent, created, now, timedelta(hours=24)) is retry


@pytest.mark.parametrize(
    ("error", "permanent", "reason"),
    [
        ("SMTP connection: [Errno 111] Connect call failed", False, "connection"),
        ("SMS gateway connection: ConnectError('[Errno 111] Connection refused')", False, "connection"),
        ("SMTP: no answer within 15s", False, "timeout"),
        ("HTTP 503: 'busy'", False, "rejected"),
        ("SMTP refused recipient: x", True, "permanent"),
    ],
)  # fmt: skip
def test_failure_reason(error: str, permanent: bool, reason: str) -> None:
    assert policy.failure_reason(error, permanent) == reason


def test_a_warning_adjusted_by_hand_is_never_coalesced() -> None:
    """§3.5 (4): the HQ's adjustment is a decision; a situation notice must not swallow it."""
    adjusted = {"data": {"from": 3, "to": 2, "by_person": True}}
    assert policy.group_key(NoticeKind.UPGRADE, 7, adjusted) is None
    assert policy.group_key(NoticeKind.UPGRADE, 7, {"data": {"from": 3}}) == "incident:7:situation"
