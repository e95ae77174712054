"""pysnmp's names for commwatch's SNMPv3 protocols, and pysnmp values as plain ones.

Polling no longer goes through pysnmp (`probes.snmp_v3_client` speaks USM with
the in-house codec); the trap receiver (`probes.traps`) still registers its v3
users in a pysnmp engine, with both protocols always explicit (pysnmp silently
defaults to MD5/DES), and turns the values it decodes into the codec's.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from pyasn1.type import univ
from pysnmp.entity import config as engine_config
from pysnmp.proto import rfc1902, rfc1905

from probes.snmp_ber import Special, Value

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
_SPECIALS = (
    (rfc1905.NoSuchObject, Special.NO_SUCH_OBJECT),
    (rfc1905.NoSuchInstance, Special.NO_SUCH_INSTANCE),
    (rfc1905.EndOfMibView, Special.END_OF_MIB_VIEW),
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


__all__ = ["AUTH_PROTOCOLS", "PRIV_PROTOCOLS", "to_value"]
