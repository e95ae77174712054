"""SNMPv3 (USM) through pysnmp's v3arch asyncio API: one engine, targets built once.

The SnmpEngine is created lazily inside the running loop (an engine reused in
another loop hangs) and kept for the client's life. Its UDP transports are
registered up front on sockets we create, with SO_RCVBUF already raised, so no
request ever runs on a default-sized buffer. Both the auth and the privacy
protocol are always passed explicitly (pysnmp silently defaults to MD5/DES).
Registering a target costs ~3 ms in v3arch (LCD rows), so targets are cached by
(address, timeout, retries) and built once.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import sys
import time
from collections.abc import Sequence
from typing import Any

from pyasn1.type import univ
from pysnmp.carrier.asyncio.dgram import udp, udp6
from pysnmp.entity import config as engine_config
from pysnmp.hlapi.v3arch.asyncio import (
    ContextData,
    SnmpEngine,
    Udp6TransportTarget,
    UdpTransportTarget,
    UsmUserData,
    bulk_cmd,
    get_cmd,
)
from pysnmp.proto import errind, rfc1902, rfc1905
from pysnmp.proto.rfc1902 import ObjectName

from monitor.config.daemon import SnmpAuthConfig
from probes.base import ProbeError
from probes.snmp_ber import Oid, Special, Value, VarBind
from probes.snmp_community import set_receive_buffer
from probes.snmp_session import Reply, SnmpError

AUTH_PROTOCOLS: dict[str | None, Any] = {
    None: engine_config.USM_AUTH_NONE,
    "MD5": engine_config.USM_AUTH_HMAC96_MD5,
    "SHA": engine_config.USM_AUTH_HMAC96_SHA,
    "SHA224": engine_config.USM_AUTH_HMAC128_SHA224,
    "SHA256": engine_config.USM_AUTH_HMAC192_SHA256,
    "SHA384": engine_config.USM_AUTH_HMAC256_SHA384,
    "SHA512": engine_config.USM_AUTH_HMAC384_SHA512,
}
# AES192/AES256 are the draft-blumenthal key extension (net-snmp's AES-192/AES-256,
# gosnmp's AES192/AES256); the …C variants are Reeder's (Cisco's "AES-256-C").
PRIV_PROTOCOLS: dict[str | None, Any] = {
    None: engine_config.USM_PRIV_NONE,
    "DES": engine_config.USM_PRIV_CBC56_DES,
    "AES": engine_config.USM_PRIV_CFB128_AES,
    "AES192": engine_config.USM_PRIV_CFB192_AES_BLUMENTHAL,
    "AES256": engine_config.USM_PRIV_CFB256_AES_BLUMENTHAL,
    "AES192C": engine_config.USM_PRIV_CFB192_AES,
    "AES256C": engine_config.USM_PRIV_CFB256_AES,
}
# errorIndications that mean "the credential is wrong": a config problem, not an outage.
AUTH_ERRORS = (
    errind.WrongDigest,
    errind.UnknownUserName,
    errind.UnknownSecurityName,
    errind.UnsupportedSecurityLevel,
    errind.DecryptionError,
    errind.AuthenticationError,
    errind.AuthenticationFailure,
    errind.UnsupportedAuthProtocol,
    errind.UnsupportedPrivProtocol,
    errind.NoEncryption,
    errind.NoAuthentication,
    errind.NotInTimeWindow,
    errind.UnknownEngineID,
    errind.NoSuchContext,
)
_SPECIALS = (
    (rfc1905.NoSuchObject, Special.NO_SUCH_OBJECT),
    (rfc1905.NoSuchInstance, Special.NO_SUCH_INSTANCE),
    (rfc1905.EndOfMibView, Special.END_OF_MIB_VIEW),
)


def usm_user(auth: SnmpAuthConfig) -> UsmUserData:
    """The pysnmp user for a v3 credential, protocols always explicit."""
    return UsmUserData(
        auth.user or "",
        authKey=auth.auth_key.get_secret_value() if auth.auth_key else None,
        privKey=auth.priv_key.get_secret_value() if auth.priv_key else None,
        authProtocol=AUTH_PROTOCOLS[auth.auth_protocol],
        privProtocol=PRIV_PROTOCOLS[auth.priv_protocol],
    )


def to_value(value: Any) -> Value:
    """pysnmp/pyasn1 value → the codec's plain Python value."""
    for cls, special in _SPECIALS:
        if isinstance(value, cls):
            return special
    if isinstance(value, univ.OctetString) and value.tagSet == rfc1902.IpAddress.tagSet:
        return ipaddress.IPv4Address(bytes(value.asOctets()))  # v1 traps carry rfc1155's class
    if isinstance(value, univ.OctetString):
        return bytes(value.asOctets())
    if isinstance(value, univ.ObjectIdentifier):
        return tuple(value)
    if isinstance(value, univ.Integer):
        return int(value)
    if isinstance(value, univ.Null):
        return None
    return str(value.prettyPrint()).encode()  # an exotic type: keep it readable


