"""The `file` channel: each message becomes a file in a directory (the demo default).

An email-shaped message (a subject) is written as a complete `.eml` (the same
MIME the email channel would send); an SMS as a `.txt` with the address on the
first line. Writes are atomic (temporary file, fsync, rename) and the name is
derived from the delivery key, so a retry after a crash rewrites the same file
instead of adding a second one.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from dispatch.base import Delivery, Message, NotifyError
from dispatch.mime import build_mime
from monitor.config.sources import expand_env

if TYPE_CHECKING:
    from monitor.config.notifiers import FileNotifierConfig

_UNSAFE = re.compile(r"[^A-Za-z0-9@._+-]+")


def file_name(message: Message) -> str:
    """A stable, filesystem-safe name: notice id, address, key hash, extension."""
    key = message.key or f"{message.notice_id}:{message.address}:{message.subject}"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
    address = _UNSAFE.sub("_", message.address)[:60] or "unknown"
    suffix = "eml" if message.subject else "txt"
    return f"notice-{message.notice_id:06d}-{address}-{digest}.{suffix}"


def file_body(message: Message, sender: str = "commwatch@localhost") -> bytes:
    """The bytes written: a MIME message for email, plain UTF-8 text for SMS."""
    if not message.subject:
        return f"To: {message.address}\n\n{message.text}\n".encode()
    return build_mime(message, sender).as_bytes()


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that a reader sees either nothing or all of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class FileNotifier:
    """Writes messages to `directory` (expanded: ${STATE_DIRECTORY:-var}/outbox)."""

    channel = "file"

    def __init__(self, config: FileNotifierConfig) -> None:
        self.name = config.name
        self.directory = Path(expand_env(config.directory))

    async def send(self, message: Message) -> Delivery:
        """Write the file; a full disk or a read-only directory is a transient error."""
        path = self.directory / file_name(message)
        try:
            await asyncio.to_thread(write_atomic, path, file_body(message))
        except OSError as exc:
            raise NotifyError(f"cannot write {path}: {exc.strerror}") from exc
        return Delivery(datetime.now(UTC), str(path), "written")

    async def close(self) -> None:
        """Nothing to close."""
