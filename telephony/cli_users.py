"""`flask --app telephony users ...`: dashboard logins from the shell (the first staff account).

    flask --app telephony users create wang --role staff
    flask --app telephony users create chenjing --role worker --phone 13900000201
    flask --app telephony users list | set-password NAME | disable NAME

The password is asked for twice without echo (or read from stdin when piped), never taken as an
argument, so it does not land in the shell history.
"""
from __future__ import annotations

import click
from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from grid.models import USER_ROLES, Person, User
from grid.phones import InvalidPhone, normalise
from telephony.dashboard.auth import MIN_PASSWORD, create_user, hash_password


def _session() -> Session:
    return current_app.extensions["gridline.sessions"]()  # type: ignore[no-any-return]


def _person(session: Session, person_id: int | None, phone: str) -> Person | None:
    if person_id is not None:
        person = session.get(Person, person_id)
        if person is None:
            raise click.BadParameter(f"no person with id {person_id} in the registry", param_hint="--person-id")
        return person
    if not phone:
        return None
    try:
        e164 = normalise(phone, current_app.config["SETTINGS"].default_region)
    except InvalidPhone as exc:
        raise click.BadParameter(exc.reason, param_hint="--phone") from exc
    people = list(session.scalars(select(Person).where(Person.phone == e164).order_by(Person.id)))
    if not people:
        raise click.BadParameter(f"nobody in the registry has {phone}", param_hint="--phone")
    return people[0]


def _login(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no login {username!r}")
    return user


def _password() -> str:
    return click.prompt(f"Password (at least {MIN_PASSWORD} characters)", hide_input=True, confirmation_prompt=True)


def init_app(app: Flask) -> None:
    @app.cli.group("users")
    def users() -> None:
        """Dashboard logins."""

    @users.command("create")
    @click.argument("username")
    @click.option("--role", type=click.Choice(USER_ROLES), default="staff", show_default=True)
    @click.option("--person-id", type=int, help="The registry person (needed for leader / worker).")
    @click.option("--phone", default="", help="Find the registry person by phone instead of --person-id.")
    @click.option("--language", type=click.Choice(["zh-CN", "en-US"]), default="zh-CN", show_default=True)
    def create(username: str, role: str, person_id: int | None, phone: str, language: str) -> None:
        """Create a login; the password is prompted for."""
        with _session() as session:
            if session.scalar(select(User.id).where(User.username == username)) is not None:
                raise click.ClickException(f"the login {username!r} exists already (use set-password)")
            person = _person(session, person_id, phone)
            try:
                user = create_user(username, _password(), role, person.id if person else None, language)
            except ValueError as exc:
                raise click.ClickException(str(exc)) from exc
            session.add(user)
            session.commit()
            who = f" for {person.name} ({person.grid.code if person.grid else 'no grid'})" if person else ""
            click.echo(f"created {role} login {username!r}{who}")

    @users.command("set-password")
    @click.argument("username")
    def set_password(username: str) -> None:
        """Give a login a new password (prompted for)."""
        with _session() as session:
            user = _login(session, username)
            try:
                user.password_hash = hash_password(_password())
            except ValueError as exc:
                raise click.ClickException(str(exc)) from exc
            user.active = True
            session.commit()
            click.echo(f"password of {username!r} changed")

    @users.command("disable")
    @click.argument("username")
    def disable(username: str) -> None:
        """Stop a login from working (its sessions end at their next request)."""
        with _session() as session:
            user = _login(session, username)
            user.active = False
            session.commit()
            click.echo(f"login {username!r} disabled")

    @users.command("list")
    def list_users() -> None:
        """Every login, its role and registry person."""
        with _session() as session:
            for user in session.scalars(select(User).order_by(User.id)):
                person = f"{user.person.name} ({user.person.grid.code if user.person.grid else '-'})" if user.person else "-"
                state = "" if user.active else "  [disabled]"
                click.echo(f"{user.username}\t{user.role}\t{person}{state}")
