"""What polling needs from an SNMP session, whatever the version: GET, bulk, walk.

A Session is one node seen through one credential. Two kinds exist:
`probes.snmp_community` (v1/v2c) and `probes.snmp_v3_client` (v3, USM), both
on the in-house codec. Both raise SnmpError with a documented kind for a request that
got no usable answer, and return agent error statuses in the Reply; the helpers
here turn those into values, missing markers or an `agent_error`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from probes.snmp_ber import Oid, Special, Value, VarBind, format_oid, is_under

# RFC 3416 error-status names, for `agent_error` details.
ERROR_STATUS = (
    *("noError", "tooBig", "noSuchName", "badValue", "readOnly", "genErr", "noAccess"),
    *("wrongType", "wrongLength", "wrongEncoding", "wrongValue", "noCreation"),
    *("inconsistentValue", "resourceUnavailable", "commitFailed", "undoFailed"),
    *("authorizationError", "notWritable", "inconsistentName"),
)
TOO_BIG = 1
NO_SUCH_NAME = 2
AUTHORIZATION_ERROR = 16  # VACM said no (e.g. a v3 user below its rouser level): config
GET_CHUNK = 40  # varbinds per GET: net-snmp answers far more, small agents ~484-byte PDUs
MAX_WALK_ROWS = 100_000


def status_name(status: int) -> str:
    return ERROR_STATUS[status] if 0 <= status < len(ERROR_STATUS) else f"error-status {status}"


def agent_failure(status: int, where: str) -> SnmpError:
    """An error-status as SnmpError: authorizationError is a credential problem (auth)."""
    kind = "auth" if status == AUTHORIZATION_ERROR else "agent_error"
    return SnmpError(kind, f"{status_name(status)} {where}".strip())


class SnmpError(Exception):
    """A request without a usable answer; kind is a documented ProbeResult error name."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Reply:
    """One response PDU and the round-trip time of the attempt it answered."""

    error_status: int
    error_index: int
    varbinds: list[VarBind]
    rtt_ms: float


class Session(Protocol):
    """One node through one credential."""

    @property
    def version(self) -> str:
        """ "1", "2c" or "3"."""
        ...

    async def get(self, oids: Sequence[Oid]) -> Reply:
        """One GET of these OIDs."""
        ...

    async def next(self, oids: Sequence[Oid], max_repetitions: int) -> Reply:
        """One GETBULK (v2c/v3) or GETNEXT (v1, which ignores max_repetitions)."""
        ...


async def get_values(session: Session, oids: Sequence[Oid]) -> tuple[dict[Oid, Value], float]:
    """GET many OIDs in chunks; missing ones map to Special.NO_SUCH_OBJECT/INSTANCE.

    Returns the values and the round-trip time of the first chunk (the probe's rtt).
    v1's noSuchName (the whole PDU fails for one bad OID) is handled by marking
    that OID missing and asking again for the rest; tooBig splits the chunk.
    """
    if len(oids) <= GET_CHUNK:
        return await _get_chunk(session, list(oids))
    chunks = [list(oids[i : i + GET_CHUNK]) for i in range(0, len(oids), GET_CHUNK)]
    parts = await asyncio.gather(*(_get_chunk(session, chunk) for chunk in chunks))
    values: dict[Oid, Value] = {}
    for part, _ in parts:
        values.update(part)
    return values, parts[0][1]


async def _get_chunk(session: Session, oids: list[Oid]) -> tuple[dict[Oid, Value], float]:
    values: dict[Oid, Value] = {}
    pending = list(oids)
    rtt: float | None = None
    while pending:
        reply = await session.get(pending)
        rtt = reply.rtt_ms if rtt is None else rtt
        if reply.error_status == 0:
            values.update(zip(pending, (value for _, value in reply.varbinds), strict=False))
            return values, rtt
        if reply.error_status == TOO_BIG and len(pending) > 1:
            half = len(pending) // 2
            first, second = await asyncio.gather(
                _get_chunk(session, pending[:half]), _get_chunk(session, pending[half:])
            )
            return {**values, **first[0], **second[0]}, rtt
        bad = reply.error_index - 1
        if reply.error_status == NO_SUCH_NAME and 0 <= bad < len(pending):
            values[pending.pop(bad)] = Special.NO_SUCH_OBJECT
            continue
        culprit = (
            f"(index {reply.error_index}: {format_oid(pending[bad])})"
            if 0 <= bad < len(pending)
            else ""
        )
        raise agent_failure(reply.error_status, culprit)
    return values, rtt or 0.0


async def walk(
    session: Session, root: Oid, max_repetitions: int, max_rows: int = MAX_WALK_ROWS
) -> list[VarBind]:
    """Every varbind strictly inside root's subtree (GETBULK; GETNEXT for v1).

    Stops at the subtree's end (lexicographicMode=False in pysnmp's words), at
    endOfMibView, at v1's noSuchName, and on an OID that does not increase (an
    agent loop), so it can never run past the subtree or forever.
    """
    rows: list[VarBind] = []
    current = root
    while len(rows) < max_rows:
        reply = await session.next([current], max_repetitions)
        if reply.error_status == NO_SUCH_NAME and session.version == "1":
            return rows
        if reply.error_status:
            raise agent_failure(reply.error_status, f"walking {format_oid(root)}")
        if not reply.varbinds:
            return rows
        for oid, value in reply.varbinds:
            if value is Special.END_OF_MIB_VIEW or not is_under(oid, root):
                return rows
            if oid <= current:
                raise SnmpError("agent_error", f"OID not increasing at {format_oid(oid)}")
            rows.append((oid, value))
            current = oid
    return rows
