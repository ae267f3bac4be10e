"""Dashboard: the grid registry. The community → grid → micro-grid tree with buildings and people,
the CSV upload (the importer and `line N: reason` report of `flask registry`), and one person's page
where community staff correct a phone, language, quiet hours or the on-duty flag.

Scope: a grid leader or worker sees their own grid's subtree (grid.access.user_grids) and the
community staff above it, whom they escalate to; community staff see everything and alone import
or edit. Phones: staff see every number in full (they fix numbers and ring people); leaders and
workers see colleagues' numbers in full but residents' masked, because calls to residents go
through the system and the digits are personal data. For the same reason a masked number is found
by search only when the whole number is typed, so digits cannot be probed one search at a time.
People have no timeline table and the staff's Excel file stays the source of truth, so an edit is
recorded as a log line (who, which person id, what changed, phones masked) rather than a new table.
"""
from __future__ import annotations

import csv
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload
from werkzeug.exceptions import RequestEntityTooLarge

from grid import access, models
from grid.csv_import import ImportResult, import_grids, import_people, parse_quiet_hours
from grid.csv_table import CsvFileError, clean
from grid.models import Building, Grid, Household, Person, User
from grid.phones import InvalidPhone, mask, normalise
from grid.routing import SENIORITY
from telephony import database
from telephony.dashboard import auth, csrf, i18n
from telephony.dashboard.i18n import tr

log = logging.getLogger(__name__)
bp = Blueprint("registry", __name__, url_prefix="/dashboard/registry")

# Both files of one upload together: ~50,000 people rows, far more than one community holds.
MAX_UPLOAD_BYTES = 4 * 1024 * 1024
LANGUAGES = {"zh-CN": "中文", "en-US": "English"}
KINDS = {models.GRID: ("网格", "grid"), models.MICRO_GRID: ("微网格", "micro-grid"),
         models.EXCLUSIVE_GRID: ("专属网格", "exclusive grid")}
LEAD_ROLES = frozenset({models.GRID_LEADER, models.GRID_WORKER, models.VOLUNTEER})
# Files people pick by mistake: Excel workbooks instead of their CSV export.
_WORKBOOKS = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")


@bp.before_request
def _limit_upload() -> None:
    """Cap the upload before anything reads the body (the CSRF check below parses the form)."""
    if request.endpoint == "registry.import_csv":
        request.max_content_length = MAX_UPLOAD_BYTES


csrf.protect(bp)


@dataclass
class Node:
    """A grid in the tree: its buildings, the people it holds (most senior first), its micro-grids."""

    grid: Grid
    buildings: list[str] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)

    @property
    def leads(self) -> list[Person]:
        return [p for p in self.people if p.role in LEAD_ROLES]

    def found(self) -> int:
        return len(self.people) + sum(child.found() for child in self.children)


@dataclass
class Outcome:
    """One uploaded file: the importer's result, or why the whole file was refused."""

    kind: str
    filename: str
    result: ImportResult | None = None
    error: str = ""


def full_phone(user: User, person: Person) -> bool:
    """Whether `user` sees `person`'s number unmasked (see the module docstring)."""
    return user.role == models.USER_STAFF or person.role != models.RESIDENT


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _matches(person: Person, query: str, unmasked: bool, region: str) -> bool:
    """Name contains the query, or the phone holds its digits (the whole number when masked)."""
    if not query or query.casefold() in person.name.casefold():
        return True
    if unmasked:
        digits = _digits(query).lstrip("0")  # "0571-8888…" is stored as +86571 8888…
        return len(digits) >= 3 and digits in _digits(person.phone)
    try:
        return normalise(query, region) == person.phone
    except InvalidPhone:
        return False


def _order(node: Node) -> tuple[int, str]:
    return list(KINDS).index(node.grid.kind) if node.grid.kind in KINDS else 9, node.grid.code


def build_tree(session: Session, user: User, query: str, region: str) -> tuple[list[Node], list[Person]]:
    """The grids `user` may see as trees, and the people without a grid (community staff)."""
    scope = access.user_grids(session, user)
    nodes = {grid.id: Node(grid) for grid in session.scalars(select(Grid)) if scope is None or grid.id in scope}
    for building in session.scalars(select(Building).where(Building.grid_id.in_(sorted(nodes)))):
        nodes[building.grid_id].buildings.append(building.number)
    people = select(Person).options(selectinload(Person.household))
    if scope is not None:
        people = people.where(or_(Person.grid_id.in_(sorted(scope)), Person.grid_id.is_(None)))
    community: list[Person] = []
    for person in session.scalars(people):
        if _matches(person, query, full_phone(user, person), region):
            node = nodes.get(person.grid_id) if person.grid_id is not None else None
            (node.people if node is not None else community).append(person)
    roots: list[Node] = []
    for node in nodes.values():
        node.buildings.sort(key=lambda n: (not n.isdigit(), len(n), n))
        node.people.sort(key=_person_order)
        parent = nodes.get(node.grid.parent_id) if node.grid.parent_id is not None else None
        (parent.children if parent is not None else roots).append(node)
    for node in nodes.values():
        node.children.sort(key=_order)
    community.sort(key=_person_order)
    if query:  # a search keeps only the branches that lead to somebody found
        _prune(roots)
    return sorted(roots, key=_order), community


