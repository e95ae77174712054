"""SNMPv3 USM keys, message digests and privacy (RFC 3414, RFC 3826, RFC 7860).

- password → key: the password repeated to 1 MB and hashed (RFC 3414 A.2); done
  once per (hash, password) and cached, since it costs milliseconds.
- localisation: H(Ku ‖ engineID ‖ Ku), once per credential and engine ID (`UserKeys`).
- digests: HMAC over the whole message with a zeroed authentication field,
  truncated to 12 bytes (MD5, SHA-1) or RFC 7860's lengths (SHA-224 16 … SHA-512 48).
- privacy: DES-CBC (RFC 3414 8.1.1, as TripleDES with K1=K2=K3), AES-128-CFB
  (RFC 3826, IV = boots ‖ time ‖ salt) and the AES-192/256 key extensions
  net-snmp and Cisco use (Blumenthal draft: Kul ‖ H(Kul) …; Reeder draft: the
  password-to-key step repeated on the localised key).

The `cryptography` package is imported on the first encryption only: without it
authPriv is our installation's fault (`privacy_help`), never the agent's.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import itertools
import random
import sys
from dataclasses import dataclass, field
from typing import Any

from probes.base import ProbeError

# auth protocol → (hashlib name, digest bytes carried in msgAuthenticationParameters)
AUTH: dict[str, tuple[str, int]] = {
    "MD5": ("md5", 12),
    "SHA": ("sha1", 12),
    "SHA224": ("sha224", 16),
    "SHA256": ("sha256", 24),
    "SHA384": ("sha384", 32),
    "SHA512": ("sha512", 48),
}
# priv protocol → (localised key bytes needed, key extension: "" none, "b" Blumenthal, "r" Reeder)
PRIV: dict[str, tuple[int, str]] = {
    "DES": (16, ""),  # 8 bytes DES key, 8 bytes pre-IV
    "AES": (16, ""),
    "AES192": (24, "b"),
    "AES256": (32, "b"),
    "AES192C": (24, "r"),
    "AES256C": (32, "r"),
}
MEGABYTE = 1_048_576


@functools.lru_cache(maxsize=256)
def password_to_key(hash_name: str, password: bytes) -> bytes:
    """RFC 3414 A.2: Ku, the digest of the password repeated to 1 MB."""
    if not password:
        raise ValueError("an SNMPv3 password must not be empty")
    repeated = password * (MEGABYTE // len(password) + 1)
    return hashlib.new(hash_name, repeated[:MEGABYTE]).digest()


def localize(hash_name: str, key: bytes, engine_id: bytes) -> bytes:
    """RFC 3414 2.6: Kul = H(Ku ‖ snmpEngineID ‖ Ku)."""
    return hashlib.new(hash_name, key + engine_id + key).digest()


def priv_key(hash_name: str, ku: bytes, engine_id: bytes, protocol: str) -> bytes:
    """The localised privacy key of a protocol, extended to its size when it needs more."""
    size, extension = PRIV[protocol]
    key = localize(hash_name, ku, engine_id)
    while len(key) < size:
        if extension == "b":
            key += hashlib.new(hash_name, key).digest()
        else:
            key += localize(hash_name, password_to_key(hash_name, key), engine_id)
    return key[:size]


@functools.cache
def crypto() -> Any:
    """The `cryptography` cipher pieces, or ProbeError naming what to install."""
    try:
        from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
        from cryptography.hazmat.decrepit.ciphers.modes import CFB
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    except ImportError as exc:
        raise ProbeError(privacy_help()) from exc
    return Cipher, algorithms.AES, TripleDES, CFB, modes.CBC


def privacy_help() -> str:
    """What to install when SNMPv3 privacy is unavailable."""
    return (
        "SNMPv3 privacy (AES/DES) is unavailable in this commwatch installation, not at the "
        "agent: it needs the Python package cryptography (>= 47). Install it into "
        f"commwatch's environment: {sys.executable} -m pip install 'cryptography>=47' "
        "(or reinstall commwatch with its dependencies), then restart commwatch"
    )


# One salt counter per process, started at random (RFC 3826 3.1.2.1; RFC 3414 8.1.1.1).
_SALTS = itertools.count(random.getrandbits(63))


def _u32(value: int) -> bytes:
    return (value & 0xFFFFFFFF).to_bytes(4, "big")


@dataclass(frozen=True, slots=True)
class Privacy:
    """A localised privacy key: encrypt a scopedPDU, decrypt an encryptedPDU."""

    protocol: str
    key: bytes = field(repr=False)

    def encrypt(self, plain: bytes, boots: int, engine_time: int) -> tuple[bytes, bytes]:
        """(ciphertext, msgPrivacyParameters)."""
        cipher, aes, des, cfb, cbc = crypto()
        counter = next(_SALTS)
        if self.protocol == "DES":
            salt = _u32(boots) + _u32(counter)
            iv = bytes(a ^ b for a, b in zip(self.key[8:16], salt, strict=True))
            plain += b"\x00" * (-len(plain) % 8)
            box = cipher(des(self.key[:8] * 3), cbc(iv)).encryptor()
        else:
            salt = (counter & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big")
            box = cipher(aes(self.key), cfb(self._aes_iv(boots, engine_time, salt))).encryptor()
        return box.update(plain) + box.finalize(), salt

    def decrypt(self, data: bytes, salt: bytes, boots: int, engine_time: int) -> bytes | None:
        """The plaintext, or None when the parameters cannot be right (wrong sizes)."""
        cipher, aes, des, cfb, cbc = crypto()
        if len(salt) != 8:
            return None
        if self.protocol == "DES":
            if len(data) % 8:
                return None
            iv = bytes(a ^ b for a, b in zip(self.key[8:16], salt, strict=True))
            box = cipher(des(self.key[:8] * 3), cbc(iv)).decryptor()
        else:
            box = cipher(aes(self.key), cfb(self._aes_iv(boots, engine_time, salt))).decryptor()
        plain: bytes = box.update(data) + box.finalize()
        return plain

    @staticmethod
    def _aes_iv(boots: int, engine_time: int, salt: bytes) -> bytes:
        return _u32(boots) + _u32(engine_time) + salt


@dataclass(frozen=True, slots=True)
class LocalKeys:
    """A credential's keys for one engine: sign, check and (maybe) encrypt."""

    hash_name: str
    mac_length: int
    auth_key: bytes = field(repr=False)
    privacy: Privacy | None

    def sign(self, message: bytes) -> bytes:
        """The digest of a whole message whose authentication field is zeroed."""
        return hmac.digest(self.auth_key, message, self.hash_name)[: self.mac_length]


