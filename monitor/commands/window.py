"""`commwatch window add|list|end`: maintenance windows entered on duty (beside nodes.toml's).

While a window lasts, an outage of the nodes, systems or streets it names opens
no incident (one already open is still followed and restored), as nodes.toml's
[[maintenance]] windows do. Windows entered here (or in the duty console) live
in the database; `list` shows them beside nodes.toml's. Times without an offset
are read in the plan's zone (`[dispatch] timezone`).
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any

from monitor.commands.duty import person, plan_zone, run_action, run_reader, when
from monitor.commands.guarantee import iso_time
from monitor.commands.support import EXIT_OK, add_config_option
from monitor.config import Config
from monitor.incidents import maintenance
from monitor.incidents.authority import Actor
from monitor.incidents.engine import IncidentEngine
from monitor.incidents.maintenance import MaintenanceRecord
from monitor.nodes.windows import window_active


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `window add`, `window list`, `window end`."""
    parser = subparsers.add_parser("window", help="maintenance windows: no new incident meanwhile")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="add a maintenance window")
    add_config_option(add)
    add.add_argument("--name", required=True, help="e.g. 核心交换机割接")
    add.add_argument("--start", required=True, type=iso_time, metavar="ISO")
    add.add_argument("--end", required=True, type=iso_time, metavar="ISO")
    add.add_argument("--by", required=True, metavar="ROLE_OR_PERSON", help="who enters it")
    for name, what in (("node", "a node id"), ("system", "a system id"), ("street", "a street")):
        add.add_argument(
            f"--{name}", action="append", default=[], metavar="X", help=f"{what} (repeatable)"
        )
    add.set_defaults(handler=_add)

    listing = actions.add_parser("list", help="windows from the database and nodes.toml")
    add_config_option(listing)
    listing.add_argument("--json", action="store_true", help="one JSON object per window")
    listing.set_defaults(handler=_list)

    stop = actions.add_parser("end", help="end a stored window now")
    add_config_option(stop)
    stop.add_argument("id", type=int, help="the window's id (window list)")
    stop.add_argument("--by", required=True, metavar="ROLE_OR_PERSON")
    stop.set_defaults(handler=_end)


def _add(args: argparse.Namespace) -> int:
    def act(engine: IncidentEngine, by: Actor | None) -> MaintenanceRecord:
        zone = plan_zone(engine.config)
        start = args.start if args.start.tzinfo else args.start.replace(tzinfo=zone)
        end = args.end if args.end.tzinfo else args.end.replace(tzinfo=zone)
        scope = (args.node, args.system, args.street)
        return maintenance.add(
            engine.engine, engine.config, args.name, start, end, person(by), engine.clock(), scope
        )

    def done(r: MaintenanceRecord) -> str:
        return f"已登记维护窗口#{r.id}：{r.name}（{'、'.join(r.scope)}），期间中断不立事件"

    return run_action(args, act, done)


def _end(args: argparse.Namespace) -> int:
    return run_action(
        args,
        lambda engine, by: maintenance.end(engine.engine, args.id, person(by), engine.clock()),
        lambda r: f"维护窗口#{r.id}（{r.name}）已结束",
    )


def _list(args: argparse.Namespace) -> int:
    def body(engine: IncidentEngine, config: Config) -> int:
        now = engine.clock()
        with engine.engine.connect() as connection:
            stored = maintenance.records(connection)
        rows = [_stored(r, now) for r in stored]
        rows += [
            {
                "id": "nodes.toml", "source": "nodes.toml", "name": w.name,
                "start": w.start.isoformat() if w.start else None,
                "end": w.end.isoformat() if w.end else None,
                "scope": [*w.nodes, *w.systems, *w.streets],
                "active": window_active(w, now), "ended_at": None, "by": None,
            }
            for w in config.inventory.maintenance
        ]  # fmt: skip
        if args.json:
            for row in rows:
                print(json.dumps(row, ensure_ascii=False))
            return EXIT_OK
        zone = plan_zone(config)
        for row in rows:
            state = "active" if row["active"] else "-"
            start = when(_time(row["start"]), zone) if row["start"] else "(recurring)"
            end = when(_time(row["end"]), zone) if row["end"] else ""
            by = f" 登记：{row['by']}" if row["by"] else ""
            scope = "、".join(row["scope"])
            print(f"{row['id']!s:<10} {state:<7} {row['name']}  {start} – {end}  {scope}{by}")
        return EXIT_OK

    return run_reader(args, body)


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _stored(r: MaintenanceRecord, now: datetime) -> dict[str, Any]:
    return {
        "id": r.id, "source": "database", "name": r.name, "start": r.start_at.isoformat(),
        "end": r.end_at.isoformat(), "scope": list(r.scope), "active": r.active(now),
        "ended_at": r.ended_at.isoformat() if r.ended_at else None,
        "by": r.created_by_name or r.created_by,
    }  # fmt: skip
