"""Event-loop health: loop lag (a small sampler task) and time per round phase.

The sampler sleeps `period` seconds at a time and records how late it woke:
any callback that holds the loop delays it, so its lateness is what a probe
reply, a timer or a signal handler waits at worst. The last `window` samples
(default 120 of 0.5 s: the last minute) give p50/p99/max at scrape time
(commwatch_event_loop_lag_seconds, a summary);
all samples ever go into the count and sum.

Every sample is one wake-up of an otherwise idle loop, and on a virtual
machine a timer wake-up costs ≈ 0.1 ms of CPU (the epoll_wait, the timer, the
context switches): at 0.1 s the sampler was 10 of the daemon's ≈ 35 wake-ups a
second. Half a second still catches any stall longer than a few milliseconds
(a held loop delays the sample that is waiting, whatever the period).

A round has four phases: `probe` (the prober's round, wall time), `state`
(results into the node table, loop time), `store` (samples, states and changes
handed to the writer, loop time; the writing itself is the writer thread's),
`score` (the plan, when it was due: wall time, the scorer itself runs in a
worker thread so the loop stays responsive). They are exported as summaries (sum and count)
per probe kind and phase: commwatch_round_phase_seconds.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Iterator

from prometheus_client.core import Metric

PHASES = ("probe", "state", "store", "score")
QUANTILES = (0.5, 0.99)


def quantile(sorted_values: list[float], q: float) -> float:
    """The nearest-rank quantile of ascending values (0.0 for none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


class LoopLag:
    """Samples event-loop lag; start() inside the loop, stop() at shutdown."""

    def __init__(self, period: float = 0.5, window: int = 120) -> None:
        self.period = period
        self._recent: deque[float] = deque(maxlen=window)
        self._count = 0
        self._sum = 0.0
        self._task: asyncio.Task[None] | None = None

    @property
    def window(self) -> int:
        """How many recent samples the quantiles are taken over."""
        return self._recent.maxlen or 0

    @property
    def count(self) -> int:
        """Samples taken so far (one per wake-up of the sampler)."""
        return self._count

    def start(self) -> None:
        """Start the sampler task on the running loop."""
        self._task = asyncio.get_running_loop().create_task(self._sample())

    async def stop(self) -> None:
        """Cancel the sampler and wait for it."""
        if self._task is None:
            return
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None

    def record(self, lag: float) -> None:
        """One lateness sample, in seconds."""
        self._recent.append(lag)
        self._count += 1
        self._sum += lag

    async def _sample(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + self.period
            await asyncio.sleep(self.period)
            self.record(max(0.0, loop.time() - due))

    def summary(self) -> dict[float, float]:
        """p50, p99 and max (key 1.0) over the recent window."""
        values = sorted(self._recent)
        shown = {q: quantile(values, q) for q in QUANTILES}
        shown[1.0] = values[-1] if values else 0.0
        return shown

    def metric_families(self) -> Iterator[Metric]:
        """commwatch_event_loop_lag_seconds (summary over the recent window)."""
        family = Metric(
            "commwatch_event_loop_lag_seconds",
            f"Event-loop lag: how late a {self.period:g}s timer fires (quantiles over the "
            f"last {self.window} samples)",
            "summary",
        )
        for q, value in self.summary().items():
            family.add_sample("commwatch_event_loop_lag_seconds", {"quantile": f"{q:g}"}, value)
        family.add_sample("commwatch_event_loop_lag_seconds_count", {}, float(self.count))
        family.add_sample("commwatch_event_loop_lag_seconds_sum", {}, self._sum)
        yield family


class RoundPhases:
    """Loop time spent per (probe kind, phase); see the module docstring."""

    def __init__(self) -> None:
        self._sum: dict[tuple[str, str], float] = {}
        self._count: dict[tuple[str, str], int] = {}

    def add(self, kind: str, phase: str, seconds: float) -> None:
        """Account one phase of one round."""
        key = (kind, phase)
        self._sum[key] = self._sum.get(key, 0.0) + seconds
        self._count[key] = self._count.get(key, 0) + 1

    def totals(self) -> dict[tuple[str, str], tuple[int, float]]:
        """(count, seconds) per (kind, phase) so far."""
        return {key: (self._count[key], total) for key, total in list(self._sum.items())}

    def metric_families(self) -> Iterator[Metric]:
        """commwatch_round_phase_seconds{probe,phase} (summary: sum and count)."""
        name = "commwatch_round_phase_seconds"
        family = Metric(name, "Time per probe round phase (probe, state, store, score)", "summary")
        for (kind, phase), (count, total) in sorted(self.totals().items()):
            labels = {"probe": kind, "phase": phase}
            family.add_sample(f"{name}_count", labels, float(count))
            family.add_sample(f"{name}_sum", labels, total)
        yield family


class Stopwatch:
    """perf_counter laps: `lap()` returns the seconds since the previous lap."""

    def __init__(self) -> None:
        self._last = time.perf_counter()

    def lap(self) -> float:
        """Seconds since construction or the last lap."""
        now = time.perf_counter()
        elapsed, self._last = now - self._last, now
        return elapsed
