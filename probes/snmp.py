"""SNMP probing: health, interfaces, reboots and custom values of v1/v2c/v3 devices.

Per node and round: one GET batching sysUpTime.0, sysName.0, the node's custom
OIDs and — once their ifIndex is known — ifDescr/ifOperStatus/ifAdminStatus of
its watched interfaces. The ifIndex of a watched interface is found by a
subtree-bounded GETBULK walk of ifDescr (then ifName) and cached per node; it is
looked up again after a reboot or when the cached index names another interface.

Transports: an in-house BER codec over one UDP socket per address family
(`probes.snmp_udp`), for v1/v2c (`probes.snmp_community`) and for v3 with USM
(`probes.snmp_v3_client`: discovery, timeliness, keys localised once per
engine, HMAC-MD5/SHA/SHA-2, DES and AES privacy). pysnmp's pyasn1 path was
2–3× too slow for v2c and ~9× for v3 authPriv against snmp_exporter (see
docs/benchmarks.md); pysnmp is left to the trap receiver.
Sockets are created lazily inside the running loop, with the receive buffer
raised to `receive_buffer`, and kept for the prober's life.

Error kinds (ProbeResult.error):

- ``timeout``: no answer within timeout × (retries + 1). A wrong v1/v2c
  community looks exactly the same: agents drop such requests silently.
- ``auth``: a v3 credential problem (a Report of wrongDigest, unknownUserName,
  unsupportedSecLevel, decryptionError, unknownContext; VACM's authorizationError)
  — a config problem, not an outage. A wrong priv_key mostly looks like a
  timeout: net-snmp drops what it cannot decrypt.
- ``agent_error``: the agent answered with an error-status (its name in detail,
  e.g. ``genErr``).
- ``transport``: a local send error (no route, permission) for one node.

Faults of our own installation are no node's error: a socket we cannot open
(`socket_help`) or SNMPv3 privacy without the `cryptography` package
(`probes.snmp_v3_keys.privacy_help`) raise ProbeError naming what to install or
change; the whole round is reported as unable to run, no node is marked.
- ``no_such_object``: sysUpTime.0 or a custom OID is missing
  (noSuchObject/noSuchInstance, or v1 noSuchName).
- ``interface_missing``: a configured interface is not in ifDescr or ifName.
- ``bad_value``: a custom value is no SNMP number (e.g. a 401-digit INTEGER) or not finite.
- ``internal``: commwatch could not handle this node's reply (logged; other nodes go on).

`ok` is False for timeout, auth, agent_error, transport and internal. An answered round
is ok; a missing OID or interface, an interface that is admin-up but
oper-down, a custom value past warn_above/warn_below, or a reboot (sysUpTime
went backwards) make it degraded with a Chinese detail, e.g. "接口eth1中断".

`values`: sys_uptime (hundredths of a second), sys_name, interfaces
{name: {oper, admin, index}}, custom {name: value}, rebooted; on a failed round
the same keys are null, empty or False.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from prometheus_client.core import Metric

from monitor.runtime.metrics import counter
from probes.base import ProbeError, ProbeResult
from probes.snmp_community import V1, V2C, CommunityClient, CommunitySession
from probes.snmp_judge import judge
from probes.snmp_poll import NodeMemory, poll_node
from probes.snmp_session import Reply, Session, SnmpError
from probes.snmp_udp import WireStats
from probes.snmp_v3_client import V3Client, V3Session

if TYPE_CHECKING:
    from monitor.config.daemon import SnmpAuthConfig, SnmpProbeConfig
    from monitor.config.inventory import NodeConfig

KIND = "snmp"
log = logging.getLogger(__name__)


@dataclass
class SnmpStats:
    """The prober's counters; `SnmpProbe.metric_families` exports them."""

    requests: int = 0  # SNMP requests sent (GET and GETBULK/GETNEXT; not retransmissions)
    timeouts: int = 0  # node polls that ended in `timeout`
    auth_failures: int = 0  # node polls that ended in `auth`
    errors: Counter[str] = field(default_factory=Counter)  # node polls by error kind
    rounds: int = 0
    last_round_seconds: float = 0.0
    wire: WireStats = field(default_factory=WireStats)  # the sockets, every version

    def count(self, error: str | None) -> None:
        if error is None:
            return
        self.errors[error] += 1
        if error == "timeout":
            self.timeouts += 1
        elif error == "auth":
            self.auth_failures += 1


