"""What each page shows, read from the daemon and the database (blocking; run in a thread)."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta

from dispatch.status import DeliveryStatus, deliveries_for
from monitor.console.actions import Choice, preview
from monitor.console.board import Board, build_board
from monitor.console.context import Console
from monitor.console.followups import Call, Line, follow_ups
from monitor.incidents.authority import Actor
from monitor.incidents.lifecycle import Incident
from monitor.incidents.store import EventRecord


@dataclass(frozen=True)
class Clock:
    """A running clock on the page: time since `since`, or time left until `until`."""

    label: str
    since: datetime | None = None
    until: datetime | None = None
    done: str = ""  # set when the clock has stopped (e.g. 已报送)


@dataclass(frozen=True)
class BoardView:
    """The board and the open incidents with their clocks."""

    board: Board
    incidents: list[tuple[Incident, list[Clock]]]
    at: datetime


@dataclass(frozen=True)
class Detail:
    """One incident with its timeline, deliveries and this person's choices."""

    incident: Incident
    events: list[EventRecord]
    deliveries: list[DeliveryStatus]
    choices: list[Choice]
    clocks: list[Clock]
    lines: list[Line]  # each delivery's state per recipient, with this person's 收到
    calls: list[Call]


def clocks(incident: Incident, deadline: timedelta) -> list[Clock]:
    """The clocks the plan runs on an incident (§4.1 report deadline, warning, response)."""
    result = [Clock("发现以来", since=incident.detected_at)]
    if incident.report_submitted_at is None:
        result.append(Clock("书面报告（§4.1）剩余", until=incident.detected_at + deadline))
    else:
        result.append(Clock("书面报告（§4.1）", done="已报送"))
    if incident.warning_active:
        result.append(Clock("预警发布以来", since=incident.warning_issued_at))
    if incident.response_active:
        result.append(Clock("应急响应启动以来", since=incident.response_started_at))
    return result


class BoardCache:
    """The last board built, reused while nothing it depends on has changed.

    Every browser re-fetches the board after a change; the first fetch builds
    it, the others (and repeated page loads) reuse it. The key holds the
    config object, the node table's change sequence, the Assessment, the uplink flag and the
    minute (maintenance windows and guarantee periods start and end with time).
    """

    def __init__(self) -> None:
        self._entry: tuple[Hashable, Board] | None = None  # replaced whole: thread-safe

    def get(self, console: Console, now: datetime) -> Board:
        config = console.config()
        live = console.live
        key = (
            id(config),
            live.sequence(),  # the node table's change sequence: O(1) on a cached board
            live.assessment(),
            live.uplink_ok(),
            now.replace(second=0, microsecond=0),
        )
        entry = self._entry
        if entry is not None and entry[0] == key:
            return entry[1]
        board = build_board(
            config, live.statuses(), live.flaps(), live.assessment(), now, live.uplink_ok()
        )
        self._entry = (key, board)
        return board


def board_now(console: Console, cache: BoardCache | None = None) -> BoardView:
    """The board as of now, with the open incidents."""
    config = console.config()
    live = console.live
    now = console.clock()
    if cache is not None:
        board = cache.get(console, now)
    else:
        board = build_board(
            config, live.statuses(), live.flaps(), live.assessment(), now, live.uplink_ok()
        )
    deadline = config.plan.report.deadline
    rows = console.incidents().incidents()
    return BoardView(board, [(i, clocks(i, deadline)) for i in rows], now)


def incident_detail(console: Console, incident_id: int, actor: Actor) -> Detail:
    """Everything the incident page shows (IncidentNotFoundError for an unknown id)."""
    engine = console.incidents()
    incident = engine.get(incident_id)
    config = console.config()
    lines, calls = follow_ups(console, incident_id, actor)
    return Detail(
        incident,
        engine.timeline(incident_id),
        deliveries_for(console.engine, incident_id),
        preview(incident, actor, config, console.clock()),
        clocks(incident, config.plan.report.deadline),
        lines,
        calls,
    )
