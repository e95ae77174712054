"""A throw-away network lab in namespaces: one monitor, N target hosts, nothing on the host.

    with netns_lab(hosts=3) as lab:          # skips (fails under CI=true) without root/ip
        lab.monitor_ns                       # "cwlab-<pid>-<hex>-mon": run commwatch here
        lab.monitor_address                  # "198.18.0.1"
        lab.addresses                        # ["198.18.0.2", "198.18.0.3", "198.18.0.4"]
        lab.ignore_echo(True, host=0)        # 198.18.0.2 stops answering pings
        lab.link_down(host=1)                # 198.18.0.3 unplugged; lab.link_up(1) plugs it back
        lab.call_in(lab.monitor_ns, fn, *a)  # fn runs in a thread inside the namespace
        lab.run(lab.monitor_ns, "ip", "route")           # a command inside a namespace
        DaemonProcess(..., netns=lab.monitor_ns)         # tests/daemon_harness.py

Topology: the monitor namespace holds a bridge `br0` (198.18.0.1/24); target
host i lives in its own namespace with `eth0` = 198.18.0.(i+2)/24, wired to the
bridge by a veth created directly inside the namespaces, so the host's own
namespace never sees an interface, address or route (198.18.0.0/15 is the
RFC 2544 benchmarking range).

Two ways to run code inside: `call_in` (a new thread that setns()es into the
namespace, runs fn, exits; every socket fn opens belongs to the namespace; the
namespace's 127.0.0.1 too, so `lab.call_in(lab.monitor_ns, daemon.metrics)`
reads a namespaced daemon's /metrics) and `run`/`spawn` (`ip netns exec`
subprocesses; spawned ones are stopped by PID on exit).

Names carry the creating PID and a random suffix. Every exit path deletes the
namespaces (their veths and bridge go with them), and entering a lab first
deletes leftovers of labs whose creating process is gone (a killed test run).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import secrets
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from tests.requirements import require_binary, require_root

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "cwlab"
SUBNET = "198.18.0"
CLONE_NEWNET = 0x40000000
_LEFTOVER = re.compile(rf"^{PREFIX}-(\d+)-[0-9a-f]+-\w+$")
T = TypeVar("T")


class LabCommandError(subprocess.CalledProcessError):
    """A command in the lab failed; the message includes what it printed on stderr."""

    def __str__(self) -> str:
        return f"{super().__str__()}\n{(self.stderr or '').strip()}"


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if check and done.returncode != 0:
        raise LabCommandError(done.returncode, done.args, done.stdout, done.stderr)
    return done


def remove_leftovers() -> list[str]:
    """Delete lab namespaces whose creating process no longer exists; returns their names."""
    removed = []
    for line in _ip("netns", "list").stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        match = _LEFTOVER.match(name)
        if match is None or _alive(int(match.group(1))):
            continue
        _ip("netns", "del", name, check=False)
        removed.append(name)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class NetnsLab:
    """The namespaces, addresses and switches of one lab (see the module docstring)."""

    def __init__(self, hosts: int = 1) -> None:
        if not 1 <= hosts <= 200:
            raise ValueError("hosts must be 1..200")
        tag = f"{PREFIX}-{os.getpid()}-{secrets.token_hex(3)}"
        self.monitor_ns = f"{tag}-mon"
        self.target_ns = [f"{tag}-h{i}" for i in range(hosts)]
        self.monitor_address = f"{SUBNET}.1"
        self.addresses = [f"{SUBNET}.{i + 2}" for i in range(hosts)]
        self.prefix_len = 24
        self._spawned: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> NetnsLab:
        remove_leftovers()
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _build(self) -> None:
        mon = self.monitor_ns
        _ip("netns", "add", mon)
        _ip("-n", mon, "link", "set", "lo", "up")
        _ip("-n", mon, "link", "add", "br0", "type", "bridge")
        _ip("-n", mon, "addr", "add", f"{self.monitor_address}/{self.prefix_len}", "dev", "br0")
        _ip("-n", mon, "link", "set", "br0", "up")
        for index, (ns, address) in enumerate(zip(self.target_ns, self.addresses, strict=True)):
            port = f"h{index}"
            _ip("netns", "add", ns)
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip(
                "link",
                "add",
                port,
                "netns",
                mon,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                ns,
            )
            _ip("-n", mon, "link", "set", port, "master", "br0", "up")
            _ip("-n", ns, "addr", "add", f"{address}/{self.prefix_len}", "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "up")

    def close(self) -> None:
        """Stop spawned processes (by PID), then delete every namespace of this lab."""
        for process in self._spawned:
            if process.poll() is None:
                process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        self._spawned.clear()
        for ns in [*self.target_ns, self.monitor_ns]:
            _ip("netns", "del", ns, check=False)

    # --- switches -------------------------------------------------------------------------

    def host_ns(self, host: int) -> str:
        """The namespace of target host `host` (0-based; its address is addresses[host])."""
        return self.target_ns[host]

    def link_down(self, host: int = 0) -> None:
        """Unplug a target host: its eth0 goes down (the bridge port loses carrier)."""
        _ip("-n", self.host_ns(host), "link", "set", "eth0", "down")

    def link_up(self, host: int = 0) -> None:
        """Plug it back in (address and routes come back with the link)."""
        _ip("-n", self.host_ns(host), "link", "set", "eth0", "up")

    def ignore_echo(self, on: bool = True, host: int = 0) -> None:
        """net.ipv4.icmp_echo_ignore_all in the host's namespace: alive but silent to ping."""
        self.sysctl(self.host_ns(host), "net.ipv4.icmp_echo_ignore_all", "1" if on else "0")

    def sysctl(self, ns: str, key: str, value: str) -> None:
        """Set a per-namespace sysctl (e.g. net.ipv4.ping_group_range) in `ns` only."""
        self.run(ns, "sysctl", "-q", "-w", f"{key}={value}")

    # --- running things inside ------------------------------------------------------------

    def run(self, ns: str, *argv: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        """A command inside `ns`; raises LabCommandError (with its stderr) on failure."""
        done = subprocess.run(
            ["ip", "netns", "exec", ns, *argv],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        if done.returncode != 0:
            raise LabCommandError(done.returncode, done.args, done.stdout, done.stderr)
        return done

    def python(self, ns: str, code: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        """`python -c code` (this interpreter, repo on PYTHONPATH) inside `ns`."""
        return self.run(ns, sys.executable, "-c", code, timeout=timeout)

    def spawn(self, ns: str, *argv: str, **popen: Any) -> subprocess.Popen[bytes]:
        """A background command inside `ns`, killed by PID when the lab closes."""
        env = {**os.environ, "PYTHONPATH": str(ROOT), **popen.pop("env", {})}
        process = subprocess.Popen(["ip", "netns", "exec", ns, *argv], env=env, **popen)
        self._spawned.append(process)
        return process

    def call_in(self, ns: str, fn: Callable[..., T], *args: Any, timeout: float = 60.0) -> T:
        """fn(*args) in a fresh thread that entered `ns`; its result or its exception."""
        box: dict[str, Any] = {}
        path = f"/run/netns/{ns}"
        thread = threading.Thread(
            target=_capture, args=(box, _enter_and_run, path, fn, *args), daemon=True
        )
        thread.start()
        thread.join(timeout)
        if thread.is_alive():
            raise TimeoutError(f"{fn!r} still running in {ns} after {timeout}s")
        if "error" in box:
            raise box["error"]
        return box["value"]  # type: ignore[no-any-return]

    def thread_in(self, ns: str, fn: Callable[..., object], *args: Any) -> threading.Thread:
        """Start fn(*args) in a daemon thread inside `ns` (it must return by itself)."""
        path = f"/run/netns/{ns}"
        thread = threading.Thread(target=_enter_and_run, args=(path, fn, *args), daemon=True)
        thread.start()
        return thread


def _enter_and_run(path: str, fn: Callable[..., T], *args: Any) -> T:
    """setns() affects only the calling thread, which ends after fn."""
    fd = os.open(path, os.O_RDONLY)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns({path}): {os.strerror(err)}")
    finally:
        os.close(fd)
    return fn(*args)


def _capture(box: dict[str, Any], fn: Callable[..., object], *args: Any) -> None:
    try:
        box["value"] = fn(*args)
    except BaseException as exc:
        box["error"] = exc


@contextlib.contextmanager
def netns_lab(hosts: int = 1) -> Iterator[NetnsLab]:
    """A NetnsLab for a test: skips without root or `ip` (fails under CI=true)."""
    require_root()
    require_binary("ip")
    with NetnsLab(hosts) as lab:
        yield lab
