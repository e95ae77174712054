"""monitor.storage.buffer: the writer's bounded pending rows and bad-row isolation (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, StatementError

from monitor.nodes.state import NodeState, Status, Transition
from monitor.storage.buffer import (
    Batch,
    PendingRows,
    describe_error,
    is_content_error,
    write_bisecting,
)
from probes.base import ProbeResult

T0 = datetime(2025, 3, 1, tzinfo=UTC)


def sample(i: int) -> ProbeResult:
    return ProbeResult(node=f"n{i}", probe="icmp", ok=True, at=T0 + timedelta(seconds=i))


def change(node: str) -> Transition:
    return Transition(node, Status.UP, Status.DOWN, T0, "ICMP无响应")


def test_cap_drops_the_oldest_samples_only() -> None:
    pending = PendingRows(max_samples=3)
    for i in range(5):
        pending.add_sample(sample(i))
    pending.add_change(change("a"), NodeState(Status.DOWN))
    assert [s.node for s in pending.samples] == ["n2", "n3", "n4"]
    assert pending.dropped == 2
    assert (pending.rows, len(pending)) == (4, 5)  # 3 samples + 1 change, + 1 state


def test_take_then_put_back_keeps_order_and_newer_states() -> None:
    pending = PendingRows(max_samples=10)
    for i in range(4):
        pending.add_sample(sample(i))
    pending.add_change(change("a"), NodeState(Status.DOWN))
    batch = pending.take(2)
    assert [s.node for s in batch.samples] == ["n0", "n1"]
    assert [c.node for c in batch.changes] == ["a"]
    pending.add_sample(sample(9))
    pending.add_state("a", NodeState(Status.UP))  # newer than the batch's
    pending.add_change(change("b"), None)

    pending.put_back(batch)
    assert [s.node for s in pending.samples] == ["n0", "n1", "n2", "n3", "n9"]
    assert [c.node for c in pending.changes] == ["a", "b"]
    assert pending.states == {"a": NodeState(Status.UP)}


def test_put_back_respects_the_cap() -> None:
    pending = PendingRows(max_samples=3)
    for i in range(3):
        pending.add_sample(sample(i))
    batch = pending.take(3)
    for i in range(3, 5):
        pending.add_sample(sample(i))
    pending.put_back(batch)
    assert [s.node for s in pending.samples] == ["n2", "n3", "n4"]
    assert pending.dropped == 2


@pytest.mark.parametrize(("samples", "changes", "states"), [(5, 0, 0), (1, 2, 2), (0, 0, 3)])
def test_split_covers_everything_once(samples: int, changes: int, states: int) -> None:
    batch = Batch(
        [sample(i) for i in range(samples)],
        [change(f"c{i}") for i in range(changes)],
        {f"s{i}": NodeState() for i in range(states)},
    )
    first, second = batch.split()
    assert len(first) == len(batch) // 2
    assert first.samples + second.samples == batch.samples
    assert first.changes + second.changes == batch.changes
    assert first.states | second.states == batch.states


def _bad(message: str) -> StatementError:
    return StatementError(message, "INSERT", {}, ValueError(message))


def test_write_bisecting_discards_only_the_bad_rows() -> None:
    batch = Batch([sample(i) for i in range(8)], [change("a")], {"a": NodeState()})
    written: list[str] = []
    rejected: list[BaseException] = []

    def write(part: Batch) -> None:
        if any(s.node in ("n3", "n6") for s in part.samples):
            raise _bad("naive datetime")
        written.extend(s.node for s in part.samples)
        written.extend(c.node for c in part.changes)
        written.extend(f"state:{n}" for n in part.states)

    write_bisecting(write, batch, PendingRows(100), rejected.append)
    assert sorted(written) == sorted(["n0", "n1", "n2", "n4", "n5", "n7", "a", "state:a"])
    assert len(rejected) == 2


def test_write_bisecting_puts_everything_back_on_a_database_outage() -> None:
    pending = PendingRows(100)
    pending.add_sample(sample(9))  # arrived meanwhile
    batch = Batch([sample(i) for i in range(4)], [change("a")], {})
    calls = 0

    def write(part: Batch) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise _bad("bad row somewhere")  # bisect …
        if calls == 2:
            return  # … first half written …
        raise OperationalError("INSERT", {}, Exception("database is locked"))  # … then outage

    with pytest.raises(OperationalError):
        write_bisecting(write, batch, pending, lambda exc: None)
    assert [s.node for s in pending.samples] == ["n2", "n3", "n9"]
    assert [c.node for c in pending.changes] == ["a"]


@pytest.mark.parametrize(
    ("exc", "content"),
    [
        (IntegrityError("INSERT", {}, Exception("NOT NULL")), True),
        (DataError("INSERT", {}, Exception("value too long")), True),
        (_bad("naive datetime"), True),
        (OperationalError("INSERT", {}, Exception("database is locked")), False),
        (ConnectionError("refused"), False),
    ],
    ids=["integrity", "data", "bind", "locked", "connection"],
)
def test_is_content_error(exc: BaseException, content: bool) -> None:
    assert is_content_error(exc) is content


def test_describe_error_hides_sql_parameters_and_password() -> None:
    exc = OperationalError(
        "INSERT INTO probe_samples VALUES (?)",
        {"secret": "x"},
        Exception('connection to "postgresql://root:hunter2@db" failed\nDETAIL: more'),
    )
    text = describe_error(exc, "hunter2")
    assert text == 'Exception: connection to "postgresql://root:***@db" failed'
