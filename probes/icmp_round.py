"""One ICMP round's bookkeeping: what is in flight, what came back, the per-node summary.

Pure (no sockets, no clock): the prober records sends and feeds replies in;
tests feed crafted ones. A request is keyed by (target address, sequence);
the caller has already checked the id where the socket needs it (raw mode).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from probes.base import ProbeResult
from probes.icmp_packets import ECHO_REPLY, KIND_ERRORS, Reply

if TYPE_CHECKING:
    from monitor.config.inventory import NodeConfig

Key = tuple[str, int]
NS_PER_MS = 1_000_000


class IcmpRound:
    """The requests of one round and their fate, per node (by index in the round)."""

    def __init__(self, size: int, count: int, timeout_ns: int) -> None:
        self.count = count
        self.timeout_ns = timeout_ns
        self.pending: dict[Key, tuple[int, int, int]] = {}  # key → (node, sweep, sent ns)
        self.sent = [0] * size
        self.rtts: list[list[tuple[int, int]]] = [[] for _ in range(size)]  # (sweep, rtt ns)
        self.errors: list[tuple[str, str | None] | None] = [None] * size
        self.late = 0
        self.send_errors = 0
        self.sending_done = False
        self.done = asyncio.Event()
        self.started = datetime.now(UTC)

    def on_send(self, key: Key, node: int, sweep: int, sent_ns: int) -> None:
        """A request left (record it just before sendto: the reply may be queued during it)."""
        self.pending[key] = (node, sweep, sent_ns)
        self.sent[node] += 1

    def on_send_error(self, node: int, error: str, detail: str | None) -> None:
        """sendto failed for this node; the first reason is kept."""
        self.send_errors += 1
        if self.errors[node] is None:
            self.errors[node] = (error, detail)

    def on_reply(self, kind: int, key: Key, received_ns: int) -> bool:
        """A reply or ICMP error for `key`; False when it is not one of this round's requests."""
        entry = self.pending.pop(key, None)
        if entry is None:
            return False
        node, sweep, sent_ns = entry
        if kind != ECHO_REPLY:
            if self.errors[node] is None:
                self.errors[node] = (KIND_ERRORS[kind], f"ICMP {KIND_ERRORS[kind]} for {key[0]}")
        else:
            rtt = max(0, received_ns - sent_ns)
            if rtt <= self.timeout_ns:
                self.rtts[node].append((sweep, rtt))
            else:
                self.late += 1
        if self.sending_done and not self.pending:
            self.done.set()
        return True

    def finish_sending(self) -> None:
        """No more requests; `done` is set once nothing is in flight."""
        self.sending_done = True
        if not self.pending:
            self.done.set()

    def results(self, nodes: Sequence[NodeConfig]) -> list[ProbeResult]:
        """One ProbeResult per node, in order, all stamped with the round's start."""
        return [self._result(i, node) for i, node in enumerate(nodes)]

    def _result(self, index: int, node: NodeConfig) -> ProbeResult:
        pairs = self.rtts[index]
        received = len(pairs)
        if received == 1:  # count = 1, the usual case: one sample, no sorting or scans
            rtt = pairs[0][1] / NS_PER_MS
            samples = [rtt]
            values: dict[str, float | int | None] = {
                "rtt_min_ms": rtt,
                "rtt_max_ms": rtt,
                "jitter_ms": 0.0,
                "sent": self.sent[index],
                "received": 1,
            }
        else:
            pairs.sort()
            samples = [rtt / NS_PER_MS for _, rtt in pairs]
            values = {
                "rtt_min_ms": min(samples) if samples else None,
                "rtt_max_ms": max(samples) if samples else None,
                "jitter_ms": jitter(samples) if samples else None,
                "sent": self.sent[index],
                "received": received,
            }
        loss = 1.0 - received / self.count
        if received:
            rtt_ms = sum(samples) / received
            return ProbeResult(node.id, "icmp", True, self.started, rtt_ms, loss, values=values)
        error, detail = self.errors[index] or ("timeout", None)
        return ProbeResult(
            node.id,
            "icmp",
            False,
            self.started,
            loss=1.0,
            error=error,
            detail=detail,
            values=values,
        )


def deliver(
    rounds: Sequence[IcmpRound], reply: Reply, source: str, received_ns: int, ident: int | None
) -> bool:
    """Hand a parsed message to the round that sent its request; False if nobody did.

    `ident` is our echo id where the socket shows everyone's traffic (raw mode),
    None where the kernel already filtered (ping sockets). The key's address is
    the reply's source, or for an ICMP error the destination of the original request.
    """
    if ident is not None and reply.ident != ident:
        return False
    key = (reply.target or source, reply.seq)
    return any(rnd.on_reply(reply.kind, key, received_ns) for rnd in rounds)


def jitter(rtts: Sequence[float]) -> float:
    """Mean absolute difference of consecutive RTTs (in sequence order); 0 for one sample."""
    if len(rtts) < 2:
        return 0.0
    return sum(abs(b - a) for a, b in itertools.pairwise(rtts)) / (len(rtts) - 1)
