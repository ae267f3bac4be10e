"""Texts we send: replies to inbound texts, and questions asked by text that calls also ask.

Each function fills an "sms_…" catalog entry from simple values and returns a text of at most two
segments. When a text runs long (a long note, question or name), the free text is cut first, then
the community, then a person's name, so the report number and the fixed instructions ("reply 1 yes /
2 no") survive; fit() is the last resort. English texts are short enough for two UCS-2 segments
(134 characters), since one Chinese name in them takes away the GSM alphabet's 306.
"""
from __future__ import annotations

from collections.abc import Callable

from grid import lifecycle
from ivr_flows import answers, catalog, status
from ivr_flows.confirmation import RATINGS
from ivr_flows.days import day_words
from ivr_flows.hotline_context import ReportSummary
from ivr_flows.texting import fit, longest, segments
from ivr_flows.trust import who

MAX_SEGMENTS = 2
Build = Callable[[dict[str, str]], str]


def _squeezed(build: Build, values: dict[str, str], squeeze: tuple[str, ...]) -> str:
    """build(values), cutting the named values in turn until the text fits in MAX_SEGMENTS."""
    values = dict(values)
    for name in squeeze:
        if segments(build(values)) <= MAX_SEGMENTS:
            break
        values[name] = longest(_with(build, values, name), values[name], MAX_SEGMENTS)
    return fit(build(values), MAX_SEGMENTS)


def _with(build: Build, values: dict[str, str], name: str) -> Callable[[str], str]:
    return lambda cut: build({**values, name: cut})


def _reply(lang: str, key: str, values: dict[str, str], squeeze: tuple[str, ...] = ()) -> str:
    """One catalog entry filled; `squeeze` names the values to cut before the community."""
    return _squeezed(lambda v: catalog.text(lang, key, v), values, (*squeeze, "community"))


def _fragment(lang: str, key: str, text: str) -> str:
    """An optional part ("What was done: …. "), left out when there is no text or it was cut to nothing."""
    return catalog.text(lang, key, {"text": text}) if text.strip(".… ") else ""


def _category(lang: str, category: str) -> str:
    """A category as a text names it: shorter than on a call in English ("vulnerable person")."""
    key = f"sms_category_{category}"
    return catalog.text(lang, key if key in catalog.keys(lang) else "sms_category_other")


def _clause(text: str) -> str:
    """Free text without its closing punctuation, so the template's own full stop follows it."""
    return text.strip().rstrip("。.！!？?；;，, ")


# ---- replies to inbound texts ----------------------------------------------------------------
def reply_report_filed(lang: str, community: str, number: int) -> str:
    """The report is filed: its number, that the grid worker will call, and 110/119/120 for danger."""
    return _reply(lang, "sms_report_filed", {"community": community, "number": str(number)})


def reply_report_added(lang: str, community: str, number: int) -> str:
    """A quick follow-up text went into the report just filed, not a new one."""
    return _reply(lang, "sms_report_added", {"community": community, "number": str(number)})


def reply_long_message(lang: str, community: str, number: int) -> str:
    """Over 1,600 characters: the whole text is kept (it says so, people fear it was cut off)."""
    return _reply(lang, "sms_long_message", {"community": community, "number": str(number)})


def reply_photos(lang: str, community: str, number: int, count: int = 1) -> str:
    """An MMS photo went into the report."""
    return _reply(lang, "sms_photo_received", {"community": community, "number": str(number), "count": str(count)})


def reply_ask_building(lang: str, community: str) -> str:
    """An unknown sender's report waits for a building number or an address line."""
    return _reply(lang, "sms_ask_building", {"community": community})


def reply_building_unknown(lang: str, community: str, number: int, building: str) -> str:
    """The answer named no building we know: the report is filed for the grid leader on duty."""
    values = {"community": community, "number": str(number), "building": _clause(building)}
    return _reply(lang, "sms_building_unknown", values, ("building",))


