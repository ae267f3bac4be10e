"""Registry look-ups around the routing rules; the caller passes its session and commits."""
from __future__ import annotations

import re
import unicodedata

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from grid import routing
from grid.models import GRID_LEADER, GRID_WORKER, STAFF, Building, Grid, Person, Report

_BUILDING_SUFFIX = re.compile(r"(号楼|号|栋|幢|楼)$")


def building_number(raw: str) -> str:
    """The canonical building number: "03", " 3 ", "３号楼" and "3栋" are all "3".

    Callers key digits on the phone while staff type "3号楼" in Excel; both must meet.
    """
    text = unicodedata.normalize("NFKC", raw or "").strip()
    text = _BUILDING_SUFFIX.sub("", text).strip()
    if text.isdigit():
        return text.lstrip("0") or "0"
    return text


def home_grid(person: Person | None) -> Grid | None:
    """The micro-grid a person belongs to: their household's, else the grid they serve (or None)."""
    if person is None:
        return None
    if person.household is not None:
        return person.household.grid
    return person.grid


def people_by_phone(session: Session, e164: str) -> list[Person]:
    """Everybody registered on this phone (a household may share one): most senior role first."""
    seniority = case(routing.SENIORITY, value=Person.role, else_=0)
    query = select(Person).where(Person.phone == e164).order_by(seniority.desc(), Person.id)
    return list(session.scalars(query))


def resolve_building(session: Session, number: str) -> Grid | None:
    """The micro-grid serving the building a caller keyed, or None when nobody listed it."""
    key = building_number(number)
    if not key:
        return None
    return session.scalar(select(Grid).join(Building, Building.grid_id == Grid.id).where(Building.number == key))


def building_numbers(session: Session) -> frozenset[str]:
    """Every building number a caller may key (so the IVR can re-ask before giving up)."""
    return frozenset(session.scalars(select(Building.number)))


RESPONDER_ROLES = (GRID_WORKER, GRID_LEADER, STAFF)


def responders(session: Session) -> list[Person]:
    """Everybody a report can be routed to; a community has dozens, so load them all."""
    query = select(Person).where(Person.role.in_(RESPONDER_ROLES)).order_by(Person.id)
    return list(session.scalars(query))


def assign_report(session: Session, grid: Grid | None) -> tuple[Person | None, str]:
    """The assignee for a new report in grid (None when the grid is unknown) and the rule used."""
    return routing.assign(grid, responders(session))


def on_duty_target(session: Session, grid: Grid | None) -> Person | None:
    """The grid leader to ring about an urgent report now; None means ring DUTY_PHONE."""
    return routing.on_duty_target(grid, responders(session))


def grid_worker_for(session: Session, grid: Grid) -> Person | None:
    """The grid worker a caller reaches with menu key 0 (micro-grid's own, else the parent's)."""
    return routing.grid_worker(grid, responders(session))


def reassign_upward(session: Session, report: Report) -> tuple[Person | None, str]:
    """Hand a report its assignee calls "not my area" to the next rung up, and record it.

    Sets the report's assignee and assignment_rule when somebody is found (the caller commits);
    returns (None, "unassigned") and leaves the report alone when nobody is above.
    """
    person, rule = routing.next_up(report.grid, responders(session), report.assignee)
    if person is not None:
        report.assignee = person
        report.assignment_rule = rule
    return person, rule
