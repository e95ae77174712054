"""What `commwatch status` says about follow-up: unacknowledged notices, calls, failing numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from dispatch.followup_reads import (
    CallTask,
    FailingContact,
    failing_contacts,
    open_calls,
    open_counts,
)
from monitor.config import Config


@dataclass(frozen=True)
class FollowUpHealth:
    """Open escalations, open call tasks, and addresses flagged as failing."""

    waiting: int
    escalated: int
    calls: list[CallTask]
    failing: list[FailingContact]

    def lines(self) -> list[str]:
        """The status lines, one per concern (nothing when all is quiet)."""
        now = datetime.now(UTC)
        out = []
        if self.waiting or self.escalated:
            out.append(
                f"收到: {self.waiting} notices awaiting acknowledgement, "
                f"{self.escalated} escalated (`commwatch notice list`)"
            )
        if self.calls:
            late = sum(1 for c in self.calls if c.due <= now)
            out.append(
                f"电话通知: {len(self.calls)} calls to make, {late} overdue (`commwatch call list`)"
            )
        for f in self.failing:
            out.append(
                f"failing contact: {f.recipient} {f.channel} {f.address} — {f.reason} "
                f"({f.failures}x; fix contacts.toml)"
            )
        return out


def follow_up_health(engine: Engine, config: Config) -> FollowUpHealth:
    """Read the follow-up tables."""
    counts = open_counts(engine)
    return FollowUpHealth(
        counts["waiting"], counts["escalated"], open_calls(engine), failing_contacts(engine, config)
    )
