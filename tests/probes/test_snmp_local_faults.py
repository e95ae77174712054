"""Faults of our own installation are reported as ours, with what to do, never as the agent's.

Each case runs the real SnmpProbe in a child Python against a real snmpd on
loopback, with the fault made real in that child: `cryptography` made
unimportable (as in an install without it), or the file-descriptor limit at
the number already open, the rest taken (no socket can be opened).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest

from tests.snmpd import Snmpd

pytestmark = pytest.mark.peer

CHILD = textwrap.dedent(
    """
    import asyncio, json, os, resource, sys
    if sys.argv[1] == "no-crypto":
        sys.modules["cryptography"] = None  # import cryptography → ImportError, as when absent
    from monitor.config.daemon import SnmpAuthConfig, SnmpProbeConfig
    from monitor.config.inventory import NodeConfig
    from probes.base import ProbeError
    from probes.snmp import SnmpProbe

    auth = SnmpAuthConfig.model_validate(json.loads(sys.argv[3]))
    node = NodeConfig(id="r1", name="r1", system="s", address="127.0.0.1", probes=["snmp"],
                      snmp_auth="a", snmp_port=int(sys.argv[2]))

    async def main():
        probe = SnmpProbe(SnmpProbeConfig(timeout="500ms", retries=0), {"a": auth})
        if sys.argv[1] == "no-fds":
            opened = len(os.listdir("/proc/self/fd"))
            resource.setrlimit(resource.RLIMIT_NOFILE, (opened + 8, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
            held = []
            for _ in range(64):  # take every descriptor left (a handful), bounded
                try:
                    held.append(os.open("/dev/null", os.O_RDONLY))
                except OSError:
                    break
        try:
            result = await probe.probe(node)
            return {"result": result.to_json()}
        except ProbeError as exc:
            return {"probe_error": str(exc)}
        finally:
            await probe.close()

    print(json.dumps(asyncio.run(main())))
    """
)
PRIV = {
    "version": "3",
    "user": "privsha",
    "auth_protocol": "SHA",
    "auth_key": "authpass123",
    "priv_protocol": "AES",
    "priv_key": "privpass123",
}
WRONG_KEYS = {**PRIV, "auth_key": "wrongpass123", "priv_key": "wrongpriv123"}
V2C = {"version": "2c", "community": "public"}


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snmpd]:
    with Snmpd(tmp_path_factory.mktemp("snmpd")) as running:
        yield running


def child(fault: str, port: int, auth: dict[str, str]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, fault, str(port), json.dumps(auth)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


@pytest.mark.parametrize("auth", [PRIV, WRONG_KEYS], ids=["right-keys", "wrong-keys"])
def test_missing_crypto_is_ours_and_names_the_package(agent: Snmpd, auth: dict[str, str]) -> None:
    answer = child("no-crypto", agent.port, auth)
    error = str(answer.get("probe_error"))
    assert "cryptography" in error
    assert "pip install" in error
    assert "not at the agent" in error
    assert "result" not in answer  # no node gets an agent_error or auth verdict


def test_without_the_fault_the_same_child_polls(agent: Snmpd) -> None:
    """The control: the same child with cryptography importable gets an answer."""
    answer = child("none", agent.port, PRIV)
    result = answer["result"]
    assert isinstance(result, dict)
    assert result["ok"] is True, result


@pytest.mark.parametrize("auth", [V2C, PRIV], ids=["v2c", "v3"])
def test_socket_we_cannot_open_is_ours_and_says_what_to_change(
    agent: Snmpd, auth: dict[str, str]
) -> None:
    answer = child("no-fds", agent.port, auth)
    error = str(answer.get("probe_error"))
    assert "cannot open its SNMP socket" in error, answer
    assert "LimitNOFILE" in error
    assert "result" not in answer
