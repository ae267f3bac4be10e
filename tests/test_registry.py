"""Registry look-ups on a real database, over the demo community 花果社区."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from grid import registry
from grid.demo import load_demo_if_empty
from grid.models import Grid, Household, Person, Report

pytestmark = pytest.mark.parametrize("db_backend", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def session(sessions: Any) -> Iterator[Session]:
    with sessions() as session:
        assert load_demo_if_empty(session) is True
        session.commit()
        yield session


def grid(session: Session, code: str) -> Grid:
    return session.scalars(select(Grid).where(Grid.code == code)).one()


def code_of(grid: Grid | None) -> str | None:
    return grid.code if grid is not None else None


def person(session: Session, name: str) -> Person:
    return session.scalars(select(Person).where(Person.name == name)).one()


def test_demo_has_the_promised_shape(session: Session) -> None:
    """The demo is 2 grids of 3 micro-grids, a school, and ~60 people in the roles and households promised."""
    grids = list(session.scalars(select(Grid)))
    assert Counter(g.kind for g in grids) == {"grid": 2, "micro_grid": 6, "exclusive_grid": 1}
    assert Counter(code_of(g.parent) for g in grids if g.kind == "micro_grid") == {"HG-01": 3, "HG-02": 3}
    people = list(session.scalars(select(Person)))
    assert 55 <= len(people) <= 65
    roles = Counter(p.role for p in people)
    assert (roles["community_staff"], roles["grid_leader"], roles["volunteer"]) == (2, 2, 6)
    assert set(roles) == {"community_staff", "grid_leader", "grid_worker", "volunteer", "resident"}
    assert {code_of(p.grid) for p in people if p.role == "grid_worker"} >= {"HG-01", "HG-02"}
    on_duty = Counter(p.role for p in people if p.on_duty)
    assert (on_duty["community_staff"], on_duty["grid_leader"]) == (1, 1)
    assert {code_of(p.grid) for p in people if p.role == "grid_leader"} == {"HG-01", "HG-02"}
    assert {code_of(p.grid) for p in people if p.role == "volunteer"} == {g.code for g in grids if g.kind == "micro_grid"}
    assert all(p.household is not None for p in people if p.role == "resident")
    assert registry.building_numbers(session) == frozenset(str(n) for n in range(1, 13))
    per_micro_grid = Counter(code_of(registry.resolve_building(session, str(n))) for n in range(1, 13))
    assert set(per_micro_grid.values()) == {2}
    assert sum(p.language == "en-US" for p in people) >= 2
    assert sum(p.phone.startswith("+86571") for p in people) >= 2
    shared = [phone for phone, n in Counter(p.phone for p in people).items() if n > 1]
    assert len(shared) == 1
    assert len({p.household_id for p in people if p.phone == shared[0]}) == 1


def test_demo_loads_only_into_an_empty_registry(session: Session) -> None:
    """Loading the demo again does nothing, so nobody's registry is ever duplicated or overwritten."""
    before = len(list(session.scalars(select(Person.id))))
    assert load_demo_if_empty(session) is False
    assert len(list(session.scalars(select(Person.id)))) == before


def test_people_by_phone_lists_a_shared_phone_most_senior_first(session: Session) -> None:
    """A household phone finds every person on it; a volunteer sharing it comes before the residents."""
    residents = registry.people_by_phone(session, "+8613800000001")
    assert [p.name for p in residents] == ["朱明", "何桂兰"]
    session.add(Person(name="朱小明", phone="+8613800000001", role="volunteer", household=residents[0].household))
    session.flush()
    assert [p.name for p in registry.people_by_phone(session, "+8613800000001")] == ["朱小明", "朱明", "何桂兰"]
    assert registry.people_by_phone(session, "+8613999999999") == []


@pytest.mark.parametrize(("keyed", "code"), [("9", "HG-02-2"), ("09", "HG-02-2"), (" 3 ", "HG-01-2"), ("３", "HG-01-2"),
                                             ("12", "HG-02-3"), ("13", None), ("", None), ("0", None)])
def test_resolve_building(session: Session, keyed: str, code: str | None) -> None:
    """A building number keyed by an unknown caller finds its micro-grid, leading zeros or not."""
    assert code_of(registry.resolve_building(session, keyed)) == code


@pytest.mark.parametrize(
    ("code", "name", "rule"),
    [("HG-02-2", "杨帆", "grid_worker"), ("HG-01", "陈静", "grid_worker"), ("HG-X1", "赵磊", "grid_worker"),
     (None, "张伟", "grid_leader_on_duty")],
)
def test_assign_report(session: Session, code: str | None, name: str, rule: str) -> None:
    """A report in a micro-grid goes to its grid worker; a report with no grid to the grid leader on duty."""
    assignee, used = registry.assign_report(session, grid(session, code) if code else None)
    assert (assignee.name if assignee else None, used) == (name, rule)


def test_on_duty_target(session: Session) -> None:
    """An urgent report rings its own grid leader when on duty, else the other grid leader on duty."""
    assert registry.on_duty_target(session, grid(session, "HG-01-1")).name == "张伟"  # type: ignore[union-attr]
    liu = person(session, "刘洋")
    liu.on_duty = True
    session.flush()
    assert registry.on_duty_target(session, grid(session, "HG-02-2")) is liu
    for leader in session.scalars(select(Person).where(Person.role == "grid_leader")):
        leader.on_duty = False
    session.flush()
    assert registry.on_duty_target(session, grid(session, "HG-02-2")) is None


def test_grid_worker_for(session: Session) -> None:
    """Menu key 0 in a micro-grid reaches the grid worker of its grid."""
    assert registry.grid_worker_for(session, grid(session, "HG-01-3")).name == "陈静"  # type: ignore[union-attr]


def test_reassign_upward_climbs_until_nobody_is_left(session: Session) -> None:
    """"Not my area" moves a report from the grid worker to the grid leader, then to staff on duty, then stops."""
    chen = person(session, "陈静")
    report = Report(category="other", grid=grid(session, "HG-01-1"), assignee=chen, assignment_rule="grid_worker")
    session.add(report)
    session.flush()
    climbed = []
    for _ in range(3):
        nxt, rule = registry.reassign_upward(session, report)
        climbed.append((nxt.name if nxt else None, rule, report.assignee.name, report.assignment_rule))  # type: ignore[union-attr]
    assert climbed == [
        ("张伟", "grid_leader", "张伟", "grid_leader"),
        ("王建国", "staff_on_duty", "王建国", "staff_on_duty"),
        (None, "unassigned", "王建国", "staff_on_duty"),
    ]


def test_households_stay_in_their_micro_grid(session: Session) -> None:
    """Every demo household sits in the micro-grid that serves its building."""
    for household in session.scalars(select(Household)):
        assert registry.resolve_building(session, household.building) is household.grid