@dataclass
class UserKeys:
    """One credential's master keys (computed once) and its keys per engine ID (cached).

    No secret is in any repr of these classes: they may end up in a log line.
    """

    auth_protocol: str | None
    auth_password: bytes = field(repr=False)
    priv_protocol: str | None = None
    priv_password: bytes = field(default=b"", repr=False)
    _ku: tuple[bytes, bytes] | None = field(default=None, repr=False)
    _local: dict[bytes, LocalKeys] = field(default_factory=dict, repr=False)

    @property
    def mac_length(self) -> int:
        return AUTH[self.auth_protocol][1] if self.auth_protocol else 0

    def for_engine(self, engine_id: bytes) -> LocalKeys | None:
        """The localised keys for an engine (None for noAuthNoPriv)."""
        if self.auth_protocol is None:
            return None
        keys = self._local.get(engine_id)
        if keys is None:
            if len(self._local) >= 4096:  # engine IDs churn (factory resets): stay bounded
                self._local.clear()
            keys = self._local[engine_id] = self._localize(engine_id)
        return keys

    def _localize(self, engine_id: bytes) -> LocalKeys:
        assert self.auth_protocol is not None
        hash_name, mac_length = AUTH[self.auth_protocol]
        if self._ku is None:
            priv = password_to_key(hash_name, self.priv_password) if self.priv_protocol else b""
            self._ku = (password_to_key(hash_name, self.auth_password), priv)
        privacy = None
        if self.priv_protocol:
            key = priv_key(hash_name, self._ku[1], engine_id, self.priv_protocol)
            privacy = Privacy(self.priv_protocol, key)
        auth_key = localize(hash_name, self._ku[0], engine_id)
        return LocalKeys(hash_name, mac_length, auth_key, privacy)


__all__ = [
    "AUTH",
    "PRIV",
    "LocalKeys",
    "Privacy",
    "UserKeys",
    "crypto",
    "localize",
    "password_to_key",
    "privacy_help",
]
