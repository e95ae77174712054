"""Bounds for the trap receiver: hostile datagrams, trap storms, unknown trap names.

- `guarded(transport_class, on_error)`: a pysnmp asyncio UDP transport whose
  receive path cannot raise into asyncio (an undecodable datagram used to log a
  whole pysnmp traceback each: 6 MB of log in 6 minutes); each such datagram
  is handed to `on_error(address, exc)` instead.
- `RejectLog`: counts rejected packets by reason and logs at most one line per
  `every` seconds, with the counts since the last line.
- `ReprobeLimit`: at most one re-probe per node per `every` seconds (3,000
  valid traps caused 3,011 extra ICMP rounds).
- `trap_label`: the metric label of a trap — its name when known, else "other"
  (every distinct trap OID used to become a new series).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger(__name__)

OTHER = "other"
ErrorHandler = Callable[[Any, BaseException], None]


def trap_label(name: str, known: Iterable[str]) -> str:
    """A bounded label value: the trap's name if known, else "other"."""
    return name if name in set(known) else OTHER


def guarded(transport: type[Any], on_error: ErrorHandler) -> type[Any]:
    """A subclass of a pysnmp asyncio datagram transport whose receive callback never raises."""

    class Guarded(transport):  # type: ignore[misc]
        def datagram_received(self, datagram: bytes, address: Any) -> None:
            callback = self._callback_function
            if callback is None:
                return
            self.loop.call_soon(self._receive, callback, address, datagram)

        def _receive(self, callback: Callable[..., Any], address: Any, datagram: bytes) -> None:
            try:
                callback(self, address, datagram)
            except Exception as exc:
                on_error(address, exc)

    Guarded.__name__ = f"Guarded{transport.__name__}"
    return Guarded


class RejectLog:
    """Counts rejected packets; logs a summary at most once per `every` seconds."""

    def __init__(self, every: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.every = every
        self.clock = clock
        self.total: Counter[str] = Counter()
        self._pending: Counter[str] = Counter()
        self._last: float | None = None

    def reject(self, reason: str, sender: str, detail: str) -> None:
        """Count one rejected packet; log if the last line is old enough."""
        self.total[reason] += 1
        self._pending[reason] += 1
        now = self.clock()
        if self._last is not None and now - self._last < self.every:
            return
        self._last = now
        counts, self._pending = dict(self._pending), Counter()
        log.warning(
            "SNMP packets rejected by the trap receiver",
            extra={"fields": {**counts, "last_sender": sender, "last_error": detail[:200]}},
        )


class ReprobeLimit:
    """Allows one re-probe per key per `every` seconds; counts what it held back."""

    def __init__(self, every: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.every = every
        self.clock = clock
        self.suppressed = 0
        self._last: dict[str, float] = {}

    def allow(self, key: str) -> bool:
        """True when `key` may be re-probed now."""
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last < self.every:
            self.suppressed += 1
            return False
        self._last[key] = now
        if len(self._last) > 100_000:  # bounded: forget the stale ones
            self._last = {k: t for k, t in self._last.items() if now - t < self.every}
        return True
