"""Per-app engine, per-request session, and the `db upgrade` CLI command."""
from __future__ import annotations

import click
from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from grid.db import make_engine, make_session_factory, upgrade


def init_app(app: Flask) -> None:
    settings = app.config["SETTINGS"]
    engine = make_engine(settings.effective_database_url)
    app.extensions["gridline.engine"] = engine
    app.extensions["gridline.sessions"] = make_session_factory(engine)
    app.teardown_appcontext(_close_session)

    @app.cli.group("db")
    def db_group() -> None:
        """Database schema commands."""

    @db_group.command("upgrade")
    def db_upgrade() -> None:
        """Create or migrate the schema to the newest revision."""
        upgrade(settings.effective_database_url)
        click.echo("database is up to date")


def session() -> Session:
    """The request's database session (opened on first use, closed at teardown)."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["gridline.sessions"]()
    return g.db_session  # type: ignore[no-any-return]


def _close_session(_exc: BaseException | None) -> None:
    s = g.pop("db_session", None)
    if s is not None:
        s.close()
