"""Dashboard test helpers: demo registry with one login per role, and logging a test client in."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from grid.demo import load_demo
from grid.models import Person, User
from telephony.dashboard.auth import create_user

PASSWORD = "correct horse 42"
# username -> (role, the registry person's name, or None for community staff without one)
LOGINS = {
    "wang": ("staff", "王建国"),  # community staff: everything
    "zhangwei": ("leader", "张伟"),  # grid leader of HG-01
    "chenjing": ("worker", "陈静"),  # grid worker of HG-01
    "yangfan": ("worker", "杨帆"),  # grid worker of HG-02
}


def demo_with_logins(sessions: Any) -> dict[str, int]:
    """Load the demo community and create the logins above; username -> user id."""
    with sessions() as session:
        load_demo(session)
        session.commit()
    return create_logins(sessions)


def create_logins(sessions: Any) -> dict[str, int]:
    """The logins above, on a demo community already loaded; username -> user id."""
    ids: dict[str, int] = {}
    with sessions() as session:
        for username, (role, name) in LOGINS.items():
            person = session.scalar(select(Person).where(Person.name == name))
            user = create_user(username, PASSWORD, role, person.id if person is not None else None)
            session.add(user)
            session.flush()
            ids[username] = user.id
        session.commit()
    return ids


def csrf_token(client: Any) -> str:
    """The session's CSRF token, as a page carries it (the login form, or once logged in the logout form)."""
    page = client.get("/login", follow_redirects=True).get_data(as_text=True)
    marker = 'name="csrf_token" value="'
    start = page.index(marker) + len(marker)
    return page[start:page.index('"', start)]


def log_in(client: Any, username: str, password: str = PASSWORD) -> Any:
    """Log the test client in through the login form; the response of the POST."""
    token = csrf_token(client)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def user_by_name(sessions: Any, username: str) -> User:
    with sessions() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        return user
