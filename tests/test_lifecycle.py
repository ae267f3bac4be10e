"""The report lifecycle table and its deadlines: what may happen in each state, and when it is overdue."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from grid import lifecycle as lc

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("state", "event", "target"),
    [
        (lc.NEW, "accept", lc.VERIFYING),
        (lc.VERIFYING, "confirm", lc.CONFIRMED),
        (lc.NEW, "confirm", lc.CONFIRMED),  # staff who saw it themselves
        (lc.VERIFYING, "unfounded", lc.UNFOUNDED),
        (lc.CONFIRMED, "dispatch", lc.DISPATCHED),
        (lc.DISPATCHED, "handle", lc.HANDLED),
        (lc.HANDLED, "request_check", lc.AWAITING_CHECK),
        (lc.AWAITING_CHECK, "satisfied", lc.CLOSED_SATISFIED),
        (lc.AWAITING_CHECK, "reopen", lc.DISPATCHED),
        (lc.CLOSED_SATISFIED, "reopen", lc.DISPATCHED),
        (lc.CLOSED_UNREACHABLE, "reopen", lc.DISPATCHED),
        (lc.AWAITING_CHECK, "unreachable", lc.CLOSED_UNREACHABLE),
        (lc.CLOSED_UNREACHABLE, "satisfied", lc.CLOSED_SATISFIED),  # answered the texted question later
        (lc.NEW, "mark_duplicate", lc.DUPLICATE),
        (lc.DISPATCHED, "withdraw", lc.WITHDRAWN),
    ],
)
def test_allowed_transitions(state: str, event: str, target: str) -> None:
    """Each step of 发现→核实→分流→交办→回复→验证→评价 leads where the issue says."""
    assert lc.next_state(state, event) == target


@pytest.mark.parametrize(
    ("state", "event"),
    [
        (lc.NEW, "handle"),  # nobody handles what nobody verified
        (lc.NEW, "satisfied"),
        (lc.VERIFYING, "accept"),  # accepting twice is not a second transition
        (lc.UNFOUNDED, "confirm"),
        (lc.CLOSED_SATISFIED, "satisfied"),
        (lc.HANDLED, "mark_duplicate"),
        (lc.DUPLICATE, "reopen"),
        (lc.WITHDRAWN, "accept"),
        (lc.NEW, "no-such-event"),
    ],
)
def test_refused_transitions(state: str, event: str) -> None:
    """An answer that does not fit the report's state is refused, never applied."""
    with pytest.raises(lc.IllegalTransition):
        lc.next_state(state, event)


def test_every_state_is_reachable_and_closed_states_only_reopen() -> None:
    """No state is a dead letter, and a closed report can only be reopened (or, unreachable by phone,
    confirmed solved by text), never moved otherwise."""
    targets = {target for _sources, target in lc.TRANSITIONS.values()}
    assert targets | {lc.NEW} == set(lc.STATES)
    for state in lc.CLOSED - {lc.CLOSED_UNREACHABLE}:
        assert set(lc.allowed_events(state)) <= {"reopen"}
    assert set(lc.allowed_events(lc.CLOSED_UNREACHABLE)) == {"reopen", "satisfied"}


@pytest.mark.parametrize(
    ("state", "after", "level"),
    [
        (lc.NEW, timedelta(minutes=29), 0),
        (lc.NEW, timedelta(minutes=30), 1),  # accept within 30 minutes
        (lc.NEW, timedelta(minutes=59), 1),
        (lc.NEW, timedelta(minutes=60), 2),  # a second period missed: community staff
        (lc.VERIFYING, timedelta(hours=2, minutes=59), 0),
        (lc.VERIFYING, timedelta(hours=3), 1),  # the 3-hour mobilisation standard
        (lc.VERIFYING, timedelta(hours=6), 2),
        (lc.DISPATCHED, timedelta(hours=47), 0),
        (lc.DISPATCHED, timedelta(hours=48), 1),
        (lc.CONFIRMED, timedelta(hours=96), 2),
        (lc.AWAITING_CHECK, timedelta(days=30), 0),  # waiting on the resident: no deadline
        (lc.CLOSED_SATISFIED, timedelta(days=30), 0),
    ],
)
def test_escalation_level_due(state: str, after: timedelta, level: int) -> None:
    """Missed deadlines escalate once per period: grid leader first, then community staff."""
    assert lc.escalation_level_due(state, T0, T0 + after, lc.Deadlines()) == level


def test_deadlines_are_configurable() -> None:
    """A community with a 1-hour acceptance rule gets its own deadline."""
    limits = lc.Deadlines(accept=timedelta(hours=1))
    assert lc.deadline(lc.NEW, T0, limits) == T0 + timedelta(hours=1)
    assert lc.deadline(lc.HANDLED, T0, limits) is None
