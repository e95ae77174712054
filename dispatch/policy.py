"""The outbox policy as pure functions: coalescing, backoff, retry verdicts.

Coalescing (no storm): changes of one incident's situation that arrive within
`coalesce_window` of the last one sent are held and merged — the latest
Assessment wins, the first "from" scenario is kept, and the merged kind says
where the situation went overall (upgrade, downgrade or follow-up). The first
notice of a burst goes out at once (leading edge); the merged rest goes out
when the window ends (trailing edge). Proposals are coalesced the same way,
each kind on its own, and so are the HQ duty's fall-through notices (通知改发), whose
lists of recipients not reached add up. Every other kind (detection, warning, lift, response,
reports, close) is a distinct act and is never merged.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from monitor.incidents.notices import NoticeKind
from monitor.plan.names import scenario_rank

SITUATION = "situation"
COALESCE_GROUPS: dict[str, str] = {
    NoticeKind.FOLLOW_UP: SITUATION,
    NoticeKind.UPGRADE: SITUATION,
    NoticeKind.DOWNGRADE: SITUATION,
    NoticeKind.WARNING_PROPOSAL: NoticeKind.WARNING_PROPOSAL,
    NoticeKind.RESPONSE_PROPOSAL: NoticeKind.RESPONSE_PROPOSAL,
    NoticeKind.FALLTHROUGH: NoticeKind.FALLTHROUGH,
}


def group_key(
    kind: str, incident_id: int | None, context: Mapping[str, Any] | None = None
) -> str | None:
    """The coalescing group of a notice, or None when it is never merged.

    A warning the HQ adjusted by hand (§3.5 (4)) is a decision, not a change of
    the situation: it is never merged into (or replaced by) a situation notice.
    """
    group = COALESCE_GROUPS.get(kind)
    if kind == NoticeKind.FALLTHROUGH and incident_id is None:
        return f"{NoticeKind.FALLTHROUGH}"  # of notices outside any incident: one group
    if group is None or incident_id is None:
        return None
    data = (context or {}).get("data")
    if isinstance(data, Mapping) and data.get("by_person"):
        return None
    return f"incident:{incident_id}:{group}"


def due_at(now: datetime, last_routed: datetime | None, window: timedelta) -> datetime:
    """When a new notice of a group may go: now, or when the window after the last one ends."""
    if last_routed is None or now >= last_routed + window:
        return now
    return last_routed + window


@dataclass(frozen=True)
class Merged:
    """The notice that replaces a held one: its kind and context."""

    kind: str
    context: dict[str, Any]


def merge(
    held_kind: str, held_context: Mapping[str, Any], kind: str, context: Mapping[str, Any]
) -> Merged:
    """Coalesce a held notice into a newer one of the same group (the newer one wins)."""
    count = int(held_context.get("coalesced", 1) or 1) + 1
    merged = {**context, "coalesced": count}
    if kind == NoticeKind.FALLTHROUGH:  # every recipient not reached, in order
        merged["missed"] = [*held_context.get("missed", []), *context.get("missed", [])]
        merged["drill"] = bool(held_context.get("drill")) or bool(context.get("drill"))
    if COALESCE_GROUPS.get(kind) != SITUATION:
        return Merged(kind, merged)
    first = _start_scenario(held_kind, held_context)
    data = dict(context.get("data") or {})
    data["from"] = first
    merged["data"] = data
    latest = context.get("scenario")
    return Merged(situation_kind(first, latest), merged)


def situation_kind(first: int | None, latest: int | None) -> str:
    """Upgrade when the scenario got worse overall (情形1 is worst), downgrade when better."""
    before, after = scenario_rank(first), scenario_rank(latest)
    if after < before:
        return NoticeKind.UPGRADE
    if after > before:
        return NoticeKind.DOWNGRADE
    return NoticeKind.FOLLOW_UP


def _start_scenario(kind: str, context: Mapping[str, Any]) -> int | None:
    data = context.get("data") or {}
    if "from" in data:
        start = data["from"]
        return start if isinstance(start, int) else None
    if kind in (NoticeKind.UPGRADE, NoticeKind.DOWNGRADE):
        return None
    scenario = context.get("scenario")
    return scenario if isinstance(scenario, int) else None


def backoff(attempt: int, base: timedelta, cap: timedelta, rng: random.Random) -> timedelta:
    """Exponential backoff with equal jitter: half the step fixed, half random.

    attempt 1 → base/2…base, attempt 2 → base…2·base, …, at most `cap`.
    """
    step = min(cap.total_seconds(), base.total_seconds() * 2 ** max(attempt - 1, 0))
    return timedelta(seconds=step / 2 + rng.uniform(0, step / 2))


def should_retry(
    permanent: bool, created_at: datetime | None, now: datetime, horizon: timedelta
) -> bool:
    """Retry a transient failure until `horizon` after the delivery was created; never a
    permanent one. A gateway outage of hours is outlasted: attempts are not counted."""
    if permanent:
        return False
    return created_at is None or now < created_at + horizon


REASONS = ("permanent", "timeout", "connection", "rejected", "internal", "expired")


def failure_reason(error: str, permanent: bool) -> str:
    """Why a NotifyError happened, for metrics: permanent, timeout, connection or rejected.

    (The dispatcher itself says "timeout" for its own deadline, "internal" for a
    notifier bug and "expired" for a delivery past the retry horizon.)
    """
    if permanent:
        return "permanent"
    text = error.lower()
    if "no answer within" in text or "timeout" in text or "timed out" in text:
        return "timeout"
    if "connection" in text or "refused" in text:
        return "connection"
    return "rejected"
