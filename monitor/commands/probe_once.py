"""`commwatch probe-once`: one probe round now, printed; nothing is stored."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import TYPE_CHECKING

from monitor.commands.common import load_or_report
from monitor.commands.support import add_config_option

if TYPE_CHECKING:  # probes (pysnmp, …) load when the command runs
    from monitor.config import Config
    from probes.base import ProbeResult


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the probe-once command."""
    parser = subparsers.add_parser("probe-once", help="run one probe round and print the results")
    add_config_option(parser)
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument(
        "--node", action="append", default=[], metavar="ID", help="only this node (repeatable)"
    )
    parser.add_argument(
        "--probe", action="append", default=[], metavar="KIND", help="only this probe (icmp, snmp)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Probe the selected nodes once; exit 0 (even when nodes are down), 2 bad input, 1 error."""
    config = load_or_report(args.config)
    if config is None:
        return 2
    unknown = [node for node in args.node if node not in config.nodes]
    if unknown:
        print(f"error: unknown node id(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    from monitor.config.inventory import PROBE_KINDS  # the probe family's one list

    strange = [kind for kind in args.probe if kind not in PROBE_KINDS]
    if strange:
        known = ", ".join(PROBE_KINDS)
        print(
            f"error: --probe: unknown probe {', '.join(strange)} (known: {known})", file=sys.stderr
        )
        return 2
    from probes.base import ProbeError

    try:
        results = asyncio.run(probe_round(config, args.node, args.probe))
    except ProbeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for result in results:
        print(
            json.dumps(result.to_json(), ensure_ascii=False) if args.json else _line(config, result)
        )
    return 0


async def probe_round(config: Config, node_ids: list[str], kinds: list[str]) -> list[ProbeResult]:
    """Run every selected probe over the selected nodes, concurrently per probe kind."""
    from probes.registry import build_probes

    selected = [n for n in config.inventory.node if not node_ids or n.id in node_ids]
    probes = build_probes(config)
    try:
        batches = []
        for kind, probe in probes.items():
            if kinds and kind not in kinds:
                continue
            nodes = [n for n in selected if kind in n.probes]
            if nodes:
                batches.append(probe.probe_round(nodes))
        rounds = await asyncio.gather(*batches)
    finally:
        for probe in probes.values():
            await probe.close()
    order = {node.id: index for index, node in enumerate(selected)}
    results = [result for batch in rounds for result in batch]
    return sorted(results, key=lambda r: (order.get(r.node, 0), r.probe))


def _line(config: Config, result: ProbeResult) -> str:
    name = config.nodes[result.node].name
    if not result.ok:
        why = f"{result.error or ''} {result.detail or ''}".strip()
        return f"{result.node:<28} {result.probe:<5} FAIL  {why}  {name}"
    rtt = f"{result.rtt_ms:.3f}ms" if result.rtt_ms is not None else "-"
    loss = f"loss {result.loss:.0%}" if result.loss is not None else ""
    flag = "WARN" if result.degraded else "OK  "
    return f"{result.node:<28} {result.probe:<5} {flag}  {rtt} {loss} {result.detail or ''}  {name}"
