"""`commwatch status`: nodes and their state, from the database."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from monitor.commands.common import CommandError, load_cached_or_report
from monitor.commands.support import add_config_option

if TYPE_CHECKING:  # imported when the command runs, not when the parser is built
    from monitor.config import Config
    from monitor.incidents.clocks import Clock


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the status command."""
    parser = subparsers.add_parser("status", help="show every node's state from the database")
    add_config_option(parser)
    parser.add_argument("--json", action="store_true", help="one JSON object per node")
    parser.add_argument("--problems", action="store_true", help="only nodes that are not UP")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the node table; exit 1 when the database cannot be read."""
    config = load_cached_or_report(args.config)
    if config is None:
        return 2
    url = config.daemon.storage.url
    from sqlalchemy.exc import SQLAlchemyError

    from dispatch.followup_status import FollowUpHealth, follow_up_health
    from dispatch.status import outbox_health
    from monitor.commands.database import open_current
    from monitor.incidents.engine import IncidentEngine
    from monitor.storage.engine import describe_database, redact_url
    from monitor.storage.store import Store

    try:
        engine = open_current(config)
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    try:
        rows = Store(engine).node_table()
        outbox = outbox_health(engine)
        running = IncidentEngine(engine, config).clocks()
        follow: FollowUpHealth = follow_up_health(engine, config)
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        print(f"error: cannot read {redact_url(url)}: {cause}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    names = {node.id: node.name for node in config.inventory.node}
    records = [_record(row) for row in rows if row.node_id in names]
    if not any(row.status for row in rows):
        print(
            f"note: database {describe_database(url)} holds no node states yet: "
            "`commwatch run` has not probed with it",
            file=sys.stderr,
        )
    business = _business(config, {r["node"]: r["status"] for r in records})
    if args.problems:
        records = [r for r in records if r["status"] != "UP"]
    if args.json:
        for record in records:
            print(json.dumps(record, ensure_ascii=False))
        return 0
    _print_table(records, names)
    print(business)
    oldest = (
        _age((datetime.now(UTC) - outbox.oldest_pending_at).total_seconds())
        if outbox.oldest_pending_at
        else "-"
    )
    print(
        f"\noutbox: {outbox.pending} deliveries waiting (oldest {oldest}), "
        f"{outbox.failed} failed for good; live self-health (lag, store, uplink): /metrics"
    )
    print_clocks(running, config)
    for line in follow.lines():
        print(line)
    return 0


def print_clocks(running: list[Clock], config: Config) -> None:
    """The §4.1 clocks: what is due when, what is overdue (times in the plan's zone)."""
    from monitor.commands.duty import plan_zone, when
    from monitor.plan.names import duration_name

    report = config.plan.report
    print(
        f"\n§4.1 时限（书面报告：接报后{duration_name(report.deadline)}；"
        f"续报：每{duration_name(report.follow_up_every)}；"
        f"答复催报/核实：{duration_name(report.query_deadline)}内）"
    )
    if not running:
        print("  无进行中的时限")
        return
    zone = plan_zone(config)
    now = datetime.now(UTC)
    for clock in running:
        left = clock.due_at - now
        state = (
            f"已超时{duration_name(-left)}" if clock.overdue(now) else f"剩{duration_name(left)}"
        )
        about = f"（{clock.subject}）" if clock.subject else ""
        mark = "【演练】" if clock.drill else ""
        print(
            f"  {mark}事件#{clock.incident_id} {clock.name}{about}  "
            f"时限 {when(clock.due_at, zone)}  {state}"
        )


def _record(row: Any) -> dict[str, Any]:
    return {
        "node": row.node_id,
        "system": row.system,
        "address": row.address,
        "status": row.status or "UNKNOWN",
        "since": row.since.isoformat() if row.since else None,
        "reason": row.reason or "",
        "last_probe_at": row.last_at.isoformat() if row.last_at else None,
        "rtt_ms": row.last_rtt_ms,
        "loss": row.last_loss,
    }


_ROW = "{:<28} {:<20} {:<16} {:<12} {:>8} {:>9} {:>5}  {}"


def _print_table(records: list[dict[str, Any]], names: dict[str, str]) -> None:
    now = datetime.now(UTC)
    print(_ROW.format("NODE", "SYSTEM", "ADDRESS", "STATE", "FOR", "RTT", "LOSS", "REASON"))
    for r in records:
        since = datetime.fromisoformat(r["since"]) if r["since"] else None
        age = _age((now - since).total_seconds()) if since else "-"
        rtt = f"{r['rtt_ms']:.2f}ms" if r["rtt_ms"] is not None else "-"
        loss = f"{r['loss']:.0%}" if r["loss"] is not None else "-"
        reason = r["reason"] or names.get(r["node"], "")
        print(
            _ROW.format(r["node"], r["system"], r["address"], r["status"], age, rtt, loss, reason)
        )


def _business(config: Config, statuses: dict[str, str]) -> str:
    """Systems whose whole business (全部业务) or part of it is down, §6.3 priority first."""
    from monitor.nodes.state import Status
    from monitor.plan.overlays import maintenance_reasons
    from monitor.plan.scorer import assess, priority_order

    known = {n: Status(s) for n, s in statuses.items() if s in Status.__members__}
    now = datetime.now(UTC)
    result = assess(config, known, maintained=maintenance_reasons(config, now))
    whole = priority_order(config, set(result.operator_networks + result.key_systems))
    partial = priority_order(config, set(result.partial_systems))

    def names(ids: tuple[str, ...]) -> str:
        return "、".join(f"{config.systems[s].name}（{s}）" for s in ids) or "无"

    return f"\n全部业务中断：{names(whole)}\n部分业务受影响：{names(partial)}"


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"