def reply_status(lang: str, community: str, today: str, report: ReportSummary | None) -> str:
    """Where the report stands, in the words the status call uses (who has it, since which day)."""
    if report is None:
        return _reply(lang, "sms_status_none", {"community": community})

    key = status.phrase_key(lang, report)
    key = f"sms_{key}" if f"sms_{key}" in catalog.keys(lang) else key  # a shorter sentence where the call's is long

    def build(values: dict[str, str]) -> str:
        state = catalog.text(lang, key, {
            "who": who(lang, values["name"], report.assignee_role),
            "day": day_words(lang, today, report.event_date),
            "rating": str(report.rating or ""),
            "original": str(report.duplicate_of or ""),  # written as digits here, not spelled out as on a call
        })
        return catalog.text(lang, "sms_status", {**values, "state": state})

    values = {"community": community, "number": str(report.number), "category": _category(lang, report.category),
              "name": report.assignee_name or ""}
    return _squeezed(build, values, ("community", "name"))


def reply_status_not_found(lang: str, community: str, number: int) -> str:
    """No report has that number."""
    return _reply(lang, "sms_status_not_found", {"community": community, "number": str(number)})


def reply_status_not_yours(lang: str, community: str, number: int) -> str:
    """The report was filed from another phone: its state is not told to this one."""
    return _reply(lang, "sms_status_not_yours", {"community": community, "number": str(number)})


def reply_help(lang: str, community: str) -> str:
    """How to use the line: text the problem, 查询 for status, 退订 to stop; 110/119/120 for danger."""
    return _reply(lang, "sms_help", {"community": community})


def reply_stopped(lang: str, community: str) -> str:
    """The last text an opted-out number gets: how to start again."""
    return _reply(lang, "sms_stopped", {"community": community})


def reply_started(lang: str, community: str) -> str:
    """Texts may be sent again (after 订阅/START), and how to stop them."""
    return _reply(lang, "sms_started", {"community": community})


def reply_empty(lang: str, community: str) -> str:
    """An empty text (without a photo): what to send instead."""
    return _reply(lang, "sms_empty", {"community": community})


def reply_unmatched_answer(lang: str, community: str) -> str:
    """"1" or "yes" with no open question: a short help line, nothing is filed."""
    return _reply(lang, "sms_answer_unmatched", {"community": community})


# ---- questions asked by text ------------------------------------------------------------------
# Question names are the call-back purposes (worker.callbacks): one name for the call and the text.
RESIDENT_CONFIRMATION = "resident_confirmation"  # the report was handled: is it solved?
RATING = "rating"  # solved: how satisfied, 1 to 5
WORKER_VERIFICATION = "worker_verification"  # a new report: will you go and verify it?
ESCALATION = "escalation"  # overdue: will you take it over? (answered like a verification)
WORKER_FOLLOW_UP = "worker_follow_up"  # did you verify it on site / is it handled? (by the report's state)
STAFF_QUESTION = "staff_question"  # a yes/no question staff typed

_TAKE_IT = {"1": answers.ACCEPTED, "yes": answers.ACCEPTED, "2": answers.NOT_MY_AREA, "no": answers.NOT_MY_AREA}
_MEANINGS: dict[str, dict[str, str]] = {
    RESIDENT_CONFIRMATION: {"1": answers.SOLVED, "yes": answers.SOLVED, "2": answers.NOT_SOLVED, "no": answers.NOT_SOLVED},
    RATING: {rating: rating for rating in RATINGS},
    WORKER_VERIFICATION: _TAKE_IT,
    ESCALATION: _TAKE_IT,
    STAFF_QUESTION: {"1": answers.YES, "yes": answers.YES, "2": answers.NO, "no": answers.NO},
}
_VISIT = {"1": answers.CONFIRMED, "2": answers.UNFOUNDED, "3": answers.NOT_YET}  # "yes" would not say which
_HANDLING = {"1": answers.HANDLED, "yes": answers.HANDLED, "2": answers.NOT_YET, "no": answers.NOT_YET}
_NOT_VISITED = (lifecycle.NEW, lifecycle.VERIFYING)
_ACKNOWLEDGEMENTS = {
    answers.SOLVED: "sms_answer_solved",
    answers.NOT_SOLVED: "sms_answer_not_solved",
    answers.YES: "sms_answer_noted",
    answers.NO: "sms_answer_noted",
    answers.ACCEPTED: "sms_worker_accepted",
    answers.NOT_MY_AREA: "sms_worker_reassigned",
    answers.CONFIRMED: "sms_worker_confirmed",
    answers.UNFOUNDED: "sms_worker_unfounded",
    answers.HANDLED: "sms_worker_handled",
    answers.NOT_YET: "sms_worker_not_yet",
    **dict.fromkeys(RATINGS, "sms_answer_rated"),
}


