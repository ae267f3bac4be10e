"""Import the registry from CSV files as staff keep them in Excel.

Files may be UTF-8 (with or without BOM) or GBK (what Excel writes on a Chinese Windows), with
English or Chinese headers. Good rows are imported and bad rows are refused one by one, each
with the line number staff see in Excel (the header is line 1). Re-importing a file updates
what is there instead of duplicating it. Nothing is committed here: the caller commits.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from grid.csv_table import key, read_table
from grid.models import (
    EXCLUSIVE_GRID,
    GRID,
    MICRO_GRID,
    ROLES,
    STAFF,
    Building,
    Grid,
    Household,
    Person,
)
from grid.phones import InvalidPhone, normalise
from grid.registry import building_number

GRID_COLUMNS = {
    "code": ("code", "编码"),
    "name": ("name", "名称"),
    "kind": ("kind", "类型"),
    "parent_code": ("parent_code", "上级编码"),
    "buildings": ("buildings", "楼栋"),
}
PEOPLE_COLUMNS = {
    "name": ("name", "姓名"),
    "phone": ("phone", "电话", "手机", "手机号"),
    "role": ("role", "角色"),
    "grid_code": ("grid_code", "网格编码"),
    "building": ("building", "楼栋"),
    "unit": ("unit", "单元"),
    "room": ("room", "房号", "房间号"),
    "language": ("language", "语言"),
    "on_duty": ("on_duty", "值班"),
    "quiet_hours": ("quiet_hours", "免打扰"),
}
KINDS = {GRID: GRID, MICRO_GRID: MICRO_GRID, EXCLUSIVE_GRID: EXCLUSIVE_GRID,
         "网格": GRID, "微网格": MICRO_GRID, "专属网格": EXCLUSIVE_GRID}
ROLE_WORDS = dict(zip(("居民", "微网格员", "专职网格员", "网格长", "社区工作人员"), ROLES, strict=True))
LANGUAGES = {"zh_cn": "zh-CN", "zh": "zh-CN", "中文": "zh-CN", "chinese": "zh-CN",
             "en_us": "en-US", "en": "en-US", "英文": "en-US", "english": "en-US"}
BOOLEANS = {"yes": True, "y": True, "true": True, "1": True, "是": True,
            "no": False, "n": False, "false": False, "0": False, "否": False, "": False}
_LIST_SEPARATORS = re.compile(r"[;；、,，]")
_QUIET = re.compile(r"^(\d{1,2}):(\d{2})\s*[-~～—–至到]\s*(\d{1,2}):(\d{2})$")


@dataclass(frozen=True)
class RowError:
    line: int  # as staff see it in Excel: the header is line 1
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    unchanged: int = 0


class _Refused(ValueError):
    """A row is refused; the message is the reason staff read."""


def _text(cells: Mapping[str, str], col: str, limit: int) -> str:
    """The cell, refused when longer than its database column."""
    value = cells.get(col, "")
    if len(value) > limit:
        raise _Refused(f"{col} {value!r} is longer than {limit} characters")
    return value


def _word(table: Mapping[str, object], value: str, label: str, accepted: str) -> object:
    """The table's meaning for a word staff typed (any case, full-width or not)."""
    found = table.get(key(value))
    if found is None:
        problem = f"unknown {label} {value!r}" if value else f"the {label} is missing"
        raise _Refused(f"{problem} (use {accepted})")
    return found


def parse_quiet_hours(value: str) -> str | None:
    """"21:00-08:00" (also "21：00～8:00", "21:00至08:00") as "21:00-08:00"; blank is None."""
    if not value:
        return None
    match = _QUIET.match(value)
    hours_minutes = [int(part) for part in match.groups()] if match else []
    if not match or hours_minutes[0] > 23 or hours_minutes[2] > 23 or max(hours_minutes[1::2]) > 59:
        raise _Refused(f"quiet hours {value!r} must look like 21:00-08:00")
    return "{:02d}:{:02d}-{:02d}:{:02d}".format(*hours_minutes)


