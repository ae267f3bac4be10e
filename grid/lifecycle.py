"""The report lifecycle as data: states, the events that move a report, and per-state deadlines.

发现→核实→分流→交办→回复→验证→评价: a report is filed (new), the assignee accepts it (verifying),
confirms or finds nothing (confirmed / unfounded), it is dispatched to a handler, handled, checked
with the resident (awaiting_check) and closed satisfied, reopened, or closed unreachable. Pure:
the host records every transition in the report's timeline.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

NEW = "new"
VERIFYING = "verifying"
CONFIRMED = "confirmed"
UNFOUNDED = "unfounded"
DISPATCHED = "dispatched"
HANDLED = "handled"
AWAITING_CHECK = "awaiting_check"
CLOSED_SATISFIED = "closed_satisfied"
CLOSED_UNREACHABLE = "closed_unreachable"
DUPLICATE = "duplicate"
WITHDRAWN = "withdrawn"
STATES = (
    NEW, VERIFYING, CONFIRMED, UNFOUNDED, DISPATCHED, HANDLED, AWAITING_CHECK,
    CLOSED_SATISFIED, CLOSED_UNREACHABLE, DUPLICATE, WITHDRAWN,
)
CLOSED = frozenset({UNFOUNDED, CLOSED_SATISFIED, CLOSED_UNREACHABLE, DUPLICATE, WITHDRAWN})
OPEN = frozenset(STATES) - CLOSED
_BEFORE_HANDLING = (NEW, VERIFYING, CONFIRMED, DISPATCHED)

# event -> (states it may happen in, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "accept": (frozenset({NEW}), VERIFYING),
    "confirm": (frozenset({NEW, VERIFYING}), CONFIRMED),
    "unfounded": (frozenset({NEW, VERIFYING}), UNFOUNDED),
    "dispatch": (frozenset({CONFIRMED}), DISPATCHED),
    "handle": (frozenset({DISPATCHED}), HANDLED),
    "request_check": (frozenset({HANDLED}), AWAITING_CHECK),
    # the resident could not be reached by phone, then answered the texted question: solved after all
    "satisfied": (frozenset({AWAITING_CHECK, CLOSED_UNREACHABLE}), CLOSED_SATISFIED),
    "reopen": (frozenset({AWAITING_CHECK, CLOSED_SATISFIED, CLOSED_UNREACHABLE}), DISPATCHED),
    "unreachable": (frozenset({AWAITING_CHECK}), CLOSED_UNREACHABLE),
    "mark_duplicate": (frozenset(_BEFORE_HANDLING), DUPLICATE),
    "withdraw": (frozenset(_BEFORE_HANDLING), WITHDRAWN),
}
EVENTS = tuple(TRANSITIONS)


class IllegalTransition(ValueError):
    """The event is not allowed in the report's current state (e.g. 'handle' on a new report)."""


def next_state(state: str, event: str) -> str:
    """The state `event` leads to from `state`; IllegalTransition when it may not happen there."""
    try:
        allowed_from, target = TRANSITIONS[event]
    except KeyError:
        raise IllegalTransition(f"unknown event {event!r}") from None
    if state not in allowed_from:
        raise IllegalTransition(f"{event!r} is not allowed in state {state!r}")
    return target


def allowed_events(state: str) -> tuple[str, ...]:
    """What may happen next (the dashboard offers exactly these)."""
    return tuple(e for e, (sources, _) in TRANSITIONS.items() if state in sources)


# ---- deadlines ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Deadlines:
    """How long a report may stay in a state before it escalates (DEADLINE_* settings)."""

    accept: timedelta = timedelta(minutes=30)  # the assignee takes it
    verify: timedelta = timedelta(hours=3)  # 3-hour mobilisation standard: on site and verified
    handle: timedelta = timedelta(hours=48)  # handled once confirmed

    def limit_for(self, state: str) -> timedelta | None:
        """The time allowed in `state`; None for states nobody is waiting on a worker in."""
        return {NEW: self.accept, VERIFYING: self.verify, CONFIRMED: self.handle, DISPATCHED: self.handle}.get(state)


def deadline(state: str, entered_at: datetime, limits: Deadlines) -> datetime | None:
    """When a report that entered `state` at `entered_at` becomes overdue (None: no deadline)."""
    limit = limits.limit_for(state)
    return entered_at + limit if limit is not None else None


MAX_ESCALATION = 2  # 1: the grid leader, 2: community staff


def escalation_level_due(state: str, entered_at: datetime, now: datetime, limits: Deadlines) -> int:
    """How many deadlines the report has missed in this state: 0, 1 (grid leader) or 2 (staff).

    The second miss is one more full period after the first: a leader who was told and did
    nothing within that time hands the report to community staff.
    """
    limit = limits.limit_for(state)
    if limit is None or now < entered_at + limit:
        return 0
    return 1 if now < entered_at + 2 * limit else MAX_ESCALATION
