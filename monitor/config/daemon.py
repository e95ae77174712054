"""Models of commwatch.toml: storage, metrics, probes, state thresholds, SNMP credentials."""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from monitor.config.followup import CallsConfig, EscalationConfig, ReceiverConfig
from monitor.config.notifiers import CloudConfig, DispatchConfig, NotifierConfig
from monitor.config.sources import DEFAULT_STATE_DIR, expand_env
from monitor.config.types import (
    Duration,
    Identifier,
    Interval,
    ListenAddress,
    Listener,
    Secret,
    StrictModel,
)


class StorageConfig(StrictModel):
    """Where state lives: SQLite by default, PostgreSQL by URL."""

    # validate_default: the default is expanded too (STATE_DIRECTORY under systemd)
    url: str = Field(
        default="sqlite:///${STATE_DIRECTORY:-var}/commwatch.db", validate_default=True
    )
    retention: Duration = timedelta(days=30)
    flush_interval: Interval = timedelta(seconds=2)
    batch_size: int = Field(default=5000, ge=1, le=100_000)
    busy_timeout: Interval = timedelta(seconds=5)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = expand_env(value)
        if not value.startswith(("sqlite://", "postgresql")):
            raise ValueError("storage url must start with sqlite:// or postgresql")
        return value


class MetricsConfig(Listener):
    """The Prometheus endpoint; bound to this address only."""

    listen: ListenAddress = "127.0.0.1:9810"
    enabled: bool = True


class ConsoleConfig(Listener):
    """[console]: the duty console (web) and its JSON API."""

    listen: ListenAddress = "127.0.0.1:9811"
    enabled: bool = True
    tls_cert: Path | None = None  # PEM certificate chain; with tls_key: HTTPS and Secure cookies
    tls_key: Path | None = None
    state_dir: str = Field(
        default=DEFAULT_STATE_DIR, validate_default=True
    )  # passwords and the session key (mode 0600)
    session_lifetime: Duration = timedelta(hours=12)
    login_failures: int = Field(default=5, ge=1, le=100)  # per person within login_window
    address_failures: int = Field(default=20, ge=1, le=1000)  # per client address
    login_window: Duration = timedelta(minutes=15)
    # how people reach the console from outside (e.g. "https://duty.example.org"): the signed
    # 收到 links in notice emails land on <public_url>/ack/<link>
    public_url: str | None = None
    # reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or networks)
    trusted_proxies: list[str] = []

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"public_url must start with http:// or https://, not {value!r}")
        return value.rstrip("/") if value else value

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"trusted_proxies: {entry!r} is not an IP address or network "
                    '(e.g. "127.0.0.1" or "192.0.2.0/24")'
                ) from None
        return value

    @field_validator("state_dir")
    @classmethod
    def _state_dir(cls, value: str) -> str:
        return expand_env(value)

    @model_validator(mode="after")
    def _tls_pair(self) -> ConsoleConfig:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        return self

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None


class LoggingConfig(StrictModel):
    """Log lines for journald: one event a line."""

    format: Literal["kv", "json"] = "kv"
    level: Literal["debug", "info", "warning", "error"] = "info"


class IcmpProbeConfig(StrictModel):
    """ICMP echo rounds."""

    interval: Interval = timedelta(seconds=30)
    count: int = Field(default=3, ge=1, le=100)
    timeout: Interval = timedelta(seconds=1)
    packet_interval: Duration = timedelta(milliseconds=200)
    pacing: Duration = timedelta(microseconds=20)
    payload_size: int = Field(default=56, ge=0, le=1400)
    privileged: Literal["auto", "raw", "dgram"] = "auto"

    @model_validator(mode="after")
    def _fits_interval(self) -> IcmpProbeConfig:
        busy = self.packet_interval * (self.count - 1) + self.timeout
        if busy >= self.interval:
            raise ValueError(
                f"a round takes up to {busy.total_seconds():g}s "
                f"(packet_interval × (count-1) + timeout), not less than interval "
                f"{self.interval.total_seconds():g}s"
            )
        return self


class SnmpProbeConfig(StrictModel):
    """SNMP polling rounds."""

    interval: Interval = timedelta(seconds=60)
    timeout: Interval = timedelta(seconds=2)
    retries: int = Field(default=1, ge=0, le=10)
    max_concurrency: int = Field(default=200, ge=1, le=5000)
    max_repetitions: int = Field(default=25, ge=1, le=200)
    receive_buffer: int = Field(default=4 << 20, ge=65536)


class ProbesConfig(StrictModel):
    icmp: IcmpProbeConfig = IcmpProbeConfig()
    snmp: SnmpProbeConfig = SnmpProbeConfig()


