"""Trust words: how every call we place (and every call-back we return) opens.

Elderly people fear scam calls. The first sentence says who is calling, from which community and
about which report; the second that we never ask for money, and which number to ring to check.
"""
from __future__ import annotations

from dataclasses import dataclass

from ivr_flows import catalog
from ivr_flows.actions import Say

HOTLINE = "hotline"  # the community's grid hotline is calling
RETURNING = "returning"  # the hotline returning a missed call
PERSON = "person"  # a named worker calls through the hotline (e.g. to the resident who reported)


@dataclass(frozen=True)
class Opening:
    """Who speaks to whom: the parts of the first sentence of a call."""

    community: str
    callee_name: str | None
    source: str = HOTLINE
    caller_name: str = ""
    caller_role: str = ""
    report_number: int | None = None


def role_word(language: str, role: str | None) -> str:
    """What a role is called aloud ("网格员"); a role the catalog does not name is "staff"."""
    key = f"role_{role}"
    return catalog.text(language, key if role and key in catalog.keys(language) else "role_unknown")


def who(language: str, name: str | None, role: str | None) -> str:
    """A person as the caller should hear them: role and name ("网格员王强"), or just "our staff"."""
    if not name:
        return catalog.text(language, "who_nobody")
    return catalog.text(language, "who_named", {"role": role_word(language, role), "name": name})


def opening(language: str, who_speaks: Opening) -> Say:
    """"王强您好，这里是花果社区网格热线，关于第幺，七号问题。" in one sentence."""
    lang = language
    if who_speaks.callee_name:
        hello = catalog.text(lang, "call_hello_named", {"name": who_speaks.callee_name})
    else:
        hello = catalog.text(lang, "call_hello")
    if who_speaks.source == PERSON and who_speaks.caller_name:
        source = catalog.text(
            lang,
            "call_source_person",
            {
                "community": who_speaks.community,
                "role": role_word(lang, who_speaks.caller_role),
                "name": who_speaks.caller_name,
            },
        )
    elif who_speaks.source == RETURNING:
        source = catalog.text(lang, "call_source_returning", {"community": who_speaks.community})
    else:
        source = catalog.text(lang, "call_source_hotline", {"community": who_speaks.community})
    about = ""
    if who_speaks.report_number is not None:
        about = catalog.text(lang, "call_about_report", {"number": catalog.spell_digits(lang, str(who_speaks.report_number))})
    return Say("call_opening", {"hello": hello, "source": source, "about": about})


def check_number(language: str, duty_phone_digits: str) -> tuple[Say, ...]:
    """"To check this call, ring …", digit by digit; nothing when the community has no duty phone."""
    if not duty_phone_digits:
        return ()
    return (Say("call_check_number", {"duty_phone": catalog.spell_digits(language, duty_phone_digits)}),)


def trust_words(language: str, who_speaks: Opening, duty_phone_digits: str) -> tuple[Say, ...]:
    """The opening sentence, "we will never ask you for money", and the number to check the call."""
    return (opening(language, who_speaks), Say("call_no_money"), *check_number(language, duty_phone_digits))
