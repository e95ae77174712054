"""Telephone numbers: mobiles take SMS; landlines (the annex's duty phones) never."""

from __future__ import annotations

import pytest

from dispatch.numbers import NumberKind, classify, sms_addresses


@pytest.mark.parametrize(
    ("raw", "kind", "sms_address"),
    [
        ("13800000000", NumberKind.MOBILE, "13800000000"),
        ("+86 138 0013 8000", NumberKind.MOBILE, "13800138000"),
        ("0356-2039294", NumberKind.LANDLINE, None),  # 区工信局 duty phone (annex 8.3)
        ("0256-2043011", NumberKind.LANDLINE, None),  # 区人武部 as printed in the annex
        ("400-810-8888", NumberKind.OTHER, None),
        ("12345", NumberKind.INVALID, None),
        ("not a number", NumberKind.INVALID, None),
    ],
    ids=["mobile", "mobile-e164", "landline", "landline-0256", "toll-free", "short", "text"],
)
def test_classify(raw: str, kind: NumberKind, sms_address: str | None) -> None:
    number = classify(raw)
    assert number.kind is kind
    assert number.sms_address == sms_address
    assert number.sms_capable is (kind is NumberKind.MOBILE)


def test_sms_addresses_keep_mobiles_once_in_order() -> None:
    numbers = ["0356-2039294", "13800000002", "+8613800000001", "138 0000 0002"]
    assert sms_addresses(numbers) == ("13800000002", "13800000001")
