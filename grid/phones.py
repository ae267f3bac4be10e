"""Phone numbers as staff type them, stored as E.164, masked in logs.

Staff copy numbers out of Excel and WeChat: spaces, dashes, brackets, full-width digits,
"+86"/"0086" prefixes and landlines with their area code ("0571-88881234") are all accepted.
A refusal says what is wrong in words a staff member can act on.
"""
from __future__ import annotations

import re
import unicodedata

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType, ValidationResult

# Excel shows long numbers in scientific notation and exports them that way: the digits are lost.
_EXCEL_SCIENTIFIC = re.compile(r"^\d(\.\d+)?e\+?\d+$", re.IGNORECASE)
_EXCEL_FLOAT = re.compile(r"^\+?\d+\.0$")
_MOBILE_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
_LANDLINE_HINT = "landlines need their area code, e.g. 0571-88881234"


class InvalidPhone(ValueError):
    """A number that cannot be stored; str(exc) is the reason, meant for the staff member."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def normalise(raw: str, region: str = "CN") -> str:
    """The number in E.164 ("+8613800138000"), or InvalidPhone saying why not."""
    text = unicodedata.normalize("NFKC", raw or "").strip()
    if not text:
        raise InvalidPhone("phone number is empty")
    if _EXCEL_SCIENTIFIC.match(text):
        raise InvalidPhone(
            f"phone {text!r} was turned into a number by Excel and lost its digits: "
            "format the column as Text, retype the numbers and export again"
        )
    if _EXCEL_FLOAT.match(text):
        text = text[:-2]
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        raise InvalidPhone(f"{text!r} is not a phone number") from exc
    if phonenumbers.is_valid_number(number):
        return phonenumbers.format_number(number, PhoneNumberFormat.E164)
    raise InvalidPhone(_why_invalid(text, number))


def _why_invalid(text: str, number: phonenumbers.PhoneNumber) -> str:
    reason = phonenumbers.is_possible_number_with_reason(number)
    national = str(number.national_number)
    if reason == ValidationResult.INVALID_COUNTRY_CODE:
        return f"{text!r} has an unknown country code +{number.country_code}"
    chinese = number.country_code == 86
    if chinese and re.match(r"1[3-9]", national) and len(national) != 11:
        return f"{text!r} has {len(national)} digits; a mobile number has 11"
    if chinese and len(national) in (7, 8) and national[0] not in "01":
        return f"{text!r} looks like a landline without its area code ({_LANDLINE_HINT})"
    if reason == ValidationResult.TOO_LONG:
        return f"{text!r} has too many digits"
    hint = f" (a mobile has 11; {_LANDLINE_HINT})" if chinese else ""
    if reason in (ValidationResult.TOO_SHORT, ValidationResult.IS_POSSIBLE_LOCAL_ONLY):
        return f"{text!r} has too few digits{hint}"
    return f"{text!r} is not a valid phone number: check the digits{hint}"


def is_mobile(e164: str) -> bool:
    """Whether SMS can reach the number (confirmations are only texted to mobiles)."""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return False
    return phonenumbers.number_type(number) in _MOBILE_TYPES


def mask(e164: str) -> str:
    """The number for logs: country code, first 3 and last 4 digits ("+86138****5678")."""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return "*" * len(e164) if len(e164) <= 4 else "*" * (len(e164) - 2) + e164[-2:]
    national = str(number.national_number)
    if len(national) < 9:  # short numbers: keep less, so that little can be guessed
        return f"+{number.country_code}" + "*" * (len(national) - 2) + national[-2:]
    return f"+{number.country_code}{national[:3]}" + "*" * (len(national) - 7) + national[-4:]
