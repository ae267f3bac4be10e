"""The registry pages: the grid tree per role, CSV upload, and editing one person, through the real app."""
from __future__ import annotations

import html as html_lib
import io
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from grid.models import Grid, Person
from tests.dashboard_support import csrf_token, demo_with_logins, log_in

BOTH = pytest.mark.parametrize("db_backend", ["sqlite", "postgresql"], indirect=True)
REGISTRY = "/dashboard/registry/"
IMPORT = "/dashboard/registry/import"
PEOPLE = """name,phone,role,grid_code,building,unit,room
新住户,13800000051,resident,HG-01-1,1,1,301
Bad phone,12345,resident,HG-01-1,1,1,302
Unknown grid,13800000052,resident,NOPE,,,
"""
GRIDS_GBK = "编码,名称,类型,上级编码,楼栋\nHG-03,花果社区第三网格,网格,,\nHG-03-1,第三网格第1微网格,微网格,HG-03,13、14\n"


@pytest.fixture
def client(app: Any, sessions: Any) -> Any:
    demo_with_logins(sessions)
    return app.test_client()


def as_user(client: Any, username: str) -> Any:
    assert log_in(client, username).status_code == 302
    return client


def person(sessions: Any, name: str) -> Person:
    with sessions() as session:
        found = session.scalar(select(Person).where(Person.name == name))
        assert found is not None
        session.expunge(found)
        return found


def page(response: Any) -> str:
    return str(response.get_data(as_text=True))


def marked(html: str, prefix: str) -> set[str]:
    return set(re.findall(rf'data-testid="({re.escape(prefix)}[^"]*)"', html))


def upload(client: Any, **files: tuple[bytes, str]) -> Any:
    data: dict[str, Any] = {"csrf_token": csrf_token(client)}
    data.update({field: (io.BytesIO(content), name) for field, (content, name) in files.items()})
    return client.post(IMPORT, data=data, content_type="multipart/form-data")


def edit(client: Any, person_id: int, **fields: str) -> Any:
    form = {"csrf_token": csrf_token(client), "phone": "", "language": "zh-CN", "quiet_hours": ""} | fields
    return client.post(f"/dashboard/registry/people/{person_id}", data=form)


@BOTH
def test_leader_sees_only_their_grid_subtree(client: Any) -> None:
    """A grid leader of HG-01 sees HG-01 and its micro-grids, the community staff, and residents' phones masked."""
    html = page(as_user(client, "zhangwei").get(REGISTRY))
    assert marked(html, "grid-") == {"grid-HG-01", "grid-HG-01-1", "grid-HG-01-2", "grid-HG-01-3"}
    assert "community-staff" in marked(html, "community")
    assert "王建国" in html and "+8615000000001" in html  # a colleague: the full number
    assert "朱明" in html and "+8613800000001" not in html and "+86138****0001" in html
    assert "杨帆" not in html and "import-form" not in html


def test_worker_of_hg02_sees_hg02_not_hg01(client: Any) -> None:
    """A grid worker of HG-02 sees HG-02's tree and nothing of HG-01."""
    html = page(as_user(client, "yangfan").get(REGISTRY))
    assert marked(html, "grid-") == {"grid-HG-02", "grid-HG-02-1", "grid-HG-02-2", "grid-HG-02-3"}
    assert "张伟" not in html and "Mark Thompson" in html


@BOTH
def test_staff_see_the_whole_community_with_full_numbers(client: Any, settings: Any) -> None:
    """Community staff see every grid, exclusive grids included, each leader highlighted, every number in full."""
    html = page(as_user(client, "wang").get(REGISTRY))
    assert {"grid-HG-01", "grid-HG-02", "grid-HG-X1", "grid-HG-02-3"} <= marked(html, "grid-")
    assert settings.community_name in html and "import-form" in html
    assert "+8613800000001" in html and "****" not in html
    hg01 = html[html.index('data-testid="grid-HG-01"'):html.index('data-testid="grid-HG-01-1"')]
    assert "张伟" in hg01 and "陈静" in hg01 and 'data-testid="lead"' in hg01


def test_search_finds_by_name_and_by_phone_digits(client: Any) -> None:
    """Search keeps only the matches and the grids leading to them; phone digits work for unmasked numbers."""
    as_user(client, "wang")
    by_name = page(client.get(REGISTRY, query_string={"q": "Emily"}))
    assert "Emily Carter" in by_name and "朱明" not in by_name
    assert marked(by_name, "grid-") == {"grid-HG-02", "grid-HG-02-3"}
    by_phone = page(client.get(REGISTRY, query_string={"q": "0571-8888 0102"}))
    assert "魏娜" in by_phone and "郭志强" not in by_phone


def test_masked_numbers_are_found_only_by_the_whole_number(client: Any) -> None:
    """A leader cannot probe a resident's digits by searching; the whole number still finds them."""
    as_user(client, "zhangwei")
    assert "朱明" not in page(client.get(REGISTRY, query_string={"q": "13800000"}))
    assert "朱明" in page(client.get(REGISTRY, query_string={"q": "138 0000 0001"}))


