"""`commwatch status`: nodes and their state, from the database."""

from __future__ import annotations

import argparse
import io
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from monitor.commands.common import CommandError, load_cached_or_report
from monitor.commands.support import add_config_option

if TYPE_CHECKING:  # imported when the command runs, not when the parser is built
    from sqlalchemy.engine import Engine

    from monitor.config import Config
    from monitor.incidents.clocks import Clock
    from monitor.storage.node_table import NodeRow
    from monitor.storage.reads import Reader


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the status command."""
    parser = subparsers.add_parser(
        "status", help="show every node's state (asks the running daemon, else the database)"
    )
    add_config_option(parser)
    parser.add_argument("--json", action="store_true", help="one JSON object per node")
    parser.add_argument("--problems", action="store_true", help="only nodes that are not UP")
    parser.add_argument(
        "--offline",
        action="store_true",
        help="read the database directly; do not ask the running daemon",
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=2.0,
        metavar="SECONDS",
        help="how long to wait for the daemon's answer before reading the database (default 2)",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="say on stderr where the answer came from"
    )
    parser.set_defaults(handler=run)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value <= 600:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds in (0, 600]")
    return value


def run(args: argparse.Namespace) -> int:
    """Print the node table; exit 1 when the database cannot be read.

    The running daemon answers first, over its control socket
    (`monitor.commands.status_client`); without it (or with `--offline`) the
    table comes from the database.
    """
    if not args.offline:
        from monitor.commands.status_client import ask_daemon

        reply = ask_daemon(args.config, as_json=args.json, problems=args.problems,
                           timeout=args.timeout, verbose=args.verbose)  # fmt: skip
        if reply is not None:
            code, out, err = reply
            sys.stderr.write(err)
            sys.stdout.write(out)
            return code
    config = load_cached_or_report(args.config)
    if config is None:
        return 2
    from monitor.commands.database import open_reader

    try:
        reader = open_reader(config)
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    try:
        return render(config, reader, as_json=args.json, problems=args.problems)
    finally:
        reader.close()


def render(
    config: Config,
    reader: Reader,
    *,
    as_json: bool,
    problems: bool,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Write what `status` says to `out` and `err` (stdout, stderr); the exit code.

    The one renderer: the CLI's direct path and the daemon's control socket
    (`monitor.runtime.control`) both call it, so they say the same bytes. The
    reader runs the same SQL through sqlite3 (SQLite, no daemon) or SQLAlchemy
    (PostgreSQL, the daemon): `monitor.storage.reads`.
    """
    out = out or sys.stdout
    err = err or sys.stderr
    url = config.daemon.storage.url
    from dispatch.followup_status import FollowUpHealth, follow_up_health
    from dispatch.outbox_health import outbox_health
    from monitor.commands.database import described_url, shown_url
    from monitor.incidents.records import running_clocks
    from monitor.storage.node_table import node_table

    try:
        rows = node_table(reader)
        outbox = outbox_health(reader)
        running = running_clocks(reader, config.plan.report)
        follow: FollowUpHealth = follow_up_health(reader, config)
    except reader.errors as exc:
        cause = getattr(exc, "orig", None) or exc
        print(f"error: cannot read {shown_url(url)}: {cause}", file=err)
        return 1
    names = {node.id: node.name for node in config.inventory.node}
    records = [_record(row) for row in rows if row.node_id in names]
    if not any(row.status for row in rows):
        print(
            f"note: database {described_url(url)} holds no node states yet: "
            "`commwatch run` has not probed with it",
            file=err,
        )
    business = _business(config, {r["node"]: r["status"] for r in records})
    if problems:
        records = [r for r in records if r["status"] != "UP"]
    if as_json:
        for record in records:
            print(json.dumps(record, ensure_ascii=False), file=out)
        return 0
    _print_table(records, names, out)
    print(business, file=out)
    oldest = (
        _age((datetime.now(UTC) - outbox.oldest_pending_at).total_seconds())
        if outbox.oldest_pending_at
        else "-"
    )
    print(
        f"\noutbox: {outbox.pending} deliveries waiting (oldest {oldest}), "
        f"{outbox.failed} failed for good; live self-health (lag, store, uplink): /metrics",
        file=out,
    )
    print_clocks(running, config, out)
    for line in follow.lines():
        print(line, file=out)
    return 0


def answer(config: Config, engine: Engine, request: dict[str, Any]) -> dict[str, Any]:
    """The daemon's answer to a control-socket request (`monitor.runtime.control`).

    Rendered by `render`, as the CLI renders it, from the daemon's config and
    engine; a request for another config directory is refused (the client then
    reads its own database).
    """
    if request.get("command") != "status":
        return {"error": "only status is answered here"}
    if request.get("config") != str(Path(config.directory).resolve()):
        return {"error": f"this daemon runs the config in {config.directory}"}
    as_json, problems = request.get("json"), request.get("problems")
    if not isinstance(as_json, bool) or not isinstance(problems, bool):
        return {"error": "bad request"}
    from monitor.storage.engine_reads import EngineReader

    out, err = io.StringIO(), io.StringIO()
    reader = EngineReader(engine)
    code = render(config, reader, as_json=as_json, problems=problems, out=out, err=err)
    return {"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}


def print_clocks(running: list[Clock], config: Config, out: TextIO | None = None) -> None:
    """The §4.1 clocks: what is due when, what is overdue (times in the plan's zone)."""
    out = out or sys.stdout
    from monitor.commands.times import plan_zone, when
    from monitor.plan.names import duration_name

    report = config.plan.report
    print(
        f"\n§4.1 时限（书面报告：接报后{duration_name(report.deadline)}；"
        f"续报：每{duration_name(report.follow_up_every)}；"
        f"答复催报/核实：{duration_name(report.query_deadline)}内）",
        file=out,
    )
    if not running:
        print("  无进行中的时限", file=out)
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
            f"时限 {when(clock.due_at, zone)}  {state}",
            file=out,
        )


def _record(row: NodeRow) -> dict[str, Any]:
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


def _print_table(records: list[dict[str, Any]], names: dict[str, str], out: TextIO) -> None:
    now = datetime.now(UTC)
    header = _ROW.format("NODE", "SYSTEM", "ADDRESS", "STATE", "FOR", "RTT", "LOSS", "REASON")
    print(header, file=out)
    for r in records:
        since = datetime.fromisoformat(r["since"]) if r["since"] else None
        age = _age((now - since).total_seconds()) if since else "-"
        rtt = f"{r['rtt_ms']:.2f}ms" if r["rtt_ms"] is not None else "-"
        loss = f"{r['loss']:.0%}" if r["loss"] is not None else "-"
        reason = r["reason"] or names.get(r["node"], "")
        print(
            _ROW.format(r["node"], r["system"], r["address"], r["status"], age, rtt, loss, reason),
            file=out,
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
