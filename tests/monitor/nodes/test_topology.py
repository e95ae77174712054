"""Topology: UNREACHABLE behind dead parents, redundant parents, order independence."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Mapping, Sequence

import pytest

from monitor.config import Config, load_config
from monitor.nodes.state import Status
from monitor.nodes.topology import causes, cut_off, effective_statuses, parents_of, what_if
from tests.paths import PLAN_DATA, ROOT

U, G, D, N, R = Status.UP, Status.DEGRADED, Status.DOWN, Status.UNKNOWN, Status.UNREACHABLE

# a → b → c (chain); d has redundant parents a and e
GRAPH: dict[str, Sequence[str]] = {"a": (), "b": ("a",), "c": ("b",), "d": ("a", "e"), "e": ()}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Config:
    target = tmp_path_factory.mktemp("world") / "config"
    shutil.copytree(ROOT / "config", target)
    for name in ("nodes.toml", "plan.toml"):
        shutil.copy(PLAN_DATA / name, target / name)
    return load_config(target)


def statuses(**given: Status) -> dict[str, Status]:
    return {node: given.get(node, U) for node in GRAPH}


CASES = [
    ("all-up", statuses(), True, statuses()),
    ("root-down-children-answer", statuses(a=D), True, statuses(a=D)),
    ("root-down-children-silent", statuses(a=D, b=D, c=D), True, statuses(a=D, b=R, c=R)),
    ("chain-grandchild-unknown", statuses(a=D, b=D, c=N), True, statuses(a=D, b=R, c=R)),
    ("middle-down-only", statuses(b=D, c=D), True, statuses(b=D, c=R)),
    ("what-if-cuts-answering-children", statuses(a=D), False, statuses(a=D, b=R, c=R)),
    ("redundant-one-parent-down", statuses(a=D, d=D), True, statuses(a=D, d=D)),
    ("redundant-both-down", statuses(a=D, e=D, d=D), True, statuses(a=D, e=D, d=R)),
    ("redundant-what-if-one-down", statuses(a=D), False, statuses(a=D, b=R, c=R)),
    ("redundant-what-if-both", statuses(a=D, e=D), False, statuses(a=D, e=D, b=R, c=R, d=R)),
    ("degraded-parent-does-not-cut", statuses(a=G, b=D), True, statuses(a=G, b=D)),
    ("unknown-parent-does-not-cut", statuses(a=N, b=D), True, statuses(a=N, b=D)),
    ("stale-unreachable-is-a-cause-again", statuses(b=R), True, statuses(b=D)),
    ("given-unreachable-behind-dead-parent", statuses(a=D, b=R), True, statuses(a=D, b=R)),
]


@pytest.mark.parametrize(
    ("raw", "trust", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_effective_statuses(
    raw: dict[str, Status], trust: bool, expected: dict[str, Status]
) -> None:
    assert effective_statuses(raw, GRAPH, trust_children=trust) == expected


@pytest.mark.parametrize("trust", [True, False], ids=["live", "what-if"])
def test_probe_order_does_not_matter(trust: bool) -> None:
    raw = statuses(a=D, b=D, c=D, d=D, e=D)
    reference = effective_statuses(raw, GRAPH, trust_children=trust)
    for order in itertools.permutations(raw):
        shuffled = {node: raw[node] for node in order}
        graph = {node: GRAPH[node] for node in reversed(order)}
        assert effective_statuses(shuffled, graph, trust_children=trust) == reference
    assert reference == statuses(a=D, b=R, c=R, d=R, e=D)


def test_missing_parent_is_ignored_and_result_has_the_given_keys() -> None:
    graph: Mapping[str, Sequence[str]] = {"x": ("ghost", "p"), "p": ()}
    raw = {"x": D, "p": D}
    assert effective_statuses(raw, graph) == {"x": R, "p": D}
    assert effective_statuses({"x": D}, graph) == {"x": D}


def test_a_cycle_does_not_hang() -> None:
    graph: Mapping[str, Sequence[str]] = {"a": ("b",), "b": ("a",)}
    result = effective_statuses({"a": D, "b": D}, graph)
    assert set(result) == {"a", "b"}


def test_parents_of_reads_single_and_redundant_parents(world: Config) -> None:
    parents = parents_of(world)
    assert parents["opa-core"] == ()
    assert parents["opa-agg-1"] == ("opa-core",)
    assert parents["ks1-gw"] == ("opa-core", "opb-core")


# fmt: off
WHAT_IF = [
    ("nothing", [], (), ()),
    ("core-down", ["opa-core"], ("opa-core",), ("opa-agg-1", "opa-agg-2")),
    ("dual-homed-cut", ["opa-core", "opb-core"], ("opa-core", "opb-core"),
     ("ks1-gw", "opa-agg-1", "opa-agg-2", "opb-agg-1")),
    ("child-listed-too", ["opc-ring", "opc-site-1"], ("opc-ring",), ("ks5-n1", "opc-site-1")),
    ("leaf", ["ks2-srv"], ("ks2-srv",), ()),
]
# fmt: on


@pytest.mark.parametrize(
    ("down", "expected_down", "expected_cut"),
    [c[1:] for c in WHAT_IF],
    ids=[c[0] for c in WHAT_IF],
)
def test_what_if(
    world: Config,
    down: list[str],
    expected_down: tuple[str, ...],
    expected_cut: tuple[str, ...],
) -> None:
    result = what_if(world, down)
    assert set(result) == set(world.nodes)
    assert causes(result) == expected_down
    assert cut_off(result) == expected_cut
