"""Who receives a notice, on which channel, at which address: `route(request, config)`.

Routing is configuration (`[[dispatch.route]]` in commwatch.toml, with the
shipped defaults in `monitor.config.notifiers.DEFAULT_ROUTES`). A rule matches
a notice on kind, scenario, level, operators and streets concerned; it names
recipients (units, people by id or role, working groups, the HQ office, the
operators/units/streets concerned, all member units, the warning's issuer or
the response's starter, the working group a notice is addressed to, the
offices of the 区委 and the 区政府) and channels. Each recipient's addresses come from
contacts.toml; only SMS-capable mobiles get SMS — landline duty phones never.

With `fallback = true` a recipient gets only its first channel that has an
address (stage 0); the next channel (stage 1, …) is used when every delivery of
the stage before failed. Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dispatch.fate import ChannelRoute, channel_routes, down_systems
from dispatch.numbers import sms_addresses, voice_address
from dispatch.registry import channel_of
from dispatch.route_rules import rules_for
from monitor.config import Config
from monitor.config.names import INCIDENT_SITE
from monitor.incidents.authority import COMMANDER, DUTY_OFFICER, OFFICE_HEAD, SYSTEM_ID
from monitor.incidents.notices import NoticeKind, NoticeRequest

if TYPE_CHECKING:
    from monitor.config.contacts import PersonConfig, UnitConfig
    from monitor.config.notifiers import RouteConfig

__all__ = ["NoticeFacts", "Recipient", "Target", "facts_of", "route", "rules_for"]

_WARNING_KINDS = (NoticeKind.WARNING, NoticeKind.LIFT)
_RESPONSE_KINDS = (NoticeKind.RESPONSE_START, NoticeKind.RESPONSE_END)


@dataclass(frozen=True)
class Recipient:
    """A unit or a person with the addresses notices can reach."""

    key: str  # "unit:区工信局" or "person:commander"
    label: str
    emails: tuple[str, ...] = ()
    mobiles: tuple[str, ...] = ()  # SMS gateway addresses (mobiles only)
    phone: str | None = None  # the number a voice notice rings (a unit's duty line first)
    fax: str | None = None

    def addresses(self, channel: str) -> tuple[str, ...]:
        """This recipient's addresses on a channel ("robot": one, the mobiles to @-mention)."""
        if channel == "robot":
            return (",".join(self.mobiles),) if self.mobiles else ()
        if channel == "voice":
            return (self.phone,) if self.phone else ()
        if channel == "fax":
            return (self.fax,) if self.fax else ()
        return self.emails if channel == "email" else self.mobiles if channel == "sms" else ()


@dataclass(frozen=True)
class Target:
    """One planned delivery: a recipient's address on a channel, at a fallback stage."""

    recipient_key: str
    recipient: str
    channel: str
    address: str
    stage: int = 0
    notifier: str | None = None  # chosen for fate-sharing; None: whoever carries the channel
    skipped: tuple[ChannelRoute, ...] = ()  # channels and notifiers avoided on the way here
    via: ChannelRoute | None = None


@dataclass(frozen=True)
class NoticeFacts:
    """What rules match on, read from a NoticeRequest."""

    kind: str
    scenario: int | None = None
    level: str | None = None
    operator_units: tuple[str, ...] = ()
    system_units: tuple[str, ...] = ()
    streets: tuple[str, ...] = ()
    issuer: str | None = None
    starter: str | None = None
    target: str | None = None  # the addressee of a fanned-out notice (a working group)


@dataclass
class _Plan:
    recipient: Recipient
    channels: list[str] = field(default_factory=list)
    fallback: bool = True


def facts_of(request: NoticeRequest, config: Config) -> NoticeFacts:
    """The routing facts of a request: its kind and the situation it announces."""
    context: Mapping[str, Any] = request.context
    assessment = request.assessment
    scenario = context.get("warning_scenario") if request.kind in _WARNING_KINDS else None
    if scenario is None:
        scenario = assessment.scenario if assessment else context.get("scenario")
    level = context.get("response_level") if request.kind in _RESPONSE_KINDS else None
    if level is None:
        level = assessment.level if assessment else context.get("level")
    operators: list[str] = []
    owners: list[str] = []
    if assessment is not None:
        nets, keys = assessment.operator_networks, assessment.key_systems
        if request.kind == NoticeKind.PARTIAL:  # the partial systems' own units
            kinds = {s: config.systems[s].kind for s in assessment.partial_systems}
            nets = tuple(s for s, k in kinds.items() if k == "operator")
            keys = tuple(s for s, k in kinds.items() if k == "key_system")
        operators = _units_of(config, nets)
        owners = _units_of(config, keys)
    return NoticeFacts(
        kind=str(request.kind),
        scenario=scenario,
        level=level,
        operator_units=tuple(operators),
        system_units=tuple(owners),
        streets=tuple(assessment.streets) if assessment else (),
        issuer=context.get("issuer"),
        starter=context.get("starter"),
        target=context.get("target"),
    )


def route(request: NoticeRequest, config: Config) -> list[Target]:
    """Every delivery a notice needs, in rule order, one per (channel, address).

    Notifiers that depend on a system the notice's assessment has down are
    avoided (dispatch.fate); a channel with no other notifier is skipped.
    A drill notice (§6.1) goes only to the drill's recipients, whatever the rules say.
    """
    facts = facts_of(request, config)
    notifiers = config.daemon.notifier
    down = down_systems(config, request.assessment)
    routes = channel_routes(notifiers, {n.name: channel_of(n) for n in notifiers}, down)
    plans: dict[str, _Plan] = {}
    for rule in rules_for(request, config):
        if not matches(rule, facts):
            continue
        for recipient in recipients_of(rule, facts, config):
            plan = plans.setdefault(recipient.key, _Plan(recipient))
            plan.channels += [c for c in rule.channels if c not in plan.channels]
            plan.fallback = plan.fallback and rule.fallback
    return _targets(plans.values(), routes)


