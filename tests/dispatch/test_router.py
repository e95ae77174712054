"""Routing on the shipped config and rules: who gets which notice, on which channel (pure)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from dispatch.contact_check import contact_warnings
from dispatch.numbers import classify
from dispatch.registry import NOTIFIERS
from dispatch.router import Target, route
from monitor.config import Config, ConfigError, load_config
from monitor.config.contacts import ContactsConfig, HqConfig, PersonConfig, UnitConfig
from monitor.config.notifiers import DEFAULT_ROUTES, NOTIFIER_TYPES, RouteConfig
from monitor.incidents.notices import NoticeKind
from monitor.plan.assessment import Assessment
from tests.dispatch.support import (
    ONE_OPERATOR,
    SHIPPED,
    TWO_OPERATORS,
    base_toml,
    request,
    write_config,
)

OFFICE = [
    ("unit:区工信局", "email", "gxj@example.org", 0),
    ("unit:区工信局", "sms", "13800000010", 0),
    ("person:deputy-miit", "email", "director@example.org", 0),
    ("person:deputy-miit", "sms", "13800000003", 0),
    ("person:duty-officer", "email", "duty@example.org", 0),
    ("person:duty-officer", "sms", "13800000004", 0),
]
LEADERS = [
    ("person:commander", "email", "commander@example.org", 0),
    ("person:commander", "sms", "13800000001", 0),
    ("person:deputy-govoffice", "email", "deputy-govoffice@example.org", 0),
    ("person:deputy-govoffice", "sms", "13800000002", 0),
]
CMCC = [
    ("unit:移动城区分公司", "email", "noc-cmcc@example.org", 0),
    ("unit:移动城区分公司", "sms", "13800000020", 0),
]
DONGJIE = [("unit:东街街道办事处", "email", "dj@example.org", 0)]


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(SHIPPED)


def plan(
    config: Config, kind: NoticeKind, assessment: Assessment | None, **context: Any
) -> list[tuple[str, str, str, int]]:
    targets = route(request(kind, "k", assessment, 1, **context), config)
    return [(t.recipient_key, t.channel, t.address, t.stage) for t in targets]


@pytest.mark.parametrize(
    ("kind", "assessment", "context", "expected"),
    [
        (NoticeKind.DETECTION, ONE_OPERATOR, {}, OFFICE),
        (NoticeKind.CLOSED, ONE_OPERATOR, {}, OFFICE),
        (NoticeKind.BRIEF_REPORT, ONE_OPERATOR, {}, OFFICE),
        (NoticeKind.REPORT_REMINDER, ONE_OPERATOR, {}, OFFICE),
        (NoticeKind.WARNING_PROPOSAL, ONE_OPERATOR, {}, OFFICE + LEADERS),
        (NoticeKind.REPORT_OVERDUE, ONE_OPERATOR, {}, OFFICE + LEADERS),
        (NoticeKind.WARNING, ONE_OPERATOR, {"warning_scenario": 3}, OFFICE + CMCC + DONGJIE),
        (NoticeKind.FOLLOW_UP, ONE_OPERATOR, {}, OFFICE + CMCC + DONGJIE),
        (NoticeKind.LIFT, ONE_OPERATOR, {"warning_scenario": 3}, OFFICE + CMCC + DONGJIE),
        (
            NoticeKind.LIFT_PROPOSAL,
            ONE_OPERATOR,
            {"issuer": "deputy-govoffice"},
            OFFICE + LEADERS,
        ),
        (NoticeKind.LIFT_PROPOSAL, None, {"issuer": "commwatch"}, OFFICE + LEADERS),
        (NoticeKind.FOLLOW_UP, None, {}, OFFICE),  # a report from source 2–4: nothing concerned
    ],
    ids=[
        "detection-office-only",
        "closed",
        "brief-report",
        "reminder",
        "warning-proposal-to-leaders",
        "overdue-escalates",
        "warning-operator-street",
        "follow-up",
        "lift",
        "lift-proposal-issuer",
        "lift-proposal-auto-issued",
        "follow-up-no-assessment",
    ],
)
def test_route(
    config: Config, kind: NoticeKind, assessment: Assessment | None, context: dict, expected: list
) -> None:
    assert plan(config, kind, assessment, **context) == expected


def test_lift_proposal_goes_to_a_non_leader_issuer(config: Config) -> None:
    got = plan(config, NoticeKind.LIFT_PROPOSAL, ONE_OPERATOR, issuer="duty-officer")
    assert got == OFFICE + LEADERS  # the duty officer is in the office: once per address


def test_scenario1_warning_reaches_every_member_unit(config: Config) -> None:
    scenario1 = dataclasses.replace(TWO_OPERATORS, scenario=1)
    got = plan(config, NoticeKind.WARNING, scenario1, warning_scenario=1)
    units = {key for key, *_ in got if key.startswith("unit:")}
    members = {f"unit:{u.name}" for u in config.contacts.unit if u.member and u.kind != "street"}
    assert members <= units
    assert "unit:区委办公室" not in units  # annex liaison, not a §2.1 member
    assert {"unit:东街街道办事处", "unit:西街街道办事处"} <= units
    assert "unit:南街街道办事处" not in units  # streets not concerned
    # 铁塔 is a member but not concerned: email first, SMS only if email fails.
    assert ("unit:铁塔城区分公司", "email", "noc-tower@example.org", 0) in got
    assert ("unit:铁塔城区分公司", "sms", "13800000022", 1) in got
    # 移动 is concerned (a rule without fallback): both channels at once.
    assert ("unit:移动城区分公司", "sms", "13800000020", 0) in got


def test_scenario2_warning_does_not_reach_every_member(config: Config) -> None:
    got = plan(config, NoticeKind.WARNING, TWO_OPERATORS, warning_scenario=2)
    assert not any(key == "unit:区财政局" for key, *_ in got)


@pytest.mark.parametrize("level", ["I", "II"])
def test_response_start_reaches_member_units(config: Config, level: str) -> None:
    got = plan(
        config, NoticeKind.RESPONSE_START, ONE_OPERATOR, response_level=level, starter="commander"
    )
    assert ("unit:区应急局", "email", "yjj@example.org", 0) in got


@pytest.mark.parametrize("kind", list(NoticeKind), ids=str)
def test_landlines_never_get_sms(config: Config, kind: NoticeKind) -> None:
    scenario1 = dataclasses.replace(TWO_OPERATORS, scenario=1, level="I")
    context = {"warning_scenario": 1, "response_level": "I", "issuer": "commwatch"}
    for target in route(request(kind, "k", scenario1, 1, **context), config):
        if target.channel == "sms":
            assert classify(target.address).sms_capable, target
    duty_phones = {u.duty_phone for u in config.contacts.unit if u.duty_phone}
    addresses = {t.address for t in route(request(kind, "k", scenario1, 1, **context), config)}
    assert not duty_phones & addresses


def test_same_address_is_routed_once(config: Config) -> None:
    shared = dataclasses.replace(
        config,
        contacts=config.contacts.model_copy(
            update={
                "person": [
                    p.model_copy(update={"emails": ["gxj@example.org"]})
                    if p.id == "duty-officer"
                    else p
                    for p in config.contacts.person
                ]
            }
        ),
    )
    got = plan(shared, NoticeKind.DETECTION, ONE_OPERATOR)
    assert [a for _, c, a, _ in got if c == "email"].count("gxj@example.org") == 1


def test_shipped_routes_are_the_defaults(config: Config) -> None:
    assert config.daemon.dispatch.route == DEFAULT_ROUTES


def _contacts_config(config: Config) -> Config:
    contacts = ContactsConfig(
        hq=HqConfig(office_unit="区工信局"),
        unit=[
            UnitConfig(
                name="区工信局",
                duty_phone="0356-2039294",
                emails=["gxj@example.org"],
                mobiles=["13800000010"],
            ),
            UnitConfig(
                name="区财政局",
                duty_phone="0356-3055481",
                emails=["czj@example.org"],
                mobiles=["0356-3055482"],
            ),
            UnitConfig(name="东街街道办事处", kind="street", duty_phone="12345"),
        ],
        person=[PersonConfig(id="nobody", name="无联系方式", unit="区工信局", roles=["值班员"])],
    )
    daemon = config.daemon.model_copy(update={"notifier": []})
    return dataclasses.replace(config, contacts=contacts, daemon=daemon)


def test_contact_warnings(config: Config) -> None:
    assert contact_warnings(_contacts_config(config)) == [
        "contacts.toml: unit[1](区财政局).mobiles[0]: '0356-3055482' is a landline (never sent SMS; shown as a call-back number)",
        "contacts.toml: unit[2](东街街道办事处).duty_phone: '12345' is not a valid telephone number",
        "contacts.toml: 2 units have no SMS-capable number (email only; duty phones are landlines: never texted, phoned via call tasks): 区财政局（值班电话0356-3055481）、东街街道办事处（值班电话12345）",
        "contacts.toml: 1 units have no email: 东街街道办事处",
        "contacts.toml: person nobody (无联系方式) has neither email nor an SMS-capable mobile",
        "commwatch.toml: no [[notifier]] for the email channel (email): email notices are written to the built-in outbox directory ${STATE_DIRECTORY:-var}/outbox, not sent",
        "commwatch.toml: no [[notifier]] for the sms channel (sms_http | sms_smpp | aliyun_sms | tencent_sms): sms notices are written to the built-in outbox directory ${STATE_DIRECTORY:-var}/outbox, not sent",
        "commwatch.toml: [receiver] is off: 收到 can only be recorded with `commwatch notice ack` (no SMS replies, no email links), so escalation chains run on until someone does",
    ]


def test_target_is_plain_data() -> None:
    assert Target("unit:x", "x", "email", "a@b", 0) == Target("unit:x", "x", "email", "a@b")


def _with_routes(config: Config, *routes: RouteConfig) -> Config:
    dispatch = config.daemon.dispatch.model_copy(update={"route": list(routes)})
    return dataclasses.replace(
        config, daemon=config.daemon.model_copy(update={"dispatch": dispatch})
    )


def test_working_group_with_the_incident_site(config: Config) -> None:
    repair = _with_routes(
        config,
        RouteConfig(
            name="现场抢修组",
            kinds=["response_start"],
            working_groups=["现场抢修组"],
            channels=["email"],
        ),
    )
    got = plan(repair, NoticeKind.RESPONSE_START, TWO_OPERATORS, response_level="I")
    assert [key for key, *_ in got] == [
        "unit:区工信局", "unit:移动城区分公司", "unit:联通城区分公司", "unit:铁塔城区分公司",
        "unit:东街街道办事处", "unit:西街街道办事处",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("route", "matches"),
    [
        (RouteConfig(name="r", levels=["I"], units=["区应急局"]), True),
        (RouteConfig(name="r", levels=["II"], units=["区应急局"]), False),
        (RouteConfig(name="r", operators=["联通城区分公司"], units=["区应急局"]), True),
        (RouteConfig(name="r", operators=["铁塔城区分公司"], units=["区应急局"]), False),
        (RouteConfig(name="r", streets=["西街街道办事处"], units=["区应急局"]), True),
        (RouteConfig(name="r", scenarios=[1], units=["区应急局"]), False),
    ],
    ids=["level", "other-level", "operator", "other-operator", "street", "other-scenario"],
)
def test_conditions(config: Config, route: RouteConfig, matches: bool) -> None:
    got = plan(_with_routes(config, route), NoticeKind.FOLLOW_UP, TWO_OPERATORS)
    assert bool(got) is matches


def test_dangling_route_names_are_config_errors(tmp_path: Path) -> None:
    route = '[[dispatch.route]]\nname = "坏"\nunits = ["区工信厅"]\npeople = ["ghost"]\n'
    write_config(tmp_path, base_toml(tmp_path / "cw.db", route))
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert [str(p).split(" (known")[0] for p in caught.value.problems] == [
        "commwatch.toml: dispatch.route[0](坏).units[0]: unknown unit",
        "commwatch.toml: dispatch.route[0](坏).people[0]: unknown person",
    ]


def test_every_configurable_notifier_type_has_a_plugin() -> None:
    assert set(NOTIFIERS) == set(NOTIFIER_TYPES)


def recipients(
    config: Config, kind: NoticeKind, assessment: Assessment | None, **ctx: Any
) -> set[str]:
    return {t.recipient_key for t in route(request(kind, "k", assessment, 1, **ctx), config)}


@pytest.mark.parametrize(
    ("case", "kind", "context", "wanted", "unwanted"),
    [
        ("§4.3.2 (3)① Ⅱ级 start is reported to 区委、区政府", NoticeKind.RESPONSE_START,
         {"response_level": "II"}, {"unit:区委办公室", "unit:区政府办公室", "unit:区交通局"}, set()),
        ("§4.3.1 (2) a Ⅰ级 proposal goes to 区政府 and every member unit", NoticeKind.RESPONSE_PROPOSAL,
         {"level": "I"}, {"unit:区政府办公室", "unit:区交通局"}, {"unit:区委办公室"}),
        ("§4.3.2 (2) a Ⅱ级 proposal goes to every member unit, not to 区政府", NoticeKind.RESPONSE_PROPOSAL,
         {}, {"unit:区交通局"}, {"unit:区政府办公室"}),
        ("§2.4 现场抢修组 gets its own tasks", NoticeKind.GROUP_TASKS, {"target": "现场抢修组"},
         {"unit:区工信局", "unit:移动城区分公司", "unit:铁塔城区分公司", "unit:东街街道办事处"},
         {"unit:区公安分局", "unit:区委宣传部（区委网信办）"}),
        ("§2.4 治安通行组 gets its own tasks", NoticeKind.GROUP_TASKS, {"target": "治安通行组"},
         {"unit:区公安分局", "unit:区交通局"}, {"unit:移动城区分公司"}),
        ("§4.4 the operator concerned acts first", NoticeKind.FIRST_ACTION, {},
         {"unit:移动城区分公司", "unit:东街街道办事处"}, {"unit:联通城区分公司", "unit:区交通局"}),
        ("§4.5 the draft statement goes to 新闻宣传组", NoticeKind.PUBLIC_STATEMENT,
         {"target": "新闻宣传组"}, {"unit:区委宣传部（区委网信办）", "unit:区融媒体中心"},
         {"unit:移动城区分公司", "unit:区交通局"}),
    ],
)  # fmt: skip
def test_routes_follow_the_plan(
    config: Config,
    case: str,
    kind: NoticeKind,
    context: dict[str, Any],
    wanted: set[str],
    unwanted: set[str],
) -> None:
    assessment = TWO_OPERATORS if context.get("level") == "I" else ONE_OPERATOR
    got = recipients(config, kind, assessment, **context)
    if kind == NoticeKind.RESPONSE_PROPOSAL:  # the HQ office and leaders first, as before
        first = plan(config, kind, assessment, **context)[: len(OFFICE + LEADERS)]
        assert first == OFFICE + LEADERS
    assert wanted <= got, case
    assert not unwanted & got, case


def test_a_response_start_fans_out_to_every_working_group() -> None:
    from datetime import UTC, datetime

    from monitor.incidents import lifecycle
    from monitor.incidents.authority import Actor
    from monitor.incidents.lifecycle import Incident

    deputy = Actor("deputy", "乙", frozenset({"副总指挥"}))
    confirmed = Incident(1, "confirmed", "public", "t", *(datetime(2026, 12, 1, tzinfo=UTC),) * 3)
    groups = tuple(g.name for g in load_config(SHIPPED).contacts.working_group)
    step = lifecycle.start_response(confirmed, deputy, confirmed.opened_at, "II", groups=groups)
    fanout = step.events[0].fanout
    assert fanout[NoticeKind.GROUP_TASKS] == groups
    assert len(groups) == 7
    assert fanout[NoticeKind.PUBLIC_STATEMENT] == ("新闻宣传组",)
