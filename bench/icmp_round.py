"""Helpers for bench/icmp_round.sh: targets, one commwatch or icmplib round, the summary.

    icmp_round.py targets N          N distinct loopback addresses 127.1.x.y, one a line
    icmp_round.py commwatch FILE     one IcmpProbe round (count=1, timeout 500 ms, no pacing)
    icmp_round.py icmplib FILE [C]   icmplib.async_multiping, privileged, concurrent_tasks=C
    icmp_round.py summary TSV        medians per tool from the shell script's measurements

`commwatch` and `icmplib` print one JSON object: round_s (in-process, from the
first send to the last result), alive, rtt_p50_ms, rtt_p99_ms, rss_kib (peak,
getrusage).
"""

from __future__ import annotations

import asyncio
import csv
import json
import resource
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TIMEOUT_S = 0.5  # fping -t 500


def targets(n: int) -> list[str]:
    if not 1 <= n <= 250 * 256:
        raise SystemExit("N must be 1..64000")
    return [f"127.1.{i // 250}.{i % 250 + 1}" for i in range(n)]


def report(round_s: float, alive: int, rtts: list[float]) -> None:
    rtts.sort()
    print(
        json.dumps(
            {
                "round_s": round(round_s, 4),
                "alive": alive,
                "rtt_p50_ms": round(rtts[len(rtts) // 2], 4) if rtts else None,
                "rtt_p99_ms": round(rtts[int(len(rtts) * 0.99)], 4) if rtts else None,
                "rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            }
        )
    )


async def commwatch(addresses: list[str]) -> None:
    from monitor.config.daemon import IcmpProbeConfig
    from monitor.config.inventory import NodeConfig
    from probes.icmp import IcmpProbe

    config = IcmpProbeConfig(count=1, timeout=timedelta(seconds=TIMEOUT_S), pacing=timedelta(0))
    nodes = [NodeConfig(id=f"n{i}", name=a, system="s", address=a) for i, a in enumerate(addresses)]
    probe = IcmpProbe(config)
    started = time.perf_counter()
    results = await probe.probe_round(nodes)
    elapsed = time.perf_counter() - started
    await probe.close()
    rtts = [r.rtt_ms for r in results if r.rtt_ms is not None]
    report(elapsed, sum(r.ok for r in results), rtts)


async def icmplib_round(addresses: list[str], concurrent: int) -> None:
    import icmplib

    started = time.perf_counter()
    hosts = await icmplib.async_multiping(
        addresses, count=1, interval=0, timeout=TIMEOUT_S, concurrent_tasks=concurrent
    )
    elapsed = time.perf_counter() - started
    report(elapsed, sum(h.is_alive for h in hosts), [h.avg_rtt for h in hosts if h.is_alive])


def summary(path: Path) -> None:
    """Medians per tool of wall_s, round_s; max rss_kib; the commwatch/fping ratios."""
    rows = list(csv.DictReader(path.open(encoding="utf-8"), delimiter="\t"))
    medians: dict[str, dict[str, float]] = {}
    for tool in dict.fromkeys(row["tool"] for row in rows):
        mine = [row for row in rows if row["tool"] == tool]
        rounds = [float(r["round_s"]) for r in mine if r["round_s"] not in ("", "-")]
        medians[tool] = {
            "runs": len(mine),
            "wall_s": statistics.median(float(r["wall_s"]) for r in mine),
            "round_s": statistics.median(rounds) if rounds else float("nan"),
            "rss_mib": max(int(r["rss_kib"]) for r in mine) / 1024,
            "alive_min": min(int(r["alive"]) for r in mine),
        }
    print(
        f"{'tool':<18}{'runs':>5}{'wall (median)':>15}{'round (median)':>16}{'peak RSS':>11}{'alive (min)':>13}"
    )
    for tool, m in medians.items():
        round_text = "-" if m["round_s"] != m["round_s"] else f"{m['round_s']:.3f} s"
        print(
            f"{tool:<18}{m['runs']:>5.0f}{m['wall_s']:>13.3f} s{round_text:>16}"
            f"{m['rss_mib']:>7.1f} MiB{m['alive_min']:>13.0f}"
        )
    if "fping" in medians and "commwatch" in medians:
        fping, cw = medians["fping"]["wall_s"], medians["commwatch"]
        print(
            f"ratio commwatch/fping: wall {cw['wall_s'] / fping:.2f}x, round {cw['round_s'] / fping:.2f}x"
        )


def main(argv: list[str]) -> None:
    command, *args = argv
    if command == "targets":
        print("\n".join(targets(int(args[0]))))
    elif command == "commwatch":
        asyncio.run(commwatch(Path(args[0]).read_text().split()))
    elif command == "icmplib":
        concurrent = int(args[1]) if len(args) > 1 else 50
        asyncio.run(icmplib_round(Path(args[0]).read_text().split(), concurrent))
    elif command == "summary":
        summary(Path(args[0]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