def interpret(question: str, value: str, report_state: str | None = None) -> str | None:
    """What an Answer's value means for the open question: an answers.* name, or "1".."5" for RATING.

    A follow-up asks "did you verify it?" before the visit and "is it handled?" after, as the call does.
    None when the value is no option of that question ("3" to a yes/no question): reply_unmatched_answer.
    """
    if question == WORKER_FOLLOW_UP:
        return (_VISIT if report_state in _NOT_VISITED else _HANDLING).get(value)
    return _MEANINGS.get(question, {}).get(value)


def reply_answer(lang: str, community: str, meaning: str, number: int | None = None) -> str:
    """The acknowledgement of an interpreted answer (solved -> "thank you, please rate 1-5")."""
    key = _ACKNOWLEDGEMENTS.get(meaning, "sms_answer_noted") if number is not None else "sms_answer_noted"
    return _reply(lang, key, {"community": community, "number": str(number or "")})


def ask_resident_confirmation(lang: str, community: str, number: int, category: str, note: str = "") -> str:
    """"Report N was handled: …; is it solved? Reply 1 yes / 2 no" (the confirmation call, by text)."""

    def build(values: dict[str, str]) -> str:
        said = _fragment(lang, "sms_handling_note", values["note"])
        return catalog.text(lang, "sms_ask_resident", {**values, "note": said})

    values = {"community": community, "number": str(number), "category": _category(lang, category), "note": _clause(note)}
    return _squeezed(build, values, ("note", "community"))


def ask_staff_question(lang: str, community: str, question: str, number: int | None = None) -> str:
    """A yes/no question staff typed, "reply 1 yes / 2 no", about a report when there is one."""

    def build(values: dict[str, str]) -> str:
        about = catalog.text(lang, "sms_about_report", {"number": str(number)}) if number is not None else ""
        return catalog.text(lang, "sms_ask_staff", {**values, "about": about})

    return _squeezed(build, {"community": community, "question": _clause(question)}, ("question", "community"))


def ask_worker_verification(
    lang: str, community: str, number: int, category: str, text: str = "", urgent: bool = False, overdue: bool = False
) -> str:
    """A report for a worker with what the resident said: "reply 1 to verify, 2 not my area".

    overdue (an escalation): nobody took it in time, so 1 takes it over, as on the escalation call.
    """
    key = "sms_ask_worker_take_over" if overdue else "sms_ask_worker_accept"

    def build(values: dict[str, str]) -> str:
        said = _fragment(lang, "sms_resident_said", values["text"])
        flag = catalog.text(lang, "sms_urgent") if urgent else ""
        return catalog.text(lang, key, {**values, "said": said, "urgent": flag})

    values = {"community": community, "number": str(number), "category": _category(lang, category), "text": _clause(text)}
    return _squeezed(build, values, ("text", "community"))


def ask_worker_follow_up(lang: str, community: str, number: int, category: str, report_state: str) -> str:
    """"Did you verify it? Reply 1 real, 2 nothing found, 3 not yet", or after the visit "is it handled?"."""
    key = "sms_ask_worker_visit" if report_state in _NOT_VISITED else "sms_ask_worker_handling"
    return _reply(lang, key, {"community": community, "number": str(number), "category": _category(lang, category)})
