"""The sd_notify protocol (sd_notify(3)), spoken over $NOTIFY_SOCKET directly.

With `Type=notify` systemd waits for READY=1 before it counts the service as
started, shows STATUS= in `systemctl status`, and with `WatchdogSec=` restarts
the service unless WATCHDOG=1 arrives at least once per watchdog interval.

Every function is a silent no-op when $NOTIFY_SOCKET is unset (a developer's
terminal, tests, containers) and never raises: a lost notification must not
take the daemon down. The environment is read at each call, so nothing here
holds state.

Usage from the daemon::

    sdnotify.ready("probing 18 nodes")           # after start-up, and after each reload
    period = sdnotify.watchdog_interval()        # None: no watchdog configured
    ...  every `period` seconds: sdnotify.watchdog()
    sdnotify.reloading()                         # on SIGHUP, then ready(...) again
    sdnotify.stopping()                          # on SIGTERM, before draining
"""

from __future__ import annotations

import logging
import os
import socket
import time

log = logging.getLogger(__name__)

SEND_TIMEOUT = 1.0  # seconds; systemd reads its notify socket promptly


def _address(raw: str) -> str | None:
    """Map $NOTIFY_SOCKET to a socket address: a path, or an abstract name for `@name`."""
    if raw.startswith("@") and len(raw) > 1:
        return "\0" + raw[1:]
    if raw.startswith("/"):
        return raw
    return None  # e.g. "vsock:…" (systemd ≥ 254) is not supported here


def notify(state: str) -> bool:
    """Send one notification, e.g. "READY=1\\nSTATUS=…"; True when it was sent.

    Returns False without sending when $NOTIFY_SOCKET is unset or unusable.
    """
    raw = os.environ.get("NOTIFY_SOCKET", "")
    if not raw:
        return False
    address = _address(raw)
    if address is None:
        log.debug("unsupported NOTIFY_SOCKET", extra={"fields": {"socket": raw}})
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.settimeout(SEND_TIMEOUT)
            sock.sendto(state.encode("utf-8"), address)
    except OSError as exc:
        log.debug("sd_notify failed", extra={"fields": {"socket": raw, "error": str(exc)}})
        return False
    return True


def _one_line(text: str) -> str:
    """STATUS= ends at the newline; keep the whole text on it."""
    return " ".join(text.splitlines())


def ready(status: str | None = None) -> bool:
    """READY=1 (start-up or a reload is complete), with an optional STATUS= text."""
    if status is None:
        return notify("READY=1")
    return notify(f"READY=1\nSTATUS={_one_line(status)}")


def reloading() -> bool:
    """RELOADING=1: a reload started; send ready() when it is done (either way)."""
    monotonic_usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    return notify(f"RELOADING=1\nMONOTONIC_USEC={monotonic_usec}")


def stopping(status: str | None = None) -> bool:
    """STOPPING=1: shutdown began (probing stops, the outbox drains)."""
    if status is None:
        return notify("STOPPING=1")
    return notify(f"STOPPING=1\nSTATUS={_one_line(status)}")


def status(text: str) -> bool:
    """STATUS=: a one-line state shown by `systemctl status`."""
    return notify(f"STATUS={_one_line(text)}")


def watchdog() -> bool:
    """WATCHDOG=1: the keep-alive ping; send it every watchdog_interval() seconds."""
    return notify("WATCHDOG=1")


def extend_timeout(seconds: float) -> bool:
    """EXTEND_TIMEOUT_USEC=: ask for more time during a slow start or stop."""
    return notify(f"EXTEND_TIMEOUT_USEC={max(0, round(seconds * 1_000_000))}")


def watchdog_interval() -> float | None:
    """Seconds between WATCHDOG=1 pings: half of $WATCHDOG_USEC (sd_watchdog_enabled(3)).

    None when no watchdog is configured for this process: $WATCHDOG_USEC unset,
    not a positive integer, or $WATCHDOG_PID naming another process.
    """
    usec = os.environ.get("WATCHDOG_USEC", "")
    if not usec.isdigit() or int(usec) <= 0:
        return None
    pid = os.environ.get("WATCHDOG_PID", "")
    if pid and (not pid.isdigit() or int(pid) != os.getpid()):
        return None
    return int(usec) / 2 / 1_000_000
