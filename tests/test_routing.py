"""Routing rules, pure: who a report goes to, who is rung for urgent reports, who is next up."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from grid import routing
from grid.models import (
    EXCLUSIVE_GRID,
    GRID,
    GRID_LEADER,
    GRID_WORKER,
    MICRO_GRID,
    RESIDENT,
    STAFF,
    VOLUNTEER,
)


@dataclass(frozen=True)
class G:
    id: int
    kind: str
    parent_id: int | None = None


@dataclass(frozen=True)
class P:
    id: int
    role: str
    grid_id: int | None = None
    on_duty: bool = False


GRID_1 = G(1, GRID)
MICRO_11 = G(11, MICRO_GRID, parent_id=1)
SCHOOL = G(9, EXCLUSIVE_GRID)
SCHOOL_IN_GRID_1 = G(8, EXCLUSIVE_GRID, parent_id=1)

MICRO_WORKER = P(101, GRID_WORKER, 11)
GRID_WORKER_1 = P(102, GRID_WORKER, 1)
OTHER_WORKER = P(103, GRID_WORKER, 2)
LEADER_1 = P(201, GRID_LEADER, 1)
LEADER_1_ON_DUTY = P(202, GRID_LEADER, 1, on_duty=True)
LEADER_2_ON_DUTY = P(203, GRID_LEADER, 2, on_duty=True)
LEADER_2 = P(204, GRID_LEADER, 2)
STAFF_A = P(301, STAFF)
STAFF_ON_DUTY = P(302, STAFF, on_duty=True)
VOLUNTEER_11 = P(401, VOLUNTEER, 11)
RESIDENT_11 = P(501, RESIDENT, 11)
EVERYBODY = [MICRO_WORKER, GRID_WORKER_1, OTHER_WORKER, LEADER_1, LEADER_2_ON_DUTY, STAFF_A, STAFF_ON_DUTY]


@pytest.mark.parametrize(
    ("grid", "people", "expected", "rule"),
    [
        (MICRO_11, EVERYBODY, MICRO_WORKER, "micro_grid_worker"),
        (MICRO_11, [GRID_WORKER_1, OTHER_WORKER, LEADER_1, STAFF_A], GRID_WORKER_1, "grid_worker"),
        (GRID_1, EVERYBODY, GRID_WORKER_1, "grid_worker"),
        (MICRO_11, [OTHER_WORKER, LEADER_2_ON_DUTY, LEADER_1, STAFF_ON_DUTY], LEADER_1, "grid_leader"),
        (MICRO_11, [LEADER_1, LEADER_1_ON_DUTY], LEADER_1_ON_DUTY, "grid_leader"),
        (MICRO_11, [OTHER_WORKER, LEADER_2_ON_DUTY, STAFF_A, STAFF_ON_DUTY], STAFF_ON_DUTY, "staff_on_duty"),
        (MICRO_11, [OTHER_WORKER, STAFF_A], STAFF_A, "staff"),
        (MICRO_11, [OTHER_WORKER, VOLUNTEER_11, RESIDENT_11], None, "unassigned"),
        (SCHOOL, [P(110, GRID_WORKER, 9), STAFF_ON_DUTY], P(110, GRID_WORKER, 9), "grid_worker"),
        (SCHOOL, [GRID_WORKER_1, LEADER_1, STAFF_A], STAFF_A, "staff"),
        (SCHOOL_IN_GRID_1, [GRID_WORKER_1, LEADER_1], GRID_WORKER_1, "grid_worker"),
        (None, EVERYBODY, LEADER_2_ON_DUTY, "grid_leader_on_duty"),
        (None, [LEADER_1, MICRO_WORKER, STAFF_A, STAFF_ON_DUTY], STAFF_ON_DUTY, "staff_on_duty"),
        (None, [LEADER_1, MICRO_WORKER, STAFF_A], STAFF_A, "staff"),
        (None, [LEADER_1, MICRO_WORKER], None, "unassigned"),
    ],
)
def test_assign(grid: G | None, people: list[P], expected: P | None, rule: str) -> None:
    """A new report goes to the most local responder, and the rule that chose them is recorded."""
    assert routing.assign(grid, people) == (expected, rule)


def test_assign_prefers_the_lowest_id_among_equals() -> None:
    """Two grid workers on one micro-grid: the earlier-registered one gets the report (stable)."""
    second = P(150, GRID_WORKER, 11)
    assert routing.assign(MICRO_11, [second, MICRO_WORKER]) == (MICRO_WORKER, "micro_grid_worker")


@pytest.mark.parametrize(
    ("grid", "people", "expected"),
    [
        (MICRO_11, [LEADER_1_ON_DUTY, LEADER_2_ON_DUTY], LEADER_1_ON_DUTY),
        (GRID_1, [LEADER_2_ON_DUTY, LEADER_1_ON_DUTY], LEADER_1_ON_DUTY),
        (MICRO_11, [LEADER_1, LEADER_2_ON_DUTY], LEADER_2_ON_DUTY),
        (None, [LEADER_1, LEADER_2_ON_DUTY], LEADER_2_ON_DUTY),
        (MICRO_11, [LEADER_1, LEADER_2, STAFF_ON_DUTY, MICRO_WORKER], None),
        (SCHOOL, [], None),
    ],
)
def test_on_duty_target(grid: G | None, people: list[P], expected: P | None) -> None:
    """Urgent reports ring the grid's leader if on duty, else any leader on duty, else nobody (DUTY_PHONE)."""
    assert routing.on_duty_target(grid, people) == expected


