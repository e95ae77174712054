"""When the plan must be scored again: on a change, or when a clock says so. Pure.

Scoring reads every node, so it runs only when its answer can differ from the
last one:

- a node's status or flap overlay changed in this round (the node table says so);
- a maintenance window or guarantee period started or ended since the last
  check (they change suppression, thresholds' reasons and the shown statuses);
- the last Assessment was not the empty one, the uplink was lost, or an incident
  is open and not yet restored: then time alone (the spread window, the
  incident's follow-up) can change the outcome, so every round scores, exactly
  as before;
- the last scoring failed or has not run yet (start, reload): score once more.

With nothing down and no change, a round therefore costs nothing here but
one `window_active` check per configured window.
"""

from __future__ import annotations

from datetime import datetime

from monitor.config import Config
from monitor.nodes.windows import window_active


def active_windows(config: Config, now: datetime) -> tuple[bool, ...]:
    """Which maintenance windows and guarantee periods are active now, in config order."""
    maintenance = (window_active(w, now) for w in config.inventory.maintenance)
    guarantee = (window_active(g, now) for g in config.plan.guarantee)
    return (*maintenance, *guarantee)


class PlanClock:
    """Remembers what the last scoring saw of the clocks; says when the next one is due."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._windows: tuple[bool, ...] | None = None
        self.stale = True  # nothing scored yet, or the last scoring failed (set by its caller)

    def reconfigure(self, config: Config) -> None:
        """A reloaded config: windows and rules may differ; score at the next round."""
        self._config = config
        self._windows = None
        self.stale = True

    def due(self, now: datetime, *, changed: bool, engaged: bool) -> bool:
        """True when scoring must run now (see the module docstring).

        `changed`: some node's scored status changed in this round; `engaged`:
        the plan is following something time can change (an outage, a lost
        uplink, an open incident not yet restored).
        """
        windows = active_windows(self._config, now)
        moved = windows != self._windows
        self._windows = windows
        return changed or engaged or moved or self.stale
