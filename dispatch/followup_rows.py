"""Follow-up rows as objects, read with SQL text by any `Reader` (no SQLAlchemy).

Open escalation counts, call tasks and failing addresses: `commwatch status`
reads them through sqlite3 or SQLAlchemy (`monitor.storage.reads`);
`dispatch.followup_reads` (metrics, `call list`) runs the same SQL on its engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from monitor.storage.reads import Reader, Row, utc, utc_required

if TYPE_CHECKING:  # annotations only: `status` reads a cached config without pydantic
    from monitor.config import Config

CALL_FIELDS = (
    *("id", "unit", "phone", "incident_id", "kind", "reason", "script"),
    *("created_at", "due_at", "done_at", "done_by", "answered_by", "outcome"),
)
_CALLS = f"SELECT {', '.join(CALL_FIELDS)} FROM call_tasks"
OPEN_CALLS_SQL = f"{_CALLS} WHERE done_at IS NULL ORDER BY due_at, id"
ALL_CALLS_SQL = f"{_CALLS} ORDER BY due_at, id"
OPEN_STEPS_SQL = "SELECT step FROM notice_escalations WHERE ended_at IS NULL"
FLAGS_SQL = (
    "SELECT channel, address, recipient, reason, failures, last_at FROM contact_flags "
    "WHERE cleared_at IS NULL ORDER BY last_at"
)


@dataclass(frozen=True)
class CallTask:
    """One unit to phone about one notice."""

    id: int
    unit: str
    phone: str
    incident: int | None
    kind: str
    reason: str  # plan | unreachable
    script: str
    created_at: datetime
    due: datetime
    done_at: datetime | None = None
    done_by: str | None = None
    answered_by: str | None = None
    outcome: str | None = None


@dataclass(frozen=True)
class FailingContact:
    """An address that failed for good and is still in contacts.toml."""

    channel: str
    address: str
    recipient: str
    reason: str
    failures: int
    last_at: datetime


def task_of(row: Row) -> CallTask:
    """A call task from its `call_tasks` row."""
    return CallTask(
        row["id"],
        row["unit"],
        row["phone"],
        row["incident_id"],
        row["kind"],
        row["reason"],
        row["script"],
        utc_required(row["created_at"]),
        utc_required(row["due_at"]),
        utc(row["done_at"]),
        row["done_by"],
        row["answered_by"],
        row["outcome"],
    )


def open_calls(reader: Reader, include_done: bool = False) -> list[CallTask]:
    """Call tasks not yet done (or all), the most urgent first."""
    return [task_of(row) for row in reader.rows(ALL_CALLS_SQL if include_done else OPEN_CALLS_SQL)]


def open_counts(reader: Reader) -> dict[str, int]:
    """Open escalations by whether a step was taken."""
    steps = [row["step"] for row in reader.rows(OPEN_STEPS_SQL)]
    return {"waiting": sum(1 for s in steps if s == 0), "escalated": sum(1 for s in steps if s)}


def listed_addresses(config: Config) -> set[tuple[str, str]]:
    """Every (channel, address) contacts.toml lists now, as deliveries carry them."""
    from dispatch.numbers import sms_addresses  # phonenumbers: only when a flag is there

    found: set[tuple[str, str]] = set()
    lists = [(u.emails, u.mobiles) for u in config.contacts.unit]
    lists += [(p.emails, p.mobiles) for p in config.contacts.person]
    for emails, mobiles in lists:
        found.update(("email", e) for e in emails)
        found.update(("sms", m) for m in sms_addresses(mobiles))
    return found


def failing_contacts(reader: Reader, config: Config) -> list[FailingContact]:
    """Flagged addresses not cleared and still listed (fixing contacts.toml unflags them)."""
    rows = reader.rows(FLAGS_SQL)
    if not rows:
        return []
    listed = listed_addresses(config)
    return [flagged(r) for r in rows if (r["channel"], r["address"]) in listed]


def flagged(r: Row) -> FailingContact:
    """A failing contact from its `contact_flags` row."""
    channel, address, recipient, reason = r["channel"], r["address"], r["recipient"], r["reason"]
    return FailingContact(
        channel, address, recipient, reason, r["failures"], utc_required(r["last_at"])
    )
