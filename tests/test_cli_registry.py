"""`flask registry ...` commands, run through the real app and a real database."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from grid.models import Grid, Person
from telephony import create_app
from telephony.config import Settings

GRIDS = "编码,名称,类型,上级编码,楼栋\nG1,第一网格,网格,,\nG1-1,第一微网格,微网格,G1,1、2\n"
PEOPLE = """name,phone,role,grid_code,building,unit,room
Good,13800000051,resident,G1-1,1,1,101
Bad phone,12345,resident,G1-1,1,1,102
Unknown grid,13800000052,resident,NOPE,,,
"""


@pytest.fixture
def app(settings: Settings) -> Flask:
    return create_app({"SETTINGS": settings})


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_import_grids_prints_counts(runner: FlaskCliRunner, tmp_path: Path, sessions: Any) -> None:
    """Importing a GBK grids file prints what was created and exits 0."""
    result = runner.invoke(args=["registry", "import-grids", write(tmp_path, "grids.csv", GRIDS, "gbk")])
    assert result.exit_code == 0, result.output
    assert result.stdout == "grids.csv: 2 created, 0 updated, 0 unchanged, 0 refused\n"
    with sessions() as session:
        assert sorted(session.scalars(select(Grid.code))) == ["G1", "G1-1"]


def test_import_people_lists_refused_rows_and_exits_1(runner: FlaskCliRunner, tmp_path: Path, sessions: Any) -> None:
    """Refused rows are listed as "line N: reason", the good rows are kept, and the exit code is 1."""
    runner.invoke(args=["registry", "import-grids", write(tmp_path, "grids.csv", GRIDS)])
    result = runner.invoke(args=["registry", "import-people", write(tmp_path, "people.csv", PEOPLE)])
    assert result.exit_code == 1
    assert result.stdout == "people.csv: 1 created, 0 updated, 0 unchanged, 2 refused\n"
    assert result.stderr.splitlines() == [
        "line 3: '12345' has too few digits (a mobile has 11; landlines need their area code, e.g. 0571-88881234)",
        "line 4: unknown grid code 'NOPE' (import the grids file first)",
    ]
    with sessions() as session:
        assert list(session.scalars(select(Person.name))) == ["Good"]


def test_import_refuses_an_unreadable_file(runner: FlaskCliRunner, tmp_path: Path) -> None:
    """A file that is neither UTF-8 nor GBK is refused with a hint, and nothing is imported."""
    path = tmp_path / "bad.csv"
    path.write_bytes(b"\x81\x30\xff\xfe\xff")
    result = runner.invoke(args=["registry", "import-grids", str(path)])
    assert result.exit_code == 1
    assert "bad.csv: the file is neither UTF-8 nor GBK text: save it from Excel as 'CSV UTF-8'" in result.stderr


def test_load_demo_only_into_an_empty_database(runner: FlaskCliRunner, sessions: Any) -> None:
    """load-demo fills an empty database once, and says so instead of loading twice."""
    first = runner.invoke(args=["registry", "load-demo"])
    assert (first.exit_code, first.stdout) == (0, "demo community loaded\n")
    second = runner.invoke(args=["registry", "load-demo"])
    assert (second.exit_code, second.stdout) == (0, "the database already has grids: demo not loaded\n")
    with sessions() as session:
        assert session.scalar(select(func.count(Grid.id))) == 9
