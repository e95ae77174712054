"""The file channel: one .eml or .txt per delivery, atomic, stable names (retries overwrite)."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

import pytest

from dispatch.base import Message, NotifyError
from dispatch.file import FileNotifier
from monitor.config.notifiers import FileNotifierConfig

EMAIL = Message(
    3, "gxj@example.org", "【预警通知】事件#3：情形2", "正文", "<p>正文</p>", "commwatch.9.ab"
)
SMS = Message(3, "13800000010", "", "【预警通知】事件#3：短信", None, "commwatch.10.cd")


async def test_writes_eml_and_txt(tmp_path: Path) -> None:
    notifier = FileNotifier(
        FileNotifierConfig(name="outbox", type="file", directory=str(tmp_path / "out"))
    )
    email = await notifier.send(EMAIL)
    sms = await notifier.send(SMS)
    again = await notifier.send(EMAIL)  # a retry: same file, not a second one
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert len(files) == 2
    assert email.gateway_id == again.gateway_id
    parsed = message_from_bytes(_read(email.gateway_id), policy=policy.default)
    assert parsed["Subject"] == "【预警通知】事件#3：情形2"
    assert parsed.get_body(("plain",)).get_content() == "正文\n"  # type: ignore[union-attr]
    assert _read(sms.gateway_id).decode() == "To: 13800000010\n\n【预警通知】事件#3：短信\n"
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".tmp-")]


async def test_unwritable_directory_is_transient(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    _write(blocker)
    notifier = FileNotifier(
        FileNotifierConfig(name="outbox", type="file", directory=str(blocker / "sub"))
    )
    with pytest.raises(NotifyError) as caught:
        await notifier.send(SMS)
    assert caught.value.permanent is False


def _read(path: str | None) -> bytes:
    return Path(str(path)).read_bytes()


def _write(path: Path) -> None:
    path.write_text("x")
