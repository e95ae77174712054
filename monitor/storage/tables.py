"""Core tables of the monitor, registered on the shared `monitor.storage.engine.metadata`.

- `nodes`: the inventory as last synced from nodes.toml. A node removed from
  the config keeps its row with `removed_at` set, so its samples and state
  changes still name something; it comes back (removed_at NULL) if re-added.
- `probe_samples`: one row per probe result, appended in time order and
  indexed by time only; the only table `prune` trims.
- `latest_samples`: the latest probe result of every node and probe kind (one
  row each, updated in place), what `commwatch status` shows. Kept apart so
  that `probe_samples` needs no per-node index: a row landing in each node's
  run of such an index costs a page of its own once the table outgrows
  SQLite's page cache (docs/scaling.md).
- `state_changes`: every status change of a node, kept for reports.
- `node_states`: the latest `NodeState` of every configured node, so a
  restart resumes the state machines where they stood.

No foreign keys point at `nodes`: the writer must never fail a batch because a
sample of a just-added node arrived before the inventory sync committed, and
history outlives the inventory. Timestamps are `UtcDateTime` (aware UTC on
SQLite and PostgreSQL alike); portable types only.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from monitor.storage.engine import UtcDateTime, metadata

# 64-bit ids on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY (its rowid)
RowId = BigInteger().with_variant(Integer(), "sqlite")

ID_LENGTH = 64  # node and system ids (config Identifier)
STATUS_LENGTH = 16  # monitor.nodes.state.Status values
PROBE_LENGTH = 16  # probe kinds: "icmp", "snmp"

nodes = Table(
    "nodes",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("name", Text, nullable=False),
    Column("system", String(ID_LENGTH), nullable=False),
    Column("address", String(64), nullable=False),
    Column("street", Text),
    Column("critical", Boolean, nullable=False, default=False),
    Column("probes", JSON, nullable=False),  # list of probe kinds, as configured
    Column("primary_probe", String(PROBE_LENGTH), nullable=False),  # the one that drives state
    Column("updated_at", UtcDateTime, nullable=False),  # last sync that saw the node
    Column("removed_at", UtcDateTime),  # NULL while the node is in the config
)

probe_samples = Table(
    "probe_samples",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("node_id", String(ID_LENGTH), nullable=False),
    Column("probe", String(PROBE_LENGTH), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("rtt_ms", Float),
    Column("loss", Float),
    Column("error", Text),
    Column("degraded", Boolean, nullable=False, default=False),
    Column("detail", Text),
    Column("values", JSON(none_as_null=True)),  # probe-specific values; NULL when none
)
Index("ix_probe_samples_at", probe_samples.c.at)

latest_samples = Table(
    "latest_samples",
    metadata,
    Column("node_id", String(ID_LENGTH), primary_key=True),
    Column("probe", String(PROBE_LENGTH), primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("rtt_ms", Float),
    Column("loss", Float),
    Column("error", Text),
)

state_changes = Table(
    "state_changes",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("node_id", String(ID_LENGTH), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("previous", String(STATUS_LENGTH), nullable=False),
    Column("current", String(STATUS_LENGTH), nullable=False),
    Column("reason", Text, nullable=False, default=""),
)
Index("ix_state_changes_node_at", state_changes.c.node_id, state_changes.c.at)
Index("ix_state_changes_at", state_changes.c.at)

node_states = Table(
    "node_states",
    metadata,
    Column("node_id", String(ID_LENGTH), primary_key=True),
    Column("status", String(STATUS_LENGTH), nullable=False),
    Column("since", UtcDateTime),
    Column("reason", Text, nullable=False, default=""),
    Column("failed_streak", Integer, nullable=False, default=0),
    Column("bad_streak", Integer, nullable=False, default=0),
    Column("good_streak", Integer, nullable=False, default=0),
    Column("answered_streak", Integer, nullable=False, default=0),
    Column("updated_at", UtcDateTime, nullable=False),
)
