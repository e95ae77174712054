"""The daemon's config without pydantic (`monitor.config.plain`, `snapshot.to_plain`).

A config with every secret-bearing setting (every notifier type, SNMP v2c and
v3, a PostgreSQL URL with a password, the receiver's token) is validated, made
plain, pickled as the config child sends it and read back in a fresh
interpreter: every field and property answers as the model's, every secret is
kept (and printed as `**********`), and nothing there imports pydantic.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from dispatch.registry import DEFAULT_FILE
from dispatch.route_rules import ROUTE_DEFAULTS, built_in_route, drill_rule, duty_rule
from monitor.config import Config, load_config
from monitor.config.masking import mask_text, secret_values
from monitor.config.notifiers import FileNotifierConfig, RouteConfig
from monitor.config.plain import Plain, Secret, fields_of, plain_class
from monitor.config.snapshot import dump, to_plain
from monitor.runtime.logs import redact
from tests.daemon_harness import ROOT, daemon_toml, make_config
from tests.integration.test_secrets_never_printed import EXTRA, NODES, SECRETS
from tests.monitor.config.same_config import assert_same, assert_same_config


@pytest.fixture
def secret_config(tmp_path: Path) -> Path:
    """Every secret-bearing setting, each holding a distinct secret (nothing is contacted)."""
    extra = EXTRA.format(
        trap_port=9,
        smtp_port=9,
        kannel_url="http://127.0.0.1:9/cgi-bin/sendsms",
        kannel_user="cw",
        outbox=tmp_path / "outbox",
        **SECRETS,
    )
    url = f"postgresql+psycopg://root:{SECRETS['storage']}@127.0.0.1:5432/test"
    return make_config(
        tmp_path / "config", daemon_toml(url, 9100, extra=extra), NODES.format(snmpd=9, dead=9)
    )


def test_the_plain_config_answers_as_the_validated_one(secret_config: Path) -> None:
    validated = load_config(secret_config)
    plain = to_plain(validated)
    assert_same_config(validated, plain, secrets=True)
    assert dump(plain) == dump(validated)  # the cache the daemon writes is the same
    found = secret_values(plain.daemon)  # what the daemon scrubs from every log line
    assert found == secret_values(validated.daemon)
    planted = {SECRETS[k] for k in SECRETS if k != "misspelt"}
    assert {s for s in planted if any(s in value for value in found)} == planted


def test_secrets_print_masked_and_redact(secret_config: Path) -> None:
    plain = to_plain(load_config(secret_config))
    text = mask_text(repr(plain) + str(plain))  # the storage URL is text: its password masked
    assert not [s for s in SECRETS.values() if s in text]
    secret = Secret("hunter2-secret")
    assert str(secret) == "**********"
    assert repr(secret) == "SecretStr('**********')"
    assert redact({"value": secret, "nested": [secret]}) == {
        "value": "<secret>",
        "nested": ["<secret>"],
    }


def test_sent_as_the_child_sends_it_it_reads_back_without_pydantic(
    secret_config: Path, tmp_path: Path
) -> None:
    validated = load_config(secret_config)
    sent = tmp_path / "sent.pickle"
    sent.write_bytes(pickle.dumps(to_plain(validated), protocol=pickle.HIGHEST_PROTOCOL))
    reader = (
        "import json, pickle, sys\n"
        "from monitor.config.masking import mask_text, secret_values\n"
        "from monitor.config.snapshot import dump\n"
        "config = pickle.loads(open(sys.argv[1], 'rb').read())\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'pydantic_core'))\n"
        "print(json.dumps({'loaded': loaded, 'secrets': sorted(secret_values(config.daemon)),"
        " 'nodes': sorted(config.nodes)}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-P", "-c", reader, str(sent)],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    answer = json.loads(done.stdout)
    assert answer["loaded"] == []
    assert answer["secrets"] == sorted(secret_values(validated.daemon))
    assert answer["nodes"] == sorted(validated.nodes)
    back = pickle.loads(sent.read_bytes())
    assert isinstance(back, Config)
    assert_same_config(validated, back, secrets=True)


def test_plain_objects_are_read_only_values() -> None:
    kind = plain_class("Example", ("name", "ports"), ("label",))
    one = kind("a", [1, 2], "A")
    assert (one.name, one.ports, one.label) == ("a", [1, 2], "A")
    assert one == kind("a", [1, 2], "A")
    assert hash(one) == hash(kind("a", [1, 2], "A"))
    assert one != kind("b", [1, 2], "A")
    assert fields_of(one) == ("name", "ports")
    with pytest.raises(AttributeError, match="read-only"):
        one.name = "b"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        _ = one.missing  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match="takes 3 values"):
        kind("a")
    assert one.model_copy() is one
    with pytest.raises(TypeError, match="has properties"):  # `label` could depend on `name`
        one.model_copy(update={"name": "b"})
    plain = plain_class("Window", ("name", "nodes"))("w", ["n1"])
    copied = plain.model_copy(update={"nodes": ["n2"]})
    assert (copied.name, copied.nodes, plain.nodes) == ("w", ["n2"], ["n1"])
    with pytest.raises(TypeError, match="no field 'node'"):
        plain.model_copy(update={"node": []})
    assert isinstance(pickle.loads(pickle.dumps(one)), Plain)
    assert pickle.loads(pickle.dumps(one)) == one


def test_the_built_in_rules_are_route_configs_as_validated(secret_config: Path) -> None:
    fields = RouteConfig.model_fields
    assert list(ROUTE_DEFAULTS) == list(fields)
    for name, default in ROUTE_DEFAULTS.items():
        if name != "name":  # required: no default
            assert fields[name].default == default, name
    config = to_plain(load_config(secret_config))
    for rule in (duty_rule(config), drill_rule(config), built_in_route(name="x", hq_office=True)):
        given = {name: getattr(rule, name) for name in ROUTE_DEFAULTS}
        assert rule == to_plain_route(RouteConfig(**given))
    with pytest.raises(TypeError):
        built_in_route(name="x", channel=["sms"])  # a typo is not a rule that matches all


def to_plain_route(route: RouteConfig) -> Plain:
    """One RouteConfig in plain form, as `to_plain` makes it."""
    made = plain_class("RouteConfig", tuple(type(route).model_fields))
    return made(*(getattr(route, name) for name in type(route).model_fields))


def test_the_built_in_file_notifier_is_the_model_as_validated() -> None:
    assert_same(FileNotifierConfig(name="outbox", type="file"), DEFAULT_FILE, "file", secrets=True)
