"""The SMPP submit window: bounded, narrowed by throttling, no lost wake-ups."""

from __future__ import annotations

import asyncio
import time

from dispatch.smpp_session import Window


async def test_a_cancelled_waiter_passes_its_wake_up_on() -> None:
    window = Window(1)
    await window.acquire()
    second = asyncio.create_task(window.acquire())
    third = asyncio.create_task(window.acquire())
    await asyncio.sleep(0.01)
    await window.release(throttled=False)  # wakes `second` …
    second.cancel()  # … which is cancelled before it runs
    async with asyncio.timeout(1):
        await third
    assert window.in_flight == 1


async def test_throttling_halves_the_window_and_pauses_everyone() -> None:
    window = Window(8)
    for _ in range(4):
        await window.acquire()
    await window.release(throttled=True, pause=0.2)
    assert (window.size, window.in_flight, window.throttles) == (4, 3, 1)
    start = time.monotonic()
    await window.acquire()  # a slot is free, but the pause holds it back
    assert time.monotonic() - start >= 0.19
    await window.release(throttled=False)
    assert window.size == 5  # each accepted submit widens it again, up to the configured 8
