"""The Assessment: what the scorer concludes from node states (DESIGN.md contract).

`monitor.plan.scorer` produces it; `monitor.incidents.engine` and `dispatch` consume it;
`commwatch assess --json` prints `to_json()` with exactly the contract's keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from monitor.plan.names import Level


@dataclass(frozen=True)
class Assessment:
    """Affected systems and streets, spread, the 预警情形 and the proposed 响应级别."""

    scenario: int | None = None
    level: Level | None = None
    operator_networks: tuple[str, ...] = ()
    key_systems: tuple[str, ...] = ()
    streets: tuple[str, ...] = ()
    spread: bool = False
    reasons: tuple[str, ...] = ()
    nodes_down: tuple[str, ...] = field(default=(), compare=False)
    nodes_unreachable: tuple[str, ...] = field(default=(), compare=False)

    @property
    def affected(self) -> bool:
        """True when any operator network or key system is affected."""
        return bool(self.operator_networks or self.key_systems)

    def to_json(self) -> dict[str, Any]:
        """The `assess --json` object: exactly the contract's keys."""
        return {
            "scenario": self.scenario,
            "level": self.level,
            "operator_networks": list(self.operator_networks),
            "key_systems": list(self.key_systems),
            "streets": list(self.streets),
            "spread": self.spread,
            "reasons": list(self.reasons),
        }
