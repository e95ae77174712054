"""Names the config models and the daemon share, kept apart from pydantic.

The daemon runs on the plain form of the config (`monitor.config.plain`) and
never imports the models' modules; the values both need live here and the
models' modules re-export them.
"""

from __future__ import annotations

from typing import Literal, get_args

ProbeKind = Literal["icmp", "snmp"]
PROBE_KINDS: tuple[ProbeKind, ...] = get_args(ProbeKind)  # the probe family's keys

ChannelName = Literal["email", "sms", "robot", "voice", "fax"]
CHANNEL_NAMES: tuple[ChannelName, ...] = get_args(ChannelName)

INCIDENT_SITE = "事发地镇政府（街道办事处）"  # a working group's member: the streets concerned
