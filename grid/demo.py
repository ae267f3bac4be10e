"""The demo community 花果社区, loaded from the CSV files in grid/demo/ through the real importer.

The files double as examples of what staff may import: Chinese headers, UTF-8 with a BOM (so
Excel opens them right), a shared household phone, landlines and English speakers.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from grid.csv_import import ImportResult, import_grids, import_people
from grid.models import Grid

DEMO_DIR = Path(__file__).resolve().parent / "demo"


def load_demo(session: Session) -> tuple[ImportResult, ImportResult]:
    """Import the demo grids, then the demo people (the caller commits)."""
    results = (
        import_grids(session, (DEMO_DIR / "grids.csv").read_bytes()),
        import_people(session, (DEMO_DIR / "people.csv").read_bytes(), region="CN"),
    )
    errors = [str(error) for result in results for error in result.errors]
    if errors:  # the demo files are ours: a refused row is a bug, not a user mistake
        raise RuntimeError("demo files have bad rows: " + "; ".join(errors))
    return results


def load_demo_if_empty(session: Session) -> bool:
    """Load the demo when the registry has no grids yet; whether it was loaded."""
    if session.scalar(select(Grid.id).limit(1)) is not None:
        return False
    load_demo(session)
    return True
