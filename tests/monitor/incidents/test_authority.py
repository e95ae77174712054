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
    check_duty,
    check_end_response,
    check_issue_warning,
    check_lift_warning,
    check_start_response,
    resolve_actor,
)
from tests.paths import SHIPPED_CONFIG

COMMANDER = Actor("commander", "总指挥甲", frozenset({"总指挥"}))
DEPUTY = Actor("deputy-govoffice", "副总指挥乙", frozenset({"副总指挥"}))
DIRECTOR = Actor("deputy-miit", "局长丙", frozenset({"副总指挥", "办公室主任"}))
OFFICE_HEAD = Actor("office-head", "主任丁", frozenset({"办公室主任"}))
DUTY = Actor("duty-officer", "值班员戊", frozenset({"值班员"}))
NOBODY = Actor("guest", "访客", frozenset())

Check = Callable[[], None]

ALLOWED: list[tuple[str, Check]] = [
    ("commander starts I", lambda: check_start_response(COMMANDER, "I")),
    ("commander starts II", lambda: check_start_response(COMMANDER, "II")),
    ("deputy starts II", lambda: check_start_response(DEPUTY, "II")),
    ("starter ends", lambda: check_end_response(DEPUTY, DEPUTY.id, DEPUTY.name, True)),
    (
        "commander ends for an unlisted starter",
        lambda: check_end_response(COMMANDER, "gone", "g", False),
    ),
    ("commander issues", lambda: check_issue_warning(COMMANDER)),
    ("deputy issues", lambda: check_issue_warning(DEPUTY)),
    ("office head who is a deputy issues", lambda: check_issue_warning(DIRECTOR)),
    ("system issues (auto_issue)", lambda: check_issue_warning(SYSTEM)),
    ("issuer lifts", lambda: check_lift_warning(DEPUTY, DEPUTY.id, DEPUTY.name, True)),
    ("commander lifts an auto warning", lambda: check_lift_warning(COMMANDER, SYSTEM.id, "", True)),
    (
        "commander lifts for an unlisted issuer",
        lambda: check_lift_warning(COMMANDER, "gone", "g", False),
    ),
    ("duty officer confirms", lambda: check_duty(DUTY, "确认事件")),
    ("commander confirms", lambda: check_duty(COMMANDER, "确认事件")),
]

REFUSED: list[tuple[str, Check, str]] = [
    (
        "deputy cannot start I",
        lambda: check_start_response(DEPUTY, "I"),
        "Ⅰ级响应只能由总指挥启动（§4.3.1）",
    ),
    ("director cannot start I", lambda: check_start_response(DIRECTOR, "I"), "§4.3.1"),
    ("duty officer cannot start II", lambda: check_start_response(DUTY, "II"), "§4.3.2"),
    ("office head cannot start II", lambda: check_start_response(OFFICE_HEAD, "II"), "§4.3.2"),
    ("no level III", lambda: check_start_response(COMMANDER, "III"), "§4.3"),
    (
        "another deputy cannot end",
        lambda: check_end_response(DIRECTOR, DEPUTY.id, DEPUTY.name, True),
        "谁启动、谁结束",
    ),
    (
        "commander cannot end a listed deputy's response",
        lambda: check_end_response(COMMANDER, DEPUTY.id, DEPUTY.name, True),
        "§4.6",
    ),
    (
        "another person cannot lift",
        lambda: check_lift_warning(DIRECTOR, DEPUTY.id, DEPUTY.name, True),
        "谁发布、谁解除",
    ),
    (
        "commander cannot lift a listed deputy's warning",
        lambda: check_lift_warning(COMMANDER, DEPUTY.id, DEPUTY.name, True),
        "§3.6",
    ),
    (
        "deputy cannot lift an auto warning",
        lambda: check_lift_warning(DEPUTY, SYSTEM.id, "", True),
        "由总指挥解除",
    ),
    (
        "the system cannot lift its own warning",
        lambda: check_lift_warning(SYSTEM, SYSTEM.id, "", True),
        "由总指挥解除",
    ),
    ("duty officer cannot issue", lambda: check_issue_warning(DUTY), "§3.4"),
    (
        "office head alone cannot issue",
        lambda: check_issue_warning(OFFICE_HEAD),
        "根据规定权限或授权",
    ),
    ("no role cannot confirm", lambda: check_duty(NOBODY, "确认事件"), "§4.2"),
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
