"""The store writer's pending rows, bounded: old samples give way, changes never do.

Only the writer thread touches a `PendingRows`. Probe samples sit in a deque
capped at `max_samples` (the oldest is dropped and counted when the database
has been failing for long); state changes are never dropped; node states are
kept as the latest per node, so they are bounded by the inventory.

`write_bisecting` tells a batch the database refused for its rows (bisect it,
discard only the bad rows, so one bad row cannot wedge the writer) from a
database that is unavailable (put the batch back; the writer retries).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError

from monitor.nodes.state import NodeState, Transition
from probes.base import ProbeResult


@dataclass(slots=True)
class Batch:
    """Rows written together, in one transaction."""

    samples: list[ProbeResult] = field(default_factory=list)
    changes: list[Transition] = field(default_factory=list)
    states: dict[str, NodeState] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.samples) + len(self.changes) + len(self.states)

    def split(self) -> tuple[Batch, Batch]:
        """Two halves (samples, then changes, then states), to isolate a bad row."""
        mid = len(self) // 2
        n_samples = min(mid, len(self.samples))
        n_changes = min(mid - n_samples, len(self.changes))
        n_states = mid - n_samples - n_changes
        states = list(self.states.items())
        first = Batch(self.samples[:n_samples], self.changes[:n_changes], dict(states[:n_states]))
        second = Batch(self.samples[n_samples:], self.changes[n_changes:], dict(states[n_states:]))
        return first, second


class PendingRows:
    """What was submitted and is not written yet."""

    def __init__(self, max_samples: int) -> None:
        self.max_samples = max_samples
        self.samples: deque[ProbeResult] = deque()
        self.changes: list[Transition] = []
        self.states: dict[str, NodeState] = {}
        self.dropped = 0

    @property
    def rows(self) -> int:
        """Samples and changes waiting: what `batch_size` is compared with."""
        return len(self.samples) + len(self.changes)

    def __len__(self) -> int:
        return self.rows + len(self.states)

    def add_sample(self, result: ProbeResult) -> None:
        """Queue a sample; beyond the cap the oldest one is dropped (and counted)."""
        self.samples.append(result)
        self._trim()

    def add_samples(self, results: Iterable[ProbeResult]) -> None:
        """Queue several samples at once (one bucket's chunk); the cap applies as above."""
        self.samples.extend(results)
        self._trim()

    def add_change(self, change: Transition, state: NodeState | None) -> None:
        """Queue a state change and, when given, the state it led to."""
        self.changes.append(change)
        if state is not None:
            self.states[change.node] = state

    def add_state(self, node: str, state: NodeState) -> None:
        """Remember a node's latest state (an earlier pending one is superseded)."""
        self.states[node] = state

    def take(self, max_samples: int) -> Batch:
        """Up to `max_samples` of the oldest samples, with every change and state."""
        count = min(max_samples, len(self.samples))
        batch = Batch([self.samples.popleft() for _ in range(count)], self.changes, self.states)
        self.changes = []
        self.states = {}
        return batch

    def put_back(self, batch: Batch) -> None:
        """Return an unwritten batch in front of what arrived since; newer states win."""
        self.samples.extendleft(reversed(batch.samples))
        self.changes = batch.changes + self.changes
        for node, state in batch.states.items():
            self.states.setdefault(node, state)
        self._trim()

    def _trim(self) -> None:
        while len(self.samples) > self.max_samples:
            self.samples.popleft()
            self.dropped += 1


def write_bisecting(
    write: Callable[[Batch], None],
    batch: Batch,
    pending: PendingRows,
    reject: Callable[[BaseException], None],
) -> None:
    """Write `batch`; on a content error bisect it and `reject` each bad row.

    On any other error every unwritten row goes back to `pending` (in order,
    in front of newer rows) and the error propagates.
    """
    parts = [batch]
    while parts:
        part = parts.pop()
        try:
            write(part)
        except Exception as exc:
            if not is_content_error(exc):
                for unwritten in [*parts, part]:  # put_back prepends: the last to write first
                    pending.put_back(unwritten)
                raise
            if len(part) > 1:
                parts.extend(reversed(part.split()))
                continue
            reject(exc)


def is_content_error(exc: BaseException) -> bool:
    """True when the rows themselves were refused: retrying the same batch cannot succeed."""
    if isinstance(exc, IntegrityError | DataError):
        return True
    if isinstance(exc, StatementError) and not isinstance(exc, DBAPIError):
        return True  # a value could not even be bound (e.g. a naive datetime)
    return isinstance(exc, TypeError | ValueError)


def describe_error(exc: BaseException, password: str | None) -> str:
    """A one-line error without SQL, parameters or any password."""
    cause = (exc.orig or exc) if isinstance(exc, StatementError) else exc
    first = (str(cause).strip().splitlines() or [""])[0]
    text = f"{type(cause).__name__}: {first}"[:300]
    return text.replace(password, "***") if password else text
