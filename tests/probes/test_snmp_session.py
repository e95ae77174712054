"""get_values and walk over scripted sessions: v1 noSuchName, tooBig, walk ends."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pytest

from probes.snmp_ber import Oid, Special, Value, VarBind
from probes.snmp_session import GET_CHUNK, Reply, SnmpError, get_values, walk

Table = dict[Oid, Value]
ROOT: Oid = (1, 3, 6, 1, 2, 1, 2, 2, 1, 2)


class FakeSession:
    """Answers from a table like an agent would; `misbehave` may rewrite replies."""

    def __init__(
        self,
        table: Mapping[Oid, Value],
        version: str = "2c",
        max_varbinds: int = 1000,
        misbehave: Callable[[list[VarBind]], list[VarBind]] | None = None,
    ) -> None:
        self.table = dict(sorted(table.items()))
        self._version = version
        self.max_varbinds = max_varbinds
        self.misbehave = misbehave
        self.requests: list[tuple[str, int]] = []

    @property
    def version(self) -> str:
        return self._version

    async def get(self, oids: Sequence[Oid]) -> Reply:
        self.requests.append(("get", len(oids)))
        if len(oids) > self.max_varbinds:
            return Reply(1, 0, [], 1.0)
        rows: list[VarBind] = []
        for i, oid in enumerate(oids):
            if oid in self.table:
                rows.append((oid, self.table[oid]))
            elif self._version == "1":
                return Reply(2, i + 1, [(o, None) for o in oids], 1.0)
            else:
                rows.append((oid, Special.NO_SUCH_INSTANCE))
        return Reply(0, 0, rows, 1.0)

    async def next(self, oids: Sequence[Oid], max_repetitions: int) -> Reply:
        self.requests.append(("next", max_repetitions))
        after = [(o, v) for o, v in self.table.items() if o > oids[0]]
        count = 1 if self._version == "1" else max_repetitions
        rows = after[:count]
        if not rows and self._version == "1":
            return Reply(2, 1, [(oids[0], None)], 1.0)
        if len(rows) < count and self._version != "1":
            rows.append((rows[-1][0] if rows else oids[0], Special.END_OF_MIB_VIEW))
        if self.misbehave is not None:
            rows = self.misbehave(rows)
        return Reply(0, 0, rows, 1.0)


def _table(n: int) -> Table:
    table: Table = {(*ROOT, i): f"eth{i}".encode() for i in range(1, n + 1)}
    table[(1, 3, 6, 1, 2, 1, 2, 2, 1, 3, 1)] = 6  # ifType.1: the next column
    return table


@pytest.mark.parametrize("version", ["1", "2c"])
async def test_get_values_marks_missing_oids(version: str) -> None:
    table = _table(3)
    session = FakeSession(table, version)
    oids = [(*ROOT, 1), (1, 3, 6, 1, 99, 0), (*ROOT, 3)]
    values, rtt = await get_values(session, oids)
    assert values[(*ROOT, 1)] == b"eth1"
    assert values[(*ROOT, 3)] == b"eth3"
    assert values[(1, 3, 6, 1, 99, 0)] in (Special.NO_SUCH_OBJECT, Special.NO_SUCH_INSTANCE)
    assert rtt == 1.0
    assert len(session.requests) == (2 if version == "1" else 1)  # v1: ask again without it


async def test_get_values_chunks_and_splits_on_too_big() -> None:
    table = _table(200)
    session = FakeSession(table, max_varbinds=15)
    oids = [(*ROOT, i) for i in range(1, 101)]
    values, _ = await get_values(session, oids)
    assert values == {oid: table[oid] for oid in oids}
    assert max(n for _, n in session.requests) <= GET_CHUNK


async def test_get_values_agent_error_names_status_and_oid() -> None:
    class GenErr(FakeSession):
        async def get(self, oids: Sequence[Oid]) -> Reply:
            return Reply(5, 2, [], 1.0)

    with pytest.raises(SnmpError) as caught:
        await get_values(GenErr({}), [(1, 3, 6, 1, 1), (1, 3, 6, 1, 2)])
    assert caught.value.kind == "agent_error"
    assert caught.value.detail == "genErr (index 2: 1.3.6.1.2)"


async def test_authorization_error_is_an_auth_problem() -> None:
    class Denied(FakeSession):
        async def get(self, oids: Sequence[Oid]) -> Reply:
            return Reply(16, 0, [], 1.0)

    with pytest.raises(SnmpError) as caught:
        await get_values(Denied({}), [(1, 3, 6, 1, 1)])
    assert (caught.value.kind, caught.value.detail) == ("auth", "authorizationError")


@pytest.mark.parametrize("version", ["1", "2c"])
@pytest.mark.parametrize("reps", [1, 7, 25])
async def test_walk_stays_inside_the_subtree(version: str, reps: int) -> None:
    session = FakeSession(_table(60), version)
    rows = await walk(session, ROOT, reps)
    assert [oid[-1] for oid, _ in rows] == list(range(1, 61))
    assert rows[0][1] == b"eth1"


async def test_walk_ends_at_end_of_mib_view() -> None:
    table = {(*ROOT, i): b"x" for i in range(1, 4)}
    rows = await walk(FakeSession(table), ROOT, 10)
    assert len(rows) == 3


async def test_walk_refuses_an_agent_that_loops() -> None:
    def loop_back(rows: list[VarBind]) -> list[VarBind]:
        return [((*ROOT, 1), b"again")]

    with pytest.raises(SnmpError, match="not increasing"):
        await walk(FakeSession(_table(5), misbehave=loop_back), ROOT, 5)


async def test_walk_row_limit() -> None:
    rows = await walk(FakeSession(_table(100)), ROOT, 10, max_rows=30)
    assert len(rows) == 30
