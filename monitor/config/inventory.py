"""Models of nodes.toml: the systems (operator networks, key systems) and their nodes."""

from __future__ import annotations

import ipaddress
from typing import Literal, get_args

from pydantic import Field, field_validator, model_validator

from monitor.config.types import Duration, Identifier, StrictModel
from monitor.config.windows import MaintenanceWindow

ProbeKind = Literal["icmp", "snmp"]
PROBE_KINDS: tuple[ProbeKind, ...] = get_args(
    ProbeKind
)  # the probe family's keys (probes.registry)


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


class NodeConfig(StrictModel):
    """[[node]]: one probed address."""

    id: Identifier
    name: str = Field(min_length=1)
    system: str
    address: str
    probes: list[ProbeKind] = Field(default=["icmp"], min_length=1)
    street: str | None = None
    critical: bool = False
    parent: str | list[str] | None = None
    fail_after: int | None = Field(default=None, ge=1, le=100)
    recover_after: int | None = Field(default=None, ge=1, le=100)
    degraded_loss: float | None = Field(default=None, gt=0.0, le=1.0)
    degraded_rtt: Duration | None = None
    snmp_auth: str | None = None
    snmp_port: int = Field(default=161, ge=1, le=65535)
    interfaces: list[str] = []
    oids: list[CustomOid] = []

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
        return value

    @model_validator(mode="after")
    def _snmp_needs_auth(self) -> NodeConfig:
        if "snmp" in self.probes and self.snmp_auth is None:
            raise ValueError('a node with "snmp" in probes needs snmp_auth')
        return self

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
