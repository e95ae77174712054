"""A distinct secret in every secret-bearing setting; none of them in any output.

Real peers: PostgreSQL (the storage URL carries a password), snmpd (v2c
community and a v3 user with planted keys), aiosmtpd with AUTH, Kannel with a
planted sendsms password; plus a 云MAS notifier (secret_key) and a templated
gateway (password) that are configured but never reached. The daemon runs at
debug level through an outage (notices by email and SMS) and a reload that is
rejected for a misspelt secret key. Then every output is searched for every
secret, as is and URL-encoded: the daemon's log, check-config (valid and
broken), status, incident and notice lists, the brief report, /metrics, the
notices as received, the outbox files and every row of the database.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import psycopg
import pytest
from sqlalchemy import create_engine, text

from tests.conftest import PG_SERVER
from tests.daemon_harness import ROOT, DaemonProcess, daemon_toml, free_port, make_config
from tests.kannel import Kannel
from tests.requirements import missing, require_root
from tests.smtp_server import SmtpServer
from tests.snmpd import Snmpd, V3User, free_udp_port

SECRETS = {
    "storage": "PgPw-" + uuid.uuid4().hex[:12],
    "community": "Comm-" + uuid.uuid4().hex[:12],
    "auth_key": "AuthK-" + uuid.uuid4().hex[:12],
    "priv_key": "PrivK-" + uuid.uuid4().hex[:12],
    "smtp": "Smtp/Pw+" + uuid.uuid4().hex[:12],
    "kannel": "KanPw" + uuid.uuid4().hex[:12],
    "yunmas": "MasKey-" + uuid.uuid4().hex[:12],
    "templated": "TplPw&" + uuid.uuid4().hex[:12],
    "misspelt": "Typo-" + uuid.uuid4().hex[:12],
    "smpp": "Sm" + uuid.uuid4().hex[:6],
    "dingtalk_token": "DingTok" + uuid.uuid4().hex[:12],
    "dingtalk_secret": "SECding" + uuid.uuid4().hex[:12],
    "wecom_key": "WecomKey" + uuid.uuid4().hex[:12],
    "feishu_secret": "Feishu" + uuid.uuid4().hex[:12],
    "cloud": "CloudSecret" + uuid.uuid4().hex[:12],
    "receiver": "RecvTok" + uuid.uuid4().hex[:12],
}

NODES = """
[[system]]
id = "cmcc"
name = "移动城区分公司网络"
kind = "operator"
unit = "移动城区分公司"

[[system]]
id = "portal"
name = "区政府门户网站"
kind = "key_system"
unit = "区政府办公室"

[[node]]
id = "cmcc-core-1"
name = "移动城区核心路由器1"
system = "cmcc"
address = "127.0.0.1"
probes = ["icmp", "snmp"]
snmp_auth = "v2c"
snmp_port = {snmpd}

[[node]]
id = "cmcc-core-v3"
name = "移动城区核心路由器v3"
system = "cmcc"
address = "127.0.0.1"
probes = ["icmp", "snmp"]
snmp_auth = "v3"
snmp_port = {snmpd}

[[node]]
id = "portal-web"
name = "门户网站服务器"
system = "portal"
address = "127.0.0.1"
probes = ["snmp"]
snmp_auth = "v2c"
snmp_port = {dead}
critical = true
"""

EXTRA = """
[probes.snmp]
interval = "1s"
timeout = "300ms"
retries = 0

[snmp.auth.v2c]
version = "2c"
community = "{community}"

[snmp.auth.v3]
version = "3"
user = "cwv3"
auth_protocol = "SHA"
auth_key = "{auth_key}"
priv_protocol = "AES"
priv_key = "{priv_key}"

[traps]
enabled = true
listen = "127.0.0.1:{trap_port}"
auth = ["v2c", "v3"]

[[notifier]]
name = "mail"
type = "email"
host = "127.0.0.1"
port = {smtp_port}
security = "none"
sender = "commwatch@example.org"
username = "cw"
password = "{smtp}"

[[notifier]]
name = "sms"
type = "sms_http"
preset = "kannel"
url = "{kannel_url}"
username = "{kannel_user}"
password = "{kannel}"

[[notifier]]
name = "yunmas"
type = "sms_http"
preset = "yunmas"
url = "http://127.0.0.1:9/sms/norsubmit"
ec_name = "区工信局"
ap_id = "commwatch"
secret_key = "{yunmas}"
sign = "x"

[[notifier]]
name = "reseller"
type = "sms_http"
method = "POST"
url = "http://127.0.0.1:9/api/send"
password = "{templated}"
body = '{{"pw": {{{{ password|tojson }}}}, "to": {{{{ to|tojson }}}}}}'

[[notifier]]
name = "smpp"
type = "sms_smpp"
host = "127.0.0.1"
port = 9
system_id = "cw"
password = "{smpp}"
source_addr = "10086"

[[notifier]]
name = "ding"
type = "dingtalk"
url = "http://127.0.0.1:9/robot/send?access_token={dingtalk_token}"
secret = "{dingtalk_secret}"

[[notifier]]
name = "wecom"
type = "wecom"
url = "http://127.0.0.1:9/cgi-bin/webhook/send?key={wecom_key}"

