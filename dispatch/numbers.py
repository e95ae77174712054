"""Telephone numbers: which can take SMS (mobiles) and which cannot (landlines).

The annex's duty phones (应急值班电话) are landlines: SMS gateways accept them
without complaint and nothing arrives, so commwatch decides on its side, with
`phonenumbers` (offline metadata, region CN by default), and shows landlines in
notices as call-back numbers only. `phonenumbers` (~1 MiB with its metadata) is
imported when the first number is classified, not with this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

REGION = "CN"


class NumberKind(StrEnum):
    """What a number can be used for."""

    MOBILE = "mobile"  # takes SMS
    LANDLINE = "landline"  # call-back only
    OTHER = "other"  # valid, but neither (toll-free, pager, …): never texted
    INVALID = "invalid"


@dataclass(frozen=True)
class PhoneNumber:
    """A classified number: `sms_address` is what an SMS gateway gets (digits, national in CN)."""

    raw: str
    kind: NumberKind
    e164: str | None = None
    sms_address: str | None = None

    @property
    def sms_capable(self) -> bool:
        """True for mobiles: the only numbers commwatch sends SMS to."""
        return self.kind is NumberKind.MOBILE


def classify(raw: str, region: str = REGION) -> PhoneNumber:
    """Parse and classify one number as written in contacts.toml."""
    import phonenumbers
    from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

    try:
        parsed = phonenumbers.parse(raw, region)
    except NumberParseException:
        return PhoneNumber(raw, NumberKind.INVALID)
    if not phonenumbers.is_valid_number(parsed):
        return PhoneNumber(raw, NumberKind.INVALID)
    e164 = phonenumbers.format_number(parsed, PhoneNumberFormat.E164)
    kind_of = phonenumbers.number_type(parsed)
    if kind_of in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE):
        national = phonenumbers.region_code_for_number(parsed) == region
        address = str(parsed.national_number) if national else e164
        return PhoneNumber(raw, NumberKind.MOBILE, e164, address)
    if kind_of in (PhoneNumberType.FIXED_LINE, PhoneNumberType.VOIP):
        return PhoneNumber(raw, NumberKind.LANDLINE, e164)
    return PhoneNumber(raw, NumberKind.OTHER, e164)


def sms_addresses(numbers: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The SMS-capable numbers among `numbers`, as gateway addresses, in order, once each."""
    seen: dict[str, None] = {}
    for raw in numbers:
        number = classify(raw)
        if number.sms_address is not None:
            seen.setdefault(number.sms_address, None)
    return tuple(seen)


def voice_address(raw: str, region: str = REGION) -> str | None:
    """A number a voice call can ring: mobiles as digits, landlines with their 0 area code."""
    number = classify(raw, region)
    if number.sms_address is not None:
        return number.sms_address
    if number.kind is not NumberKind.LANDLINE or number.e164 is None:
        return None
    import phonenumbers

    parsed = phonenumbers.parse(number.e164)
    if phonenumbers.region_code_for_number(parsed) != region:
        return number.e164
    return f"0{parsed.national_number}"


def describe(kind: NumberKind) -> str:
    """The kind in the words check-config uses."""
    return {
        NumberKind.MOBILE: "a mobile",
        NumberKind.LANDLINE: "a landline (never sent SMS; shown as a call-back number)",
        NumberKind.OTHER: "not a mobile number (never sent SMS)",
        NumberKind.INVALID: "not a valid telephone number",
    }[kind]
