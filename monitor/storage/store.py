"""The monitor's reads and writes: inventory, probe samples, state changes, node states.

Every method is synchronous and runs in a worker thread (the daemon calls them
through `asyncio.to_thread` or `monitor.storage.writer.StoreWriter`), never on
the event loop. Writes are SQLAlchemy Core executemany, one transaction each;
probe samples go as plain tuples (`monitor.storage.sqlite_samples`) or arrays
(`monitor.storage.postgresql_samples`).

Inventory sync: a node that left the config keeps its `nodes` row with
`removed_at` set (its samples and state changes stay meaningful until pruned);
its `node_states` and `latest_samples` rows are deleted, so a node re-added
later starts UNKNOWN instead of resuming a stale state. `node_table()` lists
configured nodes only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, Table, delete, insert, select, update

from monitor.nodes.state import NodeState, Status, Transition
from monitor.storage.engine import redact_url
from monitor.storage.engine_reads import EngineReader
from monitor.storage.node_table import NodeRow as NodeRow
from monitor.storage.node_table import node_table
from monitor.storage.postgresql_samples import insert_samples_postgresql
from monitor.storage.rows import (
    change_row,
    node_row,
    node_state,
    state_row,
    status_of,
)
from monitor.storage.sqlite_samples import insert_samples
from monitor.storage.tables import (
    latest_samples,
    node_states,
    nodes,
    probe_samples,
    state_changes,
)

if TYPE_CHECKING:  # annotations only: `status` reads a cached config without pydantic
    from monitor.config.inventory import NodeConfig
    from probes.base import ProbeResult

log = logging.getLogger(__name__)

ID_CHUNK = 500  # ids per IN (...) list: far below SQLite's and psycopg's parameter limits
PRUNE_CHUNK = 5000  # samples deleted per transaction, so other writers are not held up


@dataclass(frozen=True, slots=True)
class ChangeRow:
    """A stored state change."""

    node_id: str
    at: datetime
    previous: Status
    current: Status
    reason: str


class Store:
    """Queries and batch writes on the monitor's tables (schema: `monitor.storage.tables`)."""

    def __init__(self, engine: Engine, *, own_engine: bool = False) -> None:
        self.engine = engine
        self._own_engine = own_engine

    @property
    def location(self) -> str:
        """The database URL with any password hidden, for logs."""
        return redact_url(self.engine.url.render_as_string(hide_password=False))

    def sync_nodes(self, configured: Sequence[NodeConfig]) -> None:
        """Upsert the configured nodes; mark the others removed and forget their state."""
        now = datetime.now(UTC)
        rows = [node_row(node, now) for node in configured]
        wanted = {node.id for node in configured}
        with self.engine.begin() as conn:
            active = conn.scalars(select(nodes.c.id).where(nodes.c.removed_at.is_(None))).all()
            _upsert(conn, nodes, rows, "id")
            gone = sorted(set(active) - wanted)
            for chunk in _chunks(gone, ID_CHUNK):
                conn.execute(update(nodes).where(nodes.c.id.in_(chunk)).values(removed_at=now))
                conn.execute(delete(node_states).where(node_states.c.node_id.in_(chunk)))
                conn.execute(delete(latest_samples).where(latest_samples.c.node_id.in_(chunk)))
        if gone:
            log.info("nodes removed from the inventory", extra={"fields": {"nodes": len(gone)}})

    def load_node_states(self) -> dict[str, NodeState]:
        """The saved state of every node, to resume the state machines after a restart."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(node_states)).all()
        return {row.node_id: node_state(row) for row in rows}

    def write_batch(
        self,
        samples: Sequence[ProbeResult],
        transitions: Sequence[tuple[Transition, NodeState | None]],
        states: Mapping[str, NodeState],
    ) -> int:
        """Write samples, state changes and node states in ONE transaction; rows written.

        A node's saved state is taken from `states` when present there, else
        from its last transition that carries one.
        """
        now = datetime.now(UTC)
        latest = {t.node: state for t, state in transitions if state is not None}
        latest.update(states)
        change_rows = [change_row(t) for t, _ in transitions]
        state_rows = [state_row(node, state, now) for node, state in latest.items()]
        with self.engine.begin() as conn:
            if samples and conn.dialect.name == "sqlite":
                insert_samples(conn, samples)  # plain tuples: a third of steady CPU saved
            elif samples:
                insert_samples_postgresql(conn, samples)  # one statement over arrays
            if change_rows:
                conn.execute(insert(state_changes), change_rows)
            _upsert(conn, node_states, state_rows, "node_id")
        return len(samples) + len(change_rows) + len(state_rows)

    def prune(self, older_than: datetime, *, limit: int | None = None) -> int:
        """Delete probe samples taken before `older_than`; how many went.

        Deletes in transactions of PRUNE_CHUNK rows; with `limit`, at most that
        many rows in one transaction (the writer interleaves chunks with flushes).
        """
        if limit is not None:
            return self._prune_chunk(older_than, limit)
        total = 0
        while (deleted := self._prune_chunk(older_than, PRUNE_CHUNK)) > 0:
            total += deleted
            if deleted < PRUNE_CHUNK:
                break
        return total

    def _prune_chunk(self, older_than: datetime, limit: int) -> int:
        doomed = (
            select(probe_samples.c.id).where(probe_samples.c.at < older_than).limit(limit)
        ).scalar_subquery()
        with self.engine.begin() as conn:
            result = conn.execute(delete(probe_samples).where(probe_samples.c.id.in_(doomed)))
        return int(result.rowcount)

    def node_table(self) -> list[NodeRow]:
        """Configured nodes with their state and latest primary-probe sample."""
        return node_table(EngineReader(self.engine))

    def recent_changes(self, limit: int = 50, node_id: str | None = None) -> list[ChangeRow]:
        """The latest state changes, newest first; of one node when `node_id` is given."""
        query = select(state_changes).order_by(state_changes.c.at.desc(), state_changes.c.id.desc())
        if node_id is not None:
            query = query.where(state_changes.c.node_id == node_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query.limit(limit)).all()
        return [
            ChangeRow(r.node_id, r.at, status_of(r.previous), status_of(r.current), r.reason)
            for r in rows
        ]

    def changes_since(self, since: datetime, limit: int = 5000) -> list[ChangeRow]:
        """State changes at or after `since`, oldest first (at most the newest `limit`)."""
        query = (
            select(state_changes)
            .where(state_changes.c.at >= since)
            .order_by(state_changes.c.at.desc(), state_changes.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            ChangeRow(r.node_id, r.at, status_of(r.previous), status_of(r.current), r.reason)
            for r in reversed(rows)
        ]

    def close(self) -> None:
        """Release the engine's connections when this Store opened it (else the owner does)."""
        if self._own_engine:
            self.engine.dispose()


def _upsert(conn: Connection, table: Table, rows: list[dict[str, Any]], key: str) -> None:
    """INSERT … ON CONFLICT (key) DO UPDATE, executemany; delete+insert elsewhere."""
    if not rows:
        return
    dialect = conn.dialect.name
    if dialect not in ("sqlite", "postgresql"):
        for chunk in _chunks([row[key] for row in rows], ID_CHUNK):
            conn.execute(delete(table).where(table.c[key].in_(chunk)))
        conn.execute(insert(table), rows)
        return
    # the dialects' upserts are imported here: readers (`commwatch status`) never pay for them
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        pg = pg_insert(table)
        pg_changes = {name: pg.excluded[name] for name in rows[0] if name != key}
        conn.execute(pg.on_conflict_do_update(index_elements=[key], set_=pg_changes), rows)
        return
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    lite = sqlite_insert(table)
    changes = {name: lite.excluded[name] for name in rows[0] if name != key}
    conn.execute(lite.on_conflict_do_update(index_elements=[key], set_=changes), rows)


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