class _Counted:
    """A Session wrapper that counts requests into SnmpStats."""

    def __init__(self, inner: Session, stats: SnmpStats) -> None:
        self._inner = inner
        self._stats = stats

    @property
    def version(self) -> str:
        return self._inner.version

    async def get(self, oids: Sequence[tuple[int, ...]]) -> Reply:
        return await self._count(self._inner.get(oids))

    async def next(self, oids: Sequence[tuple[int, ...]], max_repetitions: int) -> Reply:
        return await self._count(self._inner.next(oids, max_repetitions))

    async def _count(self, request: Awaitable[Reply]) -> Reply:
        self._stats.requests += 1
        return await request


# What the operator can change when our own UDP socket cannot be opened, by errno.
_SOCKET_ADVICE = {
    errno.EMFILE: "too many open files: raise the limit (systemd LimitNOFILE=, or ulimit -n)",
    errno.ENFILE: "the system's file table is full: raise fs.file-max or stop other processes",
    errno.EACCES: "not permitted: allow AF_INET/AF_INET6 datagram sockets to commwatch "
    "(systemd RestrictAddressFamilies=, SELinux/AppArmor, seccomp)",
    errno.EPERM: "not permitted: allow AF_INET/AF_INET6 datagram sockets to commwatch "
    "(systemd RestrictAddressFamilies=, SELinux/AppArmor, seccomp)",
    errno.EAFNOSUPPORT: "this host has no such address family (IPv6 disabled?): "
    "use an IPv4 address for the node or enable IPv6",
    errno.ENOBUFS: "the kernel is out of socket buffers: lower [probes.snmp] receive_buffer",
}


def socket_help(exc: OSError) -> str:
    """Our SNMP socket could not be opened: the error and what to change (not the agent's)."""
    advice = _SOCKET_ADVICE.get(exc.errno or 0, "check the host's network configuration")
    return f"commwatch cannot open its SNMP socket on this host ({exc}): {advice}"


def _failed(node: NodeConfig, error: str, detail: str) -> ProbeResult:
    """A round without an answer: the same value keys as an answered one, all empty."""
    values: dict[str, Any] = {
        "sys_uptime": None,
        "sys_name": None,
        "interfaces": {},
        "custom": {},
        "rebooted": False,
    }
    return ProbeResult(node.id, KIND, ok=False, error=error, detail=detail, values=values)


START_SLICE = 50  # polls started per loop step (probe_round)


