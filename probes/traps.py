"""SNMP trap/inform receiver: known nodes' notifications become a fast re-probe.

pysnmp's NotificationReceiver on TrapConfig.listen accepts v1/v2c traps from the
communities and v3 traps/informs from the users named in TrapConfig.auth. For
each notification whose sender address is a known node address it calls

    on_trap(node_id: str, trap_name: str, varbinds: dict[str, Any])

with trap_name "coldStart", "warmStart", "linkDown", "linkUp",
"authenticationFailure" or, for any other trap, its snmpTrapOID in dotted form;
varbinds maps dotted OIDs to plain values (int, str, dotted OID str, IP str).
If on_trap returns an awaitable it is run as a task. A notification from an
unknown address is counted in `unknown_senders` (and `unknown_by_address`) and
dropped. v3 *informs* need only the user; v3 *traps* are sent with the sender's
own engine ID, so the user is also registered for each ID in
TrapConfig.v3_engine_ids.

stop() closes pysnmp's dispatcher and then makes sure the socket really is
closed (lextudio/pysnmp#203: close_dispatcher did not always stop a receiver).
"""

from __future__ import annotations

import asyncio
import inspect
import ipaddress
import logging
import socket
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from prometheus_client.core import Metric
from pysnmp.carrier.asyncio.dgram import udp, udp6
from pysnmp.entity import config as engine_config
from pysnmp.entity.engine import SnmpEngine
from pysnmp.entity.rfc3413 import ntfrcv
from pysnmp.proto.rfc1902 import OctetString

from monitor.runtime.metrics import counter
from probes.snmp_ber import format_oid
from probes.snmp_community import set_receive_buffer
from probes.snmp_usm import AUTH_PROTOCOLS, PRIV_PROTOCOLS, to_value
from probes.trap_guard import RejectLog, ReprobeLimit, guarded, trap_label

if TYPE_CHECKING:
    from monitor.config.daemon import SnmpAuthConfig, TrapConfig

log = logging.getLogger(__name__)

SNMP_TRAP_OID = (1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0)
TRAP_NAMES = {
    (1, 3, 6, 1, 6, 3, 1, 1, 5, 1): "coldStart",
    (1, 3, 6, 1, 6, 3, 1, 1, 5, 2): "warmStart",
    (1, 3, 6, 1, 6, 3, 1, 1, 5, 3): "linkDown",
    (1, 3, 6, 1, 6, 3, 1, 1, 5, 4): "linkUp",
    (1, 3, 6, 1, 6, 3, 1, 1, 5, 5): "authenticationFailure",
}
MAX_TRACKED_ADDRESSES = 1000  # bound on unknown_by_address (metrics cardinality)

TrapCallback = Callable[[str, str, dict[str, Any]], Any]


def normalize_address(host: str) -> str:
    """A sender address as the inventory writes it (IPv4-mapped IPv6 → IPv4)."""
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def plain(value: Any) -> Any:
    """A varbind value as a JSON-friendly Python value."""
    converted = to_value(value)
    if isinstance(converted, bytes):
        return converted.decode("utf-8", errors="replace")
    if isinstance(converted, tuple):
        return format_oid(converted)
    if isinstance(converted, int | type(None)):
        return converted
    return str(converted)


