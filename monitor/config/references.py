"""Cross-file checks: duplicate ids and references that must resolve."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from monitor.config.contacts import INCIDENT_SITE
from monitor.config.errors import ConfigProblem

if TYPE_CHECKING:
    from monitor.config.model import Config


def check_references(config: Config) -> list[ConfigProblem]:
    """Every duplicate id and dangling reference in the loaded files."""
    problems: list[ConfigProblem] = []
    problems += _contacts(config)
    problems += _inventory(config)
    problems += _daemon(config)
    problems += _plan(config)
    return problems


def _duplicates(file: str, table: str, keys: Iterable[str], what: str) -> list[ConfigProblem]:
    seen: set[str] = set()
    problems = []
    for index, key in enumerate(keys):
        if key in seen:
            problems.append(
                ConfigProblem(file, f"{table}[{index}].{what}", f"duplicate {what}", key)
            )
        seen.add(key)
    return problems


def _unknown(file: str, path: str, what: str, value: str, known: Iterable[str]) -> ConfigProblem:
    names = sorted(known)
    close = difflib.get_close_matches(value, names, n=3, cutoff=0.6)
    if close:
        hint = f"did you mean {', '.join(close)}?"
    else:
        hint = "known: " + (", ".join(names[:8]) + (", …" if len(names) > 8 else "") or "none")
    return ConfigProblem(file, path, f"unknown {what} {value!r} ({hint})")


def _contacts(config: Config) -> list[ConfigProblem]:
    file, contacts = "contacts.toml", config.contacts
    problems = _duplicates(file, "unit", (u.name for u in contacts.unit), "name")
    problems += _duplicates(file, "person", (p.id for p in contacts.person), "id")
    problems += _duplicates(file, "working_group", (g.name for g in contacts.working_group), "name")
    units = config.units
    if contacts.hq.office_unit not in units:
        problems.append(_unknown(file, "hq.office_unit", "unit", contacts.hq.office_unit, units))
    for i, person in enumerate(contacts.person):
        if person.unit not in units:
            problems.append(
                _unknown(file, f"person[{i}]({person.id}).unit", "unit", person.unit, units)
            )
    for i, group in enumerate(contacts.working_group):
        where = f"working_group[{i}]({group.name})"
        if group.lead not in units:
            problems.append(_unknown(file, f"{where}.lead", "unit", group.lead, units))
        for j, member in enumerate(group.members):
            if member != INCIDENT_SITE and member not in units:
                problems.append(_unknown(file, f"{where}.members[{j}]", "unit", member, units))
    return problems


def _inventory(config: Config) -> list[ConfigProblem]:
    file, inventory = "nodes.toml", config.inventory
    problems = _duplicates(file, "system", (s.id for s in inventory.system), "id")
    problems += _duplicates(file, "node", (n.id for n in inventory.node), "id")
    for i, system in enumerate(inventory.system):
        if system.unit not in config.units:
            problems.append(
                _unknown(file, f"system[{i}]({system.id}).unit", "unit", system.unit, config.units)
            )
    auths = config.daemon.snmp.auth
    for i, node in enumerate(inventory.node):
        where = f"node[{i}]({node.id})"
        if node.system not in config.systems:
            problems.append(
                _unknown(file, f"{where}.system", "system", node.system, config.systems)
            )
        if node.street is not None and node.street not in config.streets:
            problems.append(
                _unknown(file, f"{where}.street", "street", node.street, config.streets)
            )
        for parent in node.parents:
            if parent == node.id:
                problems.append(
                    ConfigProblem(
                        file, f"{where}.parent", "a node cannot be its own parent", parent
                    )
                )
            elif parent not in config.nodes:
                problems.append(_unknown(file, f"{where}.parent", "node", parent, config.nodes))
        if node.snmp_auth is not None and node.snmp_auth not in auths:
            problems.append(
                _unknown(file, f"{where}.snmp_auth", "SNMP credential", node.snmp_auth, auths)
            )
    problems += _parent_cycles(config)
    for i, window in enumerate(inventory.maintenance):
        where = f"maintenance[{i}]({window.name})"
        problems += _refs(file, f"{where}.nodes", "node", window.nodes, config.nodes)
        problems += _refs(file, f"{where}.systems", "system", window.systems, config.systems)
        problems += _refs(file, f"{where}.streets", "street", window.streets, config.streets)
    return problems


def _refs(
    file: str, path: str, what: str, values: Iterable[str], known: Iterable[str]
) -> list[ConfigProblem]:
    known_set = set(known)
    return [
        _unknown(file, f"{path}[{j}]", what, value, known_set)
        for j, value in enumerate(values)
        if value not in known_set
    ]


def _parent_cycles(config: Config) -> list[ConfigProblem]:
    nodes = config.nodes
    problems = []
    for index, node in enumerate(config.inventory.node):
        seen = {node.id}
        frontier = [p for p in node.parents if p in nodes and p != node.id]
        while frontier:
            current = frontier.pop()
            if current == node.id or current in seen:
                if current == node.id:
                    problems.append(
                        ConfigProblem(
                            "nodes.toml",
                            f"node[{index}]({node.id}).parent",
                            "parents form a cycle back to this node",
                            node.parent,
                        )
                    )
                    break
                continue
            seen.add(current)
            frontier.extend(p for p in nodes[current].parents if p in nodes)
    return problems


def _daemon(config: Config) -> list[ConfigProblem]:
    file, daemon = "commwatch.toml", config.daemon
    problems = _duplicates(file, "notifier", (n.name for n in daemon.notifier), "name")
    problems += _refs(
        file, "self_monitor.uplink_nodes", "node", daemon.self_monitor.uplink_nodes, config.nodes
    )
    problems += _refs(file, "traps.auth", "SNMP credential", daemon.traps.auth, daemon.snmp.auth)
    problems += route_problems(config)
    for i, notifier in enumerate(daemon.notifier):
        problems += _refs(
            file,
            f"notifier[{i}]({notifier.name}).depends_on",
            "system",
            notifier.depends_on,
            config.systems,
        )
        credential = getattr(notifier, "credential", None)
        if credential is not None and credential not in daemon.cloud.credential:
            problems.append(
                _unknown(
                    file,
                    f"notifier[{i}]({notifier.name}).credential",
                    "cloud credential",
                    credential,
                    daemon.cloud.credential,
                )
            )
    problems += escalation_problems(config)
    return problems


def escalation_problems(config: Config) -> list[ConfigProblem]:
    """[[escalation.chain]]: the unit or person it starts at and every `then` must exist."""
    file, people = "commwatch.toml", set(config.people)
    problems: list[ConfigProblem] = []
    seen: dict[tuple[str, str], int] = {}
    for i, chain in enumerate(config.daemon.escalation.chain):
        where = f"escalation.chain[{i}]"
        if chain.unit is not None and chain.unit not in config.units:
            problems.append(_unknown(file, f"{where}.unit", "unit", chain.unit, config.units))
        if chain.person is not None and chain.person not in people:
            problems.append(_unknown(file, f"{where}.person", "person", chain.person, people))
        problems += _refs(file, f"{where}.then", "person", chain.then, people)
        for kind in [str(k) for k in chain.kinds] or ["*"]:
            earlier = seen.setdefault((chain.head, kind), i)
            if earlier != i:
                problems.append(
                    ConfigProblem(
                        file,
                        f"{where}",
                        f"a second chain for the same recipient and kind "
                        f"(escalation.chain[{earlier}] already starts there)",
                        chain.unit or chain.person,
                    )
                )
    return problems


def _plan(config: Config) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    for i, period in enumerate(config.plan.guarantee):
        problems += _refs(
            "plan.toml",
            f"guarantee[{i}]({period.name}).systems",
            "system",
            period.systems,
            config.systems,
        )
    return problems


def route_problems(config: Config) -> list[ConfigProblem]:
    """Dangling names in [[dispatch.route]]: units, people, working groups, operators, streets."""
    file = "commwatch.toml"
    units = set(config.units)
    operators = {u.name for u in config.contacts.unit if u.kind == "operator"}
    groups = {g.name for g in config.contacts.working_group}
    problems: list[ConfigProblem] = []
    for i, route in enumerate(config.daemon.dispatch.route):
        where = f"dispatch.route[{i}]({route.name})"
        checks: tuple[tuple[str, str, list[str], set[str]], ...] = (
            ("units", "unit", route.units, units | {INCIDENT_SITE}),
            ("people", "person", route.people, set(config.people)),
            ("working_groups", "working group", route.working_groups, groups),
            ("operators", "operator unit", route.operators, operators),
            ("streets", "street", route.streets, set(config.streets)),
        )
        for key, what, values, known in checks:
            for j, value in enumerate(values):
                if value not in known:
                    hint = "、".join(sorted(known)[:6]) or "none"
                    problems.append(
                        ConfigProblem(
                            file, f"{where}.{key}[{j}]", f"unknown {what} (known: {hint})", value
                        )
                    )
    dispatch = config.daemon.dispatch
    for key, values, known in (
        ("drill_people", dispatch.drill_people, set(config.people)),
        ("drill_units", dispatch.drill_units, units),
    ):
        for j, value in enumerate(values):
            if value not in known:
                hint = "、".join(sorted(known)[:6]) or "none"
                problems.append(
                    ConfigProblem(file, f"dispatch.{key}[{j}]", f"unknown (known: {hint})", value)
                )
    return problems
