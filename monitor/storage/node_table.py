"""The node table of `commwatch status`: configured nodes, their state, their latest sample.

SQL text run by any `monitor.storage.reads.Reader` (`Store.node_table` runs
it through SQLAlchemy, `status` on SQLite through sqlite3).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.nodes.state import Status
from monitor.storage.reads import Reader, Row, flag, utc
from monitor.storage.rows import status_of

NODE_TABLE_SQL = """
SELECT n.id, n.name, n.system, n.address, n.street, n.critical,
       st.status, st.since, st.reason,
       s.probe, s.at, s.ok, s.rtt_ms, s.loss, s.error
FROM nodes AS n
LEFT OUTER JOIN node_states AS st ON st.node_id = n.id
LEFT OUTER JOIN latest_samples AS s ON s.node_id = n.id AND s.probe = n.primary_probe
WHERE n.removed_at IS NULL
ORDER BY n.system, n.id
"""


@dataclass(frozen=True, slots=True)
class NodeRow:
    """One line of `commwatch status`: a configured node, its state, its latest sample."""

    node_id: str
    name: str
    system: str
    address: str
    street: str | None
    critical: bool
    status: Status
    since: datetime | None
    reason: str
    last_probe: str | None
    last_at: datetime | None
    last_ok: bool | None
    last_rtt_ms: float | None
    last_loss: float | None
    last_error: str | None


def node_table(reader: Reader) -> list[NodeRow]:
    """Configured nodes with their state and latest primary-probe sample, by system and id."""
    return [node_table_row(row) for row in reader.rows(NODE_TABLE_SQL)]


def node_table_row(row: Row) -> NodeRow:
    """A `NODE_TABLE_SQL` row."""
    has_state = row["status"] is not None
    return NodeRow(
        node_id=row["id"],
        name=row["name"],
        system=row["system"],
        address=row["address"],
        street=row["street"],
        critical=bool(row["critical"]),
        status=status_of(row["status"]) if has_state else Status.UNKNOWN,
        since=utc(row["since"]),
        reason=row["reason"] or "",
        last_probe=row["probe"],
        last_at=utc(row["at"]),
        last_ok=flag(row["ok"]),
        last_rtt_ms=row["rtt_ms"],
        last_loss=row["loss"],
        last_error=row["error"],
    )