class TrapReceiver:
    """Listens for notifications; call start() inside the daemon's loop, stop() at exit."""

    def __init__(
        self,
        config: TrapConfig,
        auths: Mapping[str, SnmpAuthConfig],
        nodes_by_address: Mapping[str, str],
        on_trap: TrapCallback,
        *,
        receive_buffer: int = 1 << 20,
    ) -> None:
        self.config = config
        self.auths = dict(auths)
        self.on_trap = on_trap
        self.receive_buffer = receive_buffer
        self._nodes = {normalize_address(a): n for a, n in nodes_by_address.items()}
        self._engine: SnmpEngine | None = None
        self._receiver: ntfrcv.NotificationReceiver | None = None
        self._socket: socket.socket | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.received = 0
        self.unknown_senders = 0
        self.unknown_by_address: Counter[str] = Counter()
        self.by_trap: Counter[str] = Counter()
        self.callback_errors = 0
        self.rejects = RejectLog()
        self.reprobes = ReprobeLimit(config.reprobe_every.total_seconds())
        self._parse_errors_at_stop = 0

    @property
    def address(self) -> tuple[str, int]:
        """The bound (host, port), useful when listen's port is 0."""
        if self._socket is None:
            raise RuntimeError("receiver not started")
        host, port = self._socket.getsockname()[:2]
        return str(host), int(port)

    def metric_families(self) -> Iterator[Metric]:
        """The receiver's counters, at scrape time."""
        yield counter(
            "commwatch_snmp_traps",
            "Traps and informs from known nodes, by trap",
            {(str(name),): n for name, n in self.by_trap.items()},
            ["trap"],
        )
        yield counter(
            "commwatch_snmp_traps_unknown_sender",
            "Traps from unknown senders (dropped)",
            {(): self.unknown_senders},
            [],
        )
        yield counter(
            "commwatch_snmp_trap_packets_rejected",
            "Packets the trap receiver dropped: malformed (undecodable) or unauthenticated"
            " (unknown community or user); logged at most once a minute",
            {
                ("malformed",): self.rejects.total["malformed"] + self._parse_errors(),
                ("unauthenticated",): self.rejects.total["unauthenticated"],
            },
            ["reason"],
        )
        yield counter(
            "commwatch_snmp_trap_reprobes_suppressed",
            "Traps that did not re-probe their node (one re-probe per node per reprobe_every)",
            {(): self.reprobes.suppressed},
            [],
        )
        yield counter(
            "commwatch_snmp_trap_handler_errors",
            "Traps whose handling failed (logged)",
            {(): self.callback_errors},
            [],
        )

    def update_nodes(self, nodes_by_address: Mapping[str, str]) -> None:
        """Swap the address → node id map (after a config reload)."""
        self._nodes = {normalize_address(a): n for a, n in nodes_by_address.items()}

    async def start(self) -> None:
        """Bind the listen address (raises OSError at once if taken) and start receiving."""
        if self._engine is not None:
            return
        host, _, port = self.config.listen.rpartition(":")
        host = host.strip("[]")
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            set_receive_buffer(sock, self.receive_buffer)
            sock.bind((host, int(port)))
            engine = SnmpEngine()
            domain, transport = (
                (udp6.DOMAIN_NAME, udp6.Udp6AsyncioTransport)
                if family == socket.AF_INET6
                else (udp.DOMAIN_NAME, udp.UdpAsyncioTransport)
            )
            transport = guarded(transport, self._malformed)
            engine_config.add_transport(engine, domain, transport().open_server_mode(sock=sock))
            engine.observer.register_observer(
                self._unauthenticated,
                "rfc2576.prepareDataElements:sm-failure",
                "rfc3412.prepareDataElements:sm-failure",
            )
            self._add_credentials(engine)
            self._receiver = ntfrcv.NotificationReceiver(engine, self._received)
        except BaseException:
            sock.close()
            raise
        self._engine, self._socket = engine, sock
        await asyncio.sleep(0)  # let asyncio finish wiring the datagram endpoint

    def _parse_errors(self) -> int:
        """Datagrams pysnmp itself dropped as undecodable (SNMPv2-MIB snmpInASNParseErrs)."""
        engine = self._engine
        if engine is None:
            return self._parse_errors_at_stop
        try:
            (counter_,) = engine.get_mib_builder().import_symbols(
                "__SNMPv2-MIB", "snmpInASNParseErrs"
            )
            return int(counter_.syntax)
        except Exception:  # a pysnmp internal moved: the metric shows what we counted
            return 0

    def _malformed(self, address: Any, exc: BaseException) -> None:
        sender = str(address[0]) if isinstance(address, tuple) and address else "?"
        self.rejects.reject("malformed", sender, f"{type(exc).__name__}: {exc}")

    def _unauthenticated(self, engine: Any, point: str, variables: Any, context: Any) -> None:
        address = variables.get("transportAddress") if isinstance(variables, dict) else None
        sender = str(address[0]) if isinstance(address, tuple) and address else "?"
        status = variables.get("statusInformation") if isinstance(variables, dict) else None
        self.rejects.reject("unauthenticated", sender, str(status or point))

    def _add_credentials(self, engine: SnmpEngine) -> None:
        engine_ids = [
            OctetString(hexValue=e.lower().removeprefix("0x")) for e in self.config.v3_engine_ids
        ]
        users: dict[str, str] = {}
        for name in self.config.auth:
            auth = self.auths[name]
            if auth.version in ("1", "2c"):
                secret = auth.community.get_secret_value() if auth.community else ""
                engine_config.add_v1_system(engine, f"trap-{name}", secret)
                continue
            user = auth.user or ""
            if user in users:
                log.warning("v3 trap user %s of %s already taken by %s", user, name, users[user])
                continue
            users[user] = name
            for engine_id in [None, *engine_ids]:
                engine_config.add_v3_user(
                    engine,
                    user,
                    AUTH_PROTOCOLS[auth.auth_protocol],
                    auth.auth_key.get_secret_value() if auth.auth_key else None,
                    PRIV_PROTOCOLS[auth.priv_protocol],
                    auth.priv_key.get_secret_value() if auth.priv_key else None,
                    securityEngineId=engine_id,
                )

    def _received(
        self,
        engine: SnmpEngine,
        state_reference: Any,
        context_engine_id: Any,
        context_name: Any,
        varbinds: Any,
        cb_ctx: Any,
    ) -> None:
        """pysnmp's callback: never let an exception escape into its dispatcher."""
        try:
            self._dispatch(engine, state_reference, varbinds)
        except Exception:
            self.callback_errors += 1
            log.exception("trap handling failed")

    def _dispatch(self, engine: SnmpEngine, state_reference: Any, varbinds: Any) -> None:
        self.received += 1
        _, address = engine.message_dispatcher.get_transport_info(state_reference)
        sender = normalize_address(str(address[0]))
        node = self._nodes.get(sender)
        if node is None:
            self.unknown_senders += 1
            if (
                sender in self.unknown_by_address
                or len(self.unknown_by_address) < MAX_TRACKED_ADDRESSES
            ):
                self.unknown_by_address[sender] += 1
            return
        values = {format_oid(tuple(oid)): plain(value) for oid, value in varbinds}
        trap_oid = next((tuple(v) for o, v in varbinds if tuple(o) == SNMP_TRAP_OID), ())
        name = TRAP_NAMES.get(trap_oid, format_oid(trap_oid) if trap_oid else "unknown")
        self.by_trap[trap_label(name, TRAP_NAMES.values())] += 1
        if not self.reprobes.allow(node):
            return
        outcome = self.on_trap(node, name, values)
        if inspect.isawaitable(outcome):
            task = asyncio.ensure_future(outcome)
            self._tasks.add(task)
            task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.callback_errors += 1
            log.error("trap callback task failed", exc_info=task.exception())

    async def stop(self) -> None:
        """Stop receiving and release the port, even where pysnmp would not (#203)."""
        self._parse_errors_at_stop = self._parse_errors()
        engine, sock = self._engine, self._socket
        self._engine = self._socket = None
        if engine is not None:
            if self._receiver is not None:
                self._receiver.close(engine)
            engine.close_dispatcher()
        self._receiver = None
        if sock is not None and sock.fileno() != -1:
            sock.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.sleep(0)


__all__ = ["TRAP_NAMES", "TrapCallback", "TrapReceiver", "normalize_address"]
