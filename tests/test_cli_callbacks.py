"""`flask calls request|show`: staff questions from the command line, through the real app, Redis and a worker."""
from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskCliRunner
from redis import Redis
from sqlalchemy import select

from grid.demo import load_demo
from grid.models import CallBack, Person
from tests.test_api import DAY, NIGHT, answered, set_clock, work


@pytest.fixture
def runner(app: Any, worker_ctx: Any, monkeypatch: pytest.MonkeyPatch) -> FlaskCliRunner:
    """A CLI runner on the demo community at 10:00 Shanghai, run by OS user "wang"."""
    monkeypatch.setenv("LOGNAME", "wang")  # getpass.getuser() reads LOGNAME first
    set_clock(app, worker_ctx, DAY)
    with app.extensions["gridline.sessions"]() as s:
        load_demo(s)
        s.commit()
    return app.test_cli_runner()


def person_id(app: Any, name: str) -> int:
    with app.extensions["gridline.sessions"]() as s:
        return int(s.scalars(select(Person.id).where(Person.name == name)).one())


def only_callback(app: Any) -> CallBack:
    with app.extensions["gridline.sessions"]() as s:
        return s.scalars(select(CallBack)).one()


def test_request_prints_id_masked_number_and_rings_now(
    app: Any, runner: FlaskCliRunner, twilio_api: Any, redis_conn: Redis
) -> None:
    """By day the command prints "rings now"; the row records the OS user; a worker places the call."""
    pid = person_id(app, "林小红")
    result = runner.invoke(args=["calls", "request", "--person-id", str(pid), "--question", "楼道灯修好了吗？"])
    assert result.exit_code == 0, result.output
    callback = only_callback(app)
    assert result.stdout == f"call-back {callback.id} to +86138****0004: rings now\n"
    assert (callback.requested_by, callback.question, callback.purpose) == ("cli:wang", "楼道灯修好了吗？", "staff_question")
    work(redis_conn)
    assert [c["To"] for c in twilio_api.calls] == ["+8613800000004"]
    assert f"callback={callback.id}" in twilio_api.calls[0]["Url"]


def test_request_at_night_says_when_it_will_ring_in_the_community_time_zone(
    app: Any, worker_ctx: Any, runner: FlaskCliRunner, twilio_api: Any, redis_conn: Redis
) -> None:
    """At 23:30 the command says 08:00 Asia/Shanghai, and nothing rings now."""
    set_clock(app, worker_ctx, NIGHT)
    result = runner.invoke(args=["calls", "request", "--phone", "138 0000 0004", "--question", "噪音还有吗？"])
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(": rings at 2026-11-23 08:00 Asia/Shanghai (quiet hours)\n")
    work(redis_conn)
    assert twilio_api.calls == []


def test_request_to_an_unregistered_number_in_english(app: Any, runner: FlaskCliRunner) -> None:
    """--phone with a number nobody has and --language en-US: a call-back with no person, in English."""
    args = ["calls", "request", "--phone", "13900009999", "--language", "en-US", "--question", "Did you call 12345?"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    callback = only_callback(app)
    assert (callback.person_id, callback.language, callback.to_number) == (None, "en-US", "+8613900009999")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--question", "在家吗？"], "Error: --person-id: person_id or phone is required: who is to be called"),
        (["--person-id", "99999", "--question", "在家吗？"], "Error: --person-id: person 99999 not found"),
        (["--phone", "12345", "--question", "在家吗？"], "Error: --phone: '12345' has too few digits"),
        (["--phone", "13800000004", "--question", " "], "Error: --question: question is required"),
        (["--phone", "13800000004", "--question", "在家吗？", "--report", "4242"], "Error: --report: report 4242 not found"),
    ],
)
def test_request_refusals_name_the_option_and_schedule_nothing(
    app: Any, runner: FlaskCliRunner, args: list[str], message: str
) -> None:
    """A refused request exits 1 naming the option at fault, and no call-back is created."""
    result = runner.invoke(args=["calls", "request", *args])
    assert result.exit_code == 1 and result.stderr.startswith(message), result.stderr
    with app.extensions["gridline.sessions"]() as s:
        assert s.scalars(select(CallBack)).all() == []


def test_request_with_redis_down_saves_it_and_says_the_sweeper_will_place_it(app: Any, runner: FlaskCliRunner) -> None:
    """Redis unreachable: exit 0, the row is saved, and a note says the sweeper will place the call."""
    app.extensions["gridline.redis"] = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    result = runner.invoke(args=["calls", "request", "--phone", "13800000004", "--question", "在家吗？"])
    assert result.exit_code == 0, result.output
    assert "Redis is unreachable; the call-back is saved and the sweeper will place it" in result.stderr
    assert only_callback(app).status == "scheduled"


def test_show_prints_status_attempts_answer_and_voice_note(app: Any, runner: FlaskCliRunner) -> None:
    """`calls show` prints the call-back, each attempt and the answer in Shanghai time, and the note's transcript."""
    runner.invoke(args=["calls", "request", "--phone", "13800000004", "--question", "修好了吗？"])
    callback_id = only_callback(app).id
    answered(app, callback_id)
    result = runner.invoke(args=["calls", "show", str(callback_id)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"call-back {callback_id} (staff_question) to +86138****0004: completed, scheduled for 2026-11-23 10:00 Asia/Shanghai",
        "question: 修好了吗？",
        "requested by: cli:wang",
        "attempt 1: reached, placed 2026-11-23 10:00 Asia/Shanghai, ended 2026-11-23 10:04 Asia/Shanghai",
        "answer: yes at 2026-11-23 10:03 Asia/Shanghai",
        "voice note (answer, transcript done): 已经修好了",
    ]


def test_show_an_unknown_call_back_exits_1(runner: FlaskCliRunner) -> None:
    """`calls show` with an id that does not exist says so and exits 1."""
    result = runner.invoke(args=["calls", "show", "424242"])
    assert result.exit_code == 1 and "call-back 424242 not found" in result.stderr
