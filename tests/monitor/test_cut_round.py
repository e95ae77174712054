"""A round cut at its interval stops applying results (it used to run to the end, CPU-bound);
a round hands its samples to the writer once."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

from monitor.app import YIELD_EVERY, Daemon
from monitor.config import load_config
from monitor.config.inventory import NodeConfig
from monitor.storage.migrations import upgrade
from probes.base import ProbeResult
from tests.paths import SHIPPED_CONFIG

RESULTS = 20_000


class Instant:
    """A prober that answers at once with `count` results (what a 20k-node round brings)."""

    kind = "icmp"

    def __init__(self, count: int = RESULTS) -> None:
        self.count = count

    async def probe_round(self, nodes: Sequence[NodeConfig]) -> list[ProbeResult]:
        node = nodes[0].id
        return [ProbeResult(node, "icmp", ok=True, rtt_ms=float(i)) for i in range(self.count)]

    async def close(self) -> None:
        return None


def shipped_daemon(tmp_path: Path) -> Daemon:
    config_dir = tmp_path / "config"
    shutil.copytree(SHIPPED_CONFIG, config_dir)
    text = (config_dir / "commwatch.toml").read_text(encoding="utf-8")
    (config_dir / "commwatch.toml").write_text(
        text.replace("${STATE_DIRECTORY:-var}", str(tmp_path)).replace(
            "detect_gateway = true",
            "detect_gateway = false",  # never ping the host's gateway
        ),
        encoding="utf-8",
    )
    return Daemon(load_config(config_dir))


async def test_a_cut_round_stops_its_work(tmp_path: Path) -> None:
    daemon = shipped_daemon(tmp_path)
    daemon.probes = {"icmp": Instant()}  # type: ignore[dict-item]
    task = asyncio.ensure_future(daemon._run_round("icmp", daemon.config.inventory.node[:1]))
    for _ in range(3):
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    rows = daemon.writer.pending  # a sample (and a node state) per applied result
    assert 0 < rows <= 2 * 4 * YIELD_EVERY, f"{rows} rows for {RESULTS} results after the cut"
    daemon.engine.dispose()


async def test_a_round_hands_its_samples_to_the_writer_once(tmp_path: Path) -> None:
    """One submission per round, not one per loop step: each wakes the writer thread."""
    daemon = shipped_daemon(tmp_path)
    upgrade(daemon.engine)  # the round reads the 保障期 table
    count = 3 * YIELD_EVERY + 7  # four loop steps
    daemon.probes = {"icmp": Instant(count)}  # type: ignore[dict-item]
    handed: list[list[ProbeResult]] = []
    daemon.writer.submit_samples = lambda results: handed.append(list(results))  # type: ignore[method-assign]
    await daemon._run_round("icmp", daemon.config.inventory.node[:1])
    assert len(handed) == 1
    assert [r.rtt_ms for r in handed[0]] == [float(i) for i in range(count)]  # all, in order
    daemon.engine.dispose()