def matches(rule: RouteConfig, facts: NoticeFacts) -> bool:
    """True when every non-empty condition of the rule holds for the notice."""
    if rule.kinds and facts.kind not in rule.kinds:
        return False
    if rule.scenarios and facts.scenario not in rule.scenarios:
        return False
    if rule.levels and facts.level not in rule.levels:
        return False
    if rule.operators and not set(rule.operators) & set(facts.operator_units):
        return False
    return not rule.streets or bool(set(rule.streets) & set(facts.streets))


def recipients_of(rule: RouteConfig, facts: NoticeFacts, config: Config) -> list[Recipient]:
    """The units and people a matching rule names, resolved for this notice."""
    units: list[str] = []
    people: list[PersonConfig] = []
    if rule.hq_office:
        units.append(config.contacts.hq.office_unit)
        people += _with_roles(config, (OFFICE_HEAD, DUTY_OFFICER))
    people += _with_roles(config, rule.roles)
    people += [config.people[p] for p in rule.people if p in config.people]
    if rule.issuer:
        people += _actor(config, facts.issuer)
    if rule.starter:
        people += _actor(config, facts.starter)
    units += _expand(rule.units, facts)
    for group in config.contacts.working_group:
        if group.name in rule.working_groups or (rule.target_group and group.name == facts.target):
            units += _expand([group.lead, *group.members], facts)
    if rule.district_committee:
        units.append(config.contacts.hq.party_office)
    if rule.district_government:
        units.append(config.contacts.hq.government_office)
    if rule.concerned_operators:
        units += facts.operator_units
    if rule.concerned_units:
        units += facts.system_units
    if rule.concerned_streets:
        units += facts.streets
    if rule.member_units:
        units += [u.name for u in config.contacts.unit if u.member and u.kind != "street"]
        units += facts.streets
    found = [unit_recipient(config.units[n]) for n in dict.fromkeys(units) if n in config.units]
    unique = {p.id: p for p in people}
    return found + [person_recipient(p) for p in unique.values()]


def unit_recipient(unit: UnitConfig) -> Recipient:
    """A unit as a recipient: its mailboxes and its SMS-capable mobiles."""
    numbers = [unit.duty_phone, *unit.mobiles] if unit.duty_phone else unit.mobiles
    return Recipient(
        f"unit:{unit.name}",
        unit.name,
        tuple(unit.emails),
        sms_addresses(unit.mobiles),
        _first_voice(numbers),
        voice_address(unit.fax) if unit.fax else None,
    )


def person_recipient(person: PersonConfig) -> Recipient:
    """A person as a recipient, labelled with title or roles."""
    role = person.title or "、".join(person.roles)
    if not role or role == person.name:
        label = person.name
    elif role.startswith(person.name):  # a name that is the post: "区工信局局长（兼…）"
        label = role
    else:
        label = f"{person.name}（{role}）"
    return Recipient(
        f"person:{person.id}",
        label,
        tuple(person.emails),
        sms_addresses(person.mobiles),
        _first_voice(person.mobiles),
    )


def _first_voice(numbers: Iterable[str]) -> str | None:
    return next((a for a in map(voice_address, numbers) if a is not None), None)


def _targets(plans: Iterable[_Plan], routes: Mapping[str, ChannelRoute]) -> list[Target]:
    targets: list[Target] = []
    taken: set[tuple[str, str]] = set()
    for plan in plans:
        recipient = plan.recipient
        stage = 0
        skipped: list[ChannelRoute] = []
        for channel in plan.channels:
            way = routes.get(channel, ChannelRoute(channel, None))
            if not way.usable:
                skipped.append(way)
                continue
            fresh = [a for a in recipient.addresses(channel) if (channel, a) not in taken]
            if not fresh:
                continue
            for address in fresh:
                taken.add((channel, address))
                targets.append(
                    Target(
                        recipient.key,
                        recipient.label,
                        channel,
                        address,
                        stage,
                        way.notifier,
                        tuple(skipped),
                        way,
                    )
                )
            if plan.fallback:
                stage += 1
    return targets


def _units_of(config: Config, systems: Iterable[str]) -> list[str]:
    by_name = {s.name: s for s in config.inventory.system}
    found = [config.systems.get(ref) or by_name.get(ref) for ref in systems]
    return list(dict.fromkeys(s.unit for s in found if s is not None))


def _with_roles(config: Config, roles: Iterable[str]) -> list[PersonConfig]:
    wanted = set(roles)
    return [p for p in config.contacts.person if wanted & set(p.roles)]


def _actor(config: Config, person_id: str | None) -> list[PersonConfig]:
    """The issuer/starter; a system-issued warning is answered by the 总指挥."""
    if person_id is None:
        return []
    if person_id in config.people:
        return [config.people[person_id]]
    if person_id == SYSTEM_ID:
        return _with_roles(config, (COMMANDER,))
    return []


def _expand(names: Iterable[str], facts: NoticeFacts) -> list[str]:
    out: list[str] = []
    for name in names:
        out += list(facts.streets) if name == INCIDENT_SITE else [name]
    return out
