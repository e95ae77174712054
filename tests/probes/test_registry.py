"""The probe registry is the one list of probe kinds."""

from __future__ import annotations

from monitor.config.inventory import PROBE_KINDS
from probes.registry import PROBES


def test_every_probe_kind_a_node_may_name_has_a_prober() -> None:
    assert set(PROBES) == set(PROBE_KINDS)
