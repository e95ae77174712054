"""What a fall-through notice (通知改发) shows: who was not reached, how, and what is tried now.

Pure; used by `dispatch.notice_data.build_view`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

CHANNEL_NAMES = {
    "email": "邮件",
    "sms": "短信",
    "robot": "群机器人",
    "voice": "语音电话",
    "fax": "传真",
}
WHY_NAMES = {"overdue": "{after}内未发出", "failed": "发送失败"}


def missed_view(items: Any, after: str, titles: Mapping[str, str]) -> dict[str, Any]:
    """The template context of a fall-through notice (通知改发): its recipients, in words.

    `items` is the notice's `missed` list (`dispatch.fallthrough`); `after` names
    `fallback_after` ("10分钟"); `titles` names the notice kinds.
    """
    missed = [
        {
            "recipient": str(item.get("recipient", "")),
            "notice": titles.get(str(item.get("notice")), str(item.get("notice", ""))),
            "from_name": CHANNEL_NAMES.get(str(item.get("from")), str(item.get("from", ""))),
            "to_name": "、".join(CHANNEL_NAMES.get(str(c), str(c)) for c in item.get("to", [])),
            "why_name": WHY_NAMES.get(str(item.get("why")), "未送达").format(after=after),
        }
        for item in (items if isinstance(items, list) else [])
        if isinstance(item, Mapping)
    ]
    return {
        "missed": missed,
        "missed_names": list(dict.fromkeys(m["recipient"] for m in missed)),
        "missed_from": "、".join(dict.fromkeys(m["from_name"] for m in missed)),
        "missed_to": "、".join(dict.fromkeys(m["to_name"] for m in missed)),
        "fallback_after_name": after,
    }