def _person_order(person: Person) -> tuple[int, str, str, str, str]:
    home = person.household
    address = (home.building.zfill(8), home.unit.zfill(8), home.room.zfill(8)) if home is not None else ("", "", "")
    return -SENIORITY.get(person.role, 0), *address, person.name


def _prune(nodes: list[Node]) -> None:
    for node in nodes:
        _prune(node.children)
    nodes[:] = [node for node in nodes if node.found()]


def address(household: Household | None) -> str:
    if household is None:
        return ""
    b, u, r = household.building, household.unit, household.room
    zh = f"{b}号楼" + (f"{u}单元" if u else "") + (f"{r}室" if r else "")
    en = f"building {b}" + (f", unit {u}" if u else "") + (f", room {r}" if r else "")
    return tr(zh, en)


def _render(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    settings = current_app.config["SETTINGS"]
    user = g.user
    helpers = {
        "phone": lambda person: person.phone if full_phone(user, person) else mask(person.phone),
        "address": address,
        "kind_name": lambda kind: tr(*KINDS[kind]) if kind in KINDS else kind,
        "languages": LANGUAGES,
        "default_quiet_hours": settings.quiet_hours,
        "can_edit": access.may(user, "edit_registry"),
        "can_import": access.may(user, "import_registry"),
        "max_upload_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
    }
    return render_template(template, **helpers, **context), status


def _index(outcomes: list[Outcome] | None = None, message: str = "", status: int = 200) -> tuple[str, int]:
    settings = current_app.config["SETTINGS"]
    query = clean(request.args.get("q", ""))[:100]
    roots, community = build_tree(database.session(), g.user, query, settings.default_region)
    found = len(community) + sum(node.found() for node in roots)
    return _render("dashboard/registry.html", status, roots=roots, community=community, query=query, found=found,
                   community_name=settings.community_name, outcomes=outcomes or [], message=message)


@bp.get("/")
def index() -> Any:
    return _index()


def upload_problem(filename: str, data: bytes) -> str:
    """Why an uploaded file is not a CSV export worth reading, or "" (decoding is the importer's)."""
    if data.startswith(_WORKBOOKS):
        return tr("这是 Excel 工作簿，不是 CSV：请在 Excel 里“另存为 CSV UTF-8”再上传。",
                  "this is an Excel workbook, not CSV: in Excel use Save As 'CSV UTF-8' and upload that")
    if not filename.lower().endswith(".csv"):
        return tr("不是 .csv 文件：请在 Excel 里“另存为 CSV UTF-8”再上传。",
                  "not a .csv file: in Excel use Save As 'CSV UTF-8' and upload that")
    if not data.strip():
        return tr("文件是空的。", "the file is empty")
    return ""


@bp.post("/import")
def import_csv() -> Any:
    """Grids and/or people, grids first (people name their grid codes); good rows are committed."""
    if not access.may(g.user, "import_registry"):
        abort(403)
    files: list[tuple[str, str, bytes]] = []
    for kind in ("grids", "people"):
        upload = request.files.get(kind)
        if upload is None or not upload.filename:
            continue
        filename, data = upload.filename[-100:], upload.read()
        problem = upload_problem(filename, data)
        if problem:  # nothing is imported when one of the files is unusable
            return _index(message=f"{filename}: {problem}", status=400)
        files.append((kind, filename, data))
    if not files:
        return _index(message=tr("请选择要上传的网格或人员 CSV 文件。", "Choose a grids or people CSV file to upload."),
                      status=400)
    outcomes = run_imports(database.session(), files, current_app.config["SETTINGS"].default_region)
    return _index(outcomes=outcomes, status=200 if any(o.result for o in outcomes) else 400)


def run_imports(session: Session, files: list[tuple[str, str, bytes]], region: str) -> list[Outcome]:
    """Import each file as the CLI does: commit its good rows, or nothing when it is refused whole."""
    outcomes: list[Outcome] = []
    for kind, filename, data in files:
        if outcomes and outcomes[-1].error:  # people need the grids that file was to create
            outcomes.append(Outcome(kind, filename, error=tr("未导入：网格文件被拒，请先改好它。",
                                                            "not imported: the grids file was refused, fix it first")))
            continue
        try:
            result = import_grids(session, data) if kind == "grids" else import_people(session, data, region=region)
        except (CsvFileError, csv.Error) as exc:
            session.rollback()
            outcomes.append(Outcome(kind, filename, error=str(exc)))
            continue
        session.commit()
        outcomes.append(Outcome(kind, filename, result))
        log.info("registry import by %s: %s: %d created, %d updated, %d unchanged, %d refused", g.user.username,
                 filename, result.created, result.updated, result.unchanged, len(result.errors))
    return outcomes


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc: RequestEntityTooLarge) -> Any:
    """An oversize upload: a message on the registry page instead of a bare 413."""
    auth.load_user()  # the limit stops the request before the login check has run
    g.lang = i18n.language()
    message = tr(f"文件太大：一次最多上传 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB。",
                 f"The upload is too large: at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB at a time.")
    if g.user is None or not access.may(g.user, "import_registry"):
        return message, 413
    return _index(message=message, status=413)


