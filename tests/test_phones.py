"""Phone numbers as staff type them: normalised to E.164, refused with a reason, masked in logs."""
from __future__ import annotations

import pytest

from grid.phones import InvalidPhone, is_mobile, mask, normalise


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13800138000", "+8613800138000"),
        ("138 0013 8000", "+8613800138000"),
        ("138-0013-8000", "+8613800138000"),
        ("+86 138 0013 8000", "+8613800138000"),
        ("0086 13800138000", "+8613800138000"),
        ("8613800138000", "+8613800138000"),
        ("１３８００１３８０００", "+8613800138000"),
        ("＋８６ １３８－００１３－８０００", "+8613800138000"),
        (" 13800138000 ", "+8613800138000"),
        ("13800138000.0", "+8613800138000"),
        ("0571-88881234", "+8657188881234"),
        ("(0571) 8888 1234", "+8657188881234"),
        ("010-12345678", "+861012345678"),
        ("+1 650 253 0000", "+16502530000"),
    ],
)
def test_normalise_accepts_what_staff_type(raw: str, expected: str) -> None:
    """Spaces, dashes, full-width digits, +86/0086 and area-coded landlines all become E.164."""
    assert normalise(raw) == expected


def test_normalise_uses_the_region_for_national_numbers() -> None:
    """A national number is read in the configured region (a US number with region US)."""
    assert normalise("(650) 253-0000", region="US") == "+16502530000"


@pytest.mark.parametrize(
    ("raw", "reason_part"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("abc", "is not a phone number"),
        ("88881234", "without its area code"),
        ("1380013800", "has 10 digits; a mobile number has 11"),
        ("138001380001", "has 12 digits; a mobile number has 11"),
        ("12345", "too few digits"),
        ("1.38001E+10", "Excel"),
        ("+999 123", "not a phone number"),
        ("23800138000", "not a valid phone number"),
    ],
)
def test_normalise_refuses_with_a_reason_staff_understand(raw: str, reason_part: str) -> None:
    """A bad number is refused with a reason that says what to fix."""
    with pytest.raises(InvalidPhone) as caught:
        normalise(raw)
    assert reason_part in caught.value.reason
    assert str(caught.value) == caught.value.reason


@pytest.mark.parametrize(
    ("e164", "mobile"),
    [
        ("+8613800138000", True),
        ("+8615000000001", True),
        ("+8657188881234", False),
        ("+861012345678", False),
        ("not a number", False),
    ],
)
def test_is_mobile(e164: str, mobile: bool) -> None:
    """Only mobiles get SMS confirmations; landlines and junk do not."""
    assert is_mobile(e164) is mobile


@pytest.mark.parametrize(
    ("e164", "masked"),
    [
        ("+8613812345678", "+86138****5678"),
        ("+8657188881234", "+86571****1234"),
        ("+16502530000", "+1650***0000"),
        ("+86110", "+86*10"),
        ("anonymous", "*******us"),
        ("", ""),
    ],
)
def test_mask_hides_the_middle_digits_in_logs(e164: str, masked: str) -> None:
    """Logs show country code, first 3 and last 4 digits only; odd caller ids are masked too."""
    assert mask(e164) == masked
