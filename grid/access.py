"""Who may see which reports: community staff everything, a grid leader the grids under their own,
a grid worker the reports assigned to them and those filed in their grid.

The rules are plain functions over ids so they can be table-tested; `report_scope` turns them into
one SQL condition that every dashboard query (list, page, audio, metrics, export) goes through.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.orm import Session

from grid.models import USER_LEADER, USER_STAFF, USER_WORKER, Grid, Report, User


def subtree(grid_id: int | None, parents: Mapping[int, int | None]) -> frozenset[int]:
    """grid_id and every grid below it (micro-grids under a grid), given child -> parent."""
    if grid_id is None:
        return frozenset()
    found = {grid_id}
    changed = True
    while changed:
        changed = False
        for child, parent in parents.items():
            if parent in found and child not in found:
                found.add(child)
                changed = True
    return frozenset(found)


def visible_grids(role: str, home_grid_id: int | None, parents: Mapping[int, int | None]) -> frozenset[int] | None:
    """The grids a user sees reports of; None means all of them (community staff)."""
    if role == USER_STAFF:
        return None
    if role in (USER_LEADER, USER_WORKER):
        return subtree(home_grid_id, parents)
    return frozenset()


def grid_parents(session: Session) -> dict[int, int | None]:
    return {gid: parent for gid, parent in session.execute(select(Grid.id, Grid.parent_id))}


def user_grids(session: Session, user: User) -> frozenset[int] | None:
    """The grids `user` sees; None for everything."""
    home = user.person.grid_id if user.person is not None else None
    return visible_grids(user.role, home, grid_parents(session))


def report_scope(session: Session, user: User) -> ColumnElement[bool]:
    """The SQL condition on Report for what `user` may see."""
    grids = user_grids(session, user)
    if grids is None:
        return true()
    conditions: list[ColumnElement[bool]] = []
    if grids:
        conditions.append(Report.grid_id.in_(sorted(grids)))
    if user.person_id is not None:
        conditions.append(Report.assignee_id == user.person_id)
    return or_(*conditions) if conditions else false()


def can_see(session: Session, user: User, report: Report) -> bool:
    """Whether `user` may open `report` (same rule as report_scope, for one row)."""
    grids = user_grids(session, user)
    if grids is None:
        return True
    return report.grid_id in grids or (user.person_id is not None and report.assignee_id == user.person_id)


def may(user: User, action: str) -> bool:
    """Role permissions for dashboard actions beyond seeing a report."""
    allowed: dict[str, Iterable[str]] = {
        "reassign": (USER_STAFF, USER_LEADER),
        "mark_duplicate": (USER_STAFF, USER_LEADER),
        "change_state": (USER_STAFF, USER_LEADER, USER_WORKER),
        "note": (USER_STAFF, USER_LEADER, USER_WORKER),
        "call": (USER_STAFF, USER_LEADER, USER_WORKER),
        "edit_registry": (USER_STAFF,),
        "import_registry": (USER_STAFF,),
        "export": (USER_STAFF, USER_LEADER),
    }
    return user.role in allowed.get(action, ())
