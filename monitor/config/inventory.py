"""Models of nodes.toml: the systems (operator networks, key systems) and their nodes.

A node is a slotted pydantic dataclass, not a model: validated the same way,
but ~0.2 KiB instead of ~1.3 KiB each (no per-instance `__dict__` nor
fields-set; defaults shared, never copied; the system id and the probe list
interned), which at 10,000 nodes is ~11 MiB of the daemon's RSS. Config values
are never mutated, so sharing equal values is safe.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import sys
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator
from pydantic.dataclasses import dataclass

from monitor.config.names import PROBE_KINDS as PROBE_KINDS  # re-exported
from monitor.config.names import ProbeKind as ProbeKind
from monitor.config.types import Duration, Identifier, StrictModel
from monitor.config.windows import MaintenanceWindow


class SystemConfig(StrictModel):
    """[[system]]: a 基础运营网络 (operator) or 重要信息系统 (key_system)."""

    id: Identifier
    name: str = Field(min_length=1)
    kind: Literal["operator", "key_system"]
    unit: str = Field(min_length=1)
    priority: bool = False
    affected_share: float | None = Field(default=None, gt=0.0, le=1.0)


class CustomOid(StrictModel):
    """A polled value with thresholds: crossing one makes the node DEGRADED."""

    name: Identifier
    oid: str = Field(pattern=r"^\.?\d+(\.\d+)+$")
    warn_above: float | None = None
    warn_below: float | None = None
    scale: float = 1.0


_SHARED: dict[tuple[str, ...], list[ProbeKind]] = {}  # equal probe lists: one list
_NONE: list[Any] = []  # every node without interfaces / oids


@dataclass(frozen=True, slots=True, kw_only=True, config=ConfigDict(extra="forbid", strict=False))
class NodeConfig:
    """[[node]]: one probed address."""

    # every field is a Field(): pydantic keeps the declared order only so (errors, schema)
    id: Identifier = Field()
    name: str = Field(min_length=1)
    system: str = Field()
    address: str = Field()
    probes: list[ProbeKind] = Field(default=["icmp"], min_length=1, validate_default=True)
    street: str | None = Field(default=None)
    critical: bool = Field(default=False)
    parent: str | list[str] | None = Field(default=None)
    fail_after: int | None = Field(default=None, ge=1, le=100)
    recover_after: int | None = Field(default=None, ge=1, le=100)
    degraded_loss: float | None = Field(default=None, gt=0.0, le=1.0)
    degraded_rtt: Duration | None = Field(default=None)
    snmp_auth: str | None = Field(default=None)
    snmp_port: int = Field(default=161, ge=1, le=65535)
    interfaces: list[str] = Field(default=[], validate_default=True)
    oids: list[CustomOid] = Field(default=[], validate_default=True)

    @field_validator("system")
    @classmethod
    def _system(cls, value: str) -> str:
        return sys.intern(value)  # ~10 systems for 10,000 nodes: one string each

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise ValueError(f"{value!r} is not an IPv4 or IPv6 address") from None

    @field_validator("probes")
    @classmethod
    def _unique_probes(cls, value: list[ProbeKind]) -> list[ProbeKind]:
        if len(set(value)) != len(value):
            raise ValueError("a probe is listed twice")
        return _SHARED.setdefault(tuple(value), value)

    @field_validator("interfaces", "oids")
    @classmethod
    def _shared_empty(cls, value: list[Any]) -> list[Any]:
        return value or _NONE  # pydantic copies a default list for every node: share one

    @model_validator(mode="after")
    def _snmp_needs_auth(self) -> NodeConfig:
        if "snmp" in self.probes and self.snmp_auth is None:
            raise ValueError('a node with "snmp" in probes needs snmp_auth')
        return self

    def model_copy(self, *, update: Mapping[str, Any] | None = None) -> NodeConfig:
        """A copy with some fields replaced (validated again), as on the config models."""
        return dataclasses.replace(self, **(update or {}))

    @property
    def parents(self) -> tuple[str, ...]:
        if self.parent is None:
            return ()
        if isinstance(self.parent, str):
            return (self.parent,)
        return tuple(self.parent)


class InventoryConfig(StrictModel):
    """nodes.toml."""

    system: list[SystemConfig] = []
    node: list[NodeConfig] = Field(default=[], validate_default=True)
    maintenance: list[MaintenanceWindow] = []

    @field_validator("node")
    @classmethod
    def _some_nodes(cls, value: list[NodeConfig]) -> list[NodeConfig]:
        if not value:
            raise ValueError("no [[node]]: an empty inventory would stop all probing")
        return value
