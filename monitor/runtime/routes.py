"""The ops server's default gateways, read from the kernel's routing table (light, no probes).

Parsing is pure (`monitor.plan.blindness`); this module only reads
`/proc/net/route` and `/proc/net/ipv6_route` (of the network namespace the
process runs in). `commwatch assess` and `check-config` (its uplink warning) use it without
pulling in the prober.
"""

from __future__ import annotations

from pathlib import Path

from monitor.config import Config
from monitor.plan.blindness import parse_ipv4_gateways, parse_ipv6_gateways, uplink_of

PROC_NET = Path("/proc/net")


def detect_gateways(proc: Path = PROC_NET) -> list[str]:
    """The default gateways in the routing table (IPv4 first); [] when none or unreadable."""
    found: list[str] = []
    for name, parse in (("route", parse_ipv4_gateways), ("ipv6_route", parse_ipv6_gateways)):
        try:
            found += parse((proc / name).read_text(encoding="ascii"))
        except OSError:
            continue
    return found


def uplink_warnings(config: Config) -> list[str]:
    """check-config: warn when the monitor cannot know its own uplink."""
    monitor = config.daemon.self_monitor
    gateways = detect_gateways() if monitor.detect_gateway else []
    if uplink_of(config, gateways).determinable:
        return []
    return [
        "commwatch.toml: self_monitor.uplink_nodes: empty and no default gateway found in "
        "/proc/net/route or /proc/net/ipv6_route: the monitor cannot tell its own outage from "
        f"the district's; only a mass failure ({monitor.mass_failure_share:.0%} of all nodes "
        f"across {monitor.mass_failure_systems} systems at once) is taken as blindness"
    ]
