"""Event-loop stall and throughput while the StoreWriter commits a 10k-sample round.

    /work/venv/bin/python bench/store_write.py [--rows 10000] [--repeats 5] [--pg URL]

For each backend (SQLite in a temp dir; PostgreSQL in a throwaway database on
--pg, dropped afterwards) and each run: a 5 ms asyncio ticker records its worst
lateness while the loop submits `rows` probe results (one big round) and then
polls until the writer has committed them (batch_size rows trigger a write, as
in the daemon; no flush() call and no to_thread). Reported per backend, as median (min–max):
the loop time spent in the submit calls, the ticker's worst lateness, the
same ticker's worst lateness over 0.3 s of idling just before (the machine's
noise floor), and rows/s from the first submit to the committed flush.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.config.daemon import StorageConfig
from monitor.storage.engine import open_engine
from monitor.storage.migrations import upgrade as create_schema
from monitor.storage.store import Store
from monitor.storage.writer import StoreWriter
from probes.base import ProbeResult

TICK = 0.005


async def ticker(stop: asyncio.Event, worst: list[float]) -> None:
    """Sleep TICK at a time; record the worst lateness."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        due = loop.time() + TICK
        await asyncio.sleep(TICK)
        worst[0] = max(worst[0], loop.time() - due)


async def one_run(writer: StoreWriter, rows: int) -> tuple[float, float, float, float]:
    """(idle lateness just before, submit seconds on the loop, worst lateness, rows/s)."""
    idle = await idle_lateness(0.3)
    results = [
        ProbeResult(node=f"n{i % 1000}", probe="icmp", ok=True, rtt_ms=0.42, loss=0.0)
        for i in range(rows)
    ]
    stop, worst = asyncio.Event(), [0.0]
    tick = asyncio.create_task(ticker(stop, worst))
    await asyncio.sleep(0.05)
    worst[0] = 0.0
    started = time.perf_counter()
    target = writer.written_rows + rows
    for result in results:
        writer.submit_sample(result)
    submitted = time.perf_counter()
    while writer.written_rows < target:  # as in the daemon: batch_size rows trigger the write
        await asyncio.sleep(0.001)
        assert time.perf_counter() - started < 60, "rows not written in 60 s"
    done = time.perf_counter()
    await asyncio.sleep(0.02)
    stop.set()
    await tick
    return idle, submitted - started, worst[0], rows / (done - started)


async def idle_lateness(seconds: float) -> float:
    """The ticker's worst lateness with nothing else running: the machine's noise floor."""
    stop, worst = asyncio.Event(), [0.0]
    tick = asyncio.create_task(ticker(stop, worst))
    await asyncio.sleep(seconds)
    stop.set()
    await tick
    return worst[0]


def bench(
    url: str, rows: int, repeats: int, batch_size: int
) -> list[tuple[float, float, float, float]]:
    """Run `repeats` rounds on a fresh schema at `url`."""
    engine = open_engine(url)
    create_schema(engine)
    config = StorageConfig(url=url, batch_size=batch_size, flush_interval="2s")
    writer = StoreWriter(Store(engine), config)
    writer.start()
    try:
        return [asyncio.run(one_run(writer, rows)) for _ in range(repeats)]
    finally:
        writer.close(10)
        engine.dispose()


@contextmanager
def pg_database(server: str) -> Iterator[str]:
    """A throwaway database on the server; its SQLAlchemy URL."""
    admin = make_url(server)
    conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"commwatch_bench_{secrets.token_hex(4)}"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield admin.set(database=name).render_as_string(hide_password=False)
        finally:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def report(name: str, runs: list[tuple[float, float, float, float]]) -> str:
    """One markdown table row: median (min–max) of each measure."""

    def cell(values: list[float], scale: float, fmt: str) -> str:
        scaled = [v * scale for v in values]
        med = statistics.median(scaled)
        return f"{med:{fmt}} ({min(scaled):{fmt}}–{max(scaled):{fmt}})"

    idle, submit, stall, rate = (list(column) for column in zip(*runs, strict=True))
    return (
        f"| {name} | {cell(submit, 1000, '.1f')} | {cell(stall, 1000, '.1f')} "
        f"| {cell(idle, 1000, '.1f')} | {cell(rate, 0.001, '.0f')}k |"
    )


def main() -> None:
    """Run every backend and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--pg", default="postgresql+psycopg://root@127.0.0.1:5432/test")
    args = parser.parse_args()
    print(f"# {args.rows} samples per run, {args.repeats} runs; {datetime.now(UTC):%Y-%m-%d}")
    print(
        "| backend, batch_size | submit on loop, ms | worst loop stall, ms "
        "| idle noise floor, ms | rows/s |"
    )
    print("|---|---|---|---|---|")
    for batch_size in (5000, args.rows):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            print(report(f"SQLite, {batch_size}", bench(url, args.rows, args.repeats, batch_size)))
        with pg_database(args.pg) as url:
            name = f"PostgreSQL, {batch_size}"
            print(report(name, bench(url, args.rows, args.repeats, batch_size)))


if __name__ == "__main__":
    main()
