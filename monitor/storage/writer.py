"""The single background thread that owns every monitor write.

`submit_*` (from the event loop) is a counter bump and a `SimpleQueue.put`: it
never waits on the database. The thread drains the queue and writes one
transaction (`Store.write_batch`) when `batch_size` samples and changes are
pending or the oldest has waited `flush_interval`.

A database error (locked, read-only, server gone) is logged with the URL
redacted, counted (`errors`), and the batch is kept and retried with backoff
(0.5 s doubling to 30 s); meanwhile samples beyond `max_samples` are dropped
oldest first (`dropped_samples`), changes and states never. A batch refused
for its *content* is bisected and only the bad rows are discarded
(`rejected_rows`). Samples older than `retention` are pruned at start and
hourly, a chunk at a time between flushes.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from prometheus_client.core import Metric

from monitor.nodes.state import NodeState, Transition
from monitor.runtime.metrics import counter, gauge
from monitor.storage.buffer import Batch, PendingRows, describe_error, write_bisecting
from monitor.storage.store import PRUNE_CHUNK, Store
from probes.base import ProbeResult

if TYPE_CHECKING:
    from monitor.config.daemon import StorageConfig

log = logging.getLogger(__name__)

BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0
PRUNE_EVERY_S = 3600.0
PRUNE_RETRY_S = 300.0

_SAMPLE, _SAMPLES, _CHANGE, _STATE, _FLUSH, _STOP = range(6)
_Item = tuple[int, int, Any]  # (sequence number or 0 for control items, kind, payload)


class StoreWriter:
    """Batches probe samples, state changes and node states into few transactions."""

    def __init__(self, store: Store, config: StorageConfig, max_samples: int | None = None) -> None:
        self._store = store
        self._interval = config.flush_interval.total_seconds()
        self._batch_size = config.batch_size
        self._retention = config.retention
        self._pending = PendingRows(max_samples or max(20 * config.batch_size, 100_000))
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._lock = threading.Lock()  # submission counter and the closed flag
        self._done = threading.Condition()
        self._thread: threading.Thread | None = None
        self._submitted = 0  # sequence number of the last accepted submission
        self._drained = 0  # … of the last one moved into _pending (writer thread)
        self._completed = 0  # … up to which everything is written or dropped
        self._closed = False
        self._late_dropped = 0  # samples submitted after close()
        self._force = False  # flush requested: write all now, even during backoff
        self._stop_at: float | None = None  # monotonic deadline once close() was called
        self._oldest: float | None = None  # when the oldest pending row arrived
        self._in_flight = 0  # rows of the batch being written
        self._failures = 0
        self._retry_at = 0.0
        self._next_prune = 0.0  # at start
        self._prune_before: datetime | None = None  # a prune in progress
        self.written_rows = 0
        self.errors = 0
        self.rejected_rows = 0
        self.pruned_rows = 0
        self.last_prune_at: datetime | None = None
        self.last_flush_seconds = 0.0
        self.last_error: str | None = None

    @property
    def pending(self) -> int:
        """Submissions not yet written: queued items plus buffered rows (one state per node)."""
        return max(0, self._submitted - self._drained) + len(self._pending) + self._in_flight

    @property
    def dropped_samples(self) -> int:
        """Samples dropped because the database failed for too long (or after close)."""
        return self._pending.dropped + self._late_dropped

    def metric_families(self) -> Iterator[Metric]:
        """The writer's figures, at scrape time."""
        yield gauge(
            "commwatch_store_pending_rows", "Rows waiting to be written", float(self.pending)
        )
        yield counter("commwatch_store_written_rows", "Rows written", {(): self.written_rows}, [])
        yield counter("commwatch_store_errors", "Database write errors", {(): self.errors}, [])
        yield counter(
            "commwatch_store_rejected_rows",
            "Rows the database refused for their content (discarded after bisecting)",
            {(): self.rejected_rows},
            [],
        )
        yield counter(
            "commwatch_store_pruned_rows", "Old probe samples pruned", {(): self.pruned_rows}, []
        )
        yield counter(
            "commwatch_store_dropped_samples",
            "Probe samples dropped while the database was failing",
            {(): self.dropped_samples},
            [],
        )
        yield gauge(
            "commwatch_store_last_flush_seconds",
            "Duration of the last batch commit",
            self.last_flush_seconds,
        )

    def submit_sample(self, result: ProbeResult) -> None:
        """Queue one probe result for writing."""
        if not self._submit(_SAMPLE, result):
            self._late_dropped += 1

    def submit_samples(self, results: Sequence[ProbeResult]) -> None:
        """Queue several probe results as one hand-off (one lock, one queue item).

        The daemon submits a bucket's results in chunks: per result this is a
        list append instead of a lock, a queue put and a wake-up of the writer
        thread (which then competed with the loop for the GIL once per result).
        """
        if results and not self._submit(_SAMPLES, list(results), len(results)):
            self._late_dropped += len(results)

    def submit_transition(self, change: Transition, state: NodeState | None = None) -> None:
        """Queue a state change and, when given, the node state it led to."""
        if not self._submit(_CHANGE, (change, state)):
            log.error(
                "state change after the writer closed", extra={"fields": {"node": change.node}}
            )

    def submit_state(self, node_id: str, state: NodeState) -> None:
        """Queue a node's latest state (it replaces a pending earlier one)."""
        self._submit(_STATE, (node_id, state))

    def _submit(self, kind: int, payload: Any, rows: int = 1) -> bool:
        """Queue one item; its sequence number counts `rows` submissions."""
        with self._lock:
            if self._closed:
                return False
            self._submitted += rows
            self._queue.put((self._submitted, kind, payload))
        return True

    def start(self) -> None:
        """Start the writer thread (idempotent)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._run, name="commwatch-store-writer", daemon=True
        )
        self._thread.start()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything submitted so far is written; False on timeout."""
        target = self._submitted
        if self._completed >= target:
            return True
        if self._thread is None or not self._thread.is_alive():
            return False
        self._queue.put((0, _FLUSH, None))
        with self._done:
            return self._done.wait_for(lambda: self._completed >= target, timeout)

    def close(self, timeout: float = 10.0) -> bool:
        """Flush for at most `timeout` seconds, then stop the thread; True when all was written."""
        with self._lock:
            first = not self._closed
            self._closed = True
            target = self._submitted
            if first:
                self._queue.put((0, _STOP, time.monotonic() + timeout))
        self.start()
        assert self._thread is not None
        self._thread.join(timeout + 1.0)
        return self._completed >= target and not self._thread.is_alive()

    def _run(self) -> None:
        while self._stop_at is None:
            try:
                self._drain(self._wait_seconds())
                if self._stop_at is None:
                    self._step()
            except Exception as exc:  # never let the writer die
                self._record_error("writer loop error", exc)
                time.sleep(BACKOFF_FIRST_S)
        self._finish(self._stop_at)

    def _wait_seconds(self) -> float:
        now = time.monotonic()
        if self._write_due(now) or self._prune_before is not None:
            return 0.0
        deadlines = [self._next_prune]
        if self._oldest is not None:
            full = self._pending.rows >= self._batch_size
            deadlines.append(max(now if full else self._oldest + self._interval, self._retry_at))
        return max(0.0, min(deadlines) - now)

    def _drain(self, timeout: float) -> None:
        """Wait up to `timeout` for a submission, then take all that is queued.

        All of it: the cap on samples then applies to everything unwritten.
        """
        try:
            item = self._queue.get(timeout=timeout) if timeout > 0 else self._queue.get_nowait()
            while True:
                self._take(item)
                item = self._queue.get_nowait()
        except queue.Empty:
            return

    def _take(self, item: _Item) -> None:
        seq, kind, payload = item
        if kind == _FLUSH:
            self._force = True
            return
        if kind == _STOP:
            self._stop_at = payload
            return
        if kind == _SAMPLE:
            self._pending.add_sample(payload)
        elif kind == _SAMPLES:
            self._pending.add_samples(payload)
        elif kind == _CHANGE:
            self._pending.add_change(*payload)
        else:
            self._pending.add_state(*payload)
        self._drained = seq
        if self._oldest is None:
            self._oldest = time.monotonic()

    def _write_due(self, now: float) -> bool:
        if self._oldest is None:
            return False
        if self._force:
            return True
        if now < self._retry_at:
            return False
        return self._pending.rows >= self._batch_size or now >= self._oldest + self._interval

    def _step(self) -> None:
        now = time.monotonic()
        if self._write_due(now):
            self._write()
        elif self._oldest is None and self._force:
            self._complete()
        elif now >= self._retry_at and (self._prune_before is not None or now >= self._next_prune):
            self._prune_step()

    def _write(self) -> bool:
        batch = self._pending.take(self._batch_size)
        started = time.monotonic()
        self._in_flight = len(batch)
        try:
            write_bisecting(self._write_part, batch, self._pending, self._reject)
        except Exception as exc:
            self._in_flight = 0
            self._force = False  # a flush waits for the retries, it does not hurry them
            self._failures += 1
            delay = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** (self._failures - 1))
            self._retry_at = time.monotonic() + delay
            self._record_error("database write failed; will retry", exc, retry_in=delay)
            return False
        self.last_flush_seconds = time.monotonic() - started
        self._in_flight = 0
        self._failures = 0
        self._retry_at = 0.0
        if len(self._pending) == 0:
            self._complete()
        return True

    def _write_part(self, part: Batch) -> None:
        changes = [(change, None) for change in part.changes]  # states travel in part.states
        self.written_rows += self._store.write_batch(part.samples, changes, part.states)

    def _reject(self, exc: BaseException) -> None:
        self.rejected_rows += 1
        self._record_error("row rejected by the database; discarded", exc)

    def _complete(self) -> None:
        self._oldest = None
        self._force = False
        with self._done:
            self._completed = self._drained
            self._done.notify_all()

    def _prune_step(self) -> None:
        if self._prune_before is None:
            self._prune_before = datetime.now(UTC) - self._retention
            self._next_prune = time.monotonic() + PRUNE_EVERY_S
        try:
            deleted = self._store.prune(self._prune_before, limit=PRUNE_CHUNK)
        except Exception as exc:
            self._prune_before = None
            self._next_prune = time.monotonic() + PRUNE_RETRY_S
            self._record_error("pruning old samples failed", exc)
            return
        self.pruned_rows += deleted
        if deleted < PRUNE_CHUNK:
            self._prune_before = None
            self.last_prune_at = datetime.now(UTC)
            log.debug("old samples pruned", extra={"fields": {"total": self.pruned_rows}})

    def _finish(self, deadline: float) -> None:
        """Write what is pending until `deadline`; then count what is lost and stop."""
        while len(self._pending):
            if self._write():
                continue
            if time.monotonic() >= deadline:
                break
            time.sleep(max(0.0, min(self._retry_at, deadline) - time.monotonic()))
        lost = len(self._pending)
        if not lost:
            self._complete()
            return
        log.error(
            "database unavailable at shutdown; rows lost",
            extra={"fields": {"rows": lost, "changes": len(self._pending.changes)}},
        )
        self._pending.dropped += len(self._pending.samples)
        with self._done:
            self._done.notify_all()

    def _record_error(self, message: str, exc: BaseException, **fields: Any) -> None:
        self.errors += 1
        self.last_error = describe_error(exc, self._store.engine.url.password)
        fields.update(database=self._store.location, error=self.last_error)
        log.error(message, extra={"fields": {**fields, "pending": len(self._pending)}})