class SnmpProbe:
    """The SNMP prober: `probe_round` polls many nodes, `probe` one (e.g. after a trap)."""

    kind = KIND

    def __init__(self, config: SnmpProbeConfig, auths: Mapping[str, SnmpAuthConfig]) -> None:
        self.config = config
        self.auths = dict(auths)
        self.stats = SnmpStats()
        self._timeout = config.timeout.total_seconds()
        self._memory: dict[str, NodeMemory] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._community: CommunityClient | None = None
        self._v3: V3Client | None = None
        self._limit: asyncio.Semaphore | None = None

    def metric_families(self) -> Iterator[Metric]:
        """The prober's counters, at scrape time."""
        stats, wire = self.stats, self.stats.wire
        for name, doc, value in (
            ("requests", "SNMP requests sent (not counting retransmissions)", stats.requests),
            ("timeouts", "SNMP node polls that got no answer", stats.timeouts),
            (
                "auth_failures",
                "SNMPv3 authentication failures (a config problem)",
                stats.auth_failures,
            ),
            ("retransmits", "SNMP requests sent again after a timeout", wire.retransmits),
            ("stray_datagrams", "SNMP datagrams that matched no request", wire.stray),
            ("socket_errors", "Errors reported on the SNMP sockets", wire.socket_errors),
        ):
            yield counter(f"commwatch_snmp_{name}", doc, {(): value}, [])
        yield counter(
            "commwatch_snmp_poll_errors",
            "SNMP node polls that failed, by error kind",
            {(kind,): n for kind, n in stats.errors.items()},
            ["error"],
        )

    def _bind_loop(self) -> asyncio.Semaphore:
        """Clients belong to one loop: (re)create them when called from a new one."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._limit is None:
            self._close_clients()
            self._loop = loop
            self._community = CommunityClient(self.config.receive_buffer, self.stats.wire)
            self._v3 = V3Client(self.config.receive_buffer, self.stats.wire)
            self._limit = asyncio.Semaphore(self.config.max_concurrency)
        return self._limit

    async def _session(self, node: NodeConfig, auth: SnmpAuthConfig) -> Session:
        address = (node.address, node.snmp_port)
        assert self._community is not None
        if auth.version in ("1", "2c"):
            community = auth.community.get_secret_value().encode() if auth.community else b""
            model = V1 if auth.version == "1" else V2C
            return CommunitySession(
                self._community, address, model, community, self._timeout, self.config.retries
            )
        assert self._v3 is not None
        credential = self._v3.credential(node.snmp_auth or "", auth)
        return V3Session(self._v3, address, credential, self._timeout, self.config.retries)

    def _memory_for(self, node: NodeConfig) -> NodeMemory:
        key = (node.address, node.snmp_port, node.snmp_auth or "")
        memory = self._memory.get(node.id)
        if memory is None or memory.key != key:
            memory = self._memory[node.id] = NodeMemory(key)
        return memory

    async def probe(self, node: NodeConfig) -> ProbeResult:
        """Poll one node now (bounded by max_concurrency like a round's nodes).

        Whatever goes wrong with one node — a reply our code cannot handle, a
        bug in the judgement — is that node's `internal` error, never its
        round's: only ProbeError (our own socket) stops a round.
        """
        limit = self._bind_loop()
        async with limit:
            try:
                result = await self._probe(node)
            except (ProbeError, asyncio.CancelledError):
                raise
            except Exception as exc:
                log.warning(
                    "SNMP poll of one node failed inside commwatch",
                    extra={"fields": {"node": node.id, "error": type(exc).__name__}},
                    exc_info=log.isEnabledFor(logging.DEBUG),
                )
                result = _failed(node, "internal", f"SNMP处理出错：{type(exc).__name__}")
        self.stats.count(result.error)
        return result

    async def _probe(self, node: NodeConfig) -> ProbeResult:
        auth = self.auths.get(node.snmp_auth or "")
        if auth is None:
            return _failed(node, "auth", f"凭据{node.snmp_auth}未定义")
        try:
            session = _Counted(await self._session(node, auth), self.stats)
            poll = await poll_node(
                session, node, self._memory_for(node), self.config.max_repetitions
            )
        except SnmpError as exc:
            return _failed(node, exc.kind, exc.detail)
        except OSError as exc:  # our own socket could not be opened: the probe cannot run
            raise ProbeError(socket_help(exc)) from exc
        verdict = judge(node, poll)
        return ProbeResult(
            node.id,
            KIND,
            ok=True,
            rtt_ms=poll.rtt_ms,
            error=verdict.error,
            degraded=verdict.degraded,
            detail=verdict.detail,
            values=verdict.values,
        )

    async def probe_round(self, nodes: Sequence[NodeConfig]) -> list[ProbeResult]:
        """Poll every node, at most max_concurrency at once; results in node order.

        The polls start START_SLICE at a time, one loop step apart: a bucket's
        first steps (session, request, BER encoding, sendto) do not all run in
        one loop iteration (334 of them at 10k nodes / 30 s held the loop for
        tens of milliseconds).
        """
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        polls: list[asyncio.Task[ProbeResult]] = []
        try:
            for first in range(0, len(nodes), START_SLICE):
                if first:
                    await asyncio.sleep(0)
                polls += [
                    loop.create_task(self.probe(n)) for n in nodes[first : first + START_SLICE]
                ]
            results = await asyncio.gather(*polls)
        except BaseException:  # cut (cancelled) or a ProbeError: no poll outlives its round
            for poll in polls:
                poll.cancel()
            await asyncio.gather(*polls, return_exceptions=True)
            raise
        self.stats.rounds += 1
        self.stats.last_round_seconds = time.perf_counter() - started
        return list(results)

    def _close_clients(self) -> None:
        clients: tuple[CommunityClient | V3Client | None, ...] = (self._community, self._v3)
        for client in clients:
            if client is None:
                continue
            with contextlib.suppress(RuntimeError):  # its loop is closed: nothing to release
                client.close()
        self._community = None
        self._v3 = None

    async def close(self) -> None:
        """Close the sockets; a later round opens new ones."""
        self._close_clients()
        self._limit = None
        self._loop = None


__all__ = ["SnmpProbe", "SnmpStats"]
