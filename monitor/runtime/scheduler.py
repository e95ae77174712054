"""Probe rounds on APScheduler 3.11 (AsyncIOScheduler).

The nodes of each probe kind are split into buckets, at most one per second of
the interval, whose first runs are spread evenly over the interval: 10k jobs
fired together start ~0.6 s late and can miss a whole round. Each bucket is one
job (coalesce, max_instances=1, so rounds never overlap); a round is bounded by
a timeout below its interval; late, missed and slow rounds are logged and counted.

Re-planning (a SIGHUP reload) keeps the phase of buckets that stay, and nodes
that were not planned before for that probe kind get one extra round at once,
so a node added by a reload is probed within the next bucket instead of after
up to a full interval.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.events import (
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
    JobSubmissionEvent,
)
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor.runtime.metrics import DaemonMetrics

if TYPE_CHECKING:
    from monitor.config.inventory import NodeConfig

log = logging.getLogger(__name__)

RoundRunner = Callable[[str, Sequence["NodeConfig"]], Awaitable[None]]
JOB_PREFIX = "probe:"
LATE_SECONDS = 1.0  # a round starting later than this is counted as late


def bucket_nodes(nodes: Sequence[NodeConfig], interval: timedelta) -> list[list[NodeConfig]]:
    """Split nodes into at most one bucket per second of interval, in config order."""
    if not nodes:
        return []
    slots = max(1, min(len(nodes), int(interval.total_seconds())))
    size = math.ceil(len(nodes) / slots)
    return [list(nodes[i : i + size]) for i in range(0, len(nodes), size)]


class ProbeScheduler:
    """Schedules bucketed probe rounds and measures how late they run."""

    def __init__(self, metrics: DaemonMetrics, run_round: RoundRunner) -> None:
        self._metrics = metrics
        self._run_round = run_round
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._scheduler.add_listener(
            self._on_event, EVENT_JOB_SUBMITTED | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES
        )
        self._inflight: set[asyncio.Task[None]] = set()
        self._intervals: dict[str, timedelta] = {}
        self._planned: dict[str, frozenset[str]] = {}
        self._unserved: dict[str, datetime] = {}  # job id → due time of its oldest skipped round
        self._stopping = False  # set by shutdown(): a cancelled round is then a clean stop

    def start(self) -> None:
        """Start the scheduler; must run inside the event loop."""
        self._scheduler.start()

    def plan(self, kind: str, nodes: Sequence[NodeConfig], interval: timedelta) -> int:
        """(Re)place the jobs of one probe kind; returns the number of buckets.

        Buckets that stay keep their next run time when the interval is unchanged;
        nodes new to this kind (not on the first plan) are probed at once.
        """
        same_interval = self._intervals.get(kind) == interval
        kept: dict[str, datetime] = {}
        for job in self._scheduler.get_jobs():
            if job.id.startswith(f"{JOB_PREFIX}{kind}:"):
                if same_interval and job.next_run_time is not None:
                    kept[job.id] = job.next_run_time
                job.remove()
                self._unserved.pop(job.id, None)
        self._intervals[kind] = interval
        self._probe_new(kind, nodes)
        buckets = bucket_nodes(nodes, interval)
        now = datetime.now(UTC)
        seconds = interval.total_seconds()
        for index, bucket in enumerate(buckets):
            offset = seconds * index / len(buckets)
            job_id = f"{JOB_PREFIX}{kind}:{index}"
            first = kept.get(job_id, now + timedelta(seconds=offset + 0.05))
            self._scheduler.add_job(
                self._round_job,
                "interval",
                seconds=seconds,
                args=(kind, bucket),
                id=job_id,
                name=f"{kind} bucket {index} ({len(bucket)} nodes)",
                next_run_time=first,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=max(1, int(seconds / 2)),
                replace_existing=True,
            )
        log.info(
            "probe jobs planned",
            extra={"fields": {"probe": kind, "nodes": len(nodes), "buckets": len(buckets)}},
        )
        return len(buckets)

    def _probe_new(self, kind: str, nodes: Sequence[NodeConfig]) -> None:
        """Remember this kind's nodes; on a re-plan, give the new ones a round now."""
        before = self._planned.get(kind)
        self._planned[kind] = frozenset(node.id for node in nodes)
        if before is None or not self._scheduler.running:
            return
        new = [node for node in nodes if node.id not in before]
        if not new:
            return
        log.info("probing new nodes now", extra={"fields": {"probe": kind, "nodes": len(new)}})
        self.probe_now(kind, new)

    def probe_now(self, kind: str, nodes: Sequence[NodeConfig]) -> None:
        """Run an extra round now (a trap's fast path); never blocks the caller."""
        task = asyncio.get_running_loop().create_task(self._round_job(kind, list(nodes)))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _round_job(self, kind: str, nodes: list[NodeConfig]) -> None:
        interval = self._intervals.get(kind, timedelta(seconds=60)).total_seconds()
        started = time.monotonic()
        task = asyncio.current_task()
        if task is not None:
            self._inflight.add(task)
        try:
            await asyncio.wait_for(self._run_round(kind, nodes), timeout=interval * 0.95)
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            # shutdown() cancelled it: a clean stop, not a failed job (APScheduler
            # would log a cancelled coroutine job as "raised an exception")
            log.debug("probe round cancelled: stopping", extra={"fields": {"probe": kind}})
            return
        except TimeoutError:
            self._metrics.rounds_skipped.labels(kind, "timeout").inc()
            log.warning(
                "probe round cut at its interval",
                extra={"fields": {"probe": kind, "nodes": len(nodes)}},
            )
        except Exception:
            self._metrics.probe_errors.labels(kind).inc()
            log.exception("probe round failed", extra={"fields": {"probe": kind}})
        finally:
            if task is not None:
                self._inflight.discard(task)
        elapsed = time.monotonic() - started
        self._metrics.rounds.labels(kind).inc()
        self._metrics.round_duration.labels(kind).observe(elapsed)
        if elapsed > interval * 0.8:
            self._metrics.rounds_slow.labels(kind).inc()
            log.warning(
                "slow probe round", extra={"fields": {"probe": kind, "seconds": round(elapsed, 3)}}
            )

    def _on_event(self, event: JobEvent) -> None:
        if not event.job_id.startswith(JOB_PREFIX):
            return
        kind = event.job_id.split(":")[1]
        now = datetime.now(UTC)
        scheduled = _scheduled(event, now)
        if event.code == EVENT_JOB_SUBMITTED:
            due = min(scheduled, self._unserved.pop(event.job_id, scheduled))
            lag = max(0.0, (now - due).total_seconds())
            self._metrics.lag_histogram.labels(kind).observe(lag)
            if lag > LATE_SECONDS:
                self._metrics.rounds_late.labels(kind).inc()
            self._metrics.lag.labels(kind).set(max(lag, self._oldest_unserved(kind, now)))
            return
        # a skipped round is late until one of its bucket runs: the lag shows it growing
        self._unserved.setdefault(event.job_id, scheduled)
        self._metrics.lag.labels(kind).set(self._oldest_unserved(kind, now))
        reason = "missed" if event.code == EVENT_JOB_MISSED else "still_running"
        self._metrics.rounds_skipped.labels(kind, reason).inc()
        log.warning(
            "probe round skipped",
            extra={"fields": {"probe": kind, "job": event.job_id, "reason": reason}},
        )

    def _oldest_unserved(self, kind: str, now: datetime) -> float:
        prefix = f"{JOB_PREFIX}{kind}:"
        unserved = [t for job, t in self._unserved.items() if job.startswith(prefix)]
        return max(((now - t).total_seconds() for t in unserved), default=0.0)

    async def shutdown(self, grace: float = 5.0) -> None:
        """Stop scheduling, then cancel rounds still running (bounded wait)."""
        self._stopping = True
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        pending: list[Any] = list(self._inflight)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=grace)


def _scheduled(event: JobEvent, now: datetime) -> datetime:
    """When the event's round was due (submission and missed events say it differently)."""
    if isinstance(event, JobSubmissionEvent) and event.scheduled_run_times:
        return event.scheduled_run_times[-1]  # type: ignore[no-any-return]
    scheduled = getattr(event, "scheduled_run_time", None)
    return scheduled if isinstance(scheduled, datetime) else now
