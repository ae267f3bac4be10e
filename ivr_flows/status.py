"""Status by voice (main menu 2): where the caller's latest report stands, in plain words.

"已经转给网格员王强，星期二接了单，正在核实" — a phrase for every lifecycle state, naming who
has it and the day of the last step; then 1 reads the caller's last three reports briefly.
"""
from __future__ import annotations

from typing import Any

from grid import lifecycle
from ivr_flows import catalog
from ivr_flows.actions import Action, Digits, Input, NoInput, Say, Turn
from ivr_flows.categories import spoken
from ivr_flows.common import callback_on_silence, evolve, menu
from ivr_flows.days import day_words
from ivr_flows.hotline_context import HotlineContext, ReportSummary
from ivr_flows.main_menu import to_main_menu
from ivr_flows.trust import who


def phrase_key(language: str, report: ReportSummary) -> str:
    """The catalog key of the sentence for the report's state (a few states have two)."""
    if report.state == lifecycle.NEW and not report.assignee_name:
        return "status_new_unassigned"
    if report.state == lifecycle.DISPATCHED and report.reopened:
        return "status_reopened"
    if report.state == lifecycle.CLOSED_SATISFIED and report.rating:
        return "status_closed_rated"
    if report.state == lifecycle.DUPLICATE and report.duplicate_of is None:
        return "status_duplicate_unlinked"
    key = f"status_{report.state}"
    return key if key in catalog.keys(language) else "status_other"


def state_phrase(language: str, today: str, report: ReportSummary) -> str:
    """"网格员王强星期二到现场核实，确认有这个问题，正在安排处理" for one report."""
    params = {
        "who": who(language, report.assignee_name, report.assignee_role),
        "day": day_words(language, today, report.event_date),
        "rating": str(report.rating or ""),  # a score, said as a number ("5分"), not a code to write down
        "original": catalog.spell_digits(language, str(report.duplicate_of or "")),
    }
    return catalog.text(language, phrase_key(language, report), params)


def short_state(language: str, state: str) -> str:
    """A word or two for a state, for the list of recent reports ("核实中")."""
    key = f"state_short_{state}"
    return catalog.text(language, key if key in catalog.keys(language) else "state_short_other")


def _offer() -> Action:
    return menu(Say("status_offer_recent"))


def say_status(state: dict[str, Any], ctx: HotlineContext) -> Turn:
    """Main menu 2: the latest report; with earlier ones, offer to read the last three."""
    lang = state["lang"]
    report = ctx.latest_report
    if report is None:
        return to_main_menu(state, ctx, (Say("status_none"),))
    latest = Say(
        "status_latest",
        {
            "number": catalog.spell_digits(lang, str(report.number)),
            "category": spoken(lang, report.category),
            "state": state_phrase(lang, ctx.today, report),
        },
    )
    if not ctx.earlier_reports:
        return to_main_menu(state, ctx, (latest,))
    return Turn(evolve(state, node="status", silences=0), (latest, _offer()))


def recent_actions(lang: str, ctx: HotlineContext) -> tuple[Action, ...]:
    """The last three reports, one short sentence each, newest first."""
    return tuple(
        Say(
            "status_recent_item",
            {
                "number": catalog.spell_digits(lang, str(r.number)),
                "category": spoken(lang, r.category),
                "state": short_state(lang, r.state),
            },
        )
        for r in ctx.recent_reports
    )


def status_step(state: dict[str, Any], event: Input, ctx: HotlineContext) -> Turn:
    """After the status: 1 the last three reports, * again, anything else the main menu."""
    if isinstance(event, NoInput):
        return callback_on_silence(state, (_offer(),))
    key = event.value[:1] if isinstance(event, Digits) else ""
    if key == "1":
        return to_main_menu(state, ctx, recent_actions(state["lang"], ctx))
    if key == "*":
        return say_status(state, ctx)
    return to_main_menu(state, ctx)
