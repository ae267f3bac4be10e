"""Saying when something happened the way people say it: today, yesterday, on Tuesday, on 3 November.

The host passes ISO dates already in the community's time zone; this module does no clock reading.
"""
from __future__ import annotations

from datetime import date

from ivr_flows import catalog

WEEKDAY_RANGE = 6  # within the last six days the weekday name is unambiguous


def day_words(language: str, today: str, day: str | None) -> str:
    """"今天" / "昨天" / "星期二" / "11月3日" (English: today / yesterday / on Tuesday / on November 3).

    A date after today (a clock that drifted) counts as today; no date at all is "recently".
    """
    if not day or not today:
        return catalog.text(language, "day_unknown")
    when, now = date.fromisoformat(day), date.fromisoformat(today)
    ago = (now - when).days
    if ago <= 0:
        return catalog.text(language, "day_today")
    if ago == 1:
        return catalog.text(language, "day_yesterday")
    if ago <= WEEKDAY_RANGE:
        weekday = catalog.word_list(language, "weekday_names")[when.weekday()]
        return catalog.text(language, "day_weekday", {"weekday": weekday})
    month = catalog.word_list(language, "month_names")[when.month - 1]
    return catalog.text(language, "day_date", {"month": str(when.month), "month_name": month, "day": str(when.day)})
