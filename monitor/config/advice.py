"""Advice about a valid config: things that work but that an operator should know."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from monitor.config.model import Config
    from monitor.config.plan import PlanDocumentConfig


def config_advice(config: Config) -> list[str]:
    """Warnings about weak SNMP crypto, unused credentials and empty systems."""
    advice: list[str] = []
    for name, auth in config.daemon.snmp.auth.items():
        if auth.auth_protocol == "MD5":
            advice.append(
                f"commwatch.toml: snmp.auth.{name}.auth_protocol: MD5 is weak; use SHA256+"
            )
        if auth.priv_protocol == "DES":
            advice.append(f"commwatch.toml: snmp.auth.{name}.priv_protocol: DES is weak; use AES")
    used = {node.snmp_auth for node in config.inventory.node} | set(config.daemon.traps.auth)
    for name in sorted(set(config.daemon.snmp.auth) - used):
        advice.append(f"commwatch.toml: snmp.auth.{name}: defined but no node uses it")
    for system_id in sorted(config.systems):
        if not config.nodes_of_system(system_id):
            advice.append(
                f"nodes.toml: system {system_id!r} has no nodes: never counted as affected"
            )
    if not any("总指挥" in person.roles for person in config.contacts.person):
        advice.append("contacts.toml: no person has the role 总指挥: nobody may start Ⅰ级")
    advice.extend(revision_advice(config.plan.plan, datetime.now(UTC).date()))
    return advice


def revision_advice(plan: PlanDocumentConfig, today: date) -> list[str]:
    """§7.2 "本预案一般情况下3年修订一次": warn once the next revision is due."""
    due = plan.revision_due
    if today < due:
        return []
    key = "plan.next_revision" if plan.next_revision else "plan.effective + plan.revision_years"
    return [
        f"plan.toml: {key}: the revision of {plan.label} was due on {due.isoformat()} "
        f"(§7.2: revised every {plan.revision_years} years); once the revised plan is issued, "
        "update [plan] number, version and effective"
    ]
