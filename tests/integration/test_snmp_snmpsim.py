"""Fifty simulated agents at once (snmpsim): one round polls them all, nothing cross-wired.

snmpsim 1.2 as root: it must be told to drop privileges (--process-user nobody),
after which it can no longer lazily import stdlib modules from an interpreter
under /root (mode 700) — hence a launcher that pre-imports them — and it can only
read a data directory that `nobody` can reach (pytest's tmp_path is 0700, so the
data lives in a world-readable mkdtemp directory, removed afterwards). Each
agent has its own data file, selected by community (agent0 … agent49), and its
own endpoint 127.0.2.N.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.config.daemon import SnmpAuthConfig, SnmpProbeConfig
from monitor.config.inventory import CustomOid, NodeConfig
from probes.base import ProbeResult
from probes.snmp import SnmpProbe
from tests.requirements import missing, require_binary
from tests.snmpd import free_udp_port, snmp_env

pytestmark = pytest.mark.peer

AGENTS = 50
HOT = {0, 10, 20, 30, 40}  # agents whose CPU reading is past the threshold
LAUNCHER = """\
import dbm, dbm.dumb, encodings.ascii, encodings.hex_codec, encodings.idna
import encodings.latin_1, encodings.utf_8, sys
from snmpsim.commands import responder
sys.exit(responder.main())
"""
CPU = CustomOid(name="cpu", oid="1.3.6.1.4.1.99999.1.0", warn_above=90)


def _record(index: int) -> str:
    cpu = 95 if index in HOT else 10 + index
    return (
        f"1.3.6.1.2.1.1.3.0|67|{1000 + index}\n"
        f"1.3.6.1.2.1.1.5.0|4|sim-agent-{index}\n"
        f"1.3.6.1.4.1.99999.1.0|66|{cpu}\n"
    )


@pytest.fixture(scope="module")
def snmpsim() -> Iterator[int]:
    """snmpsim on 127.0.2.1–127.0.2.50 (one port), dropped to nobody; yields the port."""
    try:
        import snmpsim  # type: ignore[import-untyped]  # noqa: F401
    except ImportError:
        missing("needs snmpsim (pip install -e .[test])")
    snmpget = require_binary("snmpget")
    root = Path(tempfile.mkdtemp(prefix="cwsnmpsim-"))
    process: subprocess.Popen[bytes] | None = None
    try:
        (root / "data").mkdir()
        (root / "cache").mkdir()
        for index in range(AGENTS):
            (root / "data" / f"agent{index}.snmprec").write_text(_record(index))
        (root / "run.py").write_text(LAUNCHER)
        for path in (root, root / "data", *root.glob("data/*"), root / "run.py"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        (root / "cache").chmod(0o777)
        port = free_udp_port()
        command = [
            sys.executable,
            str(root / "run.py"),
            f"--data-dir={root / 'data'}",
            f"--cache-dir={root / 'cache'}",
            "--logging-method=null",
        ]
        if os.geteuid() == 0:
            command += ["--process-user=nobody", "--process-group=nogroup"]
        command += [f"--agent-udpv4-endpoint=127.0.2.{i + 1}:{port}" for i in range(AGENTS)]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        last = f"127.0.2.{AGENTS}:{port}"
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"snmpsim exited: {process.stderr.read()[-2000:]!r}")  # type: ignore[union-attr]
            probe = [
                snmpget,
                "-v2c",
                "-c",
                f"agent{AGENTS - 1}",
                "-t",
                "0.3",
                "-r",
                "0",
                last,
                "1.3.6.1.2.1.1.5.0",
            ]
            if (
                subprocess.run(probe, env=snmp_env(), capture_output=True, check=False).returncode
                == 0
            ):
                break
            if time.monotonic() > deadline:
                raise TimeoutError("snmpsim did not answer within 20 s")
            time.sleep(0.2)
        yield port
    finally:
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        shutil.rmtree(root, ignore_errors=True)


def test_fifty_agents_in_one_round(snmpsim: int) -> None:
    auths = {
        f"agent{i}": SnmpAuthConfig(version="2c", community=f"agent{i}") for i in range(AGENTS)
    }
    nodes = [
        NodeConfig(
            id=f"sim-{i}",
            name=f"模拟设备{i}",
            system="s",
            address=f"127.0.2.{i + 1}",
            probes=["snmp"],
            snmp_auth=f"agent{i}",
            snmp_port=snmpsim,
            oids=[CPU],
        )
        for i in range(AGENTS)
    ]
    probe = SnmpProbe(SnmpProbeConfig(timeout="2s", retries=1, max_concurrency=50), auths)

    async def two_rounds() -> list[list[ProbeResult]]:
        try:
            return [list(await probe.probe_round(nodes)) for _ in range(2)]
        finally:
            await probe.close()

    for results in asyncio.run(two_rounds()):
        assert [r.node for r in results] == [n.id for n in nodes]
        for index, result in enumerate(results):
            assert result.ok, result
            values = result.values
            assert values["sys_name"] == f"sim-agent-{index}"
            assert values["sys_uptime"] == 1000 + index
            assert result.degraded is (index in HOT)
            if index in HOT:
                assert result.detail == "指标cpu=95高于上限90"
    assert probe.stats.requests == 2 * AGENTS
    assert probe.stats.timeouts == 0