def _finish(result: ImportResult) -> ImportResult:
    result.errors.sort(key=lambda e: e.line)
    return result


def _apply(obj: object, values: Mapping[str, object]) -> bool:
    """Set the attributes that differ; whether anything changed."""
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def _count(result: ImportResult, created: bool, changed: bool) -> None:
    if created:
        result.created += 1
    elif changed:
        result.updated += 1
    else:
        result.unchanged += 1


@dataclass
class _GridRow:
    line: int
    code: str
    name: str
    kind: str
    parent_code: str
    buildings: list[str]


def _parse_grid(line: int, cells: Mapping[str, str]) -> _GridRow:
    code = _text(cells, "code", 64)
    name = _text(cells, "name", 200)
    if not code:
        raise _Refused("the code is missing")
    if not name:
        raise _Refused("the name is missing")
    kind = str(_word(KINDS, cells["kind"], "kind", "grid/网格, micro_grid/微网格, exclusive_grid/专属网格"))
    parent_code = cells.get("parent_code", "")
    if kind == GRID and parent_code:
        raise _Refused(f"a grid has no parent grid, but parent code {parent_code!r} is given")
    if kind == MICRO_GRID and not parent_code:
        raise _Refused("a micro-grid needs the code of its parent grid (parent_code / 上级编码)")
    numbers = [building_number(part) for part in _LIST_SEPARATORS.split(cells.get("buildings", ""))]
    numbers = [number for number in numbers if number]
    if numbers and kind == GRID:
        raise _Refused("buildings are listed on the micro-grid that serves them, not on a grid")
    if any(len(number) > 32 for number in numbers):
        raise _Refused("a building number is longer than 32 characters")
    return _GridRow(line, code, name, kind, parent_code, numbers)


def import_grids(session: Session, data: bytes) -> ImportResult:
    """Upsert grids by code and buildings by number from a GRIDS file."""
    _, rows = read_table(data, GRID_COLUMNS, required=("code", "name", "kind"))
    result = ImportResult()
    grids = {g.code: g for g in session.scalars(select(Grid))}
    buildings = {b.number: b for b in session.scalars(select(Building))}
    parsed: dict[str, _GridRow] = {}
    for line, cells in rows:
        try:
            row = _parse_grid(line, cells)
            if row.code in parsed:
                raise _Refused(f"code {row.code!r} is already on line {parsed[row.code].line}")
        except _Refused as exc:
            result.errors.append(RowError(line, str(exc)))
            continue
        parsed[row.code] = row
    # Parents are checked once every code is known: a micro-grid may come before its grid.
    kinds = {code: g.kind for code, g in grids.items()} | {code: r.kind for code, r in parsed.items()}
    building_lines: dict[str, _GridRow] = {}
    for row in sorted(parsed.values(), key=lambda r: (r.kind != GRID, r.line)):
        try:
            if row.parent_code and row.parent_code not in kinds:
                raise _Refused(f"unknown parent grid code {row.parent_code!r}")
            if row.parent_code and kinds[row.parent_code] != GRID:
                raise _Refused(f"parent {row.parent_code!r} is a {kinds[row.parent_code]}, not a grid")
            for number in row.buildings:
                other = building_lines.get(number)
                if other is not None and other.code != row.code:
                    raise _Refused(f"building {number} is already listed for {other.code} on line {other.line}")
        except _Refused as exc:
            result.errors.append(RowError(row.line, str(exc)))
            continue
        building_lines.update(dict.fromkeys(row.buildings, row))
        grid = grids.get(row.code)
        created = grid is None
        if grid is None:
            grid = grids[row.code] = Grid(code=row.code)
            session.add(grid)
        parent = grids[row.parent_code] if row.parent_code else None
        changed = _apply(grid, {"name": row.name, "kind": row.kind, "parent": parent})
        for number in row.buildings:
            if number not in buildings:
                buildings[number] = Building(number=number, grid=grid)
                session.add(buildings[number])
                changed = True
            else:
                changed = _apply(buildings[number], {"grid": grid}) or changed
        _count(result, created, changed)
    session.flush()
    return _finish(result)


