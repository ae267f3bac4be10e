"""`flask registry ...`: import the grid registry from staff's CSV files, or load the demo."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy.orm import Session, sessionmaker

from grid.csv_import import ImportResult, import_grids, import_people
from grid.csv_table import CsvFileError
from grid.demo import load_demo_if_empty


def init_app(app: Flask) -> None:
    @app.cli.group("registry")
    def registry_group() -> None:
        """Import grids and people from CSV files (UTF-8 or GBK, English or Chinese headers)."""

    @registry_group.command("import-grids")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def import_grids_command(file: Path) -> None:
        """Create or update grids, micro-grids and their buildings from FILE."""
        _run_import(file, import_grids)

    @registry_group.command("import-people")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def import_people_command(file: Path) -> None:
        """Create or update people and their households from FILE (import the grids first)."""
        region = current_app.config["SETTINGS"].default_region
        _run_import(file, lambda session, data: import_people(session, data, region=region))

    @registry_group.command("load-demo")
    def load_demo_command() -> None:
        """Load the demo community 花果社区 into an empty database."""
        with _sessions()() as session:
            loaded = load_demo_if_empty(session)
            session.commit()
        if loaded:
            click.echo("demo community loaded")
        else:
            click.echo("the database already has grids: demo not loaded")


def _sessions() -> sessionmaker[Session]:
    return current_app.extensions["gridline.sessions"]  # type: ignore[no-any-return]


def _run_import(file: Path, importer: Callable[[Session, bytes], ImportResult]) -> None:
    """Import, commit the good rows, list the refused ones; exit 1 when any row was refused."""
    with _sessions()() as session:
        try:
            result = importer(session, file.read_bytes())
        except CsvFileError as exc:
            raise click.ClickException(f"{file.name}: {exc}") from exc
        session.commit()
    click.echo(
        f"{file.name}: {result.created} created, {result.updated} updated, "
        f"{result.unchanged} unchanged, {len(result.errors)} refused"
    )
    for error in result.errors:
        click.echo(str(error), err=True)
    if result.errors:
        raise click.exceptions.Exit(1)