def privacy_unavailable() -> bool:
    """True when pysnmp cannot encrypt: its AES/DES modules import `cryptography` lazily.

    pysnmp then answers every authPriv request with EncryptionError("Ciphering services
    not available") — our installation's fault, whatever the agent or the keys.
    """
    from pysnmp.proto.secmod.rfc3414.priv import des
    from pysnmp.proto.secmod.rfc3826.priv import aes

    return any(getattr(module, "PysnmpCryptoError", False) for module in (aes, des))


def privacy_help() -> str:
    """What to install when SNMPv3 privacy is unavailable."""
    return (
        "SNMPv3 privacy (AES/DES) is unavailable in this commwatch installation, not at the "
        "agent: pysnmp needs the Python package cryptography (>= 47). Install it into "
        f"commwatch's environment: {sys.executable} -m pip install 'cryptography>=47' "
        "(or reinstall commwatch with its dependencies), then restart commwatch"
    )


def failure(indication: Any) -> SnmpError:
    """errorIndication → SnmpError with the documented kind."""
    name = type(indication).__name__
    if isinstance(indication, errind.RequestTimedOut):
        return SnmpError("timeout", str(indication))
    if isinstance(indication, AUTH_ERRORS):
        return SnmpError("auth", f"{name}: {indication}")
    return SnmpError("agent_error", f"{name}: {indication}")


def _secrets(auth: SnmpAuthConfig) -> tuple[Any, ...]:
    return (
        auth.auth_protocol,
        auth.auth_key.get_secret_value() if auth.auth_key else None,
        auth.priv_protocol,
        auth.priv_key.get_secret_value() if auth.priv_key else None,
    )


