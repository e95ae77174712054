"""deploy/systemd: the unit's settings, `systemd-analyze verify` and `security`, W^X Python."""

from __future__ import annotations

import errno
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.requirements import missing, require_binary

ROOT = Path(__file__).resolve().parents[2]
SYSTEMD = ROOT / "deploy" / "systemd"
UNIT = SYSTEMD / "commwatch.service"
EXEC = "/opt/commwatch/venv/bin/commwatch"
RATINGS_OK_OR_BETTER = ("PERFECT", "SAFE", "OK")
OK_MAX_EXPOSURE = 4.9  # systemd's scale: OK up to 4.9, MEDIUM from 5.0


def unit_settings(text: str) -> dict[str, list[str]]:
    """`Key` → its values in file order (keys such as Environment= may repeat)."""
    settings: dict[str, list[str]] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        settings.setdefault(key.strip(), []).append(value.strip())
    return settings


SETTINGS = unit_settings(UNIT.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("Type", "notify"),
        ("NotifyAccess", "main"),
        ("WatchdogSec", "30s"),
        ("Restart", "on-failure"),
        ("ExecStart", f"{EXEC} run -c /etc/commwatch"),
        ("ExecReload", "/bin/kill -HUP $MAINPID"),
        ("User", "commwatch"),
        ("StateDirectory", "commwatch"),
        ("ConfigurationDirectory", "commwatch"),
        ("Environment", "COMMWATCH_CONFIG=/etc/commwatch"),
        ("AmbientCapabilities", "CAP_NET_RAW"),
        ("CapabilityBoundingSet", "CAP_NET_RAW"),
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("PrivateDevices", "yes"),
        ("ProtectKernelTunables", "yes"),
        ("ProtectKernelModules", "yes"),
        ("ProtectKernelLogs", "yes"),
        ("ProtectControlGroups", "yes"),
        ("ProtectClock", "yes"),
        ("ProtectHostname", "yes"),
        ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX AF_NETLINK"),
        ("RestrictNamespaces", "yes"),
        ("RestrictRealtime", "yes"),
        ("RestrictSUIDSGID", "yes"),
        ("LockPersonality", "yes"),
        ("MemoryDenyWriteExecute", "yes"),
        ("SystemCallFilter", "@system-service"),
        ("SystemCallArchitectures", "native"),
        ("UMask", "0027"),
    ],
    ids=lambda v: str(v).split(" ")[0][:40],
)
def test_unit_has_setting(key: str, value: str) -> None:
    assert value in SETTINGS.get(key, []), f"{key}={value} missing; have {SETTINGS.get(key)}"


def test_only_cap_net_raw() -> None:
    assert SETTINGS["CapabilityBoundingSet"] == ["CAP_NET_RAW"]
    assert SETTINGS["AmbientCapabilities"] == ["CAP_NET_RAW"]


def test_stop_timeout_covers_the_drain() -> None:
    """On SIGTERM the daemon drains the outbox (≤ 10 s), then flushes the store (≤ 10 s)."""
    (timeout,) = SETTINGS["TimeoutStopSec"]
    seconds = int(timeout.removesuffix("s"))
    assert 10 + 10 + 10 <= seconds <= 90


def test_bad_config_is_not_restarted_forever() -> None:
    assert SETTINGS["RestartPreventExitStatus"] == ["2"]  # exit 2 = bad config (DESIGN.md)


def test_credentials_are_documented() -> None:
    text = UNIT.read_text(encoding="utf-8")
    assert re.search(r"^#LoadCredential=smtp-password:/etc/commwatch/credentials/", text, re.M)


def test_sysusers_and_tmpfiles_agree_with_unit() -> None:
    sysusers = (SYSTEMD / "commwatch.sysusers.conf").read_text(encoding="utf-8")
    assert re.search(r"^u\s+commwatch\s+-\s+\".+\"\s+/var/lib/commwatch\s+-$", sysusers, re.M)
    tmpfiles = (SYSTEMD / "commwatch.tmpfiles.conf").read_text(encoding="utf-8")
    assert re.search(r"^d\s+/etc/commwatch\s+0750\s+root\s+commwatch\s+-$", tmpfiles, re.M)
    assert re.search(r"^d\s+/var/lib/commwatch\s+0750\s+commwatch\s+commwatch", tmpfiles, re.M)


