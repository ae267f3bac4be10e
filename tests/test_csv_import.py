"""Registry CSV import as staff keep the files in Excel: encodings, headers, bad rows, re-import."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grid.csv_import import RowError, import_grids, import_people
from grid.csv_table import CsvFileError, decode
from grid.models import Building, Grid, Household, Person

both_databases = pytest.mark.parametrize("db_backend", ["sqlite", "postgresql"], indirect=True)

GRIDS_EN = """code,name,kind,parent_code,buildings
G1,First grid,grid,,
G1-1,First micro-grid,micro_grid,G1,1;2
G1-2,Second micro-grid,micro_grid,G1,3、4
SCHOOL,Huaguo primary school,exclusive_grid,,
"""
GRIDS_ZH = """编码,名称,类型,上级编码,楼栋
G1,第一网格,网格,,
G1-1,第一微网格,微网格,G1,1，2
G1-2,第二微网格,微网格,G1,3、04
SCHOOL,花果小学,专属网格,,
"""
PEOPLE_ZH = """姓名,电话,角色,网格编码,楼栋,单元,房号,语言,值班,免打扰
王建国,150 0000 0001,社区工作人员,,,,,中文,是,
张伟,139-0000-0101,网格长,G1,,,,中文,否,22:00-07:00
朱明,１３８ ００００ ０００１,居民,G1-1,1,1,201,中文,否,
何桂兰,+86 138 0000 0001,居民,G1-1,1号楼,1,201,,,
Mark Thompson,0571-88880101,居民,G1-2,3,2,101,英文,否,
"""


def count(session: Session, model: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def grids_and_people(session: Session) -> None:
    assert import_grids(session, GRIDS_EN.encode()).errors == []
    assert import_people(session, PEOPLE_ZH.encode()).errors == []


@both_databases
@pytest.mark.parametrize(
    ("text", "encoding"),
    [(GRIDS_EN, "utf-8"), (GRIDS_ZH, "utf-8"), (GRIDS_ZH, "utf-8-sig"), (GRIDS_ZH, "gbk")],
    ids=["en-utf8", "zh-utf8", "zh-utf8-bom", "zh-gbk"],
)
def test_grids_import_in_every_encoding_and_header_language(sessions: Any, text: str, encoding: str) -> None:
    """A grids file saved as UTF-8, UTF-8 with BOM or GBK, with English or Chinese headers, imports the same."""
    with sessions() as session:
        result = import_grids(session, text.encode(encoding))
        session.commit()
    assert (result.created, result.updated, result.errors) == (4, 0, [])
    with sessions() as session:
        kinds = {g.code: (g.kind, g.parent.code if g.parent else None) for g in session.scalars(select(Grid))}
        assert kinds == {
            "G1": ("grid", None), "G1-1": ("micro_grid", "G1"), "G1-2": ("micro_grid", "G1"),
            "SCHOOL": ("exclusive_grid", None),
        }
        served = {b.number: b.grid.code for b in session.scalars(select(Building))}
        assert served == {"1": "G1-1", "2": "G1-1", "3": "G1-2", "4": "G1-2"}


@both_databases
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_people_import_in_every_encoding(sessions: Any, encoding: str) -> None:
    """People with Chinese headers and values import from UTF-8, UTF-8 with BOM and GBK alike."""
    with sessions() as session:
        import_grids(session, GRIDS_EN.encode())
        result = import_people(session, PEOPLE_ZH.encode(encoding))
        session.commit()
    assert (result.created, result.errors) == (5, [])
    with sessions() as session:
        staff = session.scalars(select(Person).where(Person.name == "王建国")).one()
        assert (staff.phone, staff.role, staff.on_duty, staff.grid) == ("+8615000000001", "community_staff", True, None)
        leader = session.scalars(select(Person).where(Person.name == "张伟")).one()
        assert (leader.role, leader.grid.code, leader.quiet_hours) == ("grid_leader", "G1", "22:00-07:00")
        mark = session.scalars(select(Person).where(Person.name == "Mark Thompson")).one()
        assert (mark.phone, mark.language, mark.household.grid.code) == ("+8657188880101", "en-US", "G1-2")


@both_databases
def test_shared_household_phone(sessions: Any) -> None:
    """Two residents on one household phone (one typed in full-width digits) are two people in one household."""
    with sessions() as session:
        grids_and_people(session)
        session.commit()
    with sessions() as session:
        zhu, he = session.scalars(select(Person).where(Person.phone == "+8613800000001").order_by(Person.id))
        assert (zhu.name, he.name) == ("朱明", "何桂兰")
        assert zhu.household_id == he.household_id is not None
        assert (he.language, he.on_duty) == ("zh-CN", False)  # blank cells take the defaults


@both_databases
def test_bad_grid_rows_are_refused_with_excel_line_numbers(sessions: Any) -> None:
    """Each bad grid row is refused with its Excel line and a reason; the good rows still land."""
    text = """code,name,kind,parent_code,buildings
