"""USM keys, digests and ciphers: RFC 3414 A.3 vectors, and pysnmp's own implementation."""

from __future__ import annotations

from hashlib import md5, sha1, sha224, sha256, sha384, sha512
from typing import Any

import pytest
from pyasn1.type import univ
from pysnmp.entity import config as _engine  # noqa: F401  (loads the secmods in pysnmp's order)
from pysnmp.proto.secmod.eso.priv import aes192, aes256
from pysnmp.proto.secmod.rfc3414 import localkey
from pysnmp.proto.secmod.rfc3414.auth import hmacmd5, hmacsha
from pysnmp.proto.secmod.rfc3414.priv import des
from pysnmp.proto.secmod.rfc3826.priv import aes
from pysnmp.proto.secmod.rfc7860.auth import hmacsha2

from probes.snmp_v3_keys import AUTH, LocalKeys, Privacy, UserKeys, localize, password_to_key

RFC_ENGINE = bytes.fromhex("000000000000000000000002")
ENGINE = bytes.fromhex("80001f8880e9630000d61ff449")
HASHES: dict[str, Any] = {
    "MD5": md5,
    "SHA": sha1,
    "SHA224": sha224,
    "SHA256": sha256,
    "SHA384": sha384,
    "SHA512": sha512,
}
PYSNMP_AUTH: dict[str, Any] = {
    "MD5": hmacmd5.HmacMd5(),
    "SHA": hmacsha.HmacSha(),
    "SHA224": hmacsha2.HmacSha2(hmacsha2.HmacSha2.SHA224_SERVICE_ID),
    "SHA256": hmacsha2.HmacSha2(hmacsha2.HmacSha2.SHA256_SERVICE_ID),
    "SHA384": hmacsha2.HmacSha2(hmacsha2.HmacSha2.SAH384_SERVICE_ID),
    "SHA512": hmacsha2.HmacSha2(hmacsha2.HmacSha2.SHA512_SERVICE_ID),
}
PYSNMP_PRIV: dict[str, Any] = {
    "DES": des.Des(),
    "AES": aes.Aes(),
    "AES192": aes192.AesBlumenthal192(),
    "AES256": aes256.AesBlumenthal256(),
    "AES192C": aes192.Aes192(),
    "AES256C": aes256.Aes256(),
}


@pytest.mark.parametrize(
    ("protocol", "ku", "kul"),
    [  # RFC 3414 A.3.1 and A.3.2: "maplesyrup", engine ID 00…02
        ("MD5", "9faf3283884e92834ebc9847d8edd963", "526f5eed9fcce26f8964c2930787d82b"),
        (
            "SHA",
            "9fb5cc0381497b3793528939ff788d5d79145211",
            "6695febc9288e36282235fc7151f128497b38f3f",
        ),
    ],
)
def test_rfc3414_key_localisation_vectors(protocol: str, ku: str, kul: str) -> None:
    hash_name = AUTH[protocol][0]
    master = password_to_key(hash_name, b"maplesyrup")
    assert master.hex() == ku
    assert localize(hash_name, master, RFC_ENGINE).hex() == kul


@pytest.mark.parametrize("protocol", sorted(HASHES))
def test_keys_match_pysnmp_for_every_auth_protocol(protocol: str) -> None:
    hash_name, mac_length = AUTH[protocol]
    ours = localize(hash_name, password_to_key(hash_name, b"authpass256x"), ENGINE)
    theirs = localkey.localize_key(
        localkey.hash_passphrase(b"authpass256x", HASHES[protocol]),
        univ.OctetString(ENGINE),
        HASHES[protocol],
    )
    assert ours == bytes(theirs)
    assert mac_length == PYSNMP_AUTH[protocol].digest_length


def test_password_to_key_is_computed_once() -> None:
    password_to_key.cache_clear()
    keys = UserKeys("SHA", b"authpass123", "AES", b"privpass123")
    first = keys.for_engine(ENGINE)
    assert keys.for_engine(ENGINE) is first  # localised once per engine
    keys.for_engine(RFC_ENGINE)
    info = password_to_key.cache_info()
    assert (info.misses, info.currsize) == (2, 2)  # one per password, whatever the engines
    with pytest.raises(ValueError, match="empty"):
        password_to_key("sha1", b"")


