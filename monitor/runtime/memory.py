"""Give freed heap memory back to the OS (glibc `malloc_trim`), now and then; settle the GC.

Start-up has a high-water mark the steady daemon never reaches again: the TOML
parse of every node, the first round's N state rows, the first scoring. glibc
keeps the freed pages mapped; `malloc_trim(0)` returns the free ones (≈ 6 MiB
of 91 at 10,000 nodes, four minutes after start; it takes < 1 ms there). It
runs in a worker thread (ctypes releases the GIL), right after start-up and then
every `every` seconds (a minute: the first rounds' garbage is returned within
one, not only after the collector has settled); elsewhere than glibc (musl,
macOS) it does nothing.

Large blocks: glibc raises its mmap threshold (from 128 KiB up to 32 MiB)
each time a mapped block is freed, after which large blocks come from an arena
instead of their own mapping. The /metrics page of 10,000 nodes (~2.4 MB, and
its copies) is built in the HTTP server's thread per scrape: in that thread's
arena the freed megabytes stayed resident, malloc_trim did not return them
(+9 MiB of RSS from the first scrape on). `pin_mmap_threshold()` (run at
start) fixes the threshold at glibc's default, so blocks of 128 KiB and more
are always mapped, and unmapped when freed.

Once, `first` seconds after start (when every node's streaks have reached
their cap and steady rounds allocate nothing that lives on), the collector is
run in full and its survivors frozen (`gc.freeze()`), as start-up's were: the
N node states and flap states of the first rounds then stay out of every later
full collection (at 100,000 nodes one such collection holds the GIL for
hundreds of milliseconds). Frozen objects are still freed by reference
counting when replaced; only garbage *cycles* among them would stay, and the
full collection right before the freeze leaves none.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import gc
from collections.abc import Callable

TRIM_EVERY_S = 60.0
M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
MMAP_THRESHOLD = 128 * 1024  # glibc's default, kept fixed


def _libc(function: str) -> Callable[..., int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        found: Callable[..., int] = getattr(ctypes.CDLL(name), function)
    except (OSError, AttributeError):  # not glibc
        return None
    return found


_TRIM = _libc("malloc_trim")
_MALLOPT = _libc("mallopt")


def pin_mmap_threshold() -> bool:
    """Blocks of 128 KiB and more always mapped (see the module docstring); True if set."""
    return bool(_MALLOPT(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) if _MALLOPT is not None else False


def settle_collector() -> None:
    """One full collection, then freeze what survived (long-lived per-node state)."""
    gc.collect()
    gc.freeze()


def release_freed_memory() -> bool:
    """One `malloc_trim(0)`; True when the C library has it (and it released something)."""
    return bool(_TRIM(0)) if _TRIM is not None else False


class MemoryTrimmer:
    """A background task: trim at start and every `every`; settle the GC once, at `first`."""

    def __init__(self, first: float = 60.0, every: float = TRIM_EVERY_S) -> None:
        self.first = first
        self.every = every
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the task."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        settle_at = loop.time() + self.first  # the first rounds (all nodes' first states) done
        settled = False
        await asyncio.to_thread(release_freed_memory)  # start-up's transients
        while True:
            wait = self.every if settled else min(self.every, settle_at - loop.time())
            await asyncio.sleep(max(0.0, wait))
            if not settled and loop.time() >= settle_at:
                settle_collector()  # on the loop: one pause, instead of one per full collection
                settled = True
            await asyncio.to_thread(release_freed_memory)

    async def stop(self) -> None:
        """Cancel the task."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
