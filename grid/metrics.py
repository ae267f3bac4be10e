"""Metrics over the reports a user may see: reports per week, how fast they are taken on, verified
and handled, the 3-hour standard, satisfaction, call-back reach, and what is overdue now.

Every figure comes from the report rows and their timeline (`report_events`, never rewritten): a
milestone is the *first* transition of its kind, so a reopened report keeps its first handling time.
Grids are rolled up to the top-level grid (a micro-grid's reports count under its grid); reports
with no grid are kept apart under None. The arithmetic is plain functions over `ReportFacts`; the
loaders at the bottom are the only part that reads the database.
"""
from __future__ import annotations

from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from grid import lifecycle
from grid.models import CallAttempt, CallBack, Grid, Person, Report, ReportEvent, as_utc
from grid.quiet_hours import Window, call_time

# Bucket upper bounds in minutes; a value v falls in the first bucket with v <= upper (so exactly
# 3 h is "1–3 h" and meets the 3-hour standard), anything above the last upper in one more bucket.
ACCEPT_UPPERS = (10, 30, 60, 180)
VERIFY_UPPERS = (30, 60, 180, 360, 1440)
HANDLE_UPPERS = (4 * 60, 12 * 60, 24 * 60, 48 * 60, 7 * 24 * 60)
# The first transition of these events is the milestone (minutes are counted from filing).
ACCEPTED = frozenset({"accept", "confirm", "unfounded"})  # taken on: accepted, or verified at once
VERIFIED = frozenset({"confirm", "unfounded"})  # verified on site, either way
HANDLED = frozenset({"handle"})
CHECKED = frozenset({"satisfied", "reopen"})  # the check with the resident ended, either way
REACHED = "reached"  # worker.outcomes.REACHED: the person answered the call's question
NOT_PLACED = "rest-error"  # worker.outcomes.REST_ERROR: Twilio refused the call, no phone rang
T = TypeVar("T")


@dataclass(frozen=True)
class DateRange:
    """Local calendar days, both ends included."""

    start: date
    end: date

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) in UTC: local midnight of `start` to local midnight after `end`. UTC because
        SQLite compares the stored text and drops the offset of what it is compared with."""
        return (datetime.combine(self.start, time(), tzinfo=zone).astimezone(UTC),
                datetime.combine(self.end + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC))


@dataclass(frozen=True)
class ReportFacts:
    """What the metrics need of one report. `clock` is when the 3-hour clock started."""

    id: int
    grid: str | None  # top-level grid code
    filed: datetime
    clock: datetime
    state: str
    rating: int | None = None
    reopen_count: int = 0
    accepted: datetime | None = None
    verified: datetime | None = None
    handled: datetime | None = None
    checked: datetime | None = None


@dataclass(frozen=True)
class Distribution:
    """Reports per duration bucket, and those still open that have not reached the milestone."""

    counts: tuple[int, ...]
    still_open: int


@dataclass
class Share:
    """Met / missed a standard; `pending` may still meet it and is not in the share."""

    met: int = 0
    missed: int = 0
    pending: int = 0

    @property
    def counted(self) -> int:
        return self.met + self.missed

    @property
    def rate(self) -> float | None:
        return self.met / self.counted if self.counted else None


@dataclass
class Satisfaction:
    """Ratings (1–5) and the resident's check: satisfied the first time, or reopened at least once."""

    rated: int = 0
    rating_sum: int = 0
    checked: int = 0
    reopened: int = 0

    @property
    def mean(self) -> float | None:
        return self.rating_sum / self.rated if self.rated else None

    @property
    def satisfied_first(self) -> int:
        return self.checked - self.reopened

    @property
    def satisfied_rate(self) -> float | None:
        return self.satisfied_first / self.checked if self.checked else None


@dataclass
class Reach:
    """Call attempts that reached the person among those that rang; `not_placed` never rang."""

    reached: int = 0
    rang: int = 0
    not_placed: int = 0

    @property
    def rate(self) -> float | None:
        return self.reached / self.rang if self.rang else None


# ---- pure arithmetic -------------------------------------------------------------------------
def minutes(start: datetime, end: datetime) -> float:
    return (as_utc(end) - as_utc(start)).total_seconds() / 60


def bucket(value: float, uppers: tuple[int, ...]) -> int:
    """The bucket index of `value` minutes: the first with value <= upper, else the last."""
    return bisect_left(uppers, value)