class UsmClient:
    """All v3 requests of one prober: one SnmpEngine, kept for the client's life.

    pysnmp keys its USM users by user name: two credentials with the same user
    name but different keys would overwrite each other in one engine (requests
    then fail with WrongDigest at random). Such a credential gets an engine of
    its own; configs without such clashes run on exactly one engine.
    """

    def __init__(self, receive_buffer: int) -> None:
        self._receive_buffer = receive_buffer
        self._engines: list[SnmpEngine] = []
        self._slots: list[dict[str, tuple[Any, ...]]] = []  # per engine: user name → secrets
        self._targets: dict[tuple[int, str, int, float, int], Any] = {}
        self._users: dict[str, tuple[int, UsmUserData]] = {}
        self.receive_buffer_effective = 0

    def _new_engine(self) -> SnmpEngine:
        asyncio.get_running_loop()  # an engine is bound to the loop it first runs in
        engine = SnmpEngine()
        for domain, transport, family, any_address in (
            (udp.DOMAIN_NAME, udp.UdpAsyncioTransport, socket.AF_INET, "0.0.0.0"),
            (udp6.DOMAIN_NAME, udp6.Udp6AsyncioTransport, socket.AF_INET6, "::"),
        ):
            try:
                sock = socket.socket(family, socket.SOCK_DGRAM)
            except OSError:
                if family == socket.AF_INET6:
                    continue  # a host without IPv6: v3 over IPv4 still works
                raise
            try:
                sock.setblocking(False)
                self.receive_buffer_effective = set_receive_buffer(sock, self._receive_buffer)
                sock.bind((any_address, 0))
                server = transport().open_server_mode(sock=sock)
            except BaseException:
                sock.close()
                raise
            engine_config.add_transport(engine, domain, server)
        return engine

    def engine(self, slot: int) -> SnmpEngine:
        """The engine of a slot (see user), created on first use inside the running loop."""
        while len(self._engines) <= slot:
            self._engines.append(self._new_engine())
        return self._engines[slot]

    def user(self, name: str, auth: SnmpAuthConfig) -> tuple[int, UsmUserData]:
        """(engine slot, pysnmp user) of a credential; built once."""
        if name not in self._users:
            user_name, secrets = auth.user or "", _secrets(auth)
            slot = next(
                (
                    i
                    for i, users in enumerate(self._slots)
                    if users.get(user_name, secrets) == secrets
                ),
                len(self._slots),
            )
            if slot == len(self._slots):
                self._slots.append({})
            self._slots[slot][user_name] = secrets
            self._users[name] = (slot, usm_user(auth))
        return self._users[name]

    async def target(
        self, slot: int, address: tuple[str, int], attempt_seconds: float, retries: int
    ) -> Any:
        """The pysnmp target of an address, created once (each costs an LCD row)."""
        key = (slot, *address, attempt_seconds, retries)
        if key not in self._targets:
            cls = Udp6TransportTarget if ":" in address[0] else UdpTransportTarget
            self._targets[key] = await cls.create(address, timeout=attempt_seconds, retries=retries)
        return self._targets[key]

    def forget_peer(self, slot: int, address: tuple[str, int]) -> bool:
        """Drop pysnmp's cached snmpEngineID of a peer; True if there was one.

        pysnmp keeps a discovered engine ID for 300 s. A device whose engine ID
        changed (reset, replaced, an agent without persistent storage) answers with
        reports pysnmp drops, so every request times out until the entry expires:
        five false-DOWN minutes. Flushing it after a timeout lets the next request
        rediscover. This reaches into pysnmp's private cache (7.1.x); if that
        changes, the method does nothing and pysnmp's own expiry still applies.
        """
        if slot >= len(self._engines):
            return False
        model = self._engines[slot].message_processing_subsystems.get(3)
        cache = getattr(model, "_SnmpV3MessageProcessingModel__engineIdCache", None)
        queue = getattr(model, "_SnmpV3MessageProcessingModel__engineIdCacheExpQueue", None)
        if not isinstance(cache, dict) or not isinstance(queue, dict):
            return False
        stale = [key for key in cache if tuple(key[1])[:2] == address]
        for key in stale:
            del cache[key]
            for keys in queue.values():
                while key in keys:
                    keys.remove(key)
        return bool(stale)

    def close(self) -> None:
        engines, self._engines = self._engines, []
        for engine in engines:
            engine.close_dispatcher()
        self._slots.clear()
        self._targets.clear()
        self._users.clear()


class UsmSession:
    """One node through a v3 user (a Session)."""

    version = "3"

    def __init__(
        self, client: UsmClient, slot: int, user: UsmUserData, target: Any, context: str
    ) -> None:
        self._client = client
        self._slot = slot
        self._user = user
        self._target = target
        self._context = ContextData(contextName=context.encode())

    async def get(self, oids: Sequence[Oid]) -> Reply:
        return await self._run(get_cmd, oids)

    async def next(self, oids: Sequence[Oid], max_repetitions: int) -> Reply:
        return await self._run(bulk_cmd, oids, 0, max_repetitions)

    async def _run(self, command: Any, oids: Sequence[Oid], *bulk: int) -> Reply:
        try:
            return await self._once(command, oids, *bulk)
        except SnmpError as exc:
            address = tuple(self._target.transport_address)[:2]
            if exc.kind != "timeout" or not self._client.forget_peer(self._slot, address):
                raise
        return await self._once(command, oids, *bulk)  # rediscovers the engine ID

    async def _once(self, command: Any, oids: Sequence[Oid], *bulk: int) -> Reply:
        engine = self._client.engine(self._slot)
        varbinds = [(ObjectName(oid), univ.Null("")) for oid in oids]
        started = time.perf_counter()
        try:
            indication, status, index, answer = await command(
                engine, self._user, self._target, self._context, *bulk, *varbinds, lookupMib=False
            )
        except Exception as exc:  # pysnmp raises for socket and setup problems
            raise SnmpError("transport", f"{type(exc).__name__}: {exc}") from exc
        rtt = (time.perf_counter() - started) * 1000.0
        if indication:
            if isinstance(indication, errind.EncryptionError) and privacy_unavailable():
                raise ProbeError(privacy_help())
            raise failure(indication)
        rows: list[VarBind] = [(tuple(name), to_value(value)) for name, value in answer]
        return Reply(int(status), int(index), rows, rtt)


__all__ = ["AUTH_PROTOCOLS", "PRIV_PROTOCOLS", "UsmClient", "UsmSession"]
