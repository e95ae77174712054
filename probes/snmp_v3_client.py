"""SNMPv3 (USM) over `probes.snmp_udp`: engine discovery, timeliness, reports, sessions.

One socket per family for every v3 request, demultiplexed by msgID (the PDU's
request-id is the same number). What we know of each agent's engine (ID, boots,
time) is kept per address:

- unknown: discovery first — an empty-user noAuthNoPriv GET, answered by a
  Report carrying usmStatsUnknownEngineIDs, engineID, boots and time; concurrent
  requests to one address share one discovery;
- a Report of usmStatsNotInTimeWindows (authenticated) or usmStatsUnknownEngineIDs
  (the agent was reset or replaced) updates it, and the request is sent once more;
- a timeout forgets it, and the request is sent once more after a new discovery:
  an agent that lost its state answers again within the same poll;
- authenticated replies move boots/time forward (RFC 3414 3.2.7).

A reply is taken only from the address asked, with our msgID, our user, a good
digest (when we authenticate) and a PDU that decodes; anything else is stray.
Other reports map to the prober's error kinds: a credential problem is `auth`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from probes.snmp_ber import GET, GETBULK, REPORT, RESPONSE, Oid, format_oid, request_varbinds
from probes.snmp_session import Reply, SnmpError
from probes.snmp_udp import Address, UdpDemux, WireStats
from probes.snmp_v3_keys import LocalKeys, UserKeys
from probes.snmp_v3_message import (
    AUTH_FLAG,
    PRIV_FLAG,
    REPORTABLE_FLAG,
    Header,
    ScopedPdu,
    decode_header,
    decode_scoped_pdu,
    encode_message,
    encode_scoped_pdu,
    encrypted_data,
    sign_into,
    unsigned_data,
)

if TYPE_CHECKING:
    from monitor.config.daemon import SnmpAuthConfig

USM_STATS = (1, 3, 6, 1, 6, 3, 15, 1, 1)
NOT_IN_TIME_WINDOW = (*USM_STATS, 2, 0)
UNKNOWN_ENGINE_ID = (*USM_STATS, 4, 0)
# Report OIDs → (error kind, what it means); not listed: agent_error with the OID.
REPORTS: dict[Oid, tuple[str, str]] = {
    (*USM_STATS, 1, 0): ("auth", "unsupportedSecLevel: the user does not allow this level"),
    (*USM_STATS, 2, 0): ("auth", "notInTimeWindow: the agent's clock did not resynchronise"),
    (*USM_STATS, 3, 0): ("auth", "unknownUserName: the agent has no such user"),
    (*USM_STATS, 4, 0): ("auth", "unknownEngineID: discovery did not settle"),
    (*USM_STATS, 5, 0): ("auth", "wrongDigest: wrong auth_key or auth_protocol"),
    (*USM_STATS, 6, 0): ("auth", "decryptionError: wrong priv_key or priv_protocol"),
    (1, 3, 6, 1, 6, 3, 11, 2, 1, 1, 0): ("agent_error", "unknownSecurityModel"),
    (1, 3, 6, 1, 6, 3, 11, 2, 1, 2, 0): ("agent_error", "invalidMsg"),
    (1, 3, 6, 1, 6, 3, 11, 2, 1, 3, 0): ("agent_error", "unknownPDUHandler"),
    (1, 3, 6, 1, 6, 3, 12, 1, 4, 0): ("auth", "unavailableContext"),
    (1, 3, 6, 1, 6, 3, 12, 1, 5, 0): ("auth", "unknownContext: no such context at the agent"),
}


@dataclass(frozen=True, slots=True)
class Engine:
    """What we know of an agent's SNMP engine; time counts on from `at` (monotonic)."""

    engine_id: bytes
    boots: int
    time: int
    at: float

    def now(self) -> int:
        return max(0, min(self.time + int(time.monotonic() - self.at), 0x7FFFFFFF))


@dataclass(frozen=True, slots=True)
class Credential:
    """A v3 credential as the wire needs it; keys per engine come from `keys`."""

    user: bytes
    keys: UserKeys
    context: bytes

    @property
    def flags(self) -> int:
        auth = AUTH_FLAG if self.keys.auth_protocol else 0
        return auth | (PRIV_FLAG if self.keys.priv_protocol else 0)


@dataclass(frozen=True, slots=True)
class _Ask:
    """One request's PDU and patience."""

    pdu_type: int
    varbinds: bytes
    bulk: int  # max-repetitions
    attempt_seconds: float
    retries: int


