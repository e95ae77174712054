"""Config: the four validated files and lookups across them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a cached config (monitor.config.cache) is read without pydantic
    from monitor.config.contacts import ContactsConfig, PersonConfig, UnitConfig
    from monitor.config.daemon import DaemonConfig
    from monitor.config.inventory import InventoryConfig, NodeConfig, SystemConfig
    from monitor.config.plan import PlanConfig


@dataclass(frozen=True)
class Config:
    """The whole validated configuration; build with load_config()."""

    directory: Path
    daemon: DaemonConfig
    plan: PlanConfig
    contacts: ContactsConfig
    inventory: InventoryConfig

    @cached_property
    def nodes(self) -> dict[str, NodeConfig]:
        return {node.id: node for node in self.inventory.node}

    @cached_property
    def systems(self) -> dict[str, SystemConfig]:
        return {system.id: system for system in self.inventory.system}

    @cached_property
    def units(self) -> dict[str, UnitConfig]:
        return {unit.name: unit for unit in self.contacts.unit}

    @cached_property
    def people(self) -> dict[str, PersonConfig]:
        return {person.id: person for person in self.contacts.person}

    @cached_property
    def streets(self) -> dict[str, UnitConfig]:
        return {u.name: u for u in self.contacts.unit if u.kind == "street"}

    def nodes_of_system(self, system_id: str) -> list[NodeConfig]:
        return [node for node in self.inventory.node if node.system == system_id]
