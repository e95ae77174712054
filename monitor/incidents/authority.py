"""Who may do what to an incident, by office: the plan's authority rules, as pure functions.

Roles come from contacts.toml (`[[person]] roles`, `authorised_level_one`).
Every refusal is a `RefusedError` carrying the clause it applies. The rules:

- Confirm, mark a false alarm (误报), transfer an unrelated event, close,
  annotate, report information: anyone on the duty list who holds a role
  (值班员 and up), §4.2 (2) ②③ "值班人员".
- Issue a warning: the HQ, i.e. the 总指挥 or a 副总指挥 — §3.4 "区通信网络指挥部
  根据规定权限或授权发布预警信息". The 办公室主任 *as such* may not: the office
  (§2.2) analyses and proposes (§4.2 (4)); the HQ decides. A warning issued by
  the system itself (`plan.toml [warning] auto_issue`) has the issuer
  `commwatch`: the HQ authorised it in advance.
- Adjust (raise or lower) a warning: the HQ, §3.5 (4) "适时调整预警级别" — the
  总指挥 or any 副总指挥; only a warning the 总指挥 issued is adjusted by the
  总指挥 alone (a deputy does not override the commander). Whoever adjusts
  issues the warning now in force and becomes its issuer.
- Lift a warning: 谁发布谁解除 (§3.6) — the issuer of the warning in force. An
  auto-issued warning is lifted by the 总指挥 (head of the HQ that authorised
  it); so is a warning whose issuer is no longer on the duty list.
- Start a response: Ⅰ级 only by the 总指挥, or a 副总指挥 with
  `authorised_level_one` (授权, recorded as such) (§4.3.1 (2)); Ⅱ级 by the
  总指挥 or a 副总指挥 (§4.3.2 (2)).
- Re-level a running response: its starter (谁启动谁结束, §4.6), or someone
  entitled to start Ⅰ级 raising a Ⅱ级 to Ⅰ级 — never over a response the
  总指挥 started unless by the 总指挥.
- End a response: 谁启动谁结束 (§4.6) — only the starter; if the starter is
  no longer on the duty list, the 总指挥.
- Decide for the HQ (lift a warning or close before the networks are
  restored, §3.6): the 总指挥, with a reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from monitor.plan.names import level_name

if TYPE_CHECKING:  # annotations only: `status` reads a cached config without pydantic
    from monitor.config.contacts import PersonConfig

COMMANDER = "总指挥"
DEPUTY = "副总指挥"
OFFICE_HEAD = "办公室主任"
DUTY_OFFICER = "值班员"
ROLES = (COMMANDER, DEPUTY, OFFICE_HEAD, DUTY_OFFICER)
HQ_ROLES = frozenset({COMMANDER, DEPUTY})

SYSTEM_ID = "commwatch"

# The clauses refusals name (the CLI prints them; the console returns them).
DUTY_CLAUSE = "§4.2 (2) 值班人员记录和处理"
ISSUE_CLAUSE = "§3.4 预警发布"
ADJUST_CLAUSE = "§3.5 (4) 适时调整预警级别"
LIFT_CLAUSE = "§3.6 谁发布谁解除"
RESTORED_CLAUSE = "§3.6 处置结束且通信网络恢复"
LEVEL_ONE_CLAUSE = "§4.3.1 (2) Ⅰ级由总指挥启动"
LEVEL_TWO_CLAUSE = "§4.3.2 (2) Ⅱ级由总指挥或副总指挥启动"
LEVELS_CLAUSE = "§4.3 分级响应"
END_CLAUSE = "§4.6 谁启动谁结束"
CONFIRM_CLAUSE = "§4.2 (2)(3) 事件确认后方可分析定级"

Roster = Mapping[str, frozenset[str]]  # person id → roles, for everyone on the duty list


class RefusedError(Exception):
    """An action the plan does not allow; `clause` names the rule (CLI exit 2, console 403)."""

    def __init__(self, message: str, clause: str = "") -> None:
        if clause and clause not in message:
            message = f"{message}（{clause}）"
        super().__init__(message)
        self.clause = clause


@dataclass(frozen=True)
class Actor:
    """Who acts: a person from contacts.toml, or the system itself."""

    id: str
    name: str
    roles: frozenset[str] = frozenset()
    is_system: bool = False  # commwatch acting on its own (detections, auto-issued warnings)
    authorised_level_one: bool = False  # a 副总指挥 authorised to start Ⅰ级 (§4.3.1 (2))

    def label(self) -> str:
        """The name as the timeline shows it."""
        return self.name if self.is_system else f"{self.name}（{self.id}）"

    @property
    def office(self) -> str:
        """The office the person acts in, most senior first (facts say who did what by office)."""
        if self.is_system:
            return "监测系统"
        return next((role for role in ROLES if role in self.roles), "")


SYSTEM = Actor(SYSTEM_ID, "commwatch（系统自动）", is_system=True)


def actor_of(person: PersonConfig) -> Actor:
    """The Actor for a contacts.toml person."""
    return Actor(
        person.id,
        person.name,
        frozenset(person.roles),
        authorised_level_one=person.authorised_level_one,
    )


def roster_of(people: Iterable[PersonConfig]) -> dict[str, frozenset[str]]:
    """Everyone on the duty list with their roles."""
    return {p.id: frozenset(p.roles) for p in people}


def resolve_actor(people: Iterable[PersonConfig], text: str) -> Actor:
    """`--by`: a person id, a person's exact name, or a role held by exactly one person."""
    listed = list(people)
    for person in listed:
        if text in (person.id, person.name):
            if person.id == SYSTEM_ID:
                raise RefusedError(
                    f"拒绝：人员编号“{SYSTEM_ID}”留给系统自身，请在 contacts.toml 中改用其他编号"
                )
            return actor_of(person)
    if text in ROLES:
        holders = [p for p in listed if text in p.roles]
        if len(holders) == 1:
            return actor_of(holders[0])
        if not holders:
            raise RefusedError(f"拒绝：值班联络表中没有人担任{text}，请用 --by 指定人员编号")
        who = "、".join(f"{p.name}（{p.id}）" for p in holders)
        raise RefusedError(f"拒绝：{text}不止一人（{who}），请用 --by 指定人员编号")
    known = "、".join(p.id for p in listed) or "（无）"
    raise RefusedError(f"拒绝：值班联络表中没有“{text}”；可用的人员编号：{known}")


