"""monitor.runtime.memory: malloc_trim where glibc has it; the collector settled once."""

from __future__ import annotations

import asyncio
import gc

import pytest

from monitor.runtime import memory


def test_release_freed_memory_is_safe_to_call() -> None:
    assert memory.release_freed_memory() in (True, False)


async def test_the_trimmer_settles_the_collector_once_then_stops_cleanly() -> None:
    gc.unfreeze()
    keep = [[i] for i in range(1000)]  # tracked objects that live on
    trimmer = memory.MemoryTrimmer(first=0.01, every=3600)
    trimmer.start()
    for _ in range(100):  # bounded: at most ~1 s
        if gc.get_freeze_count() >= len(keep):
            break
        await asyncio.sleep(0.01)
    frozen = gc.get_freeze_count()
    await trimmer.stop()
    gc.unfreeze()
    assert frozen >= len(keep)  # the survivors left the collector's generations
    assert trimmer._task is None


async def test_the_trimmer_trims_every_period_before_the_collector_settles(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[float] = []

    def trim() -> bool:
        calls.append(1.0)
        return True

    monkeypatch.setattr(memory, "release_freed_memory", trim)
    trimmer = memory.MemoryTrimmer(first=3600, every=0.01)  # settles only in an hour
    trimmer.start()
    for _ in range(200):  # bounded: at most ~2 s
        if len(calls) >= 4:
            break
        await asyncio.sleep(0.01)
    await trimmer.stop()
    assert len(calls) >= 4  # start-up, then each period: not only after settling


def test_the_mmap_threshold_is_pinned_where_glibc_has_mallopt() -> None:
    assert memory.pin_mmap_threshold() is (memory._MALLOPT is not None)
