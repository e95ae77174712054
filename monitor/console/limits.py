"""Sign-in attempts: too many wrong passwords lock a person, or an address, for a while."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import timedelta
from time import monotonic


class LoginLimiter:
    """Failures per key (person id or client address) within a sliding window."""

    def __init__(
        self,
        per_person: int,
        per_address: int,
        window: timedelta,
        clock: Callable[[], float] = monotonic,
    ) -> None:
        self.per_person = per_person
        self.per_address = per_address
        self.window = window.total_seconds()
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        horizon = self.clock() - self.window
        while times and times[0] <= horizon:
            times.popleft()
        if not times:
            self._failures.pop(key, None)
        return times

    def locked_for(self, person: str, address: str) -> float:
        """Seconds until sign-in may be tried again (0: now)."""
        waits = [0.0]
        for key, limit in ((f"p:{person}", self.per_person), (f"a:{address}", self.per_address)):
            times = self._recent(key)
            if len(times) >= limit:
                waits.append(times[0] + self.window - self.clock())
        return max(waits)

    def failed(self, person: str, address: str) -> None:
        """Count a wrong password against both the person and the address."""
        now = self.clock()
        for key in (f"p:{person}", f"a:{address}"):
            self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, person: str) -> None:
        """A right password clears the person's count (the address keeps its own)."""
        self._failures.pop(f"p:{person}", None)
