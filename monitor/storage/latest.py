"""Each node's latest probe result (`latest_samples`), upserted with every batch of samples.

`commwatch status` shows the latest primary-probe result of every node. It is
kept in a row per node and probe kind, replaced in place, so `probe_samples`
is appended in time order with no per-node index (docs/scaling.md). A batch
may hold several rounds of one node (after a database outage): only the
newest of each node and probe is written, and never over a newer one already
stored (a retried batch must not step a node back).

This is the SQLAlchemy path (PostgreSQL, and the dialect tests); the daemon's
SQLite writes go as plain tuples (`monitor.storage.sqlite_samples`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from monitor.storage.rows import finite, text
from monitor.storage.tables import latest_samples

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from probes.base import ProbeResult

UPDATED = ("at", "ok", "rtt_ms", "loss", "error")  # what a newer result replaces


def newest(results: Sequence[ProbeResult]) -> list[ProbeResult]:
    """The newest result of each (node, probe), in first-seen order; a later one wins a tie."""
    kept: dict[tuple[str, str], ProbeResult] = {}
    for result in results:
        key = (result.node, result.probe)
        held = kept.get(key)
        if held is None or result.at >= held.at:
            kept[key] = result
    return list(kept.values())


def latest_row(result: ProbeResult) -> dict[str, Any]:
    """A `latest_samples` row."""
    return {
        "node_id": result.node,
        "probe": result.probe,
        "at": result.at,
        "ok": result.ok,
        "rtt_ms": finite(result.rtt_ms),
        "loss": finite(result.loss),
        "error": text(result.error),
    }


def upsert_latest(conn: Connection, results: Sequence[ProbeResult]) -> None:
    """Store each node's newest result of `results` unless a newer one is stored already."""
    rows = [latest_row(result) for result in newest(results)]
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    else:
        raise NotImplementedError(f"latest samples on {conn.dialect.name}: PostgreSQL or SQLite")
    statement = insert(latest_samples)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["node_id", "probe"],
            set_={name: statement.excluded[name] for name in UPDATED},
            where=statement.excluded.at >= latest_samples.c.at,
        ),
        rows,
    )
