"""What the console reads from the running daemon: node statuses and the last Assessment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from monitor.nodes.flapping import FlapState
from monitor.nodes.state import Status
from monitor.nodes.table import NodeTable
from monitor.plan.assessment import Assessment
from monitor.runtime.plan_loop import PlanRuntime


class Live(Protocol):
    """The daemon's live view (a fake in pure tests, the daemon's own table in app.py)."""

    def statuses(self) -> Mapping[str, Status]: ...

    def flaps(self) -> Mapping[str, FlapState]: ...

    def assessment(self) -> Assessment: ...

    def uplink_ok(self) -> bool: ...

    def sequence(self) -> int:
        """A number that changes whenever any node's status or flapping changes (O(1))."""
        ...


class DaemonLive:
    """The running daemon's node table and plan loop, read-only."""

    def __init__(self, table: NodeTable, plan: PlanRuntime) -> None:
        self.table = table
        self.plan = plan

    def statuses(self) -> Mapping[str, Status]:
        return self.table.statuses()

    def flaps(self) -> Mapping[str, FlapState]:
        return self.table.flaps()

    def assessment(self) -> Assessment:
        return self.plan.assessment

    def uplink_ok(self) -> bool:
        return not self.plan.self_monitor.state.blind

    def sequence(self) -> int:
        return self.table.sequence