class StateConfig(StrictModel):
    """Defaults of the per-node state machine; a node may override each."""

    fail_after: int = Field(default=3, ge=1, le=100)
    recover_after: int = Field(default=2, ge=1, le=100)
    degraded_loss: float = Field(default=0.2, gt=0.0, le=1.0)
    degraded_rtt: Duration = timedelta(milliseconds=200)
    flap_window: int = Field(default=20, ge=4, le=200)
    flap_high: float = Field(default=0.2, gt=0.0, le=1.0)
    flap_low: float = Field(default=0.1, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _hysteresis(self) -> StateConfig:
        if self.flap_low >= self.flap_high:
            raise ValueError("flap_low must be below flap_high")
        return self


class SnmpAuthConfig(StrictModel):
    """One SNMP credential, referenced by name from nodes (snmp_exporter's auths)."""

    version: Literal["1", "2c", "3"]
    community: Secret | None = None
    user: str | None = None
    auth_protocol: Literal["SHA", "SHA224", "SHA256", "SHA384", "SHA512", "MD5"] | None = None
    auth_key: Secret | None = None
    # AES192/AES256: draft-blumenthal key extension (net-snmp AES-192/AES-256);
    # AES192C/AES256C: Reeder key extension (Cisco, net-snmp AES-256-C).
    priv_protocol: Literal["AES", "AES192", "AES256", "AES192C", "AES256C", "DES"] | None = None
    priv_key: Secret | None = None
    context: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> SnmpAuthConfig:
        if self.version in ("1", "2c"):
            if self.community is None:
                raise ValueError(f"SNMP v{self.version} needs community")
            if self.user or self.auth_key or self.priv_key:
                raise ValueError(f"SNMP v{self.version} takes community only, not user or keys")
            return self
        if not self.user:
            raise ValueError("SNMP v3 needs user")
        if (self.auth_key is None) != (self.auth_protocol is None):
            raise ValueError("auth_key and auth_protocol go together")
        if (self.priv_key is None) != (self.priv_protocol is None):
            raise ValueError("priv_key and priv_protocol go together")
        if self.priv_key is not None and self.auth_key is None:
            raise ValueError("privacy (priv_key) needs authentication (auth_key) too")
        return self

    @property
    def security_level(self) -> str:
        if self.priv_key is not None:
            return "authPriv"
        if self.auth_key is not None:
            return "authNoPriv"
        return "noAuthNoPriv"


class SnmpConfig(StrictModel):
    auth: dict[Identifier, SnmpAuthConfig] = {}


class TrapConfig(Listener):
    """SNMP trap/inform receiver."""

    enabled: bool = False
    listen: ListenAddress = "127.0.0.1:10162"
    auth: list[Identifier] = []
    # snmpEngineIDs (hex, e.g. "0x8000000001020304") of devices sending v3 *traps*;
    # each v3 user in auth is also registered for these (v3 informs need none).
    v3_engine_ids: list[str] = []
    # a node's traps re-probe it at most once per this (a trap storm is not a probe storm)
    reprobe_every: Interval = timedelta(seconds=10)

    @field_validator("v3_engine_ids")
    @classmethod
    def _engine_ids(cls, value: list[str]) -> list[str]:
        for engine_id in value:
            digits = engine_id.removeprefix("0x").removeprefix("0X")
            if not re.fullmatch(r"(?:[0-9A-Fa-f]{2}){5,32}", digits):
                raise ValueError(f"{engine_id!r} is not a hex snmpEngineID of 5 to 32 bytes")
        return value


class SelfMonitorConfig(StrictModel):
    """commwatch's view of its own uplink (monitor.plan.blindness).

    The uplink is the detected default gateway (`detect_gateway`) plus
    `uplink_nodes`; fewer than `uplink_min_up` of them answering = blind.
    Without any, a mass failure (`mass_failure_share` of all nodes across
    `mass_failure_systems` systems, within one probe interval) = blind.
    """

    uplink_nodes: list[Identifier] = []
    uplink_min_up: int = Field(default=1, ge=1)
    detect_gateway: bool = True
    mass_failure_share: float = Field(default=0.8, gt=0.0, le=1.0)
    mass_failure_systems: int = Field(default=3, ge=2)
    mass_failure_min_nodes: int = Field(default=10, ge=1)


class DaemonConfig(StrictModel):
    """commwatch.toml."""

    storage: StorageConfig = Field(default_factory=StorageConfig)  # expanded at load time
    metrics: MetricsConfig = MetricsConfig()
    console: ConsoleConfig = Field(default_factory=ConsoleConfig)
    logging: LoggingConfig = LoggingConfig()
    probes: ProbesConfig = ProbesConfig()
    state: StateConfig = StateConfig()
    snmp: SnmpConfig = SnmpConfig()
    traps: TrapConfig = TrapConfig()
    self_monitor: SelfMonitorConfig = SelfMonitorConfig()
    notifier: list[NotifierConfig] = []
    cloud: CloudConfig = CloudConfig()
    dispatch: DispatchConfig = DispatchConfig()
    escalation: EscalationConfig = EscalationConfig()
    calls: CallsConfig = CallsConfig()
    receiver: ReceiverConfig = ReceiverConfig()