def render(tmp_path: Path, executable: str) -> Path:
    """The unit with ExecStart pointing at an existing program (verify checks it)."""
    text = UNIT.read_text(encoding="utf-8").replace(EXEC, executable)
    target = tmp_path / "commwatch.service"
    target.write_text(text, encoding="utf-8")
    return target


def test_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = require_binary("systemd-analyze")
    unit = render(tmp_path, sys.executable)
    done = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False
    )
    complaints = [line for line in done.stderr.splitlines() if "commwatch" in line]
    assert done.returncode == 0, done.stderr
    assert complaints == []


def test_systemd_analyze_verify_catches_mistakes(tmp_path: Path) -> None:
    """The check above would notice a broken unit (guards against a vacuous pass)."""
    analyze = require_binary("systemd-analyze")
    unit = render(tmp_path, "/nonexistent/commwatch")
    done = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode != 0
    assert "/nonexistent/commwatch" in done.stderr


def security_rating(output: str) -> tuple[float, str]:
    """(exposure, rating) from `systemd-analyze security`'s last line."""
    match = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?) (\w+)", output)
    assert match, output[-500:]
    return float(match.group(1)), match.group(2)


def test_security_rating_ok_or_better(tmp_path: Path) -> None:
    analyze = require_binary("systemd-analyze")
    unit = render(tmp_path, sys.executable)
    done = subprocess.run(
        [analyze, "security", "--offline=true", "--no-pager", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if "--offline" in done.stderr and "unrecognized" in done.stderr:
        missing("systemd-analyze security --offline needs systemd ≥ 250")
    exposure, rating = security_rating(done.stdout)
    print(f"systemd-analyze security: {exposure} {rating}")
    assert rating in RATINGS_OK_OR_BETTER, done.stdout
    assert exposure <= OK_MAX_EXPOSURE


PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1

# Runs in a child whose memory may never be writable and executable at once:
# first proves the restriction is in force, then exercises the daemon's native
# dependencies (C extensions, libffi, OpenSSL, SQLite) the way the daemon does.
MDWE_CHILD = textwrap.dedent(
    """
    import mmap, sys
    try:
        mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    except PermissionError:
        pass
    else:
        raise SystemExit("W^X not in force")
    import asyncio, ctypes, json, sqlite3, ssl
    ssl.create_default_context()
    db = sqlite3.connect(":memory:")
    db.execute("pragma journal_mode=wal"); db.execute("create table t (x)")
    assert ctypes.CFUNCTYPE(ctypes.c_int)(lambda: 7)() == 7
    import jinja2.sandbox, pydantic, prometheus_client, sqlalchemy, httpx, aiosmtplib, icmplib
    import pysnmp.hlapi.v3arch.asyncio, psycopg
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    Cipher(algorithms.AES(b"k" * 16), modes.CBC(b"i" * 16)).encryptor().update(b"x" * 16)
    engine = sqlalchemy.create_engine("sqlite://")
    with engine.connect() as conn:
        conn.execute(sqlalchemy.text("select 1"))
    jinja2.sandbox.SandboxedEnvironment().from_string("{{ a }}").render(a=1)
    from monitor.config import load_config
    from monitor.runtime.metrics import DaemonMetrics
    from monitor.runtime import logs
    from monitor.runtime import sdnotify
    config = load_config(sys.argv[1])
    print("ok", len(config.nodes))
    """
)


def test_python_stack_runs_without_writable_executable_memory() -> None:
    """MemoryDenyWriteExecute=yes: the same W^X rule via prctl(PR_SET_MDWE) (Linux ≥ 6.3).

    systemd enforces it with a seccomp filter on mmap/mprotect; the kernel's
    MDWE refuses the same mappings, so what runs here runs under the unit.
    """
    code = (
        "import ctypes, os, sys\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        f"if libc.prctl({PR_SET_MDWE}, {PR_MDWE_REFUSE_EXEC_GAIN}, 0, 0, 0) != 0:\n"
        "    sys.exit(100 + ctypes.get_errno())\n"
        "os.execv(sys.executable, [sys.executable, '-c', sys.argv[1], sys.argv[2]])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, MDWE_CHILD, str(ROOT / "config")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    if done.returncode == 100 + errno.EINVAL:
        missing("the kernel has no PR_SET_MDWE (Linux ≥ 6.3)")
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("ok ")
