"""check-config warnings about reachability: who cannot be texted or mailed, and why.

`contact_warnings(config)` returns the
warnings; `commwatch check-config` prints them. They never fail the config: an
annex unit with only a landline duty phone is normal, but the duty officer
should know that SMS cannot reach it.
"""

from __future__ import annotations

from collections.abc import Sequence

from dispatch.numbers import NumberKind, classify, describe, voice_address
from dispatch.registry import NOTIFIERS, channel_of
from monitor.config import Config


def contact_warnings(config: Config) -> list[str]:
    """Every reachability warning for the loaded config, in file order."""
    warnings = _bad_numbers(config)
    warnings += _unreachable_units(config)
    warnings += _unreachable_people(config)
    warnings += _missing_channels(config)
    warnings += _follow_up(config)
    return warnings


def _bad_numbers(config: Config) -> list[str]:
    out: list[str] = []
    for i, unit in enumerate(config.contacts.unit):
        where = f"contacts.toml: unit[{i}]({unit.name})"
        out += _numbers(where, "mobiles", unit.mobiles)
        if unit.duty_phone is not None:
            kind = classify(unit.duty_phone).kind
            if kind is NumberKind.INVALID:
                out.append(f"{where}.duty_phone: {unit.duty_phone!r} is {describe(kind)}")
        if unit.fax is not None and voice_address(unit.fax) is None:
            out.append(f"{where}.fax: {unit.fax!r} is not a valid fax number (with its area code)")
    for i, person in enumerate(config.contacts.person):
        out += _numbers(f"contacts.toml: person[{i}]({person.id})", "mobiles", person.mobiles)
    return out


def _numbers(where: str, key: str, numbers: Sequence[str]) -> list[str]:
    out = []
    for j, raw in enumerate(numbers):
        kind = classify(raw).kind
        if kind is not NumberKind.MOBILE:
            out.append(f"{where}.{key}[{j}]: {raw!r} is {describe(kind)}")
    return out


def _unreachable_units(config: Config) -> list[str]:
    no_sms: list[str] = []
    no_email: list[str] = []
    for unit in config.contacts.unit:
        if not any(classify(m).sms_capable for m in unit.mobiles):
            phone = f"（值班电话{unit.duty_phone}）" if unit.duty_phone else ""
            no_sms.append(unit.name + phone)
        if not unit.emails:
            no_email.append(unit.name)
    out = []
    if no_sms:
        out.append(
            f"contacts.toml: {len(no_sms)} units have no SMS-capable number (email only; "
            f"duty phones are landlines: never texted, phoned via call tasks): " + "、".join(no_sms)
        )
    if no_email:
        out.append(f"contacts.toml: {len(no_email)} units have no email: " + "、".join(no_email))
    return out


def _unreachable_people(config: Config) -> list[str]:
    return [
        f"contacts.toml: person {p.id} ({p.name}) has neither email nor an SMS-capable mobile"
        for p in config.contacts.person
        if not p.emails and not any(classify(m).sms_capable for m in p.mobiles)
    ]


def _missing_channels(config: Config) -> list[str]:
    used = {c for rule in config.daemon.dispatch.route for c in rule.channels}
    carried = {channel_of(n) for n in config.daemon.notifier}
    files = [n.name for n in config.daemon.notifier if n.type == "file"]
    out = []
    for channel in sorted(used):
        if channel in carried:
            continue
        kinds = " | ".join(t for t, plugin in NOTIFIERS.items() if plugin.channel == channel)
        if files:
            where = f"written to the file notifier {files[0]!r}"
        else:
            where = "written to the built-in outbox directory ${STATE_DIRECTORY:-var}/outbox"
        out.append(
            f"commwatch.toml: no [[notifier]] for the {channel} channel ({kinds}): "
            f"{channel} notices are {where}, not sent"
        )
    return out


def _follow_up(config: Config) -> list[str]:
    """Who can never be phoned, and 收到 that cannot arrive."""
    daemon = config.daemon
    out: list[str] = []
    silent = [
        u.name
        for u in config.contacts.unit
        if not u.duty_phone and not u.emails and not any(classify(m).sms_capable for m in u.mobiles)
    ]
    if silent:
        out.append(
            f"contacts.toml: {len(silent)} units can be reached by no channel and have no "
            f"duty phone to call: " + "、".join(silent)
        )
    if daemon.escalation.chain and not daemon.receiver.enabled:
        out.append(
            "commwatch.toml: [receiver] is off: 收到 can only be recorded with "
            "`commwatch notice ack` (no SMS replies, no email links), so escalation chains "
            "run on until someone does"
        )
    kannel = [n.name for n in daemon.notifier if getattr(n, "preset", None) == "kannel"]
    no_dlr = [
        n for n in daemon.notifier if n.name in kannel and getattr(n, "dlr_url", None) is None
    ]
    if daemon.receiver.enabled and no_dlr:
        names = "、".join(n.name for n in no_dlr)
        out.append(f"commwatch.toml: Kannel notifier {names} has no dlr_url: no delivery reports")
    return out