def _visible_person(person_id: int) -> Person:
    session = database.session()
    person = session.get(Person, person_id)
    scope = access.user_grids(session, g.user)
    if person is None or not (scope is None or person.grid_id is None or person.grid_id in scope):
        abort(404)  # out of scope looks like absent: the page does not confirm who is registered
    return person


def read_edit(form: Any, person: Person, region: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The new values from the person form, and a message per refused field."""
    values: dict[str, Any] = {"on_duty": "on_duty" in form}
    errors: dict[str, str] = {}
    try:
        values["phone"] = normalise(form.get("phone", ""), region)
    except InvalidPhone as exc:
        errors["phone"] = tr("电话号码有误：", "Phone number refused: ") + exc.reason
    language = form.get("language", "")
    if language in LANGUAGES:
        values["language"] = language
    else:
        errors["language"] = tr("请选择中文或英文。", "Choose Chinese or English.")
    try:
        values["quiet_hours"] = parse_quiet_hours(clean(form.get("quiet_hours", "")))
    except ValueError:
        errors["quiet_hours"] = tr("免打扰时段要写成 21:00-08:00 这样（留空即用社区默认）。",
                                   "Quiet hours must look like 21:00-08:00 (blank for the community default).")
    if "phone" in values and values["phone"] != person.phone:
        twin = database.session().scalar(select(Person).where(Person.phone == values["phone"],
                                                               Person.name == person.name, Person.id != person.id))
        if twin is not None:  # (phone, name) is how a re-import recognises a person
            errors["phone"] = tr(f"名册里已有同名同号的另一条记录（#{twin.id}）。",
                                 f"Another registry entry (#{twin.id}) has the same name and number.")
    return values, errors


def _describe(name: str, old: Any, new: Any) -> str:
    if name == "phone":
        old, new = mask(old), mask(new)
    return f"{name} {old!r} -> {new!r}"


@bp.route("/people/<int:person_id>", methods=["GET", "POST"])
def person(person_id: int) -> Any:
    """Everybody in scope may view; only community staff may change (the rest get 403)."""
    if request.method == "POST" and not access.may(g.user, "edit_registry"):
        abort(403)
    someone = _visible_person(person_id)
    form = {"phone": someone.phone, "language": someone.language, "quiet_hours": someone.quiet_hours or "",
            "on_duty": someone.on_duty}
    if request.method == "GET":
        return _render("dashboard/person.html", person=someone, form=form, errors={})
    values, errors = read_edit(request.form, someone, current_app.config["SETTINGS"].default_region)
    if errors:  # nothing is saved while any field is refused
        typed = {key: request.form.get(key, "") for key in ("phone", "language", "quiet_hours")}
        return _render("dashboard/person.html", 400, person=someone, form={**typed, "on_duty": values["on_duty"]},
                       errors=errors)
    changes = [_describe(key, getattr(someone, key), value) for key, value in values.items()
               if getattr(someone, key) != value]
    if not changes:
        flash(tr("没有改动。", "Nothing changed."), "info")
        return redirect(url_for("registry.person", person_id=someone.id), 303)
    for key, value in values.items():
        setattr(someone, key, value)
    try:
        database.session().commit()
    except IntegrityError:  # somebody took the same (phone, name) between the check and the commit
        database.session().rollback()
        return _render("dashboard/person.html", 409, person=someone, form=form,
                       errors={"phone": tr("保存冲突，请重试。", "Someone changed the registry at the same time; try again.")})
    log.info("registry edit by %s: person %d: %s", g.user.username, someone.id, "; ".join(changes))
    flash(tr("已保存。", "Saved."), "ok")
    return redirect(url_for("registry.person", person_id=someone.id), 303)
