"""Dashboard logins: the login page, the session, and the check every other page goes through.

Passwords are stored as salted scrypt hashes (werkzeug.security); a login starts a fresh session
(no fixation) and keeps only the user id. Everything but the login page needs a logged-in user.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from grid.models import USER_ROLES, User, utcnow
from telephony import database
from telephony.dashboard import csrf
from telephony.dashboard.i18n import tr

bp = Blueprint("auth", __name__)
csrf.protect(bp)
F = TypeVar("F", bound=Callable[..., Any])
MIN_PASSWORD = 8
# Checked against when the username is unknown, so both failures take the same time.
_DUMMY_HASH = generate_password_hash("not-a-password")


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"the password must have at least {MIN_PASSWORD} characters")
    return generate_password_hash(password)


def create_user(username: str, password: str, role: str, person_id: int | None = None, language: str = "zh-CN") -> User:
    """A new login (the caller adds and commits). Leaders and workers need their registry person."""
    if role not in USER_ROLES:
        raise ValueError(f"role must be one of {', '.join(USER_ROLES)}")
    if role != "staff" and person_id is None:
        raise ValueError("a grid leader or grid worker login needs --person-id (their registry entry)")
    if not username.strip():
        raise ValueError("the username is empty")
    return User(username=username.strip(), password_hash=hash_password(password), role=role, person_id=person_id,
                language=language)


def authenticate(username: str, password: str) -> User | None:
    user = database.session().scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def load_user() -> None:
    """before_request: put the session's user (if still active) on g.user."""
    g.user = None
    user_id = session.get("user_id")
    if user_id is not None:
        user = database.session().get(User, user_id)
        g.user = user if user is not None and user.active else None


def require_login() -> Any:
    """before_request for the dashboard's blueprints: no user, no page (back to the login)."""
    if g.get("user") is None:
        if request.method == "GET":
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        abort(401)
    return None


def roles(*allowed: str) -> Callable[[F], F]:
    """A view only some roles may use (others get 403)."""
    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if g.user is None or g.user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)
        return wrapped  # type: ignore[return-value]
    return decorate


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never another host) after login."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("reports.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "POST":
        user = authenticate(request.form.get("username", ""), request.form.get("password", ""))
        if user is None:
            flash(tr("用户名或密码不对。", "Wrong username or password."), "error")
            return render_template("dashboard/login.html", username=request.form.get("username", "")), 401
        lang = session.get("lang")
        session.clear()  # a fresh session (and CSRF token) for the logged-in user
        session["user_id"] = user.id
        if lang:
            session["lang"] = lang
        session.permanent = True
        user.last_login_at = utcnow()
        database.session().commit()
        return redirect(_safe_next(request.args.get("next")))
    if g.get("user") is not None:
        return redirect(url_for("reports.index"))
    return render_template("dashboard/login.html", username="")


@bp.post("/logout")
def logout() -> Any:
    session.clear()
    return redirect(url_for("auth.login"))
