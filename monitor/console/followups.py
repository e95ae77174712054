"""收到 and calls on the incident page: each delivery's state per recipient, and who may act.

    lines, calls = follow_ups(console, incident_id, actor)   # the page's two tables
    acknowledge_as(console, delivery_id, actor)               # the 收到 button
    record_call(console, call_id, actor, answered_by, outcome)

A person acknowledges (收到) a notice sent to themselves or to their own unit
(`[[person]] unit`), never someone else's: a 收到 relayed by phone is recorded
as a call (`record_call`) or with `commwatch notice ack --means call`. Recording
a call is the duty's (anyone on the duty list with a role, §4.2 (2)), as each
call is a timeline event under the signed-in person. Both go through the same
code as the CLI (`dispatch.acks.acknowledge`, `dispatch.calls.complete`).
"""

from __future__ import annotations

from dataclasses import dataclass

from dispatch.acks import AckResult, DeliveryNotFoundError, acknowledge
from dispatch.calls import complete
from dispatch.followup_reads import CallTask, calls_of
from dispatch.notice_data import TITLES
from dispatch.states import ACKNOWLEDGED, STATE_NAMES, NoticeLine, notice_lines
from monitor.config import Config
from monitor.console.context import Console
from monitor.incidents.authority import Actor, RefusedError, check_duty

ACK_CLAUSE = "§4.2 记录每一步由谁操作"


@dataclass(frozen=True)
class Line:
    """One delivery as the incident page lists it, with the 收到 refusal for this person."""

    line: NoticeLine
    title: str  # the notice's name (预警通知, …)
    state_name: str
    refusal: str | None  # None: this person may acknowledge it now


@dataclass(frozen=True)
class Call:
    """One call task as the incident page lists it."""

    task: CallTask
    title: str  # the notice's name
    refusal: str | None


def ack_refusal(config: Config, actor: Actor, line: NoticeLine) -> str | None:
    """Why this person may not acknowledge this delivery (None: they may)."""
    if line.state == ACKNOWLEDGED:
        return f"已于{line.acked_at:%Y-%m-%d %H:%M}由{line.acked_by}确认收到"
    person = config.people.get(actor.id)
    own = {actor.id} | ({person.unit} if person is not None else set())
    if line.recipient in own:
        return None
    mine = "、".join(sorted(own))
    return (
        f"拒绝：只能为本人或本单位（{mine}）确认收到，通知#{line.notice}发给{line.recipient_name}；"
        f"对方电话告知收到的，请记录电话通知（{ACK_CLAUSE}）"
    )


def call_refusal(actor: Actor, task: CallTask) -> str | None:
    """Why this person may not record this call (None: they may)."""
    if task.done_at is not None:
        return f"已于{task.done_at.astimezone():%Y-%m-%d %H:%M}由{task.done_by}记录"
    try:
        check_duty(actor, "记录电话通知")
    except RefusedError as exc:
        return str(exc)
    return None


def follow_ups(console: Console, incident_id: int, actor: Actor) -> tuple[list[Line], list[Call]]:
    """The incident's deliveries and call tasks, each with this person's refusal or None."""
    config = console.config()
    lines = [
        Line(n, TITLES.get(n.kind, n.kind), STATE_NAMES[n.state], ack_refusal(config, actor, n))
        for n in notice_lines(console.engine, config.daemon.notifier, incident_id)
    ]
    calls = [
        Call(t, TITLES.get(t.kind, t.kind), call_refusal(actor, t))
        for t in calls_of(console.engine, incident_id)
    ]
    return lines, calls


def acknowledge_as(console: Console, delivery_id: int, actor: Actor) -> AckResult:
    """收到 for the signed-in person (RefusedError for someone else's notice)."""
    config = console.config()
    found = notice_lines(console.engine, config.daemon.notifier, delivery_id=delivery_id)
    if not found:
        raise DeliveryNotFoundError(f"没有通知投递#{delivery_id}")
    refusal = ack_refusal(config, actor, found[0])
    if refusal is not None and found[0].state != ACKNOWLEDGED:
        raise RefusedError(refusal, ACK_CLAUSE)
    return acknowledge(console.incidents(), delivery_id, actor, "console")


def record_call(
    console: Console, call_id: int, actor: Actor, answered_by: str, outcome: str
) -> CallTask:
    """A call made by the signed-in person (RefusedError without a duty role, or when done)."""
    check_duty(actor, "记录电话通知")
    return complete(console.incidents(), call_id, actor, answered_by, outcome)
