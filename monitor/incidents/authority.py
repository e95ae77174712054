"""Who may do what to an incident: the plan's authority rules, as pure functions.

Roles come from contacts.toml (`[[person]] roles`). The rules and the clauses
behind them:

- Confirm, mark a false alarm (误报), transfer an unrelated event, close,
  annotate, report information: anyone on the duty list who holds a role
  (值班员 and up), §4.2 (2) ②③ "值班人员".
- Issue (and adjust) a warning: the HQ, i.e. the 总指挥 or a 副总指挥 —
  §3.4 "区通信网络指挥部根据规定权限或授权发布预警信息". The 办公室主任 *as such*
  may not: the office (§2.2) analyses and proposes (§4.2 (4), §4.3.1 (2)); the
  HQ decides. The plan makes the office head the 区工信局局长, who is a
  副总指挥 (§2.1), so that person issues in that capacity; an "授权" to anybody
  else is written into contacts.toml by giving the person the 副总指挥 role.
  A warning issued by the system itself (`plan.toml [warning] auto_issue`) is
  recorded with the issuer `commwatch`: the HQ authorised it in advance.
- Lift (or adjust) a warning: 谁发布、谁解除 (§3.6) — only the issuer. An
  auto-issued warning is lifted by the 总指挥 (head of the HQ that authorised
  it); so is a warning whose issuer is no longer on the duty list.
- Start a response: Ⅰ级 only by the 总指挥 (§4.3.1 (2)); Ⅱ级 by the 总指挥 or a
  副总指挥 (§4.3.2 (2)).
- End a response: 谁启动、谁结束 (§4.6) — only the starter; if the starter is
  no longer on the duty list, the 总指挥.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from monitor.config.contacts import PersonConfig

COMMANDER = "总指挥"
DEPUTY = "副总指挥"
OFFICE_HEAD = "办公室主任"
DUTY_OFFICER = "值班员"
ROLES = (COMMANDER, DEPUTY, OFFICE_HEAD, DUTY_OFFICER)
HQ_ROLES = frozenset({COMMANDER, DEPUTY})

SYSTEM_ID = "commwatch"


class RefusedError(Exception):
    """An action the plan does not allow; the message names the rule (CLI exit 2)."""


@dataclass(frozen=True)
class Actor:
    """Who acts: a person from contacts.toml, or the system itself."""

    id: str
    name: str
    roles: frozenset[str] = frozenset()
    is_system: bool = False  # commwatch acting on its own (detections, auto-issued warnings)

    def label(self) -> str:
        """The name as notices and the timeline show it."""
        return self.name if self.is_system else f"{self.name}（{self.id}）"


SYSTEM = Actor(SYSTEM_ID, "commwatch（系统自动）", is_system=True)


def actor_of(person: PersonConfig) -> Actor:
    """The Actor for a contacts.toml person."""
    return Actor(person.id, person.name, frozenset(person.roles))


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
        "（须为值班员、办公室主任、副总指挥或总指挥，§4.2）"
    )


def check_issue_warning(actor: Actor) -> None:
    """Issuing a warning is the HQ's: 总指挥 or 副总指挥 (§3.4)."""
    if actor.is_system or actor.roles & HQ_ROLES:
        return
    raise RefusedError(
        f"拒绝：预警由区通信网络指挥部根据规定权限或授权发布，须由总指挥或副总指挥发布"
        f"（§3.4）；{actor.label()}的角色为{_roles(actor)}"
    )


def check_lift_warning(
    actor: Actor, issuer: str, issuer_name: str, issuer_listed: bool, action: str = "解除"
) -> None:
    """谁发布、谁解除 (§3.6); auto-issued or orphaned warnings go to the 总指挥."""
    if issuer == SYSTEM_ID:
        if COMMANDER in actor.roles:
            return
        raise RefusedError(
            f"拒绝：系统自动发布的预警由总指挥{action}"
            "（§3.6 谁发布、谁解除；自动发布系经指挥部授权）"
        )
    if actor.id == issuer:
        return
    if not issuer_listed and COMMANDER in actor.roles:
        return
    raise RefusedError(f"拒绝：谁发布、谁解除——本预警由{issuer_name}发布，只能由其{action}（§3.6）")


def check_start_response(actor: Actor, level: str) -> None:
    """Ⅰ级: 总指挥 only (§4.3.1); Ⅱ级: 总指挥 or 副总指挥 (§4.3.2)."""
    if level == "I":
        if COMMANDER in actor.roles:
            return
        raise RefusedError("拒绝：Ⅰ级响应只能由总指挥启动（§4.3.1）")
    if level == "II":
        if actor.roles & HQ_ROLES:
            return
        raise RefusedError("拒绝：Ⅱ级响应由总指挥或副总指挥启动（§4.3.2）")
    raise RefusedError(f"拒绝：响应级别只有 I、II 两级（§4.3），不是“{level}”")


def check_end_response(actor: Actor, starter: str, starter_name: str, starter_listed: bool) -> None:
    """谁启动、谁结束 (§4.6); a starter no longer listed is replaced by the 总指挥."""
    if actor.id == starter:
        return
    if not starter_listed and COMMANDER in actor.roles:
        return
    raise RefusedError(f"拒绝：谁启动、谁结束——本次响应由{starter_name}启动，只能由其结束（§4.6）")


def _roles(actor: Actor) -> str:
    return "、".join(sorted(actor.roles, key=ROLES.index)) if actor.roles else "（无）"
