"""Run a real `commwatch run` in a subprocess on a generated config (for integration tests)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "config"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def daemon_toml(
    db_url: str,
    metrics_port: int,
    *,
    interval: str = "1s",
    fail_after: int = 2,
    recover_after: int = 1,
    extra: str = "",
    self_monitor: str = "detect_gateway = false",
    console: str = "enabled = false",
) -> str:
    """A commwatch.toml tuned for fast tests (the console off unless `console` says otherwise).

    `self_monitor` is the body of [self_monitor]; by default the default gateway is
    not detected, so a daemon in the host's namespace never pings the host's gateway.
    """
    return f"""
[storage]
url = "{db_url}"
flush_interval = "200ms"

[metrics]
listen = "127.0.0.1:{metrics_port}"

[logging]
format = "kv"
level = "info"

[probes.icmp]
interval = "{interval}"
count = 1
timeout = "300ms"
packet_interval = "10ms"
pacing = "0us"

[state]
fail_after = {fail_after}
recover_after = {recover_after}

[self_monitor]
{self_monitor}

[console]
{console}
{extra}
"""


def make_config(target: Path, commwatch_toml: str, nodes_toml: str | None = None) -> Path:
    """A config dir: the shipped contacts and plan, the given commwatch.toml (and nodes.toml)."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("contacts.toml", "plan.toml", "nodes.toml"):
        shutil.copy(SHIPPED / name, target / name)
    (target / "commwatch.toml").write_text(commwatch_toml, encoding="utf-8")
    if nodes_toml is not None:
        (target / "nodes.toml").write_text(nodes_toml, encoding="utf-8")
    return target


class DaemonProcess:
    """`python -m monitor run -c DIR`, optionally inside a network namespace; stopped by PID."""

    def __init__(
        self, config_dir: Path, metrics_port: int, log_path: Path, netns: str | None = None
    ) -> None:
        self.config_dir = config_dir
        self.metrics_port = metrics_port
        self.log_path = log_path
        command = [sys.executable, "-m", "monitor", "run", "-c", str(config_dir)]
        if netns is not None:
            command = ["ip", "netns", "exec", netns, *command]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def metrics(self) -> str:
        """The /metrics page."""
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=3) as reply:
            return str(reply.read().decode())

    def sample(self, name: str, labels: str = "") -> float | None:
        """One sample's value from /metrics, or None."""
        prefix = f"{name}{{{labels}}} " if labels else f"{name} "
        for line in self.metrics().splitlines():
            if line.startswith(prefix):
                return float(line.split()[-1])
        return None

    def wait_for(self, what: str, check: Callable[[], bool], timeout: float = 20.0) -> None:
        """Poll `check` until true; fail with the daemon's log when the time is up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"daemon exited ({self.process.returncode}) waiting for {what}:\n{self.log()}"
                )
            try:
                if check():
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}:\n{self.log()[-4000:]}")

    def signal(self, signum: signal.Signals) -> None:
        """Send a signal to the daemon (its PID)."""
        self.process.send_signal(signum)

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, wait; SIGKILL if it does not exit in time. Returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log.close()
        return int(self.process.returncode)

    def log(self) -> str:
        """Everything the daemon printed so far."""
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def loopback_address(index: int) -> str:
    """The index-th distinct loopback address: 127.10.0.1, …, 127.10.0.254, 127.10.1.1, …"""
    block, host = divmod(index, 254)
    return f"127.{10 + block // 256}.{block % 256}.{host + 1}"


def loopback_nodes_toml(count: int, probes: str = '["icmp"]') -> str:
    """A nodes.toml with the shipped systems and `count` loopback nodes spread over them."""
    shipped = (SHIPPED / "nodes.toml").read_text(encoding="utf-8")
    systems = shipped[: shipped.index("\n[[node]]\n")]
    ids = [line.split('"')[1] for line in systems.splitlines() if line.startswith("id = ")]
    nodes = [
        f'[[node]]\nid = "n{i}"\nname = "节点{i}"\nsystem = "{ids[i % len(ids)]}"\n'
        f'address = "{loopback_address(i)}"\nprobes = {probes}\n'
        for i in range(count)
    ]
    return systems + "\n\n" + "\n".join(nodes)
