"""The answers a call can record, one name each across flows, database and API."""
from __future__ import annotations

ACCEPTED = "accepted"  # worker: I will go and verify
NOT_MY_AREA = "not_my_area"  # worker: reassign upward
NO_ANSWER = "no_answer"  # picked up but never pressed a key: counts as not reached
CONFIRMED = "confirmed"  # worker on site: the problem is real
UNFOUNDED = "unfounded"  # worker on site: nothing found / not real
NOT_YET = "not_yet"  # worker: not visited / not handled yet
HANDLED = "handled"  # worker: done
SOLVED = "solved"  # resident: it is fixed
NOT_SOLVED = "not_solved"  # resident: it is not fixed (reopens)
PICKED_UP = "picked_up"  # a caller we rang back used the hotline menu: reached
YES = "yes"  # staff question
NO = "no"
ANSWERS = (
    ACCEPTED, NOT_MY_AREA, NO_ANSWER, CONFIRMED, UNFOUNDED, NOT_YET, HANDLED, SOLVED, NOT_SOLVED, PICKED_UP, YES, NO,
)
