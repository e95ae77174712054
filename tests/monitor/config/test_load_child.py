"""The daemon's config parsed and validated in a child process (`monitor.config.load_child`)."""

from __future__ import annotations

import logging
import pickle
import sys
from pathlib import Path

import pytest

from monitor.config import ConfigError, load_config
from monitor.config.cache import CACHE_FILE, load_cached
from monitor.config.load_child import FAILED, load_in_child
from monitor.config.snapshot import dump
from tests.daemon_harness import daemon_toml, loopback_nodes_toml, make_config
from tests.monitor.config.same_config import assert_same_config
from tests.monitor.config.test_config import CASES, SHIPPED, _make_case

NO_ANSWER = "config child gave no answer"


def test_the_shipped_config_comes_back_equal(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        config = load_in_child(SHIPPED)
    assert_same_config(load_config(SHIPPED), config, secrets=True)
    assert NO_ANSWER not in caplog.text  # the child answered: nothing was loaded in process


def test_many_nodes_come_back_equal_with_shared_values_still_shared(tmp_path: Path) -> None:
    directory = make_config(
        tmp_path / "config", daemon_toml("sqlite:///cw.db", 9100), loopback_nodes_toml(2000)
    )
    config = load_in_child(directory)
    assert_same_config(load_config(directory), config, secrets=True)
    nodes = config.inventory.node
    assert len(nodes) == 2000
    assert len({id(node.system) for node in nodes}) == len({node.system for node in nodes})
    assert len({id(node.probes) for node in nodes}) == len({tuple(node.probes) for node in nodes})


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_an_invalid_config_gives_the_same_problems(case: Path, tmp_path: Path) -> None:
    _make_case(case, tmp_path / "config")
    with pytest.raises(ConfigError) as in_process:
        load_config(tmp_path / "config")
    with pytest.raises(ConfigError) as in_child:
        load_in_child(tmp_path / "config")
    assert [str(p) for p in in_child.value.problems] == [str(p) for p in in_process.value.problems]
    assert str(in_child.value) == str(in_process.value)


def test_a_missing_directory_is_the_same_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_in_child(tmp_path / "nowhere")
    assert str(caught.value) == f"{tmp_path / 'nowhere'}: config directory not found"


def test_a_monitor_package_in_the_working_directory_is_not_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    decoy = tmp_path / "cwd" / "monitor"
    decoy.mkdir(parents=True)
    (decoy / "__init__.py").write_text("raise SystemExit('the decoy monitor package')\n")
    monkeypatch.chdir(decoy.parent)
    with caplog.at_level(logging.WARNING):
        assert_same_config(load_config(SHIPPED), load_in_child(SHIPPED), secrets=True)
    assert NO_ANSWER not in caplog.text


def stand_in_child(tmp_path: Path, body: str) -> str:
    """An executable standing in for the Python that runs the child."""
    script = tmp_path / "python"
    script.write_text(f"#!{sys.executable}\nimport pickle, sys\n{body}\n")
    script.chmod(0o755)
    return str(script)


def test_a_child_that_dies_falls_back_to_loading_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    child = stand_in_child(
        tmp_path, "print('KeyError: hunter2-secret', file=sys.stderr); sys.exit(137)"
    )
    monkeypatch.setattr(sys, "executable", child)
    with caplog.at_level(logging.WARNING):
        assert_same_config(load_config(SHIPPED), load_in_child(SHIPPED), secrets=True)
    assert [r.fields for r in caplog.records if r.getMessage().startswith(NO_ANSWER)] == [
        {"why": "exit status 137 (KeyError)"}  # what failed, never the message (a secret?)
    ]


def test_an_answer_that_is_not_a_pickle_falls_back_to_loading_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    child = stand_in_child(tmp_path, "sys.stdout.write('a library printed this')")
    monkeypatch.setattr(sys, "executable", child)
    with caplog.at_level(logging.WARNING):
        assert_same_config(load_config(SHIPPED), load_in_child(SHIPPED), secrets=True)
    assert [r.fields for r in caplog.records if r.getMessage().startswith(NO_ANSWER)] == [
        {"why": "an answer that is not one"}
    ]


def test_a_failure_while_loading_is_raised_as_its_kind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = pickle.dumps((FAILED, "RecursionError"))
    child = stand_in_child(tmp_path, f"sys.stdout.buffer.write({answer!r})")
    monkeypatch.setattr(sys, "executable", child)
    with pytest.raises(RecursionError):
        load_in_child(SHIPPED)


def test_the_child_records_the_cache_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    monkeypatch.setenv("STATE_DIRECTORY", str(state))
    directory = make_config(
        tmp_path / "config", daemon_toml("sqlite:///cw.db", 9100), loopback_nodes_toml(20)
    )
    load_in_child(directory)
    assert not (state / CACHE_FILE).exists()  # not asked: not written
    config = load_in_child(directory, record=True)
    assert (state / CACHE_FILE).exists()
    cached = load_cached(directory)
    assert cached is not None
    assert dump(cached) == dump(config)  # the config the daemon runs on, secrets withheld


def test_a_fallback_in_process_records_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    monkeypatch.setenv("STATE_DIRECTORY", str(state))
    directory = make_config(tmp_path / "config", daemon_toml("sqlite:///cw.db", 9100))
    monkeypatch.setattr(sys, "executable", stand_in_child(tmp_path, "sys.exit(9)"))
    with caplog.at_level(logging.WARNING):
        config = load_in_child(directory, record=True)
    assert NO_ANSWER in caplog.text
    cached = load_cached(directory)
    assert cached is not None
    assert dump(cached) == dump(config)
