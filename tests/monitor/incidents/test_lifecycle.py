"""Pure lifecycle and tracking transitions: legal moves, refused moves, notices named."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from monitor.incidents import lifecycle, tracking
from monitor.incidents.authority import SYSTEM, Actor, RefusedError
from monitor.incidents.lifecycle import Incident, Step
from monitor.incidents.notices import NoticeKind
from monitor.incidents.tables import assessment_to_json
from monitor.plan.assessment import Assessment

T0 = datetime(2024, 7, 4, 8, 0, tzinfo=UTC)
LATER = T0 + timedelta(minutes=5)
COMMANDER = Actor("commander", "总指挥甲", frozenset({"总指挥"}))
DEPUTY = Actor("deputy", "副总指挥乙", frozenset({"副总指挥"}))
DUTY = Actor("duty", "值班员戊", frozenset({"值班员"}))
LISTED = frozenset({"commander", "deputy", "duty"})

S3 = Assessment(
    3, "II", operator_networks=("cmcc",), reasons=("移动城区分公司网络中断（§3.3 情形3）",)
)
S2 = Assessment(
    2, "I", operator_networks=("cmcc", "cucc"), spread=True, reasons=("两家运营网络（§3.3 情形2）",)
)


def incident(**changes: object) -> Incident:
    base = Incident(
        id=7,
        status="detected",
        source="monitor",
        title="t",
        opened_at=T0,
        detected_at=T0,
        updated_at=T0,
        scenario=3,
        level="II",
        assessment=assessment_to_json(S3),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


WARNED = incident(
    status="confirmed",
    warning_scenario=3,
    warning_issuer="deputy",
    warning_issuer_name="副总指挥乙",
    warning_issued_at=T0,
)
RESPONDING = replace(
    WARNED,
    response_level="II",
    response_starter="deputy",
    response_starter_name="副总指挥乙",
    response_started_at=T0,
)
CLOSED = incident(status="closed", closed_at=T0)
FALSE_ALARM = incident(status="false_alarm", closed_at=T0)

Move = Callable[[Incident], Step]

REFUSED: list[tuple[str, Incident, Move, str]] = [
    (
        "lift before issue",
        incident(),
        lambda i: lifecycle.lift_warning(i, DEPUTY, LATER, LISTED),
        "尚未发布预警",
    ),
    (
        "end before start",
        WARNED,
        lambda i: lifecycle.end_response(i, DEPUTY, LATER, LISTED),
        "尚未启动应急响应",
    ),
    ("confirm a closed incident", CLOSED, lambda i: lifecycle.confirm(i, DUTY, LATER), "已关闭"),
    (
        "issue on a false alarm",
        FALSE_ALARM,
        lambda i: lifecycle.issue_warning(i, COMMANDER, LATER, 3, LISTED),
        "误报",
    ),
    (
        "start on a closed incident",
        CLOSED,
        lambda i: lifecycle.start_response(i, COMMANDER, LATER, "I"),
        "不能再启动应急响应",
    ),
    ("confirm twice", WARNED, lambda i: lifecycle.confirm(i, DUTY, LATER), "已确认"),
    ("close with an active warning", WARNED, lambda i: lifecycle.close(i, DUTY, LATER), "§3.6"),
    (
        "close with an active response",
        replace(RESPONDING, warning_lifted_at=T0),
        lambda i: lifecycle.close(i, DUTY, LATER),
        "§4.6",
    ),
    (
        "false alarm with an active warning",
        WARNED,
        lambda i: lifecycle.false_alarm(i, DUTY, LATER),
        "须先由发布人解除预警",
    ),
    (
        "transfer without a body",
        incident(),
        lambda i: lifecycle.transfer(i, DUTY, LATER, "  "),
        "--to",
    ),
    (
        "lift during a response",
        RESPONDING,
        lambda i: lifecycle.lift_warning(i, DEPUTY, LATER, LISTED),
        "须先由启动人结束响应",
    ),
    (
        "start the same level twice",
        RESPONDING,
        lambda i: lifecycle.start_response(i, COMMANDER, LATER, "II"),
        "已由副总指挥乙启动",
    ),
    (
        "issue the same scenario twice",
        WARNED,
        lambda i: lifecycle.issue_warning(i, DEPUTY, LATER, 3, LISTED),
        "已发布情形3预警",
    ),
    (
        "no scenario to issue",
        incident(scenario=None),
        lambda i: lifecycle.issue_warning(i, DEPUTY, LATER, None, LISTED),
        "--scenario",
    ),
    (
        "adjust by another person",
        WARNED,
        lambda i: lifecycle.issue_warning(i, COMMANDER, LATER, 2, LISTED),
        "谁发布、谁解除",
    ),
    (
        "lift by another person",
        WARNED,
        lambda i: lifecycle.lift_warning(i, COMMANDER, LATER, LISTED),
        "只能由其解除",
    ),
    (
        "end by another person",
        RESPONDING,
        lambda i: lifecycle.end_response(i, COMMANDER, LATER, LISTED),
        "只能由其结束",
    ),
    (
        "information on a closed incident",
        CLOSED,
        lambda i: tracking.add_information(i, DUTY, "upper", "x"),
        "已关闭",
    ),
    ("empty note", CLOSED, lambda i: lifecycle.annotate(i, DUTY, " "), "备注不能为空"),
]


@pytest.mark.parametrize(
    ("start", "move", "message"),
    [(s, m, msg) for _, s, m, msg in REFUSED],
    ids=[name for name, *_ in REFUSED],
)
def test_illegal_moves_are_refused(start: Incident, move: Move, message: str) -> None:
    with pytest.raises(RefusedError) as caught:
        move(start)
    assert message in str(caught.value)
    assert str(caught.value).startswith("拒绝：")


def _kinds(step: Step) -> list[tuple[str, list[NoticeKind]]]:
    return [(e.kind, list(e.notices)) for e in step.events]


def test_full_lifecycle_by_hand() -> None:
    current = incident()
    steps: list[Step] = []
    moves: list[Move] = [
        lambda i: lifecycle.confirm(i, DUTY, LATER, "核实"),
        lambda i: lifecycle.issue_warning(i, DEPUTY, LATER, None, LISTED),
        lambda i: lifecycle.start_response(i, DEPUTY, LATER, "II"),
        lambda i: lifecycle.end_response(i, DEPUTY, LATER, LISTED),
        lambda i: lifecycle.lift_warning(i, DEPUTY, LATER, LISTED),
        lambda i: lifecycle.close(i, DUTY, LATER),
    ]
    for move in moves:
        step = move(current)
        steps.append(step)
        current = replace(current, **step.changes)
    assert [k for s in steps for k in _kinds(s)] == [
        ("confirmed", []),
        ("warning_issued", [NoticeKind.WARNING]),
        ("response_started", [NoticeKind.RESPONSE_START]),
        ("response_ended", [NoticeKind.RESPONSE_END]),
        ("warning_lifted", [NoticeKind.LIFT]),
        ("closed", [NoticeKind.CLOSED]),
    ]
    assert current.status == "closed"
    assert current.warning_scenario == 3
    assert not current.warning_active
    assert not current.response_active


def test_issue_on_a_detected_incident_confirms_it() -> None:
    step = lifecycle.issue_warning(incident(), COMMANDER, LATER, 2, LISTED)
    assert step.changes["status"] == "confirmed"
    assert [e.kind for e in step.events] == ["confirmed", "warning_issued"]


def test_adjusting_an_active_warning_is_an_upgrade() -> None:
    step = lifecycle.issue_warning(WARNED, DEPUTY, LATER, 2, LISTED)
    assert step.changes == {"warning_scenario": 2}
    assert _kinds(step) == [("warning_adjusted", [NoticeKind.UPGRADE])]


def test_commander_escalates_a_running_response() -> None:
    step = lifecycle.start_response(RESPONDING, COMMANDER, LATER, "I")
    assert step.changes["response_starter"] == "commander"
    assert _kinds(step) == [("response_changed", [NoticeKind.RESPONSE_START])]


def test_auto_issued_warning_is_lifted_by_the_commander_only() -> None:
    auto = replace(WARNED, warning_issuer=SYSTEM.id, warning_issuer_name=SYSTEM.name)
    with pytest.raises(RefusedError, match="由总指挥解除"):
        lifecycle.lift_warning(auto, DEPUTY, LATER, LISTED)
    assert lifecycle.lift_warning(auto, COMMANDER, LATER, LISTED).changes == {
        "warning_lifted_at": LATER
    }


def test_opening_proposes_or_auto_issues() -> None:
    fields, events = tracking.open_from_assessment(S3, T0, auto_issue=[])
    assert fields["scenario"] == 3
    assert "warning_issuer" not in fields
    assert [list(e.notices) for e in events] == [
        [NoticeKind.DETECTION, NoticeKind.WARNING_PROPOSAL, NoticeKind.RESPONSE_PROPOSAL]
    ]
    fields, events = tracking.open_from_assessment(S3, T0, auto_issue=[3])
    assert fields["warning_issuer"] == "commwatch"
    assert fields["warning_issued_at"] == T0
    assert [e.kind for e in events] == ["detected", "warning_issued"]
    assert NoticeKind.WARNING_PROPOSAL not in events[0].notices


def test_follow_upgrade_then_nothing_then_restore() -> None:
    step = tracking.follow(incident(), S2, LATER, auto_issue=[])
    assert step is not None
    assert _kinds(step) == [
        (
            "upgraded",
            [NoticeKind.UPGRADE, NoticeKind.WARNING_PROPOSAL, NoticeKind.RESPONSE_PROPOSAL],
        )
    ]
    upgraded = replace(incident(), **step.changes)
    assert tracking.follow(upgraded, S2, LATER, auto_issue=[]) is None
    restored = tracking.restore(replace(upgraded, warning_issued_at=T0), LATER)
    assert restored is not None
    assert _kinds(restored) == [("restored", [NoticeKind.LIFT_PROPOSAL])]
    assert restored.changes == {"restored_at": LATER}


def test_follow_material_change_is_a_follow_up() -> None:
    wider = replace(S3, streets=("东街街道办事处",), reasons=("另一句话",))
    step = tracking.follow(incident(), wider, LATER, auto_issue=[])
    assert step is not None
    assert _kinds(step) == [("assessment_changed", [NoticeKind.FOLLOW_UP])]
    only_reasons = replace(S3, reasons=("措辞不同",))
    assert tracking.follow(incident(), only_reasons, LATER, auto_issue=[]) is None


def test_system_adjusts_only_its_own_warning_within_auto_issue() -> None:
    auto = replace(WARNED, warning_issuer=SYSTEM.id)
    step = tracking.follow(auto, S2, LATER, auto_issue=[2, 3])
    assert step is not None
    assert step.changes["warning_scenario"] == 2
    step = tracking.follow(WARNED, S2, LATER, auto_issue=[2, 3])
    assert step is not None
    assert "warning_scenario" not in step.changes
    assert NoticeKind.WARNING_PROPOSAL in step.events[0].notices


@pytest.mark.parametrize(
    ("latest", "now", "expected"),
    [
        (FALSE_ALARM, S3, True),
        (FALSE_ALARM, S2, False),
        (replace(FALSE_ALARM, restored_at=T0), S3, False),
        (incident(), S3, False),
        (None, S3, False),
    ],
    ids=["same outage", "worse outage", "cleared since", "still open", "none"],
)
def test_dismissed_outage_is_not_reopened(
    latest: Incident | None, now: Assessment, expected: bool
) -> None:
    assert tracking.dismissed_outage_continues(latest, now) is expected


@pytest.mark.parametrize(
    ("minutes", "on_time"),
    [(29, True), (30, True), (31, False)],
    ids=["within", "at-the-deadline", "late"],
)
def test_report_submission_records_minutes_and_deadline(minutes: int, on_time: bool) -> None:
    """§4.1: the written report within 30 minutes; the step says whether it was."""
    now = T0 + timedelta(minutes=minutes)
    step = lifecycle.submit_report(WARNED, DUTY, now, timedelta(minutes=30), "已报区委办")
    assert step.changes == {"report_submitted_at": now}
    (event,) = step.events
    assert (event.kind, event.note, dict(event.data)) == (
        "report_submitted",
        "已报区委办",
        {"minutes": float(minutes), "on_time": on_time},
    )


def test_report_is_submitted_once() -> None:
    done = replace(WARNED, report_submitted_at=LATER)
    with pytest.raises(RefusedError, match="书面报告已于"):
        lifecycle.submit_report(done, DUTY, LATER, timedelta(minutes=30))
