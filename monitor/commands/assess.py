"""`commwatch assess`: what-if — the Assessment if these nodes were down now.

    commwatch assess [-c DIR] [--down ID[,ID…]]… [--earlier ID[,ID…]]…
                     [--maintenance ID[,ID…]]… [--json]

The nodes behind the down ones are cut off (UNREACHABLE: their systems are
affected, they are not separate causes). `--earlier` names the nodes down at
the start of the spread window (omitted: nothing was down then).
`--maintenance` names nodes in a maintenance window now; with the windows of
nodes.toml active now they are left out of the judgement, neither down nor up,
as in the daemon. `[self_monitor]` is honoured as the daemon does: a down
uplink node (configured, or the default gateway's node) — or, without any
uplink, a mass failure — answers `monitor_blind: true` and no scenario. The
same scorer as the daemon's judges it, so operators can tune plan.toml and
check it before a reload. Exit 0; 2 for a bad config or an
unknown node id.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

from monitor.commands.common import load_or_report
from monitor.commands.support import EXIT_OK, EXIT_USAGE, add_config_option
from monitor.config import Config
from monitor.nodes.topology import what_if
from monitor.plan.assessment import Assessment
from monitor.plan.blindness import blind_assessment
from monitor.plan.blindness import what_if as blind_what_if
from monitor.plan.names import level_name, scenario_label
from monitor.plan.overlays import FLAG_REASON, maintenance_reasons
from monitor.plan.scorer import assess
from monitor.runtime.routes import detect_gateways


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the assess command."""
    parser = subparsers.add_parser(
        "assess", help="what-if: the 预警情形 and 响应级别 if these nodes were down now"
    )
    add_config_option(parser)
    parser.add_argument(
        "--down",
        action="append",
        default=[],
        metavar="ID[,ID…]",
        help="nodes down now (repeatable, comma-separated)",
    )
    parser.add_argument(
        "--earlier",
        action="append",
        default=[],
        metavar="ID[,ID…]",
        help="nodes down at the start of the spread window (default: none)",
    )
    parser.add_argument(
        "--maintenance",
        action="append",
        default=[],
        metavar="ID[,ID…]",
        help="nodes in a maintenance window now (repeatable, comma-separated)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def split_ids(values: Iterable[str]) -> list[str]:
    """`--down a,b --down c` → [a, b, c], blanks dropped, first occurrence kept."""
    seen: dict[str, None] = {}
    for value in values:
        for part in value.split(","):
            if part.strip():
                seen.setdefault(part.strip(), None)
    return list(seen)


def unknown_ids(config: Config, option: str, ids: list[str]) -> list[str]:
    """One message per id that is not a node of nodes.toml."""
    messages = []
    for node_id in ids:
        if node_id in config.nodes:
            continue
        close = difflib.get_close_matches(node_id, list(config.nodes), n=3, cutoff=0.6)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        messages.append(f"{option}: unknown node id {node_id!r}{hint}")
    return messages


def run(args: argparse.Namespace) -> int:
    """Score the what-if and print it."""
    config = load_or_report(args.config)
    if config is None:
        return EXIT_USAGE
    down, earlier = split_ids(args.down), split_ids(args.earlier)
    flagged = split_ids(args.maintenance)
    problems = (
        unknown_ids(config, "--down", down)
        + unknown_ids(config, "--earlier", earlier)
        + unknown_ids(config, "--maintenance", flagged)
    )
    if problems:
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    now = datetime.now(UTC)
    monitor = config.daemon.self_monitor
    blindness = blind_what_if(
        config, set(down), detect_gateways() if monitor.detect_gateway else []
    )
    maintained = maintenance_reasons(config, now) | dict.fromkeys(flagged, FLAG_REASON)
    assessment = (
        blind_assessment(blindness, down)
        if blindness.blind
        else assess(
            config,
            what_if(config, down),
            what_if(config, earlier) if earlier else None,
            now=now,
            maintained=maintained,
        )
    )
    if args.json:
        print(json.dumps(assessment.to_json(), ensure_ascii=False))
        return EXIT_OK
    print(render(config, assessment))
    return EXIT_OK


def _systems(config: Config, ids: tuple[str, ...]) -> str:
    return "、".join(f"{config.systems[s].name}（{s}）" for s in ids) or "无"


def _nodes(config: Config, ids: tuple[str, ...]) -> str:
    return "、".join(f"{config.nodes[n].name}（{n}）" for n in ids) or "无"


def render(config: Config, assessment: Assessment) -> str:
    """A readable Chinese summary of the Assessment."""
    if assessment.monitor_blind:
        verdict = "监测系统自身失明，不作研判"
    elif assessment.scenario is None:
        verdict = "不构成预警情形"
    else:
        level = level_name(assessment.level, "—")
        verdict = f"{scenario_label(assessment.scenario)}，建议{level}应急响应"
    lines = [
        f"研判结果：{verdict}",
        f"受影响基础运营网络：{_systems(config, assessment.operator_networks)}",
        f"受影响重要信息系统：{_systems(config, assessment.key_systems)}",
        f"部分业务受影响：{_systems(config, assessment.partial_systems)}",
        f"涉及镇（街道）：{'、'.join(assessment.streets) or '无'}",
        f"扩散性：{'有' if assessment.spread else '无'}",
        f"中断节点：{_nodes(config, assessment.nodes_down)}",
        f"不可达节点：{_nodes(config, assessment.nodes_unreachable)}",
    ]
    if assessment.left_out:
        lines.append(f"不计入研判（维护中）：{_nodes(config, assessment.left_out)}")
    lines.append("依据：")
    lines.extend(f"  - {reason}" for reason in assessment.reasons)
    return "\n".join(lines)
