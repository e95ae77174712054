"""部分业务受影响 goes to the system's own unit (email, information) and the HQ office (§3.3)."""

from __future__ import annotations

from pathlib import Path

from dispatch.planner import plan_notice
from dispatch.render import Renderer, template_dirs
from dispatch.router import route
from monitor.config import load_config
from monitor.incidents.notices import NoticeKind, NoticeRequest
from monitor.plan.assessment import Assessment
from tests.dispatch.support import base_toml, write_config


def test_partial_goes_to_the_operator_itself_and_the_office(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path / "c", base_toml(tmp_path / "cw.db")))
    line = "基础运营网络移动城区分公司网络：2/4个节点中断或不可达，未达到“全部业务”"
    request = NoticeRequest(
        NoticeKind.PARTIAL,
        None,
        "partial:cmcc:x",
        assessment=Assessment(partial_systems=("cmcc",), reasons=(line,)),
        context={"note": line, "title": "移动城区分公司网络部分业务受影响（知悉）"},
    )
    targets = route(request, config)
    unit = [t for t in targets if t.recipient_key == "unit:移动城区分公司"]
    assert [t.channel for t in unit] == ["email"]  # information: email only
    assert any(t.recipient_key == "unit:区工信局" for t in targets)  # the HQ office gets all
    assert not any(t.recipient_key == "unit:联通城区分公司" for t in targets)
    planned = plan_notice(request, config, Renderer(template_dirs(config)))
    email = next(p for p in planned if p.recipient_key == "unit:移动城区分公司")
    assert "移动城区分公司网络部分业务受影响（知悉）" in email.subject
    assert "不新建事件" in email.body
    assert "§" not in email.body.partition("（附注")[0]  # clauses belong in the 附注