def check_duty(actor: Actor, action: str) -> None:
    """Confirm, false alarm, transfer, close, annotate: anyone with a role (§4.2)."""
    if actor.is_system or actor.roles:
        return
    raise RefusedError(
        f"拒绝：{actor.label()}在值班联络表中没有角色，不能{action}"
        "（须为值班员、办公室主任、副总指挥或总指挥）",
        DUTY_CLAUSE,
    )


def check_issue_warning(actor: Actor) -> None:
    """Issuing a warning is the HQ's: 总指挥 or 副总指挥 (§3.4)."""
    if actor.is_system or actor.roles & HQ_ROLES:
        return
    raise RefusedError(
        f"拒绝：预警由区通信网络指挥部根据规定权限或授权发布，须由总指挥或副总指挥发布；"
        f"{actor.label()}的角色为{_roles(actor)}",
        ISSUE_CLAUSE,
    )


def check_adjust_warning(actor: Actor, issuer: str, issuer_name: str, roster: Roster) -> None:
    """Adjusting is the HQ's (§3.5 (4)); the 总指挥's own warning only by the 总指挥."""
    if actor.is_system:
        if issuer == SYSTEM_ID:
            return
        raise RefusedError(
            f"拒绝：本预警由{issuer_name}发布，系统只调整自己自动发布的预警", ADJUST_CLAUSE
        )
    if not actor.roles & HQ_ROLES:
        raise RefusedError(
            f"拒绝：调整预警级别由区通信网络指挥部决定，须由总指挥或副总指挥调整；"
            f"{actor.label()}的角色为{_roles(actor)}",
            ADJUST_CLAUSE,
        )
    if COMMANDER in roster.get(issuer, frozenset()) and COMMANDER not in actor.roles:
        raise RefusedError(
            f"拒绝：本预警由总指挥{issuer_name}发布，只能由总指挥调整", ADJUST_CLAUSE
        )


