"""The installed wheel, as an operator meets it: config check, probes, SNMP, daemon, duty, notices, db.

Real peers only: ICMP to loopback (root), a real net-snmp snmpd on loopback, the
daemon's own /metrics over HTTP, the file notifier writing real files.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.acceptance.conftest import Installed, config_copy
from tests.daemon_harness import free_port
from tests.paths import ROOT, SHIPPED_CONFIG
from tests.requirements import require_root
from tests.snmpd import DEFAULT_USERS, Snmpd, V3User

pytestmark = pytest.mark.peer

SHA256_AES = V3User("privsha256aes", "SHA-256", "authpass256y", "AES", "privpass256y")
SNMP_AUTHS = """
[snmp.auth.accept-v2c]
version = "2c"
community = "public"

[snmp.auth.accept-sha-aes]
version = "3"
user = "privsha"
auth_protocol = "SHA"
auth_key = "authpass123"
priv_protocol = "AES"
priv_key = "privpass123"

[snmp.auth.accept-sha256-aes]
version = "3"
user = "privsha256aes"
auth_protocol = "SHA256"
auth_key = "authpass256y"
priv_protocol = "AES"
priv_key = "privpass256y"
"""


def snmp_nodes(port: int) -> str:
    return "".join(
        f"""
[[node]]
id = "{node}"
name = "验收SNMP {auth}"
system = "cmcc"
address = "127.0.0.1"
probes = ["snmp"]
snmp_auth = "{auth}"
snmp_port = {port}
"""
        for node, auth in (
            ("acc-v2c", "accept-v2c"),
            ("acc-v3-sha-aes", "accept-sha-aes"),
            ("acc-v3-sha256-aes", "accept-sha256-aes"),
        )
    )


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snmpd]:
    with Snmpd(tmp_path_factory.mktemp("snmpd"), users=(*DEFAULT_USERS, SHA256_AES)) as running:
        yield running


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_the_program_is_the_installed_one(installed: Installed) -> None:
    python = installed.program.parent / "python"
    done = subprocess.run(
        [str(python), "-c", "import dispatch, monitor, probes; print(monitor.__file__)"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=installed.workdir,
        env=dict(installed.env),
    )
    assert not Path(done.stdout.strip()).resolve().is_relative_to(ROOT)
    version = installed.run("--version")
    assert version.returncode == 0
    assert version.stdout.startswith("commwatch ")


def test_check_config_on_the_shipped_config(installed: Installed) -> None:
    done = installed.run("check-config", "-c", str(SHIPPED_CONFIG))
    assert done.returncode == 0, done.stderr
    assert f"{SHIPPED_CONFIG}: OK" in done.stdout


def test_probe_once_icmp_to_loopback(installed: Installed) -> None:
    require_root()
    done = installed.run(
        "probe-once",
        "-c",
        str(SHIPPED_CONFIG),
        "--probe",
        "icmp",
        "--node",
        "cmcc-core-1",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    [result] = json_lines(done.stdout)
    assert (result["node"], result["probe"], result["ok"]) == ("cmcc-core-1", "icmp", True)


def test_snmp_v2c_and_v3_authpriv_against_snmpd(
    installed: Installed, agent: Snmpd, tmp_path: Path
) -> None:
    config = config_copy(
        tmp_path / "config",
        metrics_port=free_port(),
        extra_daemon=SNMP_AUTHS,
        nodes=snmp_nodes(agent.port),
    )
    done = installed.run("probe-once", "-c", str(config), "--probe", "snmp", "--json")
    assert done.returncode == 0, done.stderr
    results = {str(r["node"]): r for r in json_lines(done.stdout)}
    assert set(results) == {"acc-v2c", "acc-v3-sha-aes", "acc-v3-sha256-aes"}
    for node, result in results.items():
        assert result["ok"] is True, (node, result)
        assert result["error"] is None, (node, result)
        assert result["sys_name"] == "commwatch-test-agent", (node, result)


def test_db_upgrade_and_current(installed: Installed, tmp_path: Path) -> None:
    config = config_copy(tmp_path / "config", metrics_port=free_port())
    refused = installed.run("db", "current", "-c", str(config))
    assert refused.returncode == 1
    assert "no database at" in refused.stderr
    upgraded = installed.run("db", "upgrade", "-c", str(config))
    assert upgraded.returncode == 0, upgraded.stderr
    assert "new database, schema created: empty → " in upgraded.stdout
    current = installed.run("db", "current", "-c", str(config))
    assert current.returncode == 0
    assert current.stdout.endswith(" (head)\n")


def test_assess(installed: Installed) -> None:
    done = installed.run("assess", "-c", str(SHIPPED_CONFIG), "--down", "cmcc-core-1", "--json")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    for key in ("scenario", "level", "operator_networks", "key_systems", "streets", "reasons"):
        assert key in answer
    assert answer["reasons"]


def test_a_notice_through_the_file_notifier(installed: Installed) -> None:
    outbox = Path(installed.env["STATE_DIRECTORY"]) / "outbox"
    done = installed.run(
        "notify-test", "-c", str(SHIPPED_CONFIG), "--notifier", "outbox", "--to", "13800000000"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    written = sorted(outbox.iterdir())
    assert written, f"nothing in {outbox}"
    assert any("13800000000" in path.read_text(encoding="utf-8") for path in written)


def _metrics(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=3) as reply:
        return str(reply.read().decode())


def _wait(
    what: str, check: Callable[[], bool], process: subprocess.Popen[bytes], log: Path
) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, f"daemon exited waiting for {what}:\n{log.read_text()}"
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}:\n{log.read_text()[-4000:]}")


def test_the_daemon_runs_reloads_and_stops(installed: Installed, tmp_path: Path) -> None:
    require_root()  # ICMP to the shipped loopback nodes
    port = free_port()
    config = config_copy(tmp_path / "config", metrics_port=port)
    log = tmp_path / "daemon.log"
    process = installed.popen("run", "-c", str(config), log=log)
    try:
        _wait("the start", lambda: "commwatch started" in log.read_text(), process, log)
        _wait("/metrics", lambda: "commwatch_" in _metrics(port), process, log)
        body = _metrics(port)
        assert "commwatch_config_last_reload_successful 1.0" in body
        process.send_signal(signal.SIGHUP)
        _wait("the reload", lambda: "config reloaded" in log.read_text(), process, log)
        assert "commwatch_config_last_reload_successful 1.0" in _metrics(port)
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=45)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
    text = log.read_text(encoding="utf-8")
    assert code == 0, text
    assert "new database: schema created" in text
    assert "commwatch stopped" in text
    assert "level=error" not in text, text