[[notifier]]
name = "feishu"
type = "feishu"
url = "http://127.0.0.1:9/open-apis/bot/v2/hook/x"
secret = "{feishu_secret}"

[cloud.credential.ali]
access_key_id = "LTAIcommwatch"
access_key_secret = "{cloud}"

[[notifier]]
name = "alisms"
type = "aliyun_sms"
credential = "ali"
endpoint = "127.0.0.1:9"
protocol = "http"
sign_name = "区工信局"
template_code = "SMS_1"

[receiver]
enabled = false
token = "{receiver}"

[[notifier]]
name = "outbox"
type = "file"
directory = "{outbox}"
"""


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database; the URL carries the planted password (trust auth)."""
    name = f"cw_secrets_{uuid.uuid4().hex[:10]}"
    admin = PG_SERVER.replace("postgresql+psycopg://", "postgresql://")
    try:
        connection = psycopg.connect(admin, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        missing(f"PostgreSQL at {PG_SERVER}: {exc}")
        raise
    with connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://root:{SECRETS['storage']}@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _cli(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return f"$ {' '.join(args)} → {done.returncode}\n{done.stdout}\n{done.stderr}"


def _database_text(url: str) -> str:
    engine = create_engine(url)
    parts = []
    with engine.connect() as connection:
        tables = connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ).scalars()
        for table in list(tables):
            rows = connection.execute(text(f'SELECT * FROM "{table}"')).all()
            parts.append(f"{table}: {rows!r}")
    engine.dispose()
    return "\n".join(parts)


def _leaks(outputs: dict[str, str]) -> list[str]:
    found = []
    for where, body in outputs.items():
        for setting, secret in SECRETS.items():
            for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
                if form in body:
                    found.append(f"{setting} secret in {where}")
    return found


def test_no_secret_in_any_output(tmp_path: Path, pg_url: str) -> None:
    require_root()
    user = V3User("cwv3", "SHA", SECRETS["auth_key"], "AES", SECRETS["priv_key"])
    outbox = tmp_path / "outbox"
    with (
        Snmpd(tmp_path / "snmpd", community=SECRETS["community"], users=(user,)) as agent,
        SmtpServer(users={"cw": SECRETS["smtp"]}) as smtp,
        Kannel(tmp_path / "kannel", password=SECRETS["kannel"]) as kannel,
    ):
        port = free_port()
        extra = EXTRA.format(
            trap_port=free_udp_port(),
            smtp_port=smtp.port,
            kannel_url=kannel.sendsms_url,
            kannel_user=kannel.username,
            outbox=outbox,
            **SECRETS,
        )
        toml = daemon_toml(pg_url, port, fail_after=2, extra=extra).replace(
            'level = "info"', 'level = "debug"'
        )
        config = make_config(
            tmp_path / "config",
            toml,
            NODES.format(snmpd=agent.port, dead=free_udp_port()),
        )
        outputs = {"check-config": _cli("check-config", "-c", str(config))}
        daemon = DaemonProcess(config, port, tmp_path / "daemon.log")
        try:
            daemon.wait_for("情形3", lambda: daemon.sample("commwatch_scenario") == 3.0, timeout=60)
            smtp.wait_for(1, timeout=60)
            daemon.wait_for("an SMS", lambda: bool(kannel.received()), timeout=60)
            commwatch = config / "commwatch.toml"
            good = commwatch.read_text(encoding="utf-8")
            commwatch.write_text(
                good.replace(
                    'username = "cw"', f'username = "cw"\npasword = "{SECRETS["misspelt"]}"'
                ).replace("postgresql+psycopg://", "postgres://"),
                encoding="utf-8",
            )
            outputs["check-config broken"] = _cli("check-config", "-c", str(config))
            daemon.signal(signal.SIGHUP)
            daemon.wait_for(
                "reload rejected",
                lambda: daemon.sample("commwatch_config_last_reload_successful") == 0.0,
            )
            outputs["metrics"] = daemon.metrics()
            commwatch.write_text(good, encoding="utf-8")
            outputs["status"] = _cli("status", "-c", str(config), "--json")
            incidents = _cli("incident", "list", "-c", str(config), "--json")
            outputs["incident list"] = incidents
            first = json.loads(incidents.splitlines()[1])
            outputs["notice list"] = _cli("notice", "list", "-c", str(config), "--json")
            outputs["report"] = _cli("report", "render", str(first["id"]), "-c", str(config))
        finally:
            daemon.stop()
        outputs["daemon log"] = daemon.log()
        outputs["emails"] = "\n".join(m.message.as_string() for m in smtp.messages)
        outputs["sms"] = repr(kannel.received())
    outputs["outbox"] = "\n".join(
        p.read_text(encoding="utf-8", errors="replace") for p in outbox.rglob("*") if p.is_file()
    )
    outputs["database"] = _database_text(pg_url.replace(SECRETS["storage"], "x"))
    assert "config reload rejected" in outputs["daemon log"]
    assert "pasword" in outputs["check-config broken"]
    assert "postgres://root:<secret>@" in outputs["check-config broken"]
    assert "level=debug" in outputs["daemon log"], "the daemon really logged at debug"
    assert _leaks(outputs) == []
