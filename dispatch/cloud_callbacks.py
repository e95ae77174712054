"""Vendor status callbacks turned into receipts (pure; no SDK is imported here).

Tencent Cloud's voice notice status callback (语音通知状态通知) posts
`{"voiceprompt_callback": {"result": "0", "callid": "…", "mobile": "…", …}}`:
result 0 = answered, 1 = not answered, 2 = the call failed; it expects
`{"result": 0, "errmsg": "OK"}` back. The receiver serves it at
`/tencent/voice/<token>`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dispatch.events import Receipt

_WORDS = {"0": "answered", "1": "not answered", "2": "call failed"}


def callback_receipt(notifier: str, body: Mapping[str, Any]) -> Receipt | None:
    """A Receipt from Tencent's voice status callback body, or None if it is not one."""
    report = body.get("voiceprompt_callback")
    if not isinstance(report, Mapping) or "callid" not in report:
        return None
    result = str(report.get("result", ""))
    state = "delivered" if result == "0" else "failed"
    return Receipt(notifier, str(report["callid"]), state, _WORDS.get(result, f"result {result}"))
