"""Benchmark: server time of the console's board page at N nodes (default 10,000; goal ≤ 300 ms).

    .venv/bin/python bench/console_board.py [--nodes 10000] [--runs 30]

A generated inventory of N nodes (the shipped systems and streets, every
20th node a child of an aggregation node, 2 % DOWN, 1 % DEGRADED, the rest UP)
on a SQLite database with three open incidents. Each run is one GET of the
full board page (`/`) through the ASGI app in-process — session check, board
(situation + topology + impacts), incidents query, template — timed from
request to last byte, with a node changed before every request (cold: the
board is built anew); the live fragment (`/board/live`, what a change
re-fetches) is timed cold and cached (the other browsers after the first),
and `build_board` alone, and the live feed's fingerprint (taken twice a second:
the node table's change sequence, not a pass over the nodes). The reference is the same
page at 100 nodes. Wall time and CPU time (process_time: all threads of
this process, so other load on a shared machine does not inflate it) are
reported. Prints one JSON object; figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.config import Config
from monitor.config.inventory import NodeConfig
from monitor.console.board import build_board
from monitor.console.feed import Feed
from monitor.incidents.authority import actor_of
from monitor.nodes.state import Status
from monitor.plan.assessment import Assessment
from tests.monitor.console.support import FakeLive, client, login, make_console


def inventory(config: Config, n: int) -> Config:
    systems = [s.id for s in config.inventory.system]
    streets = list(config.streets)
    nodes: list[NodeConfig] = []
    for i in range(n):
        parent = f"n{i - i % 20}" if i % 20 else None
        nodes.append(
            NodeConfig(
                id=f"n{i}",
                name=f"节点{i}",
                system=systems[i % len(systems)],
                address=f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}",
                street=streets[i % len(streets)],
                critical=i < len(systems),
                parent=parent,
            )
        )
    return Config(
        config.directory,
        config.daemon,
        config.plan,
        config.contacts,
        config.inventory.model_copy(update={"node": nodes, "maintenance": []}),
    )


@dataclass
class CountingLive(FakeLive):
    """The daemon's live view as the node table gives it: a change sequence bumped per change."""

    changes: int = 0

    def sequence(self) -> int:
        return self.changes


def statuses(n: int) -> dict[str, Status]:
    result = {}
    for i in range(n):
        status = Status.UP
        if i % 50 == 7:
            status = Status.DOWN
        elif i % 100 == 3:
            status = Status.DEGRADED
        result[f"n{i}"] = status
    return result


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(n: int, runs: int) -> dict[str, float]:
    scratch = Path(tempfile.mkdtemp(prefix="cw-bench-board-"))
    live = CountingLive(
        statuses(n), Assessment(3, "II", key_systems=("portal",), reasons=("基准测试",))
    )
    console = make_console(scratch, live)
    config = inventory(console.config(), n)
    console.config = lambda: config
    duty = actor_of(config.people["duty-officer"])
    for k in range(3):
        console.incidents().add_event("upper", f"基准事件{k}", duty)
    http = client(console)
    login(http, "duty-officer")
    figures: dict[str, float] = {"nodes": float(n)}
    for key, path, cold in (
        ("page_cold", "/", True),
        ("fragment_cold", "/board/live", True),
        ("fragment_cached", "/board/live", False),
    ):
        http.get(path)  # warm-up: templates compiled
        times, cpu = [], []
        for run in range(runs):
            if cold:  # a node changes before every request: the board is built anew
                live.node_statuses["n1"] = Status.DEGRADED if run % 2 else Status.UP
                live.changes += 1
            start, start_cpu = time.perf_counter(), time.process_time()
            response = http.get(path)
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
            assert response.status_code == 200, response.status_code
        figures[f"{key}_cpu_p50_ms"] = round(statistics.median(cpu), 1)
        figures[f"{key}_p50_ms"] = round(statistics.median(times), 1)
        figures[f"{key}_p95_ms"] = round(percentile(times, 0.95), 1)
    now = datetime.now(UTC)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        build_board(config, live.statuses(), {}, live.assessment(), now)
        times.append((time.perf_counter() - start) * 1000)
    figures["build_board_p50_ms"] = round(statistics.median(times), 1)
    feed = Feed(live, lambda: None)
    times = []
    for _ in range(runs):  # what the live feed does twice a second (without its 3 queries)
        start = time.perf_counter()
        feed.fingerprint(None)
        times.append((time.perf_counter() - start) * 1_000_000)
    figures["feed_fingerprint_p50_us"] = round(statistics.median(times), 1)
    times = []
    for _ in range(runs):  # before: every status hashed (fingerprint and cache key alike)
        start = time.perf_counter()
        hash(tuple(live.statuses().items()))
        times.append((time.perf_counter() - start) * 1_000_000)
    figures["hash_all_statuses_p50_us"] = round(statistics.median(times), 1)
    figures["html_kib"] = round(len(http.get("/").content) / 1024, 1)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    result = {"reference_100": measure(100, args.runs), "target": measure(args.nodes, args.runs)}
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
