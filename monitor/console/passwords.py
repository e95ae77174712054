"""Console passwords: argon2id hashes in `<state_dir>/console-passwords.json`, mode 0600.

Never in contacts.toml. Written by `commwatch user passwd`, read by the
daemon on every sign-in (so a new password works without a restart). Each
hash carries a fingerprint (`stamp`) that sessions remember: changing a
password ends the person's sessions.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

FILE_NAME = "console-passwords.json"
MIN_LENGTH = 8

HASHER = PasswordHasher()  # argon2id, the library's RFC 9106 low-memory profile


class PasswordError(ValueError):
    """A password file that cannot be read or a password that is not acceptable."""


def password_path(state_dir: str | Path) -> Path:
    """Where the hashes live."""
    return Path(state_dir) / FILE_NAME


def check_strength(password: str) -> None:
    """At least MIN_LENGTH characters, not all blank."""
    if len(password) < MIN_LENGTH or not password.strip():
        raise PasswordError(f"密码至少{MIN_LENGTH}个字符（password needs {MIN_LENGTH}+ characters)")


class PasswordStore:
    """The password file of one state directory."""

    def __init__(self, path: Path, hasher: PasswordHasher = HASHER) -> None:
        self.path = path
        self.hasher = hasher
        self._dummy: str | None = None  # hashed at the first sign-in, not at start (64 MiB)

    def dummy(self) -> str:
        """A hash to verify against for unknown people (equal work); made on first use."""
        if self._dummy is None:
            self._dummy = self.hasher.hash("commwatch-no-such-person")
        return self._dummy

    def _read(self) -> dict[str, str]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise PasswordError(f"{self.path}: {exc.strerror}") from exc
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise PasswordError(f"{self.path}: not JSON ({exc})") from exc
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise PasswordError(f"{self.path}: expected an object of person id → hash")
        return {str(k): v for k, v in data.items()}

    def set(self, person: str, password: str) -> None:
        """Hash and store a person's password (atomic replace, mode 0600)."""
        check_strength(password)
        data = self._read()
        data[person] = self.hasher.hash(password)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1, sort_keys=True)
            handle.write("\n")
        os.chmod(temporary, 0o600)
        os.replace(temporary, self.path)

    def verify(self, person: str, password: str) -> bool:
        """True when the password matches the person's stored hash (constant work otherwise)."""
        stored = self._read().get(person)
        try:
            return self.hasher.verify(stored or self.dummy(), password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    def stamp(self, person: str) -> str | None:
        """A fingerprint of the person's current hash (None: no password set)."""
        stored = self._read().get(person)
        if stored is None:
            return None
        return hashlib.sha256(stored.encode()).hexdigest()[:16]

    def people(self) -> list[str]:
        """Ids that have a password."""
        return sorted(self._read())
