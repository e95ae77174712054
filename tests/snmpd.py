"""A real net-snmp `snmpd` for tests: generated config, loopback endpoints, stopped by PID.

    with Snmpd(tmp_path) as agent:          # 127.0.0.1:<free high port>
        agent.port, agent.community, agent.users

The agent serves a v2c community and v3 users (authNoPriv SHA, authPriv SHA+AES,
authPriv SHA-256+AES-256). `MIBS=""` keeps Debian's MIB-less install quiet; the
endpoints go on the command line (never also `agentAddress` in the config, which
makes snmpd fail with "Error opening specified endpoint"). Persistent state
(engineID, engineBoots) lives in the work directory and survives restart(). `netns=` runs it inside a
network namespace through `ip netns exec` (which execs snmpd, so the PID is
snmpd's own). Readiness is a bounded loop of `snmpget` calls.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from tests.requirements import require_binary

SYS_UPTIME = "1.3.6.1.2.1.1.3.0"


@dataclass(frozen=True)
class V3User:
    """An SNMPv3 user as net-snmp's createUser spells it (auth "SHA", "SHA-256"; priv "AES", "AES-256")."""

    name: str
    auth: str
    auth_key: str
    priv: str | None = None
    priv_key: str | None = None

    @property
    def level(self) -> str:
        """rouser's minimum security level."""
        return "priv" if self.priv else "auth"

    def create_line(self) -> str:
        line = f'createUser {self.name} {self.auth} "{self.auth_key}"'
        if self.priv:
            line += f' {self.priv} "{self.priv_key}"'
        return line


DEFAULT_USERS: tuple[V3User, ...] = (
    V3User("authonly", "SHA", "authpass123"),
    V3User("privsha", "SHA", "authpass123", "AES", "privpass123"),
    V3User("privsha256", "SHA-256", "authpass256x", "AES-256", "privpass256x"),
)


def free_udp_port(host: str = "127.0.0.1") -> int:
    """A UDP port that was free a moment ago (bind to 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def snmp_env() -> dict[str, str]:
    """The environment for net-snmp tools: no MIB loading, no per-user config."""
    env = dict(os.environ)
    env["MIBS"] = ""
    env["SNMPCONFPATH"] = "/nonexistent"
    return env


class Snmpd:
    """One snmpd process on one or more UDP endpoints (HOST:PORT strings)."""

    def __init__(
        self,
        workdir: Path,
        *,
        endpoints: Sequence[str] | None = None,
        community: str = "public",
        users: Sequence[V3User] = DEFAULT_USERS,
        netns: str | None = None,
        extra_conf: str = "",
    ) -> None:
        self.binary = require_binary("snmpd")
        self.snmpget = require_binary("snmpget")
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.endpoints = list(endpoints or [f"127.0.0.1:{free_udp_port()}"])
        self.community = community
        self.users = tuple(users)
        self.netns = netns
        self.extra_conf = extra_conf
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        # a fixed engineID (net-snmp's default is random per start): a restart keeps
        # it and bumps engineBoots, as a rebooted device does
        self.engine_id = f"cw{uuid.uuid4().hex[:12]}"

    @property
    def host(self) -> str:
        """The first endpoint's address."""
        return self.endpoints[0].rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        """The first endpoint's port."""
        return int(self.endpoints[0].rsplit(":", 1)[1])

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def user(self, name: str) -> V3User:
        return next(u for u in self.users if u.name == name)

    def _write_config(self) -> Path:
        conf = self.workdir / "snmpd.conf"
        lines = [
            f"rocommunity {self.community} default",
            *(u.create_line() for u in self.users),
            *(f"rouser {u.name} {u.level}" for u in self.users),
            f"engineID {self.engine_id}",
            "sysName commwatch-test-agent",
            "sysLocation loopback",
            "dontLogTCPWrappersConnects yes",
            self.extra_conf,
        ]
        conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return conf

    def _prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.netns] if self.netns else []

    def start(self, timeout: float = 10.0) -> None:
        """Start snmpd and wait until it answers a v2c GET (bounded)."""
        if self.process is not None:
            raise RuntimeError("snmpd already running")
        conf = self._write_config()
        persist = self.workdir / "persist"
        persist.mkdir(exist_ok=True)
        # Not -C: that would also skip the persistent state (engineID, engineBoots),
        # so a restart would look like a new device. An empty SNMPCONFPATH keeps
        # /etc/snmp out instead.
        command = [
            *self._prefix(),
            self.binary,
            "-f",
            "-c",
            str(conf),
            "-p",
            str(self.workdir / "snmpd.pid"),
            "-Lf",
            str(self.workdir / "snmpd.log"),
            ",".join(f"udp:{e}" for e in self.endpoints),
        ]
        confpath = self.workdir / "confpath"
        confpath.mkdir(exist_ok=True)
        self.process = subprocess.Popen(
            command,
            # SNMP_PERSISTENT_DIR, not --persistentDir: the flag is applied too late for
            # snmpd to read back engineID/engineBoots at start-up
            env={**snmp_env(), "SNMPCONFPATH": str(confpath), "SNMP_PERSISTENT_DIR": str(persist)},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
        self.starts += 1
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"snmpd exited with {self.process.returncode}: {self.log()}")
            if self.answers():
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"snmpd did not answer within {timeout}s: {self.log()}")
            time.sleep(0.05)

    def answers(self, endpoint: str | None = None) -> bool:
        """True when a v2c GET of sysUpTime.0 gets an answer (0.2 s, no retries)."""
        command = [
            *self._prefix(),
            self.snmpget,
            "-v2c",
            "-c",
            self.community,
            "-t",
            "0.2",
            "-r",
            "0",
            "-On",
            f"udp:{endpoint or self.endpoints[0]}",
            SYS_UPTIME,
        ]
        done = subprocess.run(command, env=snmp_env(), capture_output=True, timeout=5, check=False)
        return done.returncode == 0

    def log(self) -> str:
        path = self.workdir / "snmpd.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM by PID, wait (bounded), SIGKILL if it lingers."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)

    def restart(self, new_engine_id: bool = False) -> None:
        """Stop and start again: sysUpTime starts from zero, engineBoots goes up.

        new_engine_id=True also forgets the persistent state, as a replaced or
        factory-reset device would: a new snmpEngineID, engineBoots back to 1.
        """
        self.stop()
        if new_engine_id:
            shutil.rmtree(self.workdir / "persist", ignore_errors=True)
            self.engine_id = f"cw{uuid.uuid4().hex[:12]}"
        self.start()

    def __enter__(self) -> Snmpd:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