def check_lift_warning(actor: Actor, issuer: str, issuer_name: str, roster: Roster) -> None:
    """谁发布谁解除 (§3.6); auto-issued or orphaned warnings go to the 总指挥."""
    if issuer == SYSTEM_ID:
        if COMMANDER in actor.roles:
            return
        raise RefusedError("拒绝：系统自动发布的预警（经指挥部授权）由总指挥解除", LIFT_CLAUSE)
    if actor.id == issuer:
        return
    if issuer not in roster and COMMANDER in actor.roles:
        return
    raise RefusedError(f"拒绝：本预警由{issuer_name}发布，只能由其解除", LIFT_CLAUSE)


def check_start_response(actor: Actor, level: str) -> None:
    """Ⅰ级: 总指挥 or an authorised 副总指挥 (§4.3.1); Ⅱ级: 总指挥 or 副总指挥 (§4.3.2)."""
    if level == "I":
        if may_start_level_one(actor):
            return
        raise RefusedError(
            "拒绝：Ⅰ级响应只能由总指挥（或经总指挥授权的副总指挥）启动", LEVEL_ONE_CLAUSE
        )
    if level == "II":
        if actor.roles & HQ_ROLES:
            return
        raise RefusedError("拒绝：Ⅱ级响应由总指挥或副总指挥启动", LEVEL_TWO_CLAUSE)
    raise RefusedError(f"拒绝：响应级别只有 I、II 两级，不是“{level}”", LEVELS_CLAUSE)


def may_start_level_one(actor: Actor) -> bool:
    """The 总指挥, or a 副总指挥 the 总指挥 authorised (授权)."""
    return COMMANDER in actor.roles or (DEPUTY in actor.roles and actor.authorised_level_one)


def acts_by_authorisation(actor: Actor, level: str) -> bool:
    """True when this start rests on a 授权 rather than on the office itself."""
    return level == "I" and COMMANDER not in actor.roles and actor.authorised_level_one


def check_relevel_response(
    actor: Actor, level: str, current: str, starter: str, starter_name: str, roster: Roster
) -> None:
    """Change a running response's level: its starter, or a rise to Ⅰ级 by one entitled to it."""
    check_start_response(actor, level)
    if actor.id == starter:
        return
    starter_roles = roster.get(starter)
    if starter_roles is None and COMMANDER in actor.roles:
        return
    commander_started = starter_roles is not None and COMMANDER in starter_roles
    if level == "I" and current == "II" and not commander_started:
        return
    raise RefusedError(
        f"拒绝：{level_name(current)}应急响应由{starter_name}启动，只能由其调整级别或结束",
        END_CLAUSE,
    )


def check_end_response(actor: Actor, starter: str, starter_name: str, roster: Roster) -> None:
    """谁启动谁结束 (§4.6); a starter no longer listed is replaced by the 总指挥."""
    if actor.id == starter:
        return
    if starter not in roster and COMMANDER in actor.roles:
        return
    raise RefusedError(f"拒绝：本次应急响应由{starter_name}启动，只能由其结束", END_CLAUSE)


def check_hq_decision(actor: Actor, reason: str, action: str) -> None:
    """Acting before recovery is the HQ's decision, recorded by the 总指挥 with a reason (§3.6)."""
    if COMMANDER not in actor.roles:
        raise RefusedError(
            f"拒绝：通信网络尚未恢复时{action}，须由总指挥记录指挥部的决定及理由", RESTORED_CLAUSE
        )
    if not reason.strip():
        raise RefusedError(
            f"拒绝：指挥部决定提前{action}须写明理由（--hq-decision）", RESTORED_CLAUSE
        )


def _roles(actor: Actor) -> str:
    return "、".join(sorted(actor.roles, key=ROLES.index)) if actor.roles else "（无）"
