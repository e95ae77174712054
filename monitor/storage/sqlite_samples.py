"""Probe samples into SQLite as the tuples sqlite3 binds: one executemany, no per-row SQLAlchemy.

In steady state the writer's work is one `probe_samples` row per probe result
(10,000 per 30 s at 10k nodes), appended in time order, and the same result as
its node's row of `latest_samples` (the first seven values of the sample's
tuple, updated in place; `monitor.storage.latest` says why). Through
SQLAlchemy's executemany each row is a dict that the compiled statement walks
column by column, calling the bind processors of `UtcDateTime`, `Boolean` and
`JSON`: about a third of a steady daemon's CPU. On SQLite the row is made
here once, as a tuple in exactly the form SQLAlchemy stores
(tests/monitor/storage/test_sqlite_samples.py writes the same results both
ways and compares the stored bytes):

- `at`: an aware UTC time as SQLite's DATETIME text, `YYYY-MM-DD HH:MM:SS.ffffff`
  (converted once per distinct time: a round's results share its start);
- booleans as 0/1, floats cleaned as `rows.finite`, texts as `rows.text`;
- `values`: the text `json.dumps(rows.jsonable(values))` gives, NULL when
  there are none (`monitor.storage.json_values`: a flat mapping of numbers,
  every ICMP result's, without the generic walk, a third of the cost per row).

PostgreSQL's rows go as arrays (`monitor.storage.postgresql_samples`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from monitor.storage.json_values import values_json
from monitor.storage.latest import UPSERT_LATEST, newest_rows
from monitor.storage.rows import finite, text

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from probes.base import ProbeResult

INSERT_SAMPLES = (
    "INSERT INTO probe_samples"
    ' (node_id, probe, at, ok, rtt_ms, loss, error, degraded, detail, "values")'
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def sqlite_time(at: datetime) -> str:
    """An aware time as SQLAlchemy stores a `UtcDateTime` in SQLite (UTC, microseconds)."""
    if at.tzinfo is None:
        raise ValueError("naive datetime given; commwatch stores aware UTC times")
    if at.tzinfo is not UTC:
        at = at.astimezone(UTC)
    return at.replace(tzinfo=None).isoformat(" ", "microseconds")


def sample_tuples(results: Sequence[ProbeResult]) -> list[tuple[Any, ...]]:
    """The bound values of one `probe_samples` row per result, in INSERT_SAMPLES' order."""
    times: dict[datetime, str] = {}
    rows = []
    for result in results:
        at = times.get(result.at)
        if at is None:
            at = times[result.at] = sqlite_time(result.at)
        values = result.values
        rows.append(
            (
                result.node,
                result.probe,
                at,
                1 if result.ok else 0,
                finite(result.rtt_ms),
                finite(result.loss),
                text(result.error),
                1 if result.degraded else 0,
                text(result.detail),
                values_json(values) if values else None,
            )
        )
    return rows


def insert_samples(conn: Connection, results: Sequence[ProbeResult]) -> None:
    """INSERT one row per result and update each node's latest, in the caller's transaction."""
    rows = sample_tuples(results)
    conn.exec_driver_sql(INSERT_SAMPLES, rows)
    conn.exec_driver_sql(UPSERT_LATEST, newest_rows(rows))
