"""The plan's authority rules (§3.4, §3.6, §4.2, §4.3, §4.6), table-driven."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from monitor.config import load_config
from monitor.config.contacts import PersonConfig
from monitor.incidents.authority import (
    SYSTEM,
    Actor,
    RefusedError,
    check_adjust_warning,
    check_duty,
    check_end_response,
    check_hq_decision,
    check_issue_warning,
    check_lift_warning,
    check_relevel_response,
    check_start_response,
    resolve_actor,
)
from tests.paths import SHIPPED_CONFIG

COMMANDER = Actor("commander", "总指挥甲", frozenset({"总指挥"}))
DEPUTY = Actor("deputy-govoffice", "副总指挥乙", frozenset({"副总指挥"}))
DIRECTOR = Actor("deputy-miit", "局长丙", frozenset({"副总指挥", "办公室主任"}))
AUTHORISED = Actor("deputy-auth", "副总指挥庚", frozenset({"副总指挥"}), authorised_level_one=True)
OFFICE_HEAD = Actor("office-head", "主任丁", frozenset({"办公室主任"}))
DUTY = Actor("duty-officer", "值班员戊", frozenset({"值班员"}))
NOBODY = Actor("guest", "访客", frozenset())
ROSTER = {a.id: a.roles for a in (COMMANDER, DEPUTY, DIRECTOR, AUTHORISED, OFFICE_HEAD, DUTY)}

Check = Callable[[], None]

# (case, clause it applies, check)
ALLOWED: list[tuple[str, Check]] = [
    ("§4.3.1 (2) commander starts I", lambda: check_start_response(COMMANDER, "I")),
    ("§4.3.1 (2) authorised deputy starts I", lambda: check_start_response(AUTHORISED, "I")),
    ("§4.3.2 (2) commander starts II", lambda: check_start_response(COMMANDER, "II")),
    ("§4.3.2 (2) deputy starts II", lambda: check_start_response(DEPUTY, "II")),
    (
        "§4.6 starter re-levels own II to I when authorised",
        lambda: check_relevel_response(AUTHORISED, "I", "II", AUTHORISED.id, "庚", ROSTER),
    ),
    (
        "§4.3.1 commander raises a deputy's II to I",
        lambda: check_relevel_response(COMMANDER, "I", "II", DEPUTY.id, "乙", ROSTER),
    ),
    (
        "§4.6 commander lowers own I to II",
        lambda: check_relevel_response(COMMANDER, "II", "I", COMMANDER.id, "甲", ROSTER),
    ),
    (
        "§4.6 commander re-levels for an unlisted starter",
        lambda: check_relevel_response(COMMANDER, "II", "I", "gone", "g", ROSTER),
    ),
    ("§4.6 starter ends", lambda: check_end_response(DEPUTY, DEPUTY.id, DEPUTY.name, ROSTER)),
    (
        "§4.6 commander ends for an unlisted starter",
        lambda: check_end_response(COMMANDER, "gone", "g", ROSTER),
    ),
    ("§3.4 commander issues", lambda: check_issue_warning(COMMANDER)),
    ("§3.4 deputy issues", lambda: check_issue_warning(DEPUTY)),
    ("§3.4 office head who is a deputy issues", lambda: check_issue_warning(DIRECTOR)),
    ("§3.4 system issues (auto_issue, 授权)", lambda: check_issue_warning(SYSTEM)),
    (
        "§3.5 (4) commander raises a deputy's warning",
        lambda: check_adjust_warning(COMMANDER, DEPUTY.id, DEPUTY.name, ROSTER),
    ),
    (
        "§3.5 (4) a deputy adjusts another deputy's warning",
        lambda: check_adjust_warning(DIRECTOR, DEPUTY.id, DEPUTY.name, ROSTER),
    ),
    (
        "§3.5 (4) issuer adjusts own warning",
        lambda: check_adjust_warning(DEPUTY, DEPUTY.id, DEPUTY.name, ROSTER),
    ),
    (
        "§3.5 (4) deputy adjusts an auto warning",
        lambda: check_adjust_warning(DEPUTY, SYSTEM.id, SYSTEM.name, ROSTER),
    ),
    (
        "§3.5 (4) system adjusts its own warning",
        lambda: check_adjust_warning(SYSTEM, SYSTEM.id, SYSTEM.name, ROSTER),
    ),
    ("§3.6 issuer lifts", lambda: check_lift_warning(DEPUTY, DEPUTY.id, DEPUTY.name, ROSTER)),
    (
        "§3.6 commander lifts an auto warning",
        lambda: check_lift_warning(COMMANDER, SYSTEM.id, "", ROSTER),
    ),
    (
        "§3.6 commander lifts for an unlisted issuer",
        lambda: check_lift_warning(COMMANDER, "gone", "g", ROSTER),
    ),
    (
        "§3.6 commander records the HQ's decision",
        lambda: check_hq_decision(COMMANDER, "上级指挥机构接管", "解除预警"),
    ),
    ("§4.2 (2) duty officer confirms", lambda: check_duty(DUTY, "确认事件")),
    ("§4.2 (2) commander confirms", lambda: check_duty(COMMANDER, "确认事件")),
]

REFUSED: list[tuple[str, Check, str]] = [
    (
        "§4.3.1 (2) deputy cannot start I",
        lambda: check_start_response(DEPUTY, "I"),
        "Ⅰ级响应只能由总指挥（或经总指挥授权的副总指挥）启动（§4.3.1 (2)",
    ),
    ("§4.3.1 (2) director cannot start I", lambda: check_start_response(DIRECTOR, "I"), "§4.3.1"),
    ("§4.3.2 (2) duty officer cannot start II", lambda: check_start_response(DUTY, "II"), "§4.3.2"),
    (
        "§4.3.2 (2) office head cannot start II",
        lambda: check_start_response(OFFICE_HEAD, "II"),
        "§4.3.2",
    ),
    ("§4.3 no level III", lambda: check_start_response(COMMANDER, "III"), "§4.3"),
    (
        "§4.6 deputy cannot override commander's I by starting II",
        lambda: check_relevel_response(DEPUTY, "II", "I", COMMANDER.id, "总指挥甲", ROSTER),
        "§4.6 谁启动谁结束",
    ),
    (
        "§4.6 authorised deputy cannot take over commander's II by raising it",
        lambda: check_relevel_response(AUTHORISED, "I", "II", COMMANDER.id, "总指挥甲", ROSTER),
        "§4.6 谁启动谁结束",
    ),
    (
        "§4.6 commander cannot lower an authorised deputy's I",
        lambda: check_relevel_response(COMMANDER, "II", "I", AUTHORISED.id, "庚", ROSTER),
        "§4.6 谁启动谁结束",
    ),
    (
        "§4.3.1 deputy cannot raise own II to I without 授权",
        lambda: check_relevel_response(DEPUTY, "I", "II", DEPUTY.id, "乙", ROSTER),
        "§4.3.1 (2)",
    ),
    (
        "§4.6 another deputy cannot end",
        lambda: check_end_response(DIRECTOR, DEPUTY.id, DEPUTY.name, ROSTER),
        "§4.6 谁启动谁结束",
    ),
    (
        "§4.6 commander cannot end a listed deputy's response",
        lambda: check_end_response(COMMANDER, DEPUTY.id, DEPUTY.name, ROSTER),
        "§4.6",
    ),
    (
        "§3.5 (4) a deputy cannot adjust the commander's warning",
        lambda: check_adjust_warning(DEPUTY, COMMANDER.id, COMMANDER.name, ROSTER),
        "只能由总指挥调整（§3.5 (4)",
    ),
    (
        "§3.5 (4) duty officer cannot adjust",
        lambda: check_adjust_warning(DUTY, DEPUTY.id, DEPUTY.name, ROSTER),
        "§3.5 (4)",
    ),
    (
        "§3.5 (4) system does not adjust a person's warning",
        lambda: check_adjust_warning(SYSTEM, DEPUTY.id, DEPUTY.name, ROSTER),
        "§3.5 (4)",
    ),
    (
        "§3.6 another person cannot lift",
        lambda: check_lift_warning(DIRECTOR, DEPUTY.id, DEPUTY.name, ROSTER),
        "§3.6 谁发布谁解除",
    ),
    (
        "§3.6 commander cannot lift a listed deputy's warning",
        lambda: check_lift_warning(COMMANDER, DEPUTY.id, DEPUTY.name, ROSTER),
        "§3.6",
    ),
    (
        "§3.6 deputy cannot lift an auto warning",
        lambda: check_lift_warning(DEPUTY, SYSTEM.id, "", ROSTER),
        "由总指挥解除",
    ),
    (
        "§3.6 the system cannot lift its own warning",
        lambda: check_lift_warning(SYSTEM, SYSTEM.id, "", ROSTER),
        "由总指挥解除",
    ),
    (
        "§3.6 a deputy cannot decide for the HQ",
        lambda: check_hq_decision(DEPUTY, "理由", "解除预警"),
        "§3.6 处置结束且通信网络恢复",
    ),
    (
        "§3.6 the HQ's decision needs a reason",
        lambda: check_hq_decision(COMMANDER, " ", "解除预警"),
        "写明理由",
    ),
    ("§3.4 duty officer cannot issue", lambda: check_issue_warning(DUTY), "§3.4"),
    (
        "§3.4 office head alone cannot issue",
        lambda: check_issue_warning(OFFICE_HEAD),
        "根据规定权限或授权",
    ),
    ("§4.2 (2) no role cannot confirm", lambda: check_duty(NOBODY, "确认事件"), "§4.2"),
]


@pytest.mark.parametrize("check", [c for _, c in ALLOWED], ids=[n for n, _ in ALLOWED])
def test_allowed(check: Check) -> None:
    check()


@pytest.mark.parametrize(
    ("check", "rule"), [(c, r) for _, c, r in REFUSED], ids=[n for n, _, _ in REFUSED]
)
def test_refused_names_the_rule(check: Check, rule: str) -> None:
    with pytest.raises(RefusedError, match="拒绝") as caught:
        check()
    assert rule in str(caught.value)
    assert caught.value.clause.startswith("§")
    assert caught.value.clause in str(caught.value)


SHIPPED = SHIPPED_CONFIG
PEOPLE = load_config(SHIPPED).contacts.person


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("commander", "commander"),
        ("区工信局局长", "deputy-miit"),
        ("总指挥", "commander"),
        ("办公室主任", "deputy-miit"),
        ("值班员", "duty-officer"),
    ],
    ids=["id", "exact name", "sole commander", "sole office head", "sole duty officer"],
)
def test_resolve_actor(text: str, expected: str) -> None:
    assert resolve_actor(PEOPLE, text).id == expected


@pytest.mark.parametrize(
    ("people", "text", "message"),
    [
        (PEOPLE, "副总指挥", "副总指挥不止一人"),
        (PEOPLE, "nobody", "没有“nobody”"),
        ([p for p in PEOPLE if "总指挥" not in p.roles], "总指挥", "没有人担任总指挥"),
    ],
    ids=["role held by two", "unknown", "role held by none"],
)
def test_resolve_actor_refuses(people: list[PersonConfig], text: str, message: str) -> None:
    with pytest.raises(RefusedError) as caught:
        resolve_actor(people, text)
    assert message in str(caught.value)
    if text == "副总指挥":
        assert "deputy-govoffice" in str(caught.value)
        assert "deputy-miit" in str(caught.value)


def test_the_system_id_is_reserved() -> None:
    impostor = PersonConfig(id="commwatch", name="冒名者", unit="区工信局", roles=["总指挥"])
    with pytest.raises(RefusedError, match="留给系统"):
        resolve_actor([impostor], "commwatch")
    assert not Actor("commwatch", "冒名者", frozenset({"总指挥"})).is_system


def test_authorised_level_one_is_only_for_a_deputy() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="authorised_level_one"):
        PersonConfig(id="x", name="x", unit="区工信局", roles=["值班员"], authorised_level_one=True)
    person = PersonConfig(
        id="x", name="x", unit="区工信局", roles=["副总指挥"], authorised_level_one=True
    )
    check_start_response(resolve_actor([person], "x"), "I")
