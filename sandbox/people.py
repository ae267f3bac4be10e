"""The people the sandbox phone can be: the registry, read from the app's database."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, joinedload

from grid.db import make_engine, make_session_factory
from grid.models import Person

ROLE_NAMES = {  # role -> (中文, English), as the registry CSV names them
    "resident": ("居民", "resident"),
    "volunteer": ("微网格员", "volunteer"),
    "grid_worker": ("专职网格员", "grid worker"),
    "grid_leader": ("网格长", "grid leader"),
    "community_staff": ("社区工作人员", "community staff"),
}


@dataclass
class Registry:
    database_url: str
    _engine: Engine | None = field(default=None, repr=False)

    def people(self) -> list[dict[str, Any]]:
        """Everyone in the registry, by grid then name; SQLAlchemyError when the database is not there."""
        if self._engine is None:
            self._engine = make_engine(self.database_url)
        with make_session_factory(self._engine)() as session:
            return [person_json(p) for p in _everyone(session)]

    def people_or_reason(self) -> tuple[list[dict[str, Any]], str]:
        """The people, or none and why (the page still works with typed numbers)."""
        try:
            return self.people(), ""
        except SQLAlchemyError as exc:
            return [], f"cannot read the registry at {self.database_url}: {exc.__class__.__name__}"

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def _everyone(session: Session) -> list[Person]:
    query = select(Person).options(joinedload(Person.grid)).order_by(Person.grid_id, Person.role, Person.name)
    return list(session.scalars(query))


def person_json(person: Person) -> dict[str, Any]:
    zh, en = ROLE_NAMES.get(person.role, (person.role, person.role))
    return {
        "id": person.id, "name": person.name, "phone": person.phone, "role": person.role, "role_zh": zh, "role_en": en,
        "grid": person.grid.name if person.grid else "", "grid_code": person.grid.code if person.grid else "",
        "language": person.language, "on_duty": person.on_duty,
    }
