"""Pure lifecycle and tracking transitions: legal moves, refused moves, notices named."""

from __future__ import annotations

import re
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
LISTED = {
    "commander": frozenset({"总指挥"}),
    "deputy": frozenset({"副总指挥"}),
    "duty": frozenset({"值班员"}),
}

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
RESTORED_WARNED = replace(WARNED, restored_at=LATER)
BY_COMMANDER = replace(WARNED, warning_issuer="commander", warning_issuer_name="总指挥甲")
LEVEL_ONE = replace(
    WARNED,
    response_level="I",
    response_starter="commander",
    response_starter_name="总指挥甲",
    response_started_at=T0,
)
AUTHORISED = Actor("deputy", "副总指挥乙", frozenset({"副总指挥"}), authorised_level_one=True)
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
        "§3.5 (4) a deputy adjusts the commander's warning",
        BY_COMMANDER,
        lambda i: lifecycle.issue_warning(i, DEPUTY, LATER, 2, LISTED),
        "只能由总指挥调整（§3.5 (4)",
    ),
    (
        "§4.2 response on an unconfirmed incident",
        incident(),
        lambda i: lifecycle.start_response(i, DEPUTY, LATER, "II", roster=LISTED),
        "须先确认",
    ),
    (
        "§4.6 a deputy overrides the commander's Ⅰ级 by starting Ⅱ级",
        LEVEL_ONE,
        lambda i: lifecycle.start_response(i, DEPUTY, LATER, "II", roster=LISTED),
        "§4.6 谁启动谁结束",
    ),
    (
        "§4.6 a deputy ends the commander's Ⅰ级",
        LEVEL_ONE,
        lambda i: lifecycle.end_response(i, DEPUTY, LATER, LISTED),
        "§4.6 谁启动谁结束",
    ),
    (
        "§3.6 lift while the monitor still sees the outage",
        WARNED,
        lambda i: lifecycle.lift_warning(i, DEPUTY, LATER, LISTED),
        "§3.6 处置结束且通信网络恢复",
    ),
    (
        "§3.6 a deputy cannot decide for the HQ to lift early",
        WARNED,
        lambda i: lifecycle.lift_warning(i, DEPUTY, LATER, LISTED, hq_decision="上级要求"),
        "须由总指挥记录指挥部的决定",
    ),
    (
        "§3.6 close while the outage goes on",
        replace(WARNED, warning_lifted_at=LATER),
        lambda i: lifecycle.close(i, DUTY, LATER),
        "监测仍见中断",
    ),
    (
        "§3.6 close a reported incident before recovery is recorded",
        incident(source="public", status="confirmed"),
        lambda i: lifecycle.close(i, DUTY, LATER),
        "incident restored",
    ),
    (
        "§4.2 (2) transfer a confirmed incident whose outage goes on",
        incident(status="confirmed"),
        lambda i: lifecycle.transfer(i, DUTY, LATER, "区公安分局"),
        "脱离跟踪",
    ),
    (
        "§4.2 (2) false alarm on a confirmed incident whose outage goes on",
        incident(status="confirmed"),
        lambda i: lifecycle.false_alarm(i, DUTY, LATER),
        "§4.2 (2)",
    ),
    (
        "§3.6 the monitor's own incident is restored by the monitor",
        incident(status="confirmed"),
        lambda i: lifecycle.record_restored(i, DUTY, LATER, "运营商回告"),
        "由监测系统判定",
    ),
    (
        "lift by another person",
        RESTORED_WARNED,
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
    assert caught.value.clause == "" or caught.value.clause in str(caught.value)


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
        lambda i: Step({"restored_at": LATER}, ()),  # the monitor saw recovery
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
    assert step.changes == {
        "warning_scenario": 2,
        "warning_issuer": "deputy",
        "warning_issuer_name": "副总指挥乙",
    }
    assert _kinds(step) == [("warning_adjusted", [NoticeKind.UPGRADE])]
    assert step.events[0].data["from"] == 3
    assert step.events[0].data["to"] == 2


def test_commander_raises_a_deputy_warning_and_becomes_its_issuer() -> None:
    """§3.5 (4): adjusting is the HQ's; §3.6: whoever issued the warning in force lifts it."""
    step = lifecycle.issue_warning(WARNED, COMMANDER, LATER, 1, LISTED)
    assert step.changes["warning_issuer"] == "commander"
    assert step.events[0].data["previous_issuer"] == "副总指挥乙"
    raised = replace(WARNED, restored_at=LATER, **step.changes)
    with pytest.raises(RefusedError, match=re.escape("§3.6 谁发布谁解除")):
        lifecycle.lift_warning(raised, DEPUTY, LATER, LISTED)
    assert lifecycle.lift_warning(raised, COMMANDER, LATER, LISTED).changes


def test_commander_records_the_hq_decision_to_lift_before_recovery() -> None:
    """§3.6: before recovery only by the HQ's decision, recorded by the 总指挥 with a reason."""
    step = lifecycle.lift_warning(
        BY_COMMANDER, COMMANDER, LATER, LISTED, hq_decision="上级指挥机构接管"
    )
    assert step.events[0].data["hq_decision"] == "上级指挥机构接管"
    assert step.events[0].data["restored"] is False
    closed = lifecycle.close(
        replace(BY_COMMANDER, warning_lifted_at=LATER), COMMANDER, LATER, hq_decision="同上"
    )
    assert closed.events[0].data == {"hq_decision": "同上"}


def test_authorised_deputy_starts_level_one_recorded_as_such() -> None:
    """§4.3.1 (2): Ⅰ级 by the 总指挥 or a deputy with a 授权, recorded as authorised."""
    step = lifecycle.start_response(WARNED, AUTHORISED, LATER, "I", roster=LISTED)
    assert step.events[0].data["authorised"] is True
    assert "经总指挥授权" in step.events[0].note
    with pytest.raises(RefusedError, match=r"§4\.3\.1 \(2\)"):
        lifecycle.start_response(WARNED, DEPUTY, LATER, "I", roster=LISTED)


def test_reported_incident_recovery_is_attested_by_a_person() -> None:
    reported = incident(source="public", status="confirmed", assessment=None)
    step = lifecycle.record_restored(reported, DUTY, LATER, "移动回告已恢复")
    assert step.changes == {"restored_at": LATER}
    assert lifecycle.close(replace(reported, **step.changes), DUTY, LATER).changes["status"] == (
        "closed"
    )


def test_commander_escalates_a_running_response() -> None:
    step = lifecycle.start_response(RESPONDING, COMMANDER, LATER, "I")
    assert step.changes["response_starter"] == "commander"
    assert _kinds(step) == [("response_changed", [NoticeKind.RESPONSE_START])]


def test_auto_issued_warning_is_lifted_by_the_commander_only() -> None:
    auto = replace(WARNED, warning_issuer=SYSTEM.id, warning_issuer_name=SYSTEM.name)
    with pytest.raises(RefusedError, match="由总指挥解除"):
        lifecycle.lift_warning(auto, DEPUTY, LATER, LISTED)
    auto = replace(auto, restored_at=LATER)
    assert lifecycle.lift_warning(auto, COMMANDER, LATER, LISTED).changes == {
        "warning_lifted_at": LATER
    }


def test_opening_proposes_or_auto_issues() -> None:
    fields, events = tracking.open_from_assessment(S3, T0, auto_issue=[])
    assert fields["scenario"] == 3
    assert "warning_issuer" not in fields
    assert [list(e.notices) for e in events] == [
        [
            NoticeKind.DETECTION,
            NoticeKind.FIRST_ACTION,  # §4.4: the operator concerned acts at once
            NoticeKind.WARNING_PROPOSAL,
            NoticeKind.RESPONSE_PROPOSAL,
        ]
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
