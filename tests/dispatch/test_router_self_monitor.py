"""The monitor's own blindness goes to the HQ office duty only, whatever the routes say."""

from __future__ import annotations

from pathlib import Path

import pytest

from dispatch.planner import plan_notice
from dispatch.render import Renderer, template_dirs
from dispatch.router import route
from monitor.config import load_config
from monitor.incidents.notices import NoticeKind, NoticeRequest
from tests.dispatch.support import base_toml, write_config

OFFICE_DUTY = {"unit:区工信局", "person:deputy-miit", "person:duty-officer"}
EVERYONE = """
[[dispatch.route]]
name = "everyone gets everything"
member_units = true
roles = ["总指挥", "副总指挥"]
"""


@pytest.mark.parametrize("kind", [NoticeKind.MONITOR_BLIND, NoticeKind.MONITOR_SIGHTED])
@pytest.mark.parametrize("extra", ["", EVERYONE], ids=["default-routes", "catch-all-route"])
def test_blindness_notices_reach_the_office_duty_on_every_channel(
    tmp_path: Path, kind: NoticeKind, extra: str
) -> None:
    config = load_config(write_config(tmp_path / "c", base_toml(tmp_path / "cw.db", extra)))
    request = NoticeRequest(kind, None, "monitor:x", context={"note": "上联无响应"})
    targets = route(request, config)
    assert {t.recipient_key for t in targets} == OFFICE_DUTY
    channels = {t.channel for t in targets}
    assert {"email", "sms"} <= channels  # and every other channel the office duty has
    assert {t.stage for t in targets} == {0}  # all at once: whichever channel still works
    planned = plan_notice(request, config, Renderer(template_dirs(config)))
    assert planned
    assert all(p.subject for p in planned if p.channel == "email")
    text = "\n".join(p.body for p in planned)
    assert ("自身上联中断" if kind is NoticeKind.MONITOR_BLIND else "恢复观察") in text


@pytest.mark.parametrize("kind", [NoticeKind.FLAPPING_START, NoticeKind.FLAPPING_END])
def test_flapping_notices_go_to_the_office_by_the_default_routes(
    tmp_path: Path, kind: NoticeKind
) -> None:
    config = load_config(write_config(tmp_path / "c", base_toml(tmp_path / "cw.db")))
    note = "播出服务器（ks2-srv，区融媒体中心播出系统）状态频繁变化"
    request = NoticeRequest(kind, None, "flapping:x", context={"note": note, "title": note})
    assert {t.recipient_key for t in route(request, config)} == OFFICE_DUTY
    planned = plan_notice(request, config, Renderer(template_dirs(config)))
    assert all(note[:20] in p.body for p in planned)
