"""What `commwatch status` says about follow-up: unacknowledged notices, calls, failing numbers.

No SQLAlchemy here: `status` on SQLite reads through sqlite3 (`monitor.storage.reads`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from dispatch.followup_rows import (
    CallTask,
    FailingContact,
    failing_contacts,
    open_calls,
    open_counts,
)
from monitor.storage.reads import Reader

if TYPE_CHECKING:  # annotations only: `status` reads a cached config without pydantic
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


def follow_up_health(reader: Reader, config: Config) -> FollowUpHealth:
    """Read the follow-up tables (SQL text: `dispatch.followup_rows`)."""
    counts = open_counts(reader)
    return FollowUpHealth(
        counts["waiting"], counts["escalated"], open_calls(reader), failing_contacts(reader, config)
    )
