"""The probe protocol and its result type.

A target that does not answer is a failed ProbeResult, never an exception;
ProbeError means the probe itself could not run (no permission, bad socket).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from prometheus_client.core import Metric

if TYPE_CHECKING:
    from monitor.config.inventory import NodeConfig


class ProbeError(Exception):
    """The probe could not run at all (a permission or setup problem, not an outage)."""


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What one probe learned about one node in one round."""

    node: str
    probe: str
    ok: bool
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    rtt_ms: float | None = None
    loss: float | None = None
    error: str | None = None
    degraded: bool = False
    detail: str | None = None
    values: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The `probe-once --json` object: contract keys first, then probe-specific ones."""
        body: dict[str, Any] = {
            "node": self.node,
            "probe": self.probe,
            "ok": self.ok,
            "rtt_ms": None if self.rtt_ms is None else round(self.rtt_ms, 3),
            "loss": None if self.loss is None else round(self.loss, 4),
            "error": self.error,
            "degraded": self.degraded,
            "at": self.at.isoformat(),
        }
        if self.detail is not None:
            body["detail"] = self.detail
        for key, value in self.values.items():
            body.setdefault(key, value)
        return body


class Probe(Protocol):
    """A probe family. `probe_round` batches many nodes; `probe` is one node."""

    kind: str

    async def probe(self, node: NodeConfig) -> ProbeResult: ...

    async def probe_round(self, nodes: Sequence[NodeConfig]) -> list[ProbeResult]: ...

    def metric_families(self) -> Iterable[Metric]:
        """The prober's own counters, exported at scrape time."""
        ...

    async def close(self) -> None: ...
