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
    """Affected systems and streets, spread, the 预警情形 and the proposed 响应级别.

    `partial_systems`: systems with some, not all, of their business down
    (部分业务受影响, never a scenario by itself). `monitor_blind`: the monitor
    cannot see the district (its own uplink failed); no scenario then.
    """

    scenario: int | None = None
    level: Level | None = None
    operator_networks: tuple[str, ...] = ()
    key_systems: tuple[str, ...] = ()
    streets: tuple[str, ...] = ()
    spread: bool = False
    reasons: tuple[str, ...] = ()
    partial_systems: tuple[str, ...] = ()
    monitor_blind: bool = False
    nodes_down: tuple[str, ...] = field(default=(), compare=False)
    nodes_unreachable: tuple[str, ...] = field(default=(), compare=False)
    left_out: tuple[str, ...] = field(default=(), compare=False)

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
            "partial_systems": list(self.partial_systems),
            "monitor_blind": self.monitor_blind,
        }