@dataclass(frozen=True, slots=True)
class _Answer:
    header: Header
    pdu: ScopedPdu
    authentic: bool


def _parse(data: bytes) -> tuple[int, tuple[Header, bytes]]:
    header = decode_header(data)
    return header.msg_id, (header, data)


def open_reply(header: Header, data: bytes, keys: LocalKeys | None) -> ScopedPdu | None:
    """The ScopedPDU of a reply whose digest (if any) is good; None if it is not ours."""
    if not header.flags & AUTH_FLAG:
        pdu = decode_scoped_pdu(data, header.data_start, header.data_end)
        return pdu if keys is None or pdu.pdu_type == REPORT else None  # only reports unsigned
    if keys is None or keys.sign(unsigned_data(data, header)) != header.auth_params:
        return None
    if not header.encrypted:
        return decode_scoped_pdu(data, header.data_start, header.data_end)
    if keys.privacy is None:
        return None
    cipher = data[header.data_start : header.data_end]
    plain = keys.privacy.decrypt(cipher, header.priv_params, header.boots, header.time)
    return None if plain is None else decode_scoped_pdu(plain)


class V3Client:
    """All v3 requests of one prober: a socket per family, engines and keys cached."""

    def __init__(self, receive_buffer: int, wire: WireStats | None = None) -> None:
        self._demux: UdpDemux[tuple[Header, bytes]] = UdpDemux(receive_buffer, _parse, wire)
        self._engines: dict[Address, Engine] = {}
        self._discovering: dict[Address, asyncio.Future[Engine]] = {}
        self._credentials: dict[str, tuple[SnmpAuthConfig, Credential]] = {}

    def credential(self, name: str, auth: SnmpAuthConfig) -> Credential:
        """The credential of a config entry; master keys are computed on first use, once."""
        known = self._credentials.get(name)
        if known is None or known[0] is not auth:
            secret = auth.auth_key.get_secret_value().encode() if auth.auth_key else b""
            private = auth.priv_key.get_secret_value().encode() if auth.priv_key else b""
            keys = UserKeys(auth.auth_protocol, secret, auth.priv_protocol, private)
            known = (auth, Credential((auth.user or "").encode(), keys, auth.context.encode()))
            self._credentials[name] = known
        return known[1]

    async def _engine(self, address: Address, attempt_seconds: float, retries: int) -> Engine:
        engine = self._engines.get(address)
        if engine is not None:
            return engine
        running = self._discovering.get(address)
        if running is None:
            running = asyncio.ensure_future(self._discover(address, attempt_seconds, retries))
            self._discovering[address] = running
            running.add_done_callback(lambda done: self._discovered(address, done))
        return await asyncio.shield(running)

    def _discovered(self, address: Address, done: asyncio.Future[Engine]) -> None:
        self._discovering.pop(address, None)
        if not done.cancelled():
            done.exception()  # retrieved: a failed discovery is each waiter's own error

    async def _discover(self, address: Address, attempt_seconds: float, retries: int) -> Engine:
        scoped = encode_scoped_pdu(b"", b"", GET, 0, request_varbinds(()))

        def build(msg_id: int) -> bytes:
            return encode_message(msg_id, REPORTABLE_FLAG, b"", 0, 0, b"", 0, b"", scoped)[0]

        def accept(parsed: tuple[Header, bytes], _: bytes) -> Header | None:
            header, data = parsed
            pdu = open_reply(header, data, None)
            found = pdu is not None and pdu.pdu_type == REPORT and header.engine_id
            return header if found else None

        header, _ = await self._demux.exchange(
            address, build, accept, attempt_seconds=attempt_seconds, retries=retries
        )
        engine = Engine(header.engine_id, header.boots, header.time, time.monotonic())
        self._engines[address] = engine
        return engine

    def _learn(self, address: Address, header: Header, old: Engine, force: bool) -> None:
        """Take a report's engine (force) or an authentic reply's later boots/time."""
        if force or (header.boots, header.time) > (old.boots, old.now()):
            new = Engine(header.engine_id, header.boots, header.time, time.monotonic())
            if self._engines.get(address) in (old, None):
                self._engines[address] = new

    async def request(
        self,
        address: Address,
        credential: Credential,
        pdu_type: int,
        oids: Sequence[Oid],
        max_repetitions: int,
        attempt_seconds: float,
        retries: int,
    ) -> Reply:
        """One GET or GETBULK; resynchronises once (see the module's docstring)."""
        listed = request_varbinds(tuple(oids))
        ask = _Ask(pdu_type, listed, max_repetitions, attempt_seconds, retries)
        engine = self._engines.get(address)
        cached = engine is not None
        if engine is None:
            engine = await self._engine(address, attempt_seconds, retries)
        try:
            answer, rtt = await self._send(address, credential, engine, ask)
        except SnmpError as exc:
            if exc.kind != "timeout" or not cached:
                raise
            if self._engines.get(address) is engine:
                del self._engines[address]  # the agent may have a new engine ID: ask again
            answer = None
        if answer is not None and answer.pdu.pdu_type == RESPONSE:
            return Reply(answer.pdu.error_status, answer.pdu.error_index, answer.pdu.varbinds, rtt)
        if answer is not None:
            _report(answer, resync=True)
            self._learn(address, answer.header, engine, force=True)
        engine = await self._engine(address, attempt_seconds, retries)
        answer, rtt = await self._send(address, credential, engine, ask)
        if answer.pdu.pdu_type != RESPONSE:
            _report(answer, resync=False)
        return Reply(answer.pdu.error_status, answer.pdu.error_index, answer.pdu.varbinds, rtt)

    async def _send(
        self, address: Address, credential: Credential, engine: Engine, ask: _Ask
    ) -> tuple[_Answer, float]:
        keys = credential.keys.for_engine(engine.engine_id)
        flags = credential.flags | REPORTABLE_FLAG
        mac_length = credential.keys.mac_length

        def build(msg_id: int) -> bytes:
            boots, now = engine.boots, engine.now()
            context = engine.engine_id, credential.context
            data = encode_scoped_pdu(*context, ask.pdu_type, msg_id, ask.varbinds, 0, ask.bulk)
            salt = b""
            if keys is not None and keys.privacy is not None:
                ciphertext, salt = keys.privacy.encrypt(data, boots, now)
                data = encrypted_data(ciphertext)
            message, offset = encode_message(
                msg_id, flags, engine.engine_id, boots, now, credential.user, mac_length, salt, data
            )
            return message if keys is None else sign_into(message, offset, keys.sign(message))

        def accept(parsed: tuple[Header, bytes], _: bytes) -> _Answer | None:
            header, data = parsed
            signed = bool(header.flags & AUTH_FLAG)
            if signed and (header.user != credential.user or header.engine_id != engine.engine_id):
                return None
            pdu = open_reply(header, data, keys)
            if pdu is None or (pdu.pdu_type == RESPONSE and pdu.request_id != header.msg_id):
                return None
            return _Answer(header, pdu, signed) if pdu.pdu_type in (RESPONSE, REPORT) else None

        answer, rtt = await self._demux.exchange(
            address, build, accept, attempt_seconds=ask.attempt_seconds, retries=ask.retries
        )
        if answer.authentic and answer.pdu.pdu_type == RESPONSE:
            self._learn(address, answer.header, engine, force=False)
        return answer, rtt

    def close(self) -> None:
        """Fail what is in flight, close the sockets, forget engines (not master keys)."""
        self._demux.close()
        self._engines.clear()