M1,Micro before its parent,micro_grid,G1,1
G1,Grid,grid,,
M2,Orphan,micro_grid,NOPE,2
M3,No parent,micro_grid,,3
,No code,grid,,
X1,,grid,,
K1,Bad kind,district,,
M1,Duplicate,micro_grid,G1,
M4,Under a micro-grid,micro_grid,M1,
M5,Takes building 1,micro_grid,G1,1
G2,Grid with parent,grid,G1,
G3,Grid with buildings,grid,,9
"""
    with sessions() as session:
        result = import_grids(session, text.encode())
        session.commit()
    assert result.created == 2
    assert result.errors == [
        RowError(4, "unknown parent grid code 'NOPE'"),
        RowError(5, "a micro-grid needs the code of its parent grid (parent_code / 上级编码)"),
        RowError(6, "the code is missing"),
        RowError(7, "the name is missing"),
        RowError(8, "unknown kind 'district' (use grid/网格, micro_grid/微网格, exclusive_grid/专属网格)"),
        RowError(9, "code 'M1' is already on line 2"),
        RowError(10, "parent 'M1' is a micro_grid, not a grid"),
        RowError(11, "building 1 is already listed for M1 on line 2"),
        RowError(12, "a grid has no parent grid, but parent code 'G1' is given"),
        RowError(13, "buildings are listed on the micro-grid that serves them, not on a grid"),
    ]
    with sessions() as session:
        assert sorted(session.scalars(select(Grid.code))) == ["G1", "M1"]


@both_databases
def test_bad_people_rows_are_refused_with_excel_line_numbers(sessions: Any) -> None:
    """Bad phones, unknown grids or roles, missing names and bad quiet hours are refused by line; good rows land."""
    text = """name,phone,role,grid_code,building,unit,room,language,on_duty,quiet_hours
Good one,13800000011,resident,G1-1,1,1,101,,,
Bad phone,12345,resident,G1-1,,,,,,
Unknown grid,13800000012,resident,NOPE,,,,,,
,13800000013,resident,G1-1,,,,,,
Unknown role,13800000014,mayor,G1-1,,,,,,
Bad quiet,13800000015,resident,G1-1,,,,,,9pm-8am
No grid,13800000016,resident,,,,,,,
Bad duty,13800000017,grid_worker,G1,,,,,maybe,
Bad language,13800000018,resident,G1-1,,,,fr-FR,,
Household in a grid,13800000019,resident,G1,5,1,101,,,
Room without building,13800000020,resident,G1-1,,1,101,,,
Good one,138 0000 0011,volunteer,G1-1,,,,,,
Good two,13800000021,grid_worker,G1,,,,,,
"""
    with sessions() as session:
        import_grids(session, GRIDS_EN.encode())
        result = import_people(session, text.encode())
        session.commit()
    assert result.created == 2
    reasons = {error.line: error.reason for error in result.errors}
    assert sorted(reasons) == list(range(3, 14))
    assert reasons[3] == "'12345' has too few digits (a mobile has 11; landlines need their area code, e.g. 0571-88881234)"
    assert reasons[4] == "unknown grid code 'NOPE' (import the grids file first)"
    assert reasons[5] == "the name is missing"
    assert reasons[6].startswith("unknown role 'mayor' (use resident/居民, volunteer/微网格员,")
    assert reasons[7] == "quiet hours '9pm-8am' must look like 21:00-08:00"
    assert reasons[8] == "a resident needs a grid code (grid_code / 网格编码)"
    assert reasons[9] == "unknown on-duty value 'maybe' (use yes/no, 是/否, 1/0)"
    assert reasons[10] == "unknown language 'fr-FR' (use zh-CN/中文 or en-US/英文)"
    assert reasons[11] == "a household belongs to a micro-grid, but 'G1' is a grid"
    assert reasons[12] == "unit or room is given without a building"
    assert reasons[13] == "Good one with phone +8613800000011 is already on line 2"
    with sessions() as session:
        assert sorted(session.scalars(select(Person.name))) == ["Good one", "Good two"]


@both_databases
def test_reimport_updates_instead_of_duplicating(sessions: Any) -> None:
    """Importing the same files again changes nothing; an edited file updates grids and people in place."""
    with sessions() as session:
        grids_and_people(session)
        session.commit()
        again_grids = import_grids(session, GRIDS_EN.encode())
        again_people = import_people(session, PEOPLE_ZH.encode())
        session.commit()
    assert (again_grids.created, again_grids.updated, again_grids.unchanged) == (0, 0, 4)
    assert (again_people.created, again_people.updated, again_people.unchanged) == (0, 0, 5)
    edited_grids = GRIDS_EN.replace("First micro-grid,micro_grid,G1,1;2", "Renamed,micro_grid,G1,1;2;3").replace(
        "G1,3、4", "G1,4"
    )
    edited_people = PEOPLE_ZH.replace("张伟,139-0000-0101,网格长,G1,,,,中文,否,", "张伟,13900000101,网格长,G1,,,,中文,是,")
    with sessions() as session:
        grids = import_grids(session, edited_grids.encode())
        people = import_people(session, edited_people.encode())
        session.commit()
    assert (grids.created, grids.updated, grids.unchanged, grids.errors) == (0, 1, 3, [])  # G1-1 renamed, took 3
    assert (people.created, people.updated, people.unchanged, people.errors) == (0, 1, 4, [])
    with sessions() as session:
        assert (count(session, Grid), count(session, Person), count(session, Household)) == (4, 5, 2)
        assert session.scalars(select(Building).where(Building.number == "3")).one().grid.code == "G1-1"
        assert session.scalars(select(Person).where(Person.name == "张伟")).one().on_duty is True


@both_databases
def test_resident_building_missing_from_grids_file_joins_the_micro_grid(sessions: Any) -> None:
    """A resident's building the grids file forgot is added to their micro-grid, so callers keying it are found."""
    text = "name,phone,role,grid_code,building,unit,room\n李四,13800000031,resident,G1-2,07,1,101\n"
    with sessions() as session:
        import_grids(session, GRIDS_EN.encode())
        assert import_people(session, text.encode()).errors == []
        session.commit()
    with sessions() as session:
        building = session.scalars(select(Building).where(Building.number == "7")).one()
        assert building.grid.code == "G1-2"