def test_no_auth_no_keys() -> None:
    assert UserKeys(None, b"", None, b"").for_engine(ENGINE) is None


@pytest.mark.parametrize("auth", sorted(HASHES))
@pytest.mark.parametrize("priv", sorted(PYSNMP_PRIV))
def test_privacy_keys_match_pysnmp(auth: str, priv: str) -> None:
    keys = UserKeys(auth, b"authpass123", priv, b"privpass123").for_engine(ENGINE)
    assert keys is not None
    assert keys.privacy is not None
    service = PYSNMP_PRIV[priv]
    auth_id = PYSNMP_AUTH[auth].SERVICE_ID if auth in ("MD5", "SHA") else _sha2_id(auth)
    theirs = service.localize_key(
        auth_id, service.hash_passphrase(auth_id, b"privpass123"), univ.OctetString(ENGINE)
    )
    assert keys.privacy.key == bytes(theirs)[: len(keys.privacy.key)]
    assert len(keys.privacy.key) == (16 if priv in ("DES", "AES") else int(priv[3:6]) // 8)


def _sha2_id(auth: str) -> Any:
    names = {"SHA224": "SHA224", "SHA256": "SHA256", "SHA384": "SAH384", "SHA512": "SHA512"}
    return getattr(hmacsha2.HmacSha2, f"{names[auth]}_SERVICE_ID")


@pytest.mark.parametrize("protocol", sorted(HASHES))
def test_digest_matches_pysnmp(protocol: str) -> None:
    keys = UserKeys(protocol, b"authpass123", None, b"").for_engine(ENGINE)
    assert isinstance(keys, LocalKeys)
    placeholder = bytes(keys.mac_length)
    message = b"\x30\x10head" + placeholder + b"tail of the message"
    theirs = PYSNMP_AUTH[protocol].authenticate_outgoing_message(
        univ.OctetString(keys.auth_key), message
    )
    start = message.index(placeholder)
    assert theirs == message[:start] + keys.sign(message) + message[start + keys.mac_length :]


@pytest.mark.parametrize("priv", sorted(PYSNMP_PRIV))
def test_ciphers_round_trip_with_pysnmp(priv: str) -> None:
    keys = UserKeys("SHA", b"authpass123", priv, b"privpass123").for_engine(ENGINE)
    assert keys is not None
    assert keys.privacy is not None
    plain = b"\x30\x1d" + bytes(range(29))  # 31 bytes: DES must pad
    ciphertext, salt = keys.privacy.encrypt(plain, 7, 123456)
    service = PYSNMP_PRIV[priv]
    key = univ.OctetString(keys.privacy.key)
    params = (7, 123456, univ.OctetString(salt))
    decrypted = service.decrypt_data(key, params, univ.OctetString(ciphertext))
    assert bytes(decrypted)[: len(plain)] == plain
    theirs, their_salt = service.encrypt_data(key, (7, 123456, None), plain)
    back = keys.privacy.decrypt(bytes(theirs), bytes(their_salt), 7, 123456)
    assert back is not None
    assert back[: len(plain)] == plain


def test_salts_differ_and_bad_parameters_decrypt_to_nothing() -> None:
    privacy = Privacy("AES", bytes(range(16)))
    first = privacy.encrypt(b"same", 1, 2)
    second = privacy.encrypt(b"same", 1, 2)
    assert first[1] != second[1]
    assert first[0] != second[0]
    assert privacy.decrypt(b"abc", b"short", 1, 2) is None
    assert Privacy("DES", bytes(range(16))).decrypt(b"not8n", bytes(8), 1, 2) is None


def test_no_secret_in_any_repr() -> None:
    keys = UserKeys("SHA", b"authpass123", "AES", b"privpass123")
    local = keys.for_engine(ENGINE)
    assert local is not None
    assert local.privacy is not None
    shown = repr(keys) + repr(local) + repr(local.privacy)
    for secret in (b"authpass123", b"privpass123", local.auth_key, local.privacy.key):
        assert repr(secret)[2:-1] not in shown
    assert "SHA" in shown