def distribution(facts: Iterable[ReportFacts], milestone: str, uppers: tuple[int, ...]) -> Distribution:
    """Filed → `milestone` ("accepted", "verified", "handled") in buckets. A report without the
    milestone counts as still open if it is open; closed without it (duplicate, withdrawn,
    unfounded before handling), it is left out."""
    counts = [0] * (len(uppers) + 1)
    still_open = 0
    for fact in facts:
        reached: datetime | None = getattr(fact, milestone)
        if reached is not None:
            counts[bucket(minutes(fact.filed, reached), uppers)] += 1
        elif fact.state in lifecycle.OPEN:
            still_open += 1
    return Distribution(tuple(counts), still_open)


def iso_week(moment: datetime, zone: ZoneInfo) -> str:
    """The ISO week ("2024-W05") of a moment on the local calendar (weeks start on Monday)."""
    year, week, _ = as_utc(moment).astimezone(zone).isocalendar()
    return f"{year}-W{week:02d}"


def weeks_between(start: date, end: date) -> list[str]:
    """Every ISO week touching [start, end], in order (a week axis without gaps)."""
    monday = start - timedelta(days=start.weekday())
    weeks = []
    while monday <= end:
        year, week, _ = monday.isocalendar()
        weeks.append(f"{year}-W{week:02d}")
        monday += timedelta(days=7)
    return weeks


def per_week(facts: Iterable[ReportFacts], zone: ZoneInfo) -> dict[str | None, Counter[str]]:
    """Reports filed per top-level grid per local ISO week."""
    out: dict[str | None, Counter[str]] = defaultdict(Counter)
    for fact in facts:
        out[fact.grid][iso_week(fact.filed, zone)] += 1
    return dict(out)


def standard_verdict(fact: ReportFacts, now: datetime, limit_minutes: float) -> str:
    """"met" / "missed" the verify-on-site standard, "pending" (open, may still meet it) or "" (closed
    unverified: a duplicate or withdrawn report, nothing to verify). The clock starts at filing, or,
    for a report that is not urgent filed in quiet hours, when they end (the deadline's own rule:
    nobody is rung before then). An open report unverified past the limit has missed it already."""
    if fact.verified is not None:
        return "met" if minutes(fact.clock, fact.verified) <= limit_minutes else "missed"
    if fact.state not in lifecycle.OPEN:
        return ""
    return "missed" if minutes(fact.clock, now) > limit_minutes else "pending"


def standard_shares(facts: Iterable[ReportFacts], now: datetime, limit_minutes: float) -> dict[str | None, Share]:
    """The share meeting the standard per top-level grid."""
    out: dict[str | None, Share] = defaultdict(Share)
    for fact in facts:
        verdict = standard_verdict(fact, now, limit_minutes)
        if verdict:
            share = out[fact.grid]
            setattr(share, verdict, getattr(share, verdict) + 1)
    return dict(out)


def satisfaction(facts: Iterable[ReportFacts]) -> dict[str | None, Satisfaction]:
    """Mean rating and the check's outcome per top-level grid (ratings outside 1–5 are ignored)."""
    out: dict[str | None, Satisfaction] = defaultdict(Satisfaction)
    for fact in facts:
        entry = out[fact.grid]
        if fact.rating is not None and 1 <= fact.rating <= 5:
            entry.rated += 1
            entry.rating_sum += fact.rating
        if fact.checked is not None:
            entry.checked += 1
            entry.reopened += fact.reopen_count > 0
    return dict(out)


def reach(attempts: Iterable[tuple[str, str]]) -> dict[str, Reach]:
    """Reach per call-back purpose from (purpose, outcome) pairs; "" for all purposes together.
    Attempts without an outcome are still ringing and left out."""
    out: dict[str, Reach] = defaultdict(Reach)
    for purpose, outcome in attempts:
        if not outcome:
            continue
        for key in (purpose, ""):
            entry = out[key]
            if outcome == NOT_PLACED:
                entry.not_placed += 1
            else:
                entry.rang += 1
                entry.reached += outcome == REACHED
    return dict(out)


def total(parts: Iterable[T], empty: T) -> T:
    """The field-by-field sum of per-grid counts (Share, Satisfaction, Reach): the whole community."""
    for part in parts:
        for name in (f.name for f in fields(part)):  # type: ignore[arg-type]
            setattr(empty, name, getattr(empty, name) + getattr(part, name))
    return empty


def top_grid(grid_id: int | None, parents: Mapping[int, int | None]) -> int | None:
    """The top-level grid above `grid_id` (itself when it has no parent)."""
    seen: set[int] = set()
    while grid_id is not None and parents.get(grid_id) is not None and grid_id not in seen:
        seen.add(grid_id)
        grid_id = parents[grid_id]
    return grid_id


# ---- loading ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class GridInfo:
    """Grid codes and names, and each grid's top-level grid code."""

    codes: dict[int, str]
    names: dict[str, str]
    top: dict[int, str]


