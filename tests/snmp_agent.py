"""A scripted SNMP v1/v2c agent on loopback, for replies no real agent sends (hostile values).

    with ScriptedAgent({SYS_UPTIME: timeticks(100), CUSTOM: integer(10**400)}) as agent:
        agent.port                       # 127.0.0.1:<free port>, community "public"

GET only: each requested OID gets its scripted TLV, or noSuchObject. The agent
runs in a thread with a bounded receive timeout and is stopped on exit.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Mapping
from types import TracebackType

from probes.snmp_ber import (
    RESPONSE,
    BerError,
    Message,
    Oid,
    decode_message,
    encode_int,
    encode_oid,
    tlv,
)


def integer(value: int) -> bytes:
    """An INTEGER TLV of any size."""
    return encode_int(value)


def timeticks(value: int) -> bytes:
    """A TimeTicks TLV."""
    return tlv(0x43, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big"))


def octets(value: bytes) -> bytes:
    """An OCTET STRING TLV."""
    return tlv(0x04, value)


NO_SUCH_OBJECT = b"\x80\x00"


class ScriptedAgent:
    """Answers GETs from a fixed table of encoded values."""

    def __init__(self, values: Mapping[Oid, bytes]) -> None:
        self.values = dict(values)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self.requests = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> ScriptedAgent:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop answering and close the socket (bounded wait for the thread)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self.sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                request = decode_message(data)
            except BerError:
                continue
            self.requests += 1
            self.sock.sendto(self._reply(request), peer)

    def _reply(self, request: Message) -> bytes:
        binds = b"".join(
            tlv(0x30, encode_oid(oid) + self.values.get(oid, NO_SUCH_OBJECT))
            for oid, _ in request.varbinds
        )
        pdu = encode_int(request.request_id) + encode_int(0) + encode_int(0) + tlv(0x30, binds)
        body = encode_int(request.version) + octets(request.community) + tlv(RESPONSE, pdu)
        return tlv(0x30, body)