@pytest.mark.parametrize(
    ("current", "people", "expected", "rule"),
    [
        (MICRO_WORKER, EVERYBODY, LEADER_1, "grid_leader"),
        (GRID_WORKER_1, EVERYBODY, LEADER_1, "grid_leader"),
        (VOLUNTEER_11, EVERYBODY, MICRO_WORKER, "micro_grid_worker"),
        (MICRO_WORKER, [MICRO_WORKER, GRID_WORKER_1, STAFF_A, STAFF_ON_DUTY], STAFF_ON_DUTY, "staff_on_duty"),
        (LEADER_1, EVERYBODY, STAFF_ON_DUTY, "staff_on_duty"),
        (LEADER_1, [LEADER_1, LEADER_2_ON_DUTY, STAFF_A], STAFF_A, "staff"),
        (STAFF_ON_DUTY, EVERYBODY, None, "unassigned"),
        (LEADER_1, [LEADER_1], None, "unassigned"),
        (None, EVERYBODY, MICRO_WORKER, "micro_grid_worker"),
    ],
)
def test_next_up(current: P | None, people: list[P], expected: P | None, rule: str) -> None:
    """"Not my area" hands a report upward: grid worker → grid leader → staff on duty → any staff."""
    assert routing.next_up(MICRO_11, people, current) == (expected, rule)


def test_next_up_without_grid_goes_to_whoever_is_on_duty() -> None:
    """A report with no grid that its assignee refuses goes to staff on duty, never back to them."""
    assert routing.next_up(None, EVERYBODY, LEADER_2_ON_DUTY) == (STAFF_ON_DUTY, "staff_on_duty")


@pytest.mark.parametrize(
    ("grid", "people", "expected"),
    [
        (MICRO_11, EVERYBODY, MICRO_WORKER),
        (MICRO_11, [GRID_WORKER_1, OTHER_WORKER], GRID_WORKER_1),
        (MICRO_11, [OTHER_WORKER, LEADER_1], None),
        (SCHOOL, EVERYBODY, None),
    ],
)
def test_grid_worker(grid: G, people: list[P], expected: P | None) -> None:
    """Menu key 0 reaches the micro-grid's own grid worker, else the parent grid's, else nobody."""
    assert routing.grid_worker(grid, people) == expected


@pytest.mark.parametrize(
    ("grid", "people", "level", "expected"),
    [
        # level 1: the grid leader of the report's micro-grid's parent grid
        (MICRO_11, [MICRO_WORKER, LEADER_1, STAFF_A], 1, (LEADER_1, routing.GRID_LEADER_RULE)),
        # no leader for this grid: a leader on duty elsewhere
        (MICRO_11, [MICRO_WORKER, LEADER_2_ON_DUTY, STAFF_A], 1, (LEADER_2_ON_DUTY, routing.GRID_LEADER_ON_DUTY_RULE)),
        # no leader at all: straight to staff, on duty first
        (MICRO_11, [MICRO_WORKER, STAFF_A, STAFF_ON_DUTY], 1, (STAFF_ON_DUTY, routing.STAFF_ON_DUTY_RULE)),
        # level 2: community staff even when a leader exists
        (MICRO_11, [LEADER_1, STAFF_A], 2, (STAFF_A, routing.STAFF_RULE)),
        # unknown grid: the leader on duty
        (None, [LEADER_1, LEADER_2_ON_DUTY], 1, (LEADER_2_ON_DUTY, routing.GRID_LEADER_ON_DUTY_RULE)),
        # nobody: the caller rings DUTY_PHONE
        (MICRO_11, [MICRO_WORKER], 2, (None, routing.UNASSIGNED)),
    ],
)
def test_escalation_target(grid: G | None, people: list[P], level: int, expected: tuple[P | None, str]) -> None:
    """An overdue report climbs: grid leader at the first missed deadline, community staff at the second."""
    assert routing.escalation_target(grid, people, level) == expected
