"""The metrics' arithmetic (grid.metrics): buckets, weeks, the 3-hour standard, satisfaction, reach."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from grid import metrics
from grid.metrics import DateRange, ReportFacts, Satisfaction, Share
from worker import outcomes

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2024, 3, 4, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


def fact(state: str = "new", grid: str | None = "HG-01", clock_delay: float = 0, verified: float | None = None,
         handled: float | None = None) -> ReportFacts:
    """A report filed at T0; the clock start and milestones given as minutes after filing."""
    def at(minutes: float | None) -> datetime | None:
        return None if minutes is None else T0 + timedelta(minutes=minutes)

    return ReportFacts(id=1, grid=grid, filed=T0, clock=T0 + timedelta(minutes=clock_delay), state=state,
                       verified=at(verified), handled=at(handled))


@pytest.mark.parametrize(("value", "uppers", "expected"), [
    (0, metrics.ACCEPT_UPPERS, 0),
    (10, metrics.ACCEPT_UPPERS, 0),
    (10.01, metrics.ACCEPT_UPPERS, 1),
    (30, metrics.ACCEPT_UPPERS, 1),
    (180, metrics.ACCEPT_UPPERS, 3),
    (181, metrics.ACCEPT_UPPERS, 4),
    (29.9, metrics.VERIFY_UPPERS, 0),
    (30, metrics.VERIFY_UPPERS, 0),
    (60, metrics.VERIFY_UPPERS, 1),
    (180, metrics.VERIFY_UPPERS, 2),
    (180.5, metrics.VERIFY_UPPERS, 3),
    (1440, metrics.VERIFY_UPPERS, 4),
    (1441, metrics.VERIFY_UPPERS, 5),
    (48 * 60, metrics.HANDLE_UPPERS, 3),
    (48 * 60 + 1, metrics.HANDLE_UPPERS, 4),
    (30 * 24 * 60, metrics.HANDLE_UPPERS, 5),
    (-5, metrics.VERIFY_UPPERS, 0),
])
def test_bucket_edges(value: float, uppers: tuple[int, ...], expected: int) -> None:
    """Each bucket includes its upper bound; above the last upper is the last bucket."""
    assert metrics.bucket(value, uppers) == expected


def test_distribution_counts_finished_and_still_open_apart() -> None:
    """Reports that got there fill the buckets; open ones without it count as still open; closed ones without it are left out."""
    facts = [
        fact("confirmed", verified=20),
        fact("dispatched", verified=30),
        fact("handled", verified=200),
        fact("closed_satisfied", verified=3000),
        fact("new"),
        fact("verifying"),
        fact("duplicate"),
        fact("withdrawn"),
    ]
    dist = metrics.distribution(facts, "verified", metrics.VERIFY_UPPERS)
    assert dist.counts == (2, 0, 0, 1, 0, 1)
    assert (dist.still_open, sum(dist.counts)) == (2, 4)


def test_distribution_of_nothing() -> None:
    """No reports: every bucket empty, nothing open."""
    assert metrics.distribution([], "handled", metrics.HANDLE_UPPERS) == metrics.Distribution((0,) * 6, 0)


@pytest.mark.parametrize(("moment", "week"), [
    (datetime(2024, 3, 10, 15, 59, tzinfo=UTC), "2024-W10"),  # Sunday 23:59 in Shanghai
    (datetime(2024, 3, 10, 16, 0, tzinfo=UTC), "2024-W11"),  # Monday 00:00 in Shanghai, still Sunday in UTC
    (datetime(2024, 12, 29, 16, 30, tzinfo=UTC), "2025-W01"),  # Monday 30 Dec 2024 is in ISO 2025
    (datetime(2021, 1, 3, 12, 0, tzinfo=UTC), "2020-W53"),
    (datetime(2024, 3, 4, 2, 0), "2024-W10"),  # naive values are UTC (SQLite)
])
def test_iso_week_on_the_local_calendar(moment: datetime, week: str) -> None:
    """Weeks start on Monday, local time."""
    assert metrics.iso_week(moment, SHANGHAI) == week


@pytest.mark.parametrize(("start", "end", "weeks"), [
    (date(2024, 3, 4), date(2024, 3, 4), ["2024-W10"]),
    (date(2024, 3, 6), date(2024, 3, 18), ["2024-W10", "2024-W11", "2024-W12"]),
    (date(2024, 12, 25), date(2025, 1, 7), ["2024-W52", "2025-W01", "2025-W02"]),
    (date(2024, 3, 10), date(2024, 3, 11), ["2024-W10", "2024-W11"]),
])
def test_weeks_between_has_no_gaps(start: date, end: date, weeks: list[str]) -> None:
    """Every ISO week touching the range, partial weeks at both ends included."""
    assert metrics.weeks_between(start, end) == weeks


def test_per_week_counts_by_grid_and_week() -> None:
    """Reports are counted under their top-level grid and local week; no grid stays None."""
    facts = [fact(grid="HG-01"), fact(grid="HG-01"), fact(grid="HG-02"), fact(grid=None),
             ReportFacts(9, "HG-01", T0 + timedelta(days=7), T0, "new")]
    counts = metrics.per_week(facts, SHANGHAI)
    assert {grid: dict(weeks) for grid, weeks in counts.items()} == {
        "HG-01": {"2024-W10": 2, "2024-W11": 1}, "HG-02": {"2024-W10": 1}, None: {"2024-W10": 1},
    }


NOW = T0 + timedelta(hours=10)


@pytest.mark.parametrize(("report", "verdict"), [
    (fact("confirmed", verified=179), "met"),
    (fact("confirmed", verified=180), "met"),  # exactly 3 h meets it
    (fact("unfounded", verified=181), "missed"),
    (fact("verifying"), "missed"),  # 10 h old and unverified: missed already, whatever happens next
    (fact("new", clock_delay=420), "pending"),  # clock started 7 h late (quiet hours): 3 h not up yet
    (fact("confirmed", clock_delay=600, verified=700), "met"),  # filed at night, verified 100 min after 08:00
    (fact("confirmed", clock_delay=60, verified=-10), "met"),  # verified before the clock started
    (fact("duplicate"), ""),  # nothing to verify
    (fact("withdrawn"), ""),
])
def test_standard_verdict(report: ReportFacts, verdict: str) -> None:
    """Met within the limit of the clock start; open past it is missed; closed unverified is not counted."""
    assert metrics.standard_verdict(report, NOW, 180) == verdict


def test_pending_report_turns_missed_once_the_limit_passes() -> None:
    """An unverified open report is pending up to the limit and missed after it."""
    report = fact("new")
    assert metrics.standard_verdict(report, T0 + timedelta(minutes=180), 180) == "pending"
    assert metrics.standard_verdict(report, T0 + timedelta(minutes=181), 180) == "missed"


def test_standard_shares_per_grid_and_overall() -> None:
    """Shares per grid, and the whole as the sum of the grids."""
    facts = [fact("confirmed", verified=60), fact("confirmed", verified=300), fact("new", clock_delay=600),
             fact("confirmed", grid="HG-02", verified=10), fact("duplicate", grid="HG-03")]
    shares = metrics.standard_shares(facts, NOW, 180)
    assert shares == {"HG-01": Share(met=1, missed=1, pending=1), "HG-02": Share(met=1)}
    assert shares["HG-01"].rate == 0.5
    whole = metrics.total(shares.values(), Share())
    assert (whole.met, whole.missed, whole.pending, whole.counted) == (2, 1, 1, 3)
    assert Share().rate is None


def test_satisfaction_per_grid() -> None:
    """Mean of the 1-5 ratings; checked reports split into satisfied first time and reopened."""
    def rated(rating: int | None, reopens: int = 0, checked: bool = True, grid: str = "HG-01") -> ReportFacts:
        return ReportFacts(1, grid, T0, T0, "closed_satisfied", rating=rating, reopen_count=reopens,
                           checked=T0 if checked else None)

    facts = [rated(5), rated(4), rated(2, reopens=1), rated(None, reopens=2), rated(None, checked=False),
             rated(9), rated(3, grid="HG-02")]
    happy = metrics.satisfaction(facts)
    one = happy["HG-01"]
    assert (one.rated, one.mean, one.checked, one.reopened, one.satisfied_first) == (3, 11 / 3, 5, 2, 3)
    assert one.satisfied_rate == 3 / 5
    assert happy["HG-02"].mean == 3
    whole = metrics.total(happy.values(), Satisfaction())
    assert (whole.rated, whole.rating_sum, whole.checked) == (4, 14, 6)
    assert Satisfaction().mean is None and Satisfaction().satisfied_rate is None


def test_reach_counts_outcomes_per_purpose() -> None:
    """Reached ÷ attempts that rang; refused placements apart; attempts still ringing left out."""
    attempts = [
        ("worker_verification", "reached"), ("worker_verification", "no-answer"), ("worker_verification", "machine"),
        ("worker_verification", ""), ("resident_confirmation", "reached"), ("resident_confirmation", "no-response"),
        ("resident_confirmation", "rest-error"), ("escalation", "busy"),
    ]
    reach = metrics.reach(attempts)
    assert (reach["worker_verification"].reached, reach["worker_verification"].rang) == (1, 3)
    assert (reach["resident_confirmation"].rate, reach["resident_confirmation"].not_placed) == (0.5, 1)
    assert reach["escalation"].rate == 0
    assert (reach[""].reached, reach[""].rang, reach[""].not_placed) == (2, 6, 1)
    assert metrics.reach([]) == {}


def test_outcome_names_match_the_engine() -> None:
    """The names the reach rate counts are the ones worker.outcomes writes."""
    assert metrics.REACHED == outcomes.REACHED
    assert metrics.NOT_PLACED == outcomes.REST_ERROR


@pytest.mark.parametrize(("grid_id", "expected"), [(None, None), (1, 1), (2, 1), (3, 1), (4, 4), (7, 7), (5, 5)])
def test_top_grid(grid_id: int | None, expected: int | None) -> None:
    """Micro-grids (any depth) roll up to their top-level grid; a cycle in bad data stops."""
    parents: dict[int, int | None] = {1: None, 2: 1, 3: 2, 4: None, 5: 6, 6: 5}
    assert metrics.top_grid(grid_id, parents) == expected


def test_date_range_bounds_are_local_midnights() -> None:
    """Both days included: local midnight of the first to local midnight after the last."""
    start, end = DateRange(date(2024, 3, 1), date(2024, 3, 31)).bounds(SHANGHAI)
    assert (start, end) == (datetime(2024, 2, 29, 16, 0, tzinfo=UTC), datetime(2024, 3, 31, 16, 0, tzinfo=UTC))
    assert start.tzinfo is UTC  # SQLite would compare a local time's digits with stored UTC


@pytest.mark.parametrize(("start", "end", "expected"), [
    (T0, T0 + timedelta(minutes=90), 90.0),
    (datetime(2024, 3, 4, 2, 0), T0 + timedelta(seconds=30), 0.5),  # naive (SQLite) against aware
])
def test_minutes(start: datetime, end: datetime, expected: float) -> None:
    """Minutes between two moments, naive values read as UTC."""
    assert metrics.minutes(start, end) == expected