@BOTH
def test_upload_reports_bad_rows_like_the_cli_and_keeps_good_ones(app: Any, client: Any, sessions: Any,
                                                                     tmp_path: Path) -> None:
    """A people file with bad rows: each is listed as the CLI lists it, and the good row is imported."""
    response = upload(as_user(client, "wang"), people=(PEOPLE.encode(), "people.csv"))
    assert response.status_code == 200
    html = page(response)
    errors = [html_lib.unescape(e) for e in re.findall(r'data-testid="import-error">([^<]*)<', html)]
    assert len(errors) == 2 and errors[0].startswith("line 3: ")
    assert "people.csv: 新增 1，更新 0，未变 0，拒绝 2 行" in html
    assert person(sessions, "新住户").phone == "+8613800000051"
    path = tmp_path / "people.csv"
    path.write_text(PEOPLE, encoding="utf-8")
    cli = app.test_cli_runner().invoke(args=["registry", "import-people", str(path)])
    assert cli.stderr.splitlines() == errors


def test_gbk_grids_and_people_in_one_upload_import_grids_first(client: Any, sessions: Any) -> None:
    """A GBK grids file and a people file naming its new grid import together, grids first."""
    people = "姓名,电话,角色,网格编码,楼栋,单元,房号\n新网格员,13900000999,专职网格员,HG-03,,,\n"
    response = upload(as_user(client, "wang"), grids=(GRIDS_GBK.encode("gbk"), "网格.csv"),
                      people=(people.encode("utf-8-sig"), "people.csv"))
    html = page(response)
    assert response.status_code == 200 and 'data-testid="import-error"' not in html
    assert "网格.csv: 新增 2，更新 0，未变 0，拒绝 0 行" in html
    with sessions() as session:
        grid = session.scalar(select(Grid).where(Grid.code == "HG-03-1"))
        assert grid is not None and grid.name == "第三网格第1微网格" and grid.parent is not None
    assert person(sessions, "新网格员").role == "grid_worker"
    assert "grid-HG-03-1" in marked(page(client.get(REGISTRY)), "grid-")


@pytest.mark.parametrize(("files", "status", "says"), [
    ({}, 400, "请选择"),
    ({"people": (b"PK\x03\x04rest-of-a-workbook", "people.xlsx")}, 400, "Excel 工作簿"),
    ({"people": (PEOPLE.encode(), "people.txt")}, 400, "不是 .csv"),
    ({"people": (b"", "people.csv")}, 400, "文件是空的"),
    ({"people": ("名字,电话\n张三,13800000001\n".encode(), "people.csv")}, 400, "lacks the column(s)"),
    ({"people": (PEOPLE.encode().ljust(5 * 1024 * 1024, b" "), "people.csv")}, 413, "文件太大"),
])
def test_unusable_uploads_are_refused_with_a_message(client: Any, sessions: Any, files: dict[str, Any],
                                                     status: int, says: str) -> None:
    """No file, a workbook, a wrong extension, an empty file, a bad header, an oversize upload: a message, no import."""
    response = upload(as_user(client, "wang"), **files)
    assert response.status_code == status
    assert says in page(response)
    with sessions() as session:
        assert session.scalar(select(Person).where(Person.name == "新住户")) is None


def test_a_refused_grids_file_stops_the_people_file(client: Any, sessions: Any) -> None:
    """When the grids file is refused whole, its people file is not imported either."""
    response = upload(as_user(client, "wang"), grids=(b"\xff\xfe\x00\x00", "grids.csv"), people=(PEOPLE.encode(), "people.csv"))
    html = page(response)
    assert response.status_code == 400 and "UTF-16" in html and "网格文件被拒" in html
    with sessions() as session:
        assert session.scalar(select(Person).where(Person.name == "新住户")) is None


def test_only_staff_may_import(client: Any) -> None:
    """A grid leader's upload is refused with 403."""
    assert upload(as_user(client, "zhangwei"), people=(PEOPLE.encode(), "people.csv")).status_code == 403


@BOTH
def test_editing_a_phone_refuses_invalid_numbers_and_saves_valid_ones_as_e164(client: Any, sessions: Any) -> None:
    """An invalid number is refused with the reason and nothing saved; a valid one is stored as E.164."""
    target = person(sessions, "朱明")
    as_user(client, "wang")
    refused = edit(client, target.id, phone="12345", language="en-US")
    assert refused.status_code == 400
    assert "has too few digits" in page(refused) and 'data-testid="error-phone"' in page(refused)
    assert (person(sessions, "朱明").phone, person(sessions, "朱明").language) == ("+8613800000001", "zh-CN")
    saved = edit(client, target.id, phone="１３９ ０００0-0999", language="en-US", quiet_hours="22：00～7:30", on_duty="1")
    assert saved.status_code == 303 and saved.headers["Location"].endswith(f"/people/{target.id}")
    after = person(sessions, "朱明")
    assert (after.phone, after.language, after.quiet_hours, after.on_duty) == ("+8613900000999", "en-US", "22:00-07:30", True)
    assert "已保存" in page(client.get(f"/dashboard/registry/people/{target.id}"))


