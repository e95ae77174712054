"""check-config warnings about reachability: who cannot be texted or mailed, and why.

`contact_warnings(config)` returns the
warnings; `commwatch check-config` prints them. They never fail the config: an
annex unit with only a landline duty phone is normal, but the duty officer
should know that SMS cannot reach it.
"""

from __future__ import annotations

from collections.abc import Sequence

from dispatch.numbers import NumberKind, classify, describe
from monitor.config import Config

_CHANNEL_TYPES = {"email": "email", "sms": "sms_http"}


def contact_warnings(config: Config) -> list[str]:
    """Every reachability warning for the loaded config, in file order."""
    warnings = _bad_numbers(config)
    warnings += _unreachable_units(config)
    warnings += _unreachable_people(config)
    warnings += _missing_channels(config)
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
            f"duty phones are landlines, shown in notices as call-back numbers): "
            + "、".join(no_sms)
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
    types = {n.type for n in config.daemon.notifier}
    files = [n.name for n in config.daemon.notifier if n.type == "file"]
    out = []
    for channel in sorted(used):
        if _CHANNEL_TYPES[channel] in types:
            continue
        if files:
            where = f"written to the file notifier {files[0]!r}"
        else:
            where = "written to the built-in outbox directory ${STATE_DIRECTORY:-var}/outbox"
        out.append(
            f"commwatch.toml: no {_CHANNEL_TYPES[channel]} [[notifier]]: "
            f"{channel} notices are {where}, not sent"
        )
    return out
