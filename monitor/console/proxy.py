"""Behind a reverse proxy: the client's address and scheme, believed only from trusted proxies.

`[console] trusted_proxies` lists the proxies (addresses or networks). A request
whose peer is one of them may say, in `X-Forwarded-For`, whom it forwards: the
client is the rightmost address that is not itself a trusted proxy (a client
can prepend anything, so the left end is never believed). `X-Forwarded-Proto:
https` from a trusted proxy makes the session cookie Secure. From any other peer
both headers are ignored, and the peer's own address is the client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.requests import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


@dataclass(frozen=True)
class Proxies:
    """The trusted reverse proxies."""

    networks: tuple[Network, ...] = ()

    @classmethod
    def of(cls, entries: Iterable[str]) -> Proxies:
        """From `[console] trusted_proxies` (validated by the config loader)."""
        return cls(tuple(ipaddress.ip_network(e, strict=False) for e in entries))

    def trusted(self, host: str) -> bool:
        """True when `host` is one of the trusted proxies."""
        address = _address(host)
        return address is not None and any(address in n for n in self.networks)

    def _peer(self, request: Request) -> str:
        return request.client.host if request.client is not None else "-"

    def client(self, request: Request) -> str:
        """The client's address: the peer, or whom a trusted proxy forwards."""
        peer = self._peer(request)
        if not self.trusted(peer):
            return peer
        hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",")]
        for hop in reversed([h for h in hops if h]):
            if _address(hop) is None:
                return peer  # garbled: believe only what we saw
            if not self.trusted(hop):
                return hop.strip("[]")
        return peer

    def https(self, request: Request) -> bool:
        """True when a trusted proxy says the browser came over HTTPS."""
        if not self.trusted(self._peer(request)):
            return False
        proto = request.headers.get("x-forwarded-proto", "").split(",")[-1].strip().lower()
        return proto == "https"
