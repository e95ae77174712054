"""Test prerequisites: skip with the reason on a laptop, fail under CI=true.

CI must never pass by skipping what a test was meant to prove, so every
real-peer or privileged test declares what it needs through these helpers.
"""

from __future__ import annotations

import os
import shutil
from typing import NoReturn

import pytest


def in_ci() -> bool:
    """True when running under CI (CI=true), where missing peers are failures."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(reason: str) -> NoReturn:
    """Skip on a developer's machine; fail in CI."""
    if in_ci():
        pytest.fail(f"CI requires it: {reason}", pytrace=False)
    pytest.skip(reason)


def require_root() -> None:
    """Raw sockets and network namespaces need root."""
    if os.geteuid() != 0:
        missing("needs root (raw ICMP sockets, network namespaces)")


def require_binary(name: str) -> str:
    """The full path of an external program, e.g. snmpd or promtool."""
    path = shutil.which(name) or next(
        (
            p
            for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}", f"/usr/lib/kannel/test/{name}")
            if os.access(p, os.X_OK)
        ),
        None,
    )
    if path is None:
        missing(f"needs {name} (see .ci/run for the Debian package)")
    return path