@both_databases
def test_excel_leftovers_are_ignored(sessions: Any) -> None:
    """Trailing empty columns and rows, blank rows and line breaks inside cells do not confuse line numbers."""
    text = (
        "code,name,kind,parent_code,buildings,,,\r\n"
        "G1,\"Grid\nwith a line break\",grid,,,,,\r\n"
        ",,,,,,,\r\n"
        "M1,Micro,micro_grid,NOPE,,,,\r\n"
        ",,,,,,,\r\n,,,,,,,\r\n"
    )
    with sessions() as session:
        result = import_grids(session, text.encode("utf-8-sig"))
    assert result.created == 1
    assert result.errors == [RowError(4, "unknown parent grid code 'NOPE'")]


@both_databases
def test_absent_optional_columns_leave_existing_values_alone(sessions: Any) -> None:
    """A file without the language or on-duty columns does not reset what an earlier import set."""
    with sessions() as session:
        grids_and_people(session)
        result = import_people(session, "姓名,电话,角色,网格编码\nMark Thompson,0571-88880101,居民,G1-2\n".encode())
        session.commit()
    assert (result.updated, result.unchanged) == (0, 1)
    with sessions() as session:
        mark = session.scalars(select(Person).where(Person.name == "Mark Thompson")).one()
        assert (mark.language, mark.household.building) == ("en-US", "3")


@both_databases
def test_quiet_hours_written_loosely_are_stored_plainly(sessions: Any) -> None:
    """Quiet hours typed with full-width colons, a tilde or 至 are stored as HH:MM-HH:MM."""
    text = (
        "name,phone,role,grid_code,quiet_hours\n"
        "A,13800000041,resident,G1-1,21：00～8:00\n"
        "B,13800000042,resident,G1-1,12:30至14:00\n"
    )
    with sessions() as session:
        import_grids(session, GRIDS_EN.encode())
        assert import_people(session, text.encode()).errors == []
        hours = {name: quiet for name, quiet in session.execute(select(Person.name, Person.quiet_hours))}
    assert hours == {"A": "21:00-08:00", "B": "12:30-14:00"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"name,phone\n", "lacks the column(s): role / 角色, grid_code / 网格编码"),
        ("姓名,电话,角色,网格编码,姓名\n".encode(), "has the column '姓名' twice"),
        ("姓名".encode("utf-16"), "UTF-16"),
        (b"\x81\x30\xff\xfe\xff", "neither UTF-8 nor GBK"),
    ],
)
def test_unreadable_files_are_refused_whole(data: bytes, message: str) -> None:
    """A file that cannot be decoded or lacks a required column is refused with one clear message."""
    with pytest.raises(CsvFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        import_people(None, data)  # type: ignore[arg-type]  # refused before the database is touched


def test_decode_prefers_utf8_and_falls_back_to_gbk() -> None:
    """Text saved by Excel in GBK reads the same as text saved in UTF-8."""
    assert decode("网格".encode("gbk")) == decode("\ufeff网格".encode()) == decode("网格".encode()) == "网格"