def _report(answer: _Answer, resync: bool) -> None:
    """Raise the SnmpError a report means, unless it asks for a resync we may still do."""
    oid = answer.pdu.varbinds[0][0] if answer.pdu.varbinds else ()
    if resync and (oid == UNKNOWN_ENGINE_ID or (oid == NOT_IN_TIME_WINDOW and answer.authentic)):
        return
    kind, meaning = REPORTS.get(oid, ("agent_error", f"report {format_oid(oid) or '(empty)'}"))
    raise SnmpError(kind, meaning)


@dataclass(frozen=True)
class V3Session:
    """One node through a v3 user (a Session)."""

    client: V3Client
    address: Address
    credential: Credential
    attempt_seconds: float
    retries: int

    version = "3"

    async def get(self, oids: Sequence[Oid]) -> Reply:
        return await self.client.request(
            self.address, self.credential, GET, oids, 0, self.attempt_seconds, self.retries
        )

    async def next(self, oids: Sequence[Oid], max_repetitions: int) -> Reply:
        return await self.client.request(
            self.address, self.credential, GETBULK, oids, max_repetitions, *self._patience
        )

    @property
    def _patience(self) -> tuple[float, int]:
        return self.attempt_seconds, self.retries


__all__ = ["Credential", "Engine", "V3Client", "V3Session", "open_reply"]
