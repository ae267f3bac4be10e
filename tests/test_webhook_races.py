"""Twilio delivering the same thing twice at the same instant: one record, two good answers."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from grid.demo import load_demo
from grid.models import Call, Person, Recording, Report
from tests.conftest import PUBLIC_BASE_URL
from tests.twilio_driver import Call as TwilioCall
from tests.twilio_driver import http_poster, signed_post

CALLS = 8


@pytest.fixture
def live_app(app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.mark.parametrize("db_backend", ["sqlite", "postgresql"], indirect=True)
def test_simultaneous_duplicates_create_one_call_one_report_one_recording(app: Any, live_app: str) -> None:
    """The first webhook twice at once, then the <Record> action racing its status callback."""
    with app.extensions["gridline.sessions"]() as s:
        load_demo(s)
        s.commit()
        phone = s.scalars(select(Person.phone).where(Person.role == "resident")).first()
    post = http_poster(live_app)
    form = {"From": phone, "To": "+8657188880000"}

    def first_webhook(sid: str) -> tuple[int, str]:
        return signed_post(post, PUBLIC_BASE_URL + "/twilio/voice", {**form, "CallSid": sid})

    sids = [f"CA{i:032x}" for i in range(CALLS)]
    with ThreadPoolExecutor(max_workers=2 * CALLS) as pool:
        answers = list(pool.map(first_webhook, [sid for sid in sids for _ in range(2)]))
    assert all(code == 200 for code, _ in answers)
    assert all(answers[i][1] == answers[i + 1][1] for i in range(0, len(answers), 2))  # same answer twice

    walks = []
    for sid in sids:
        call = TwilioCall(post, sid, phone, twiml=answers[0][1])
        call.press("1")
        call.press("2")
        walks.append(call)

    def finish(call: TwilioCall, which: str) -> int:
        rec_sid, url = "RE" + call.call_sid[2:], "https://api.twilio.com/rec/" + call.call_sid
        if which == "action":
            form = call._form(RecordingSid=rec_sid, RecordingUrl=url, RecordingDuration="4", Digits="#")
            return signed_post(post, call._find("Record").attrib["action"], form)[0]
        return call.recording_status(rec_sid, url)

    with ThreadPoolExecutor(max_workers=2 * CALLS) as pool:
        codes = list(pool.map(lambda job: finish(*job), [(c, w) for c in walks for w in ("action", "status")]))
    assert codes == [200, 204] * CALLS
    with app.extensions["gridline.sessions"]() as s:
        for model in (Call, Report, Recording):
            assert s.scalar(select(func.count()).select_from(model)) == CALLS
