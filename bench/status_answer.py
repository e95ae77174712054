"""What `commwatch status` costs at N nodes once started: the daemon's answer, and the offline read.

Run from the repository root (a benchmark, not a test; no network traffic):

    .venv/bin/python bench/status_answer.py --nodes 10000 --runs 20

The shipped config with an inventory of N nodes (as bench/console_board.py
makes it), a fresh SQLite database in a temporary directory (schema by
`db upgrade`'s migrations), every node's state and 3 samples of its primary
probe (the node table picks the latest of them). Then, `--runs` times each:

- "daemon answer, socket": a request over a real `monitor.runtime.control`
  server (its own event loop thread, the daemon's handler
  `monitor.commands.status.answer` on an SQLAlchemy engine), sent and read by
  the CLI's client (`status_client._exchange`) — the daemon's side of
  "status, daemon running" without the CLI's process start;
- "render, SQLAlchemy reader": `render` alone on the daemon's engine;
- "render, sqlite3 reader": `render` on the read-only sqlite3 reader, what
  `status --offline` does after start-up (tests prove both say the same bytes).

Prints median and p95 wall time, median CPU time of this process, and the
answer's size, as one JSON object.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.console_board import inventory
from monitor.commands.status import answer, render
from monitor.commands.status_client import _exchange
from monitor.config import load_config
from monitor.nodes.state import NodeState, Status
from monitor.storage.engine import open_engine
from monitor.storage.engine_reads import EngineReader
from monitor.storage.migrations import upgrade
from monitor.storage.rows import node_row
from monitor.storage.sqlite_reads import SqliteReader
from monitor.storage.store import Store
from probes.base import ProbeResult
from tests.control_harness import ServerThread
from tests.paths import SHIPPED_CONFIG


def timed(work: Callable[[], object], runs: int) -> dict[str, float]:
    work()  # warm-up
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        work()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    wall.sort()
    return {
        "p50_ms": round(statistics.median(wall), 1),
        "p95_ms": round(wall[min(len(wall) - 1, int(0.95 * len(wall)))], 1),
        "cpu_p50_ms": round(statistics.median(cpu), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="cw-bench-status-"))
    os.environ["STATE_DIRECTORY"] = str(scratch)
    config = inventory(load_config(SHIPPED_CONFIG), args.nodes)
    engine = open_engine(config.daemon.storage.url)
    upgrade(engine)
    store = Store(engine)
    store.sync_nodes(config.inventory.node)
    now = datetime.now(UTC)
    since = now - timedelta(hours=5)
    samples = [
        ProbeResult(n.id, probe, ok=True, rtt_ms=1.0 + k, at=now - timedelta(seconds=30 * k))
        for n in config.inventory.node
        for probe in [node_row(n, now)["primary_probe"]]
        for k in range(3)
    ]
    states = {
        n.id: NodeState(Status.DOWN if i % 50 == 0 else Status.UP, since)
        for i, n in enumerate(config.inventory.node)
    }
    store.write_batch(samples, [], states)
    database = config.daemon.storage.url.removeprefix("sqlite:///")
    socket_path = scratch / "control.sock"
    request = {"command": "status", "config": str(Path(config.directory).resolve()),
               "json": False, "problems": False}  # fmt: skip
    raw = json.dumps(request).encode() + b"\n"
    server = ServerThread(socket_path, lambda asked: answer(config, engine, asked)).start()
    lite = SqliteReader(database)
    figures: dict[str, object] = {"nodes": args.nodes, "load": os.getloadavg()}
    try:
        code, out, _ = _exchange(socket_path, raw, 60.0)
        assert code == 0, out
        figures["answer_kib"] = round(len(out.encode()) / 1024, 1)
        figures["daemon answer, socket"] = timed(
            lambda: _exchange(socket_path, raw, 60.0), args.runs
        )

        def rendered(reader: EngineReader | SqliteReader) -> Callable[[], object]:
            return lambda: render(
                config, reader, as_json=False, problems=False, out=io.StringIO(), err=io.StringIO()
            )

        figures["render, SQLAlchemy reader"] = timed(rendered(EngineReader(engine)), args.runs)
        figures["render, sqlite3 reader"] = timed(rendered(lite), args.runs)
    finally:
        lite.close()
        server.stop()
        engine.dispose()
        for path in sorted(scratch.iterdir()):
            path.unlink()
        scratch.rmdir()
    print(json.dumps(figures, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