def _parse_person(
    cells: Mapping[str, str], present: set[str], grids: Mapping[str, Grid], region: str
) -> tuple[dict[str, object], tuple[str, str, str] | None]:
    """The person's attributes from the columns present, and their household's (building, unit, room)."""
    name = _text(cells, "name", 100)
    if not name:
        raise _Refused("the name is missing")
    try:
        phone = normalise(cells["phone"], region)
    except InvalidPhone as exc:
        raise _Refused(exc.reason) from exc
    accepted_roles = ", ".join(f"{en}/{zh}" for zh, en in ROLE_WORDS.items())
    role = str(_word({**{r: r for r in ROLES}, **ROLE_WORDS}, cells["role"], "role", accepted_roles))
    code = cells["grid_code"]
    grid = grids.get(code)
    if code and grid is None:
        raise _Refused(f"unknown grid code {code!r} (import the grids file first)")
    if grid is None and role != STAFF:
        raise _Refused(f"a {role} needs a grid code (grid_code / 网格编码)")
    values: dict[str, object] = {"name": name, "phone": phone, "role": role, "grid": grid}
    if "language" in present:
        values["language"] = _word(LANGUAGES, cells["language"] or "zh-CN", "language", "zh-CN/中文 or en-US/英文")
    if "on_duty" in present:
        values["on_duty"] = _word(BOOLEANS, cells["on_duty"], "on-duty value", "yes/no, 是/否, 1/0")
    if "quiet_hours" in present:
        values["quiet_hours"] = parse_quiet_hours(cells["quiet_hours"])
    building = building_number(_text(cells, "building", 32))
    unit, room = _text(cells, "unit", 32), _text(cells, "room", 32)
    if not building:
        if unit or room:
            raise _Refused("unit or room is given without a building")
        return values, None
    if grid is None:
        raise _Refused("a household needs the grid code of its micro-grid")
    if grid.kind == GRID:
        raise _Refused(f"a household belongs to a micro-grid, but {code!r} is a grid")
    return values, (building, unit, room)


def import_people(session: Session, data: bytes, region: str = "CN") -> ImportResult:
    """Upsert people by (phone, name) and households by (building, unit, room) from a PEOPLE file."""
    present, rows = read_table(data, PEOPLE_COLUMNS, required=("name", "phone", "role", "grid_code"))
    result = ImportResult()
    grids = {g.code: g for g in session.scalars(select(Grid))}
    people = {(p.phone, p.name): p for p in session.scalars(select(Person))}
    households = {(h.building, h.unit, h.room): h for h in session.scalars(select(Household))}
    buildings = set(session.scalars(select(Building.number)))
    seen: dict[tuple[str, str], int] = {}
    for line, cells in rows:
        try:
            values, address = _parse_person(cells, present, grids, region)
            key = (str(values["phone"]), str(values["name"]))
            if key in seen:
                raise _Refused(f"{key[1]} with phone {key[0]} is already on line {seen[key]}")
        except _Refused as exc:
            result.errors.append(RowError(line, str(exc)))
            continue
        seen[key] = line
        grid = values["grid"]
        if address is not None:
            household = households.get(address)
            if household is None:
                household = households[address] = Household(building=address[0], unit=address[1], room=address[2])
                session.add(household)
            _apply(household, {"grid": grid})
            if address[0] not in buildings:  # a building the grids file did not list joins this micro-grid
                buildings.add(address[0])
                session.add(Building(number=address[0], grid=grid))
            values["household"] = household
        elif "building" in present:
            values["household"] = None
        person = people.get(key)
        created = person is None
        if person is None:
            person = people[key] = Person(language="zh-CN", on_duty=False)
            session.add(person)
        _count(result, created, _apply(person, values))
    session.flush()
    return _finish(result)
