"""`commwatch notice list|ack`: every delivery with its state, and 收到 on someone's behalf.

`list --json` prints one object per delivery (the contract: id, incident, kind,
recipient, channel, address, state, escalation_step, plus the times, the
failure reason and who acknowledged by which means). `ack ID --by PERSON`
acknowledges delivery ID's notice for its recipient (a phone call confirmed
it, say): the timeline records who and how, and its escalation stops.
"""

from __future__ import annotations

import argparse
import json
import sys

from monitor.commands.duty import incident_id, pad, plan_zone, run_reader, when
from monitor.commands.support import EXIT_OK, EXIT_USAGE, add_config_option
from monitor.config import Config
from monitor.incidents.authority import resolve_actor
from monitor.incidents.engine import IncidentEngine


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `notice list` and `notice ack`."""
    parser = subparsers.add_parser("notice", help="notice deliveries: states, 收到 (ack)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="every delivery with its state")
    add_config_option(listing)
    listing.add_argument("--incident", type=incident_id, metavar="ID", help="one incident only")
    listing.add_argument("--json", action="store_true", help="one JSON object per delivery")
    listing.set_defaults(handler=_list)

    ack = actions.add_parser("ack", help="收到: acknowledge a delivery's notice for its recipient")
    add_config_option(ack)
    ack.add_argument("id", type=_delivery_id, help="delivery id (as `notice list` shows it)")
    ack.add_argument("--by", required=True, metavar="PERSON", help="who records the 收到")
    ack.add_argument("--means", default="cli", choices=("cli", "call"), help="how it was confirmed")
    ack.set_defaults(handler=_ack)


def _delivery_id(text: str) -> int:
    value = text.lstrip("#")
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"not a delivery id: {text!r}")
    return int(value)


def _list(args: argparse.Namespace) -> int:
    from dispatch.states import STATE_NAMES, line_json, notice_lines

    def body(engine: IncidentEngine, config: Config) -> int:
        lines = notice_lines(engine.engine, config.daemon.notifier, args.incident)
        if args.json:
            for line in lines:
                print(json.dumps(line_json(line), ensure_ascii=False))
            return EXIT_OK
        print(" ".join(pad(h, w) for h, w in zip(_HEAD, _WIDTHS, strict=True)) + " 收件人")
        for n in lines:
            cells = (
                f"#{n.id}",
                f"#{n.incident}" if n.incident else "-",
                n.kind,
                n.channel,
                n.address,
                STATE_NAMES[n.state],
                str(n.escalation_step),
                when(n.acked_at or n.delivered_at or n.sent_at or n.created_at, plan_zone(config)),
            )
            tail = f"{n.recipient_name}" + (f"  {n.reason}" if n.reason else "")
            print(" ".join(pad(c, w) for c, w in zip(cells, _WIDTHS, strict=True)) + " " + tail)
        return EXIT_OK

    return run_reader(args, body)


_HEAD = ("ID", "事件", "类别", "渠道", "地址", "状态", "升级", "时间")
_WIDTHS = (6, 6, 18, 8, 24, 10, 4, 20)


def _ack(args: argparse.Namespace) -> int:
    from dispatch.acks import DeliveryNotFoundError, acknowledge

    def body(engine: IncidentEngine, config: Config) -> int:
        by = resolve_actor(config.contacts.person, args.by)
        try:
            result = acknowledge(engine, args.id, by, args.means)
        except DeliveryNotFoundError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        if result.fresh:
            print(f"通知投递#{result.delivery_id}（{result.recipient}）已确认收到，升级通知停止")
        else:
            acked = when(result.acked_at, plan_zone(config))
            print(
                f"通知投递#{result.delivery_id}（{result.recipient}）已于{acked}"
                f"由{result.acked_by}经{result.means}确认收到"
            )
        return EXIT_OK

    return run_reader(args, body)
