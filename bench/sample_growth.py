"""What one bucket's sample rows cost SQLite as `probe_samples` grows (a benchmark, not a test).

    .venv/bin/python bench/sample_growth.py --nodes 10000 --interval 30

The daemon's writer commits one bucket of probe samples at a time (10,000
nodes every 30 s: 30 buckets of 333 rows). This writes such buckets into a
fresh database made by the real migrations, through the daemon's engine (its
pragmas: WAL, synchronous=NORMAL) and the writer's own `insert_samples`, one
transaction per bucket, round after round, and reports the CPU per bucket
(this process's rusage over `--sample` buckets) after 5, 20, 60, 200 and 600
rounds of history. Until
schema revision 0005 every round also added one row to each node's run in
`ix_probe_samples_node_at`; once those runs outgrew SQLite's page cache (2 MiB
per connection by default) each row touched a leaf page that had to be read
back and rewritten, and the cost per bucket doubled over 100 minutes. Now the
rows are appended and each node's latest is updated in `latest_samples` (a
table small enough to stay cached), so the cost should not grow with the
table's age; run this beside an older checkout to see both.
The daemon's steady-state benchmark measures the same on a running daemon with
`--aged-rounds` (bench/daemon_steady.py).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.storage.engine import open_engine
from monitor.storage.migrations import upgrade
from monitor.storage.sqlite_samples import insert_samples
from probes.base import ProbeResult

CHECKPOINTS = (5, 20, 60, 200, 600)  # rounds of history at which a bucket is timed
ICMP_VALUES = {"rtt_min_ms": 0.05, "rtt_max_ms": 0.05, "jitter_ms": 0.0, "sent": 1, "received": 1}


def icmp_sample(node: str, at: datetime) -> ProbeResult:
    """A clean one-echo ICMP result, as a loopback node's round gives it."""
    return ProbeResult(node, "icmp", True, at, 0.05, 0.0, values=ICMP_VALUES)


def cpu_seconds() -> float:
    """This process's user + system CPU."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--interval", type=int, default=30, help="seconds: buckets per round")
    parser.add_argument("--sample", type=int, default=300, help="buckets timed at each point")
    parser.add_argument("--rounds", type=int, nargs="*", default=list(CHECKPOINTS))
    args = parser.parse_args()
    buckets = max(1, min(args.nodes, args.interval))
    size = -(-args.nodes // buckets)
    nodes = [f"node-{i:06d}" for i in range(args.nodes)]
    start = datetime(2026, 12, 1, tzinfo=UTC)
    with tempfile.TemporaryDirectory(prefix="sample-growth-") as tmp:
        path = Path(tmp) / "cw.db"
        engine = open_engine(f"sqlite:///{path}")
        upgrade(engine)
        written = rows = 0

        def bucket(index: int) -> int:
            at = start + timedelta(seconds=index * args.interval / buckets)
            first = (index % buckets) * size
            results = [icmp_sample(node, at) for node in nodes[first : first + size]]
            with engine.begin() as connection:
                insert_samples(connection, results)
            return len(results)

        for rounds in sorted(args.rounds):
            while written < rounds * buckets:
                rows += bucket(written)
                written += 1
            used = cpu_seconds()
            for _ in range(args.sample):
                rows += bucket(written)
                written += 1
            per_bucket = (cpu_seconds() - used) / args.sample
            print(
                json.dumps(
                    {
                        "rounds_of_history": rounds,
                        "rows": rows,
                        "db_mib": round(path.stat().st_size / 2**20),
                        "rows_per_bucket": size,
                        "cpu_ms_per_bucket": round(per_bucket * 1000, 2),
                        "cpu_s_per_interval": round(per_bucket * buckets, 3),
                    }
                ),
                flush=True,
            )
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
