"""monitor.storage.writer on SQLite and PostgreSQL: batching, flush/close, failures, pruning."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from monitor.config.daemon import StorageConfig
from monitor.nodes.state import NodeState, Status, Transition
from monitor.storage.migrations import upgrade as create_schema
from monitor.storage.store import Store
from monitor.storage.tables import node_states, probe_samples, state_changes
from monitor.storage.writer import StoreWriter
from probes.base import ProbeResult
from tests.conftest import PG_PASSWORD, Db

DOWN = NodeState(Status.DOWN, datetime(2025, 3, 1, tzinfo=UTC), "ICMP无响应", failed_streak=3)


class CountingStore(Store):
    """A Store that counts its write transactions."""

    batches = 0

    def write_batch(
        self,
        samples: Sequence[ProbeResult],
        transitions: Sequence[tuple[Transition, NodeState | None]],
        states: Mapping[str, NodeState],
    ) -> int:
        self.batches += 1
        return super().write_batch(samples, transitions, states)


def config(db: Db, **fields: Any) -> StorageConfig:
    values: dict[str, Any] = {"flush_interval": "60s", "batch_size": 1000, "retention": "30d"}
    return StorageConfig(url=db.url, **(values | fields))


def sample(node: str = "a", at: datetime | None = None, **fields: Any) -> ProbeResult:
    return ProbeResult(node=node, probe="icmp", ok=True, at=at or datetime.now(UTC), **fields)


def change(node: str = "a") -> Transition:
    return Transition(node, Status.UP, Status.DOWN, datetime.now(UTC), "ICMP无响应")


def count(store: Store, table: Any) -> int:
    with store.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.fixture
def writers() -> Iterator[list[StoreWriter]]:
    """Writers to close at the end of a test, whatever happened."""
    made: list[StoreWriter] = []
    yield made
    for writer in made:
        writer.close(timeout=2.0)


def test_many_submits_become_few_transactions(
    db: Db, store: Store, writers: list[StoreWriter]
) -> None:
    counting = CountingStore(store.engine)
    writer = StoreWriter(counting, config(db, batch_size=400))
    writers.append(writer)
    writer.start()
    for i in range(1000):
        writer.submit_sample(sample(f"n{i % 10}"))
        writer.submit_state(f"n{i % 10}", DOWN)
    for i in range(10):
        writer.submit_transition(change(f"n{i}"), DOWN)

    assert writer.flush(timeout=10)
    assert counting.batches == 3  # 1010 samples and changes in batches of 400
    assert count(store, probe_samples) == 1000
    assert count(store, state_changes) == 10
    assert count(store, node_states) == 10
    assert writer.pending == 0
    assert writer.written_rows >= 1010
    assert writer.errors == 0


def test_samples_submitted_in_chunks_are_all_written_and_counted(
    db: Db, store: Store, writers: list[StoreWriter]
) -> None:
    counting = CountingStore(store.engine)
    writer = StoreWriter(counting, config(db, batch_size=400))
    writers.append(writer)
    for start in range(0, 1000, 200):  # the daemon hands a bucket over in chunks
        writer.submit_samples([sample(f"n{i}") for i in range(start, start + 200)])
    writer.submit_samples([])  # nothing: no queue item
    assert writer.pending == 1000  # every row counts before the thread runs
    writer.start()
    assert writer.flush(timeout=10)
    assert counting.batches == 3  # still split at batch_size, not per chunk
    assert count(store, probe_samples) == 1000
    assert writer.pending == 0
    assert writer.close(timeout=5)
    writer.submit_samples([sample(), sample()])  # after close: dropped and counted
    assert writer.dropped_samples == 2


def test_flush_interval_writes_without_being_asked(
    db: Db, store: Store, writers: list[StoreWriter]
) -> None:
    writer = StoreWriter(store, config(db, flush_interval="100ms"))
    writers.append(writer)
    writer.start()
    writer.submit_sample(sample())
    assert wait_until(lambda: count(store, probe_samples) == 1, timeout=3)
    assert writer.last_flush_seconds > 0


def test_close_flushes_then_refuses(db: Db, store: Store) -> None:
    writer = StoreWriter(store, config(db))
    writer.start()
    for _ in range(50):
        writer.submit_sample(sample())
    writer.submit_transition(change(), DOWN)

    assert writer.close(timeout=5)
    assert count(store, probe_samples) == 50
    assert count(store, state_changes) == 1
    writer.submit_sample(sample())  # after close: dropped and counted, never written
    assert writer.dropped_samples == 1
    assert writer.close(timeout=1)
    assert count(store, probe_samples) == 50


def test_close_without_start_still_writes(db: Db, store: Store) -> None:
    writer = StoreWriter(store, config(db))
    writer.submit_sample(sample())
    assert writer.close(timeout=5)
    assert count(store, probe_samples) == 1


def test_survives_a_locked_database_and_writes_later(
    db: Db, store: Store, writers: list[StoreWriter], caplog: pytest.LogCaptureFixture
) -> None:
    engine = db.engine(busy_timeout_s=0.1)
    create_schema(engine)
    writer = StoreWriter(Store(engine), config(db))
    writers.append(writer)
    writer.start()
    assert wait_until(lambda: writer.last_prune_at is not None)  # the start-up prune is done

    with caplog.at_level(logging.ERROR, logger="monitor.storage.writer"), db.hold_write_lock():
        started = time.monotonic()
        for _ in range(10_000):
            writer.submit_sample(sample())  # never waits on the locked database
        submit_seconds = time.monotonic() - started
        writer.submit_transition(change(), DOWN)
        assert not writer.flush(timeout=0.6)
        assert writer.errors >= 1
        assert writer.pending == 10_002  # samples, the change and the state it led to
    assert submit_seconds < 1.0
    assert "lock" in (writer.last_error or "").lower()

    assert writer.flush(timeout=10)  # lock released: the kept batch goes through
    assert count(store, probe_samples) == 10_000
    assert count(store, state_changes) == 1
    assert writer.dropped_samples == 0
    logged = " ".join(f"{r.getMessage()} {getattr(r, 'fields', '')}" for r in caplog.records)
    assert "will retry" in logged
    if PG_PASSWORD:
        assert PG_PASSWORD not in logged
        assert PG_PASSWORD not in (writer.last_error or "")
    engine.dispose()


def test_failing_database_drops_oldest_samples_never_changes(
    db: Db, store: Store, writers: list[StoreWriter]
) -> None:
    engine = db.engine(busy_timeout_s=0.05)
    writer = StoreWriter(Store(engine), config(db, batch_size=20), max_samples=50)
    writers.append(writer)
    writer.start()
    assert wait_until(lambda: writer.last_prune_at is not None)
    base = datetime.now(UTC)

    with db.hold_write_lock():
        for i in range(120):
            writer.submit_sample(sample(at=base + timedelta(seconds=i)))
        for i in range(5):
            writer.submit_transition(change(f"n{i}"), DOWN)
        assert wait_until(lambda: writer.dropped_samples == 70 and writer.errors >= 1)

    assert writer.flush(timeout=10)
    assert count(store, state_changes) == 5
    with store.engine.connect() as conn:
        kept = conn.scalars(select(probe_samples.c.at).order_by(probe_samples.c.at)).all()
    assert kept == [base + timedelta(seconds=i) for i in range(70, 120)]  # the newest 50
    engine.dispose()


def test_a_bad_row_is_discarded_not_retried_forever(
    db: Db, store: Store, writers: list[StoreWriter]
) -> None:
    writer = StoreWriter(store, config(db))
    writers.append(writer)
    writer.start()
    for i in range(10):
        writer.submit_sample(sample(f"n{i}"))
    writer.submit_sample(sample(at=datetime(2025, 3, 1, 12, 0)))  # naive: cannot be stored
    writer.submit_transition(change(), DOWN)

    assert writer.flush(timeout=10)
    assert writer.rejected_rows == 1
    assert count(store, probe_samples) == 10
    assert count(store, state_changes) == 1
    assert count(store, node_states) == 1


def test_prunes_old_samples_at_start(db: Db, store: Store, writers: list[StoreWriter]) -> None:
    now = datetime.now(UTC)
    old = [sample(at=now - timedelta(days=2, seconds=i)) for i in range(30)]
    store.write_batch([*old, sample(at=now)], [(change(), DOWN)], {})
    writer = StoreWriter(store, config(db, retention="1d"))
    writers.append(writer)
    writer.start()
    assert wait_until(lambda: writer.pruned_rows == 30)
    assert count(store, probe_samples) == 1
    assert count(store, state_changes) == 1


def test_readers_read_while_the_writer_writes(
    db: Db, store: Store, writers: list[StoreWriter]
) -> None:
    store.sync_nodes([])
    writer = StoreWriter(store, config(db, batch_size=2000, flush_interval="50ms"))
    writers.append(writer)
    writer.start()
    seen: list[int] = []
    failures: list[BaseException] = []
    done = threading.Event()

    def read() -> None:
        reader = Store(db.engine(busy_timeout_s=0.05))  # short: readers must never wait
        try:
            while not done.is_set():
                seen.append(count(reader, probe_samples))
                reader.node_table()
                time.sleep(0.002)  # a busy reader, not a GIL hog starving the writer thread
        except BaseException as exc:
            failures.append(exc)
        finally:
            reader.engine.dispose()

    thread = threading.Thread(target=read)
    thread.start()
    for i in range(20_000):
        writer.submit_sample(sample(f"n{i % 100}"))
    assert writer.flush(timeout=15)
    done.set()
    thread.join(5)
    assert not failures
    assert seen == sorted(seen)  # committed batches only ever grow
    assert len(seen) > 1
    assert count(store, probe_samples) == 20_000
