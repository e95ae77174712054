"""Helpers for bench/snmp_get.sh: start agents, run commwatch / pysnmp clients, walk ifTable.

    snmp_get.py agents --count 4 --workdir DIR      # snmpd × 4; writes DIR/endpoints, waits
    snmp_get.py summary FILE                        # the JSON lines of a run as a markdown table
    snmp_get.py commwatch --endpoints-file F        # SnmpProbe rounds of 1000 GETs (v2c)
    snmp_get.py commwatch-v3 --endpoints-file F     # the same over v3 authPriv (SHA + AES)
    snmp_get.py pysnmp-v1arch|pysnmp-v3arch ...     # pysnmp's hlapi, for reference
    snmp_get.py pysnmp-v3arch-authpriv ...          # pysnmp v3arch with commwatch-v3's credential
    snmp_get.py walk --port P [--repeat 20]         # ifTable walks through probes.snmp_session

Each client prints one JSON line: tool, gets, seconds (median round), rate, errors,
and cpu_ms_per_get: the client process's own CPU (user + system) per GET, all rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OIDS = ("1.3.6.1.2.1.1.3.0", "1.3.6.1.2.1.1.5.0")
V3 = {"user": "privsha", "auth_key": "authpass123", "priv_key": "privpass123"}


def _endpoints(path: str) -> list[tuple[str, int]]:
    pairs = (e.rsplit(":", 1) for e in Path(path).read_text().split())
    return [(host, int(port)) for host, port in pairs]


def _report(tool: str, gets: int, rounds: list[float], errors: int, **extra: Any) -> None:
    median = statistics.median(rounds)
    if _CPU:
        extra["cpu_ms_per_get"] = round(_CPU[-1] * 1000 / (gets * len(rounds)), 3)
    line = {
        "tool": tool,
        "gets": gets,
        "rounds": len(rounds),
        "seconds": round(median, 4),
        "best_seconds": round(min(rounds), 4),
        "rate": round(gets / median),
        "errors": errors,
        **extra,
    }
    print(json.dumps(line), flush=True)


def agents(count: int, workdir: Path, netns: str | None) -> None:
    """Start snmpd agents, write their endpoints, wait for SIGTERM/SIGINT, stop them."""
    from tests.snmpd import Snmpd

    started = []
    try:
        for index in range(count):
            agent = Snmpd(workdir / f"agent{index}", netns=netns)
            agent.start()
            started.append(agent)
        (workdir / "endpoints").write_text(" ".join(a.endpoints[0] for a in started) + "\n")
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while True:
            time.sleep(3600)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        for agent in started:
            agent.stop()


async def _rounds(run: Callable[[], Awaitable[int]], repeat: int) -> tuple[list[float], int]:
    await run()  # warm-up: sockets, engines, targets, v3 discovery
    times, errors = [], 0
    cpu = time.process_time()
    for _ in range(repeat):
        started = time.perf_counter()
        errors += await run()
        times.append(time.perf_counter() - started)
    _CPU.append(time.process_time() - cpu)
    return times, errors


_CPU: list[float] = []  # the client's CPU seconds over the timed rounds, for _report


async def commwatch(endpoints: list[tuple[str, int]], gets: int, repeat: int, v3: bool) -> None:
    from monitor.config.daemon import SnmpAuthConfig, SnmpProbeConfig
    from monitor.config.inventory import NodeConfig
    from probes.snmp import SnmpProbe

    auth = (
        SnmpAuthConfig(version="3", auth_protocol="SHA", priv_protocol="AES", **V3)
        if v3
        else SnmpAuthConfig(version="2c", community="public")
    )
    nodes = [
        NodeConfig(
            id=f"n{i}",
            name="bench",
            system="s",
            address=endpoints[i % len(endpoints)][0],
            probes=["snmp"],
            snmp_auth="a",
            snmp_port=endpoints[i % len(endpoints)][1],
        )
        for i in range(gets)
    ]
    probe = SnmpProbe(SnmpProbeConfig(timeout="2s", retries=1, max_concurrency=200), {"a": auth})

    async def run() -> int:
        return sum(not r.ok for r in await probe.probe_round(nodes))

    times, errors = await _rounds(run, repeat)
    await probe.close()
    _report("commwatch-v3" if v3 else "commwatch", gets, times, errors)


async def pysnmp_hlapi(endpoints: list[tuple[str, int]], gets: int, repeat: int, arch: str) -> None:
    from pysnmp.proto.rfc1902 import Null, ObjectName

    varbinds = [(ObjectName(o), Null("")) for o in OIDS]
    limit = asyncio.Semaphore(32)
    if arch == "v1arch":
        from pysnmp.hlapi.v1arch import asyncio as v1

        dispatcher = v1.SnmpDispatcher()
        community = v1.CommunityData("public")
        targets = [await v1.UdpTransportTarget.create(e, timeout=2, retries=1) for e in endpoints]

        async def one(i: int) -> bool:
            async with limit:
                ei, es, _, _ = await v1.get_cmd(
                    dispatcher, community, targets[i % len(targets)], *varbinds, lookupMib=False
                )
            return not ei and not es
    else:
        from pysnmp.hlapi.v3arch import asyncio as v3

        engine = v3.SnmpEngine()
        community3: Any = v3.CommunityData("public")
        if arch == "v3arch-authpriv":  # the same credential as commwatch-v3 (SHA + AES)
            community3 = v3.UsmUserData(
                V3["user"],
                V3["auth_key"],
                V3["priv_key"],
                authProtocol=v3.usmHMACSHAAuthProtocol,
                privProtocol=v3.usmAesCfb128Protocol,
            )
        targets = [await v3.UdpTransportTarget.create(e, timeout=2, retries=1) for e in endpoints]

        async def one(i: int) -> bool:
            async with limit:
                ei, es, _, _ = await v3.get_cmd(
                    engine,
                    community3,
                    targets[i % len(targets)],
                    v3.ContextData(),
                    *varbinds,
                    lookupMib=False,
                )
            return not ei and not es

    async def run() -> int:
        return sum(not ok for ok in await asyncio.gather(*(one(i) for i in range(gets))))

    times, errors = await _rounds(run, repeat)
    _report(f"pysnmp-{arch}", gets, times, errors, concurrency=32)


async def walk_iftable(host: str, port: int, repeat: int, max_repetitions: int) -> None:
    from probes.snmp_ber import V2C
    from probes.snmp_community import CommunityClient, CommunitySession
    from probes.snmp_session import walk

    client = CommunityClient(4 << 20)
    session = CommunitySession(client, (host, port), V2C, b"public", 2.0, 1)
    if_table = (1, 3, 6, 1, 2, 1, 2, 2)
    rows = len(await walk(session, if_table, max_repetitions))
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await walk(session, if_table, max_repetitions)
        times.append(time.perf_counter() - started)
    client.close()
    _report("commwatch-walk", 1, times, 0, varbinds=rows, max_repetitions=max_repetitions)


def summary(path: Path) -> None:
    """Print a run's JSON lines as a markdown table (rate = GETs or walks per second)."""
    print("| tool | work | median s | best s | rate /s | errors | note |")
    print("|---|---|---|---|---|---|---|")
    for line in path.read_text().splitlines():
        if not line.startswith("{"):
            continue
        row = json.loads(line)
        work = (
            f"{row['gets']} GET"
            if row["gets"] > 1
            else f"ifTable walk ({row.get('varbinds', '?')} vb)"
        )
        note = ", ".join(
            f"{k}={v}"
            for k, v in row.items()
            if k not in {"tool", "gets", "rounds", "seconds", "best_seconds", "rate", "errors"}
        )
        print(
            f"| {row['tool']} | {work} | {row['seconds']} | {row['best_seconds']} | "
            f"{row['rate']} | {row['errors']} | {note} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "tool",
        choices=[
            "agents",
            "commwatch",
            "commwatch-v3",
            "pysnmp-v1arch",
            "pysnmp-v3arch",
            "pysnmp-v3arch-authpriv",
            "walk",
            "summary",
        ],
    )
    parser.add_argument("file", nargs="?", help="for summary: the run's JSON lines")
    parser.add_argument("--count", type=int, default=4)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--netns", help="run the agents inside this network namespace")
    parser.add_argument("--endpoints-file")
    parser.add_argument("--gets", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int)
    parser.add_argument("--max-repetitions", type=int, default=25)
    args = parser.parse_args()
    if args.tool == "summary":
        summary(Path(args.file))
    elif args.tool == "agents":
        agents(args.count, args.workdir, args.netns)
    elif args.tool == "walk":
        asyncio.run(walk_iftable(args.host, args.port, args.repeat, args.max_repetitions))
    elif args.tool.startswith("commwatch"):
        endpoints = _endpoints(args.endpoints_file)
        asyncio.run(commwatch(endpoints, args.gets, args.repeat, args.tool == "commwatch-v3"))
    else:
        endpoints = _endpoints(args.endpoints_file)
        arch = args.tool.removeprefix("pysnmp-")
        asyncio.run(pysnmp_hlapi(endpoints, args.gets, args.repeat, arch))


if __name__ == "__main__":
    main()