def grid_info(session: Session) -> GridInfo:
    """Codes, names and roll-ups of every grid (a few dozen rows: read once per page)."""
    rows = session.execute(select(Grid.id, Grid.code, Grid.name, Grid.parent_id)).all()
    parents = {row.id: row.parent_id for row in rows}
    codes = {row.id: row.code for row in rows}
    top = {gid: codes[t] for gid in codes if (t := top_grid(gid, parents)) is not None}
    return GridInfo(codes, {row.code: row.name for row in rows}, top)


def filed_in(scope: ColumnElement[bool], start: datetime, end: datetime) -> Select[int]:
    """The ids of the reports in `scope` filed in [start, end)."""
    return select(Report.id).where(scope, Report.created_at >= start, Report.created_at < end)


def milestones(session: Session, report_ids: Select[int]) -> dict[int, dict[str, datetime]]:
    """report id -> {"accepted"|"verified"|"handled"|"checked": first time}, from the timeline."""
    wanted = {"accepted": ACCEPTED, "verified": VERIFIED, "handled": HANDLED, "checked": CHECKED}
    rows = session.execute(
        select(ReportEvent.report_id, ReportEvent.event, func.min(ReportEvent.at))
        .where(ReportEvent.kind == "transition", ReportEvent.event.in_(sorted(set().union(*wanted.values()))),
               ReportEvent.report_id.in_(report_ids))
        .group_by(ReportEvent.report_id, ReportEvent.event)
    )
    out: dict[int, dict[str, datetime]] = defaultdict(dict)
    for report_id, event, at in rows:
        for name, events in wanted.items():
            if event in events:
                first = out[report_id].get(name)
                out[report_id][name] = as_utc(at) if first is None else min(first, as_utc(at))
    return dict(out)


def load_facts(
    session: Session, scope: ColumnElement[bool], start: datetime, end: datetime, zone: str, quiet: Window, grids: GridInfo
) -> list[ReportFacts]:
    """The facts of the reports in `scope` filed in [start, end)."""
    ids = filed_in(scope, start, end)
    times = milestones(session, ids)
    rows = session.execute(
        select(Report.id, Report.grid_id, Report.created_at, Report.urgent, Report.state, Report.rating,
               Report.reopen_count).where(Report.id.in_(ids)).order_by(Report.id)
    )
    facts = []
    for row in rows:
        filed = as_utc(row.created_at)
        facts.append(ReportFacts(
            id=row.id, grid=grids.top.get(row.grid_id) if row.grid_id is not None else None, filed=filed,
            clock=call_time(filed, zone, quiet, exempt=row.urgent), state=row.state, rating=row.rating,
            reopen_count=row.reopen_count or 0, **times.get(row.id, {}),
        ))
    return facts


def load_attempts(session: Session, scope: ColumnElement[bool], start: datetime, end: datetime) -> list[tuple[str, str]]:
    """(purpose, outcome) of the call attempts placed in [start, end) for call-backs about reports in
    `scope`; call-backs about no report (a staff question, a missed-call return) only where the
    scope is everything (community staff)."""
    rows = session.execute(
        select(CallBack.purpose, CallAttempt.outcome)
        .join(CallAttempt.callback).outerjoin(Report, CallBack.report_id == Report.id)
        .where(scope, CallAttempt.placed_at >= start, CallAttempt.placed_at < end)
    )
    return [(purpose, outcome) for purpose, outcome in rows]


@dataclass(frozen=True)
class Overdue:
    """An open report past its state's deadline now."""

    id: int
    grid: str | None
    micro_grid: str | None
    state: str
    category: str
    urgent: bool
    since: datetime
    escalation_level: int
    assignee: str


def overdue_now(session: Session, scope: ColumnElement[bool], grids: GridInfo) -> list[Overdue]:
    """Open reports marked overdue, whenever they were filed, oldest state first."""
    rows = session.execute(
        select(Report.id, Report.grid_id, Report.state, Report.category, Report.urgent, Report.state_changed_at,
               Report.escalation_level, Person.name)
        .outerjoin(Person, Report.assignee_id == Person.id)
        .where(scope, Report.overdue.is_(True), Report.state.in_(sorted(lifecycle.OPEN)))
        .order_by(Report.state_changed_at, Report.id)
    )
    out = []
    for r in rows:
        top, own = grids.top.get(r.grid_id), grids.codes.get(r.grid_id)
        out.append(Overdue(r.id, top, own if own != top else None, r.state, r.category, r.urgent,
                           as_utc(r.state_changed_at), r.escalation_level or 0, r.name or ""))
    return out
