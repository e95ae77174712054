"""Each node's latest probe result (`latest_samples`), upserted with every batch of samples.

`commwatch status` shows the latest primary-probe result of every node. It is
kept in a row per node and probe kind, replaced in place, so `probe_samples`
is appended in time order with no per-node index (docs/scaling.md). A batch
may hold several rounds of one node (after a database outage): only the
newest of each node and probe is written, and never over a newer one already
stored (a retried batch must not step a node back).

The writers bind plain tuples whose first LATEST_WIDTH values are a
`latest_samples` row: SQLite runs UPSERT_LATEST as an executemany
(`monitor.storage.sqlite_samples`), PostgreSQL UPSERT_LATEST_UNNEST once over
one array per column (`monitor.storage.postgresql_samples`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

UPSERT_LATEST = (  # SQLite: qmark placeholders, one row per execution
    "INSERT INTO latest_samples (node_id, probe, at, ok, rtt_ms, loss, error)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (node_id, probe) DO UPDATE SET at = excluded.at, ok = excluded.ok,"
    " rtt_ms = excluded.rtt_ms, loss = excluded.loss, error = excluded.error"
    " WHERE excluded.at >= latest_samples.at"
)
UPSERT_LATEST_UNNEST = UPSERT_LATEST.replace(  # PostgreSQL: a row per element of 7 arrays
    " VALUES (?, ?, ?, ?, ?, ?, ?)",
    " SELECT * FROM unnest(%s::varchar[], %s::varchar[], %s::timestamptz[], %s::boolean[],"
    " %s::float8[], %s::float8[], %s::text[])",
)
LATEST_WIDTH = 7  # a sample tuple starts with these columns, in UPSERT_LATEST's order


def newest_rows(samples: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The newest sample tuple per (node, probe), cut to LATEST_WIDTH; the later on a tie.

    Times compare as stored: aware datetimes, or SQLite's time text (which sorts as the time).
    """
    kept: dict[tuple[Any, Any], tuple[Any, ...]] = {}
    for row in samples:
        key = (row[0], row[1])
        held = kept.get(key)
        if held is None or row[2] >= held[2]:
            kept[key] = row
    return [row[:LATEST_WIDTH] for row in kept.values()]
