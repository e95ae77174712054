"""The probe registry: config probe name → factory. Adding a probe is one line here."""

from __future__ import annotations

from collections.abc import Callable

from monitor.config import Config
from probes.base import Probe


def _icmp(config: Config) -> Probe:
    from probes.icmp import IcmpProbe

    return IcmpProbe(config.daemon.probes.icmp)


def _snmp(config: Config) -> Probe:
    from probes.snmp import SnmpProbe

    return SnmpProbe(config.daemon.probes.snmp, config.daemon.snmp.auth)


PROBES: dict[str, Callable[[Config], Probe]] = {"icmp": _icmp, "snmp": _snmp}


def build_probes(config: Config) -> dict[str, Probe]:
    """One prober per probe kind that some node uses."""
    kinds = {kind for node in config.inventory.node for kind in node.probes}
    return {kind: PROBES[kind](config) for kind in sorted(kinds)}
