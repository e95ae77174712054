"""Nodes are slotted pydantic dataclasses: validated as before, small, equal values shared."""

from __future__ import annotations

import gc

import pytest
from pydantic import BaseModel, ValidationError

from monitor.config.inventory import InventoryConfig, NodeConfig


def _inventory(count: int) -> InventoryConfig:
    return InventoryConfig.model_validate(
        {
            "node": [
                {
                    "id": f"n{i}",
                    "name": f"节点{i}",
                    "system": "cmcc",
                    "address": f"127.0.{i // 250}.{i % 250 + 1}",
                }
                for i in range(count)
            ]
            + [{"id": "s1", "name": "s", "system": "cmcc", "address": "::1", "probes": ["icmp"]}]
        }
    )


def test_nodes_are_not_models_and_have_no_per_instance_dict() -> None:
    node = _inventory(1).node[0]
    assert not isinstance(node, BaseModel)
    assert not hasattr(node, "__dict__")


def test_equal_defaults_and_system_ids_are_one_object_for_all_nodes() -> None:
    nodes = _inventory(100).node
    assert len({id(n.probes) for n in nodes}) == 1  # default or written out: one list
    assert len({id(n.interfaces) for n in nodes} | {id(n.oids) for n in nodes}) == 1
    assert len({id(n.system) for n in nodes}) == 1


def test_models_do_not_grow_with_the_number_of_nodes() -> None:
    def models_after(count: int) -> int:
        keep = _inventory(count)
        gc.collect()
        found = sum(isinstance(o, BaseModel) for o in gc.get_objects())
        del keep
        return found

    assert models_after(1000) - models_after(10) < 5  # the inventory itself, not its nodes


def test_a_node_is_validated_frozen_and_copied_with_validation() -> None:
    node = NodeConfig(id="a", name="A", system="s", address="127.0.0.1")
    assert node.parents == ()
    assert node.probes == ["icmp"]
    assert node.snmp_port == 161
    with pytest.raises(AttributeError):
        node.id = "b"  # type: ignore[misc]
    assert node.model_copy(update={"name": "B"}).name == "B"
    with pytest.raises(ValidationError):
        node.model_copy(update={"address": "not-an-address"})
    with pytest.raises(ValidationError, match="listed twice"):
        NodeConfig(id="a", name="A", system="s", address="127.0.0.1", probes=["icmp", "icmp"])
