"""Who a report goes to: pure rules over plain data (no database, no I/O).

A report climbs a ladder until somebody is found: the grid worker of its micro-grid, the grid
worker of the parent grid, the grid leader, community staff on duty, any community staff. A
report with no grid (an unknown caller whose building was not found) goes to whoever is on
duty. The rule that picked the assignee is returned with it and stored on the report, so staff
can see *why* a report landed with somebody.

Grids and people are anything with the attributes below: ORM rows in production, small
dataclasses in the tests.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol, TypeVar

from grid.models import GRID_LEADER, GRID_WORKER, MICRO_GRID, RESIDENT, STAFF, VOLUNTEER

# Rules, as stored in reports.assignment_rule.
MICRO_GRID_WORKER_RULE = "micro_grid_worker"
GRID_WORKER_RULE = "grid_worker"
GRID_LEADER_RULE = "grid_leader"
GRID_LEADER_ON_DUTY_RULE = "grid_leader_on_duty"
STAFF_ON_DUTY_RULE = "staff_on_duty"
STAFF_RULE = "staff"
UNASSIGNED = "unassigned"

# Higher is more senior; reassignment "not my area" only ever climbs.
SENIORITY = {RESIDENT: 0, VOLUNTEER: 1, GRID_WORKER: 2, GRID_LEADER: 3, STAFF: 4}


class GridLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def parent_id(self) -> int | None: ...


class PersonLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def role(self) -> str: ...
    @property
    def grid_id(self) -> int | None: ...
    @property
    def on_duty(self) -> bool: ...


P = TypeVar("P", bound=PersonLike)


def _pick(people: Iterable[P], role: str, grid_id: int | None = None, on_duty: bool = False) -> P | None:
    """The person with this role (on this grid, on duty if asked); on duty first, then lowest id."""
    found = [
        p for p in people
        if p.role == role and (grid_id is None or p.grid_id == grid_id) and (p.on_duty or not on_duty)
    ]
    return min(found, key=lambda p: (not p.on_duty, p.id), default=None)


def _ladder(grid: GridLike | None, people: list[P]) -> Iterator[tuple[P | None, str, str]]:
    """Each rung as (person or None, rule, role), most local first."""
    if grid is not None:
        own_rule = MICRO_GRID_WORKER_RULE if grid.kind == MICRO_GRID else GRID_WORKER_RULE
        yield _pick(people, GRID_WORKER, grid.id), own_rule, GRID_WORKER
        if grid.parent_id is not None:
            yield _pick(people, GRID_WORKER, grid.parent_id), GRID_WORKER_RULE, GRID_WORKER
        yield _pick(people, GRID_LEADER, grid.id), GRID_LEADER_RULE, GRID_LEADER
        if grid.parent_id is not None:
            yield _pick(people, GRID_LEADER, grid.parent_id), GRID_LEADER_RULE, GRID_LEADER
    else:
        yield _pick(people, GRID_LEADER, on_duty=True), GRID_LEADER_ON_DUTY_RULE, GRID_LEADER
    yield _pick(people, STAFF, on_duty=True), STAFF_ON_DUTY_RULE, STAFF
    yield _pick(people, STAFF), STAFF_RULE, STAFF


def assign(grid: GridLike | None, people: Iterable[P]) -> tuple[P | None, str]:
    """The assignee for a new report in grid (None: grid unknown) and the rule that chose them."""
    for person, rule, _role in _ladder(grid, list(people)):
        if person is not None:
            return person, rule
    return None, UNASSIGNED


def next_up(grid: GridLike | None, people: Iterable[P], current: PersonLike | None) -> tuple[P | None, str]:
    """Who takes a report its assignee says is "not my area": the first rung above them.

    Grid worker → grid leader → staff on duty → any staff; community staff have nobody above
    them, so the report stays (None, "unassigned") and the caller keeps the current assignee.
    """
    if current is None:
        return assign(grid, people)
    level = SENIORITY.get(current.role, 0)
    for person, rule, role in _ladder(grid, [p for p in people if p.id != current.id]):
        if person is not None and SENIORITY[role] > level:
            return person, rule
    return None, UNASSIGNED


def on_duty_target(grid: GridLike | None, people: Iterable[P]) -> P | None:
    """Who to ring now about an urgent report: its grid's leader if on duty, else any leader on
    duty, else None (the caller then rings DUTY_PHONE)."""
    people = list(people)
    if grid is not None:
        for grid_id in (grid.id, grid.parent_id):
            leader = _pick(people, GRID_LEADER, grid_id, on_duty=True) if grid_id is not None else None
            if leader is not None:
                return leader
    return _pick(people, GRID_LEADER, on_duty=True)


def grid_worker(grid: GridLike, people: Iterable[P]) -> P | None:
    """The grid worker of grid, else of its parent grid: who a caller reaches with menu key 0."""
    people = list(people)
    for grid_id in (grid.id, grid.parent_id):
        worker = _pick(people, GRID_WORKER, grid_id) if grid_id is not None else None
        if worker is not None:
            return worker
    return None


def escalation_target(grid: GridLike | None, people: Iterable[P], level: int) -> tuple[P | None, str]:
    """Who hears about an overdue report: level 1 the grid leader (its grid's, else the parent's,
    else one on duty), level 2 community staff (on duty first). Falls through to staff when a
    rung is empty; (None, UNASSIGNED) means ring DUTY_PHONE."""
    people = list(people)
    if level <= 1:
        for grid_id in ((grid.id, grid.parent_id) if grid is not None else ()):
            leader = _pick(people, GRID_LEADER, grid_id) if grid_id is not None else None
            if leader is not None:
                return leader, GRID_LEADER_RULE
        leader = _pick(people, GRID_LEADER, on_duty=True)
        if leader is not None:
            return leader, GRID_LEADER_ON_DUTY_RULE
    staff = _pick(people, STAFF, on_duty=True)
    if staff is not None:
        return staff, STAFF_ON_DUTY_RULE
    staff = _pick(people, STAFF)
    return (staff, STAFF_RULE) if staff is not None else (None, UNASSIGNED)