@pytest.mark.parametrize("quiet", ["25:00-08:00", "21:00", "9pm-8am", "21:60-08:00"])
def test_bad_quiet_hours_are_refused_and_nothing_is_saved(client: Any, sessions: Any, quiet: str) -> None:
    """Quiet hours that are not HH:MM-HH:MM are refused, and the valid phone in the same form is not saved."""
    target = person(sessions, "刘洋")
    response = edit(as_user(client, "wang"), target.id, phone="13900009999", quiet_hours=quiet)
    assert response.status_code == 400 and 'data-testid="error-quiet-hours"' in page(response)
    after = person(sessions, "刘洋")
    assert (after.phone, after.quiet_hours) == ("+8613900000102", "22:00-07:00")


def test_blank_quiet_hours_fall_back_to_the_community_default(client: Any, sessions: Any) -> None:
    """Clearing quiet hours stores none, so the community default applies."""
    target = person(sessions, "刘洋")
    assert edit(as_user(client, "wang"), target.id, phone=target.phone, quiet_hours=" ").status_code == 303
    assert person(sessions, "刘洋").quiet_hours is None


def test_a_phone_taken_by_a_namesake_is_refused(client: Any, sessions: Any) -> None:
    """Two entries with the same name and number would be one person to the importer: refused."""
    upload(as_user(client, "wang"), people=("name,phone,role,grid_code\n朱明,13800000099,resident,HG-01-1\n".encode(),
                                            "p.csv"))
    with sessions() as session:
        ids = list(session.scalars(select(Person.id).where(Person.name == "朱明").order_by(Person.id)))
    response = edit(client, ids[0], phone="13800000099")
    assert response.status_code == 400 and f"#{ids[1]}" in page(response)
    with sessions() as session:
        assert session.get(Person, ids[0]).phone == "+8613800000001"  # type: ignore[union-attr]


def test_a_worker_may_view_but_not_edit(client: Any, sessions: Any) -> None:
    """A grid worker sees a person of their grid without the form, gets 403 on a POST, and 404 outside their grid."""
    target = person(sessions, "朱明")
    as_user(client, "chenjing")
    view = client.get(f"/dashboard/registry/people/{target.id}")
    assert view.status_code == 200 and "person-form" not in page(view) and "+86138****0001" in page(view)
    assert edit(client, target.id, phone="13900000999").status_code == 403
    assert person(sessions, "朱明").phone == "+8613800000001"
    assert client.get(f"/dashboard/registry/people/{person(sessions, '蒋勇').id}").status_code == 404


def test_a_post_without_the_csrf_token_changes_nothing(client: Any, sessions: Any) -> None:
    """An edit or an upload without the session's CSRF token is refused with 400."""
    target = person(sessions, "朱明")
    as_user(client, "wang")
    response = client.post(f"/dashboard/registry/people/{target.id}", data={"phone": "13900000999", "language": "zh-CN"})
    assert response.status_code == 400
    assert person(sessions, "朱明").phone == "+8613800000001"
    upload_response = client.post(IMPORT, data={"people": (io.BytesIO(PEOPLE.encode()), "people.csv")},
                                  content_type="multipart/form-data")
    assert upload_response.status_code == 400
    with sessions() as session:
        assert session.scalar(select(Person).where(Person.name == "新住户")) is None


def test_pages_need_a_login(client: Any, sessions: Any) -> None:
    """Without a login the registry and person pages send the browser to /login."""
    for path in (REGISTRY, f"/dashboard/registry/people/{person(sessions, '朱明').id}"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_the_pages_speak_english_on_request(client: Any, sessions: Any) -> None:
    """?lang=en shows the tree and the form in English."""
    as_user(client, "wang")
    assert "Grid registry" in page(client.get(REGISTRY, query_string={"lang": "en"}))
    assert "Quiet hours (blank for the community default)" in page(
        client.get(f"/dashboard/registry/people/{person(sessions, '朱明').id}"))


def test_an_edit_is_logged_with_who_and_masked_phones(client: Any, sessions: Any, caplog: pytest.LogCaptureFixture) -> None:
    """The log says who changed which person and what, with both phone numbers masked."""
    target = person(sessions, "朱明")
    with caplog.at_level(logging.INFO, logger="telephony.dashboard.registry"):
        edit(as_user(client, "wang"), target.id, phone="13900000999", language="en-US")
    lines = [r.getMessage() for r in caplog.records if r.name == "telephony.dashboard.registry"]
    assert lines == [f"registry edit by wang: person {target.id}: phone '+86138****0001' -> '+86139****0999'; "
                     "language 'zh-CN' -> 'en-US'"]
