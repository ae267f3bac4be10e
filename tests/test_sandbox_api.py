"""The Twilio-compatible sandbox: call times, fetching a call's state, and calls-per-second refusals."""
from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from telephony.config import Settings
from telephony.rest import make_client

UNKNOWN_CALL = "CA" + "f" * 32


@pytest.fixture
def client(settings: Settings, twilio_api: Any) -> Client:
    """The app's own REST client (twilio's Client), pointed at the sandbox."""
    return make_client(replace(settings, twilio_api_base_url=twilio_api.base_url))


def place(client: Client, to: str = "+8613800000001") -> str:
    call = client.calls.create(to=to, from_="+8657188880000", url="https://gridline.example.org/twilio/voice/outbound")
    return str(call.sid)


def call_url(twilio_api: Any, call_sid: str, account_sid: str = "") -> str:
    return f"{twilio_api.base_url}/2010-04-01/Accounts/{account_sid or twilio_api.account_sid}/Calls/{call_sid}.json"


def test_each_accepted_call_records_when_it_was_accepted(client: Client, twilio_api: Any) -> None:
    """call_times holds one monotonic time per accepted call, in the order of `calls`."""
    before = time.monotonic()
    sids = [place(client, f"+861380000000{n}") for n in range(3)]
    after = time.monotonic()
    assert [c["Sid"] for c in twilio_api.calls] == sids
    assert len(twilio_api.call_times) == 3
    assert before <= twilio_api.call_times[0] <= twilio_api.call_times[1] <= twilio_api.call_times[2] <= after


def test_a_refused_call_records_no_time(client: Client, twilio_api: Any) -> None:
    """A call answered with an error was not placed: no entry in calls, call_times or the call states."""
    twilio_api.fail_calls = [500]
    with pytest.raises(TwilioRestException):
        place(client)
    assert twilio_api.calls == [] and twilio_api.call_times == [] and twilio_api.call_states == {}
    place(client)
    assert len(twilio_api.calls) == len(twilio_api.call_times) == 1


def test_a_placed_call_can_be_fetched_and_starts_queued(client: Client, twilio_api: Any) -> None:
    """GET /Calls/{CallSid}.json through the twilio client: queued, with its numbers, nothing answered yet."""
    sid = place(client, "+8613800000007")
    call = client.calls(sid).fetch()
    assert (call.sid, call.status, call.to, call._from) == (sid, "queued", "+8613800000007", "+8657188880000")
    assert call.answered_by is None and call.duration is None and call.direction == "outbound-api"


@pytest.mark.parametrize(
    ("status", "answered_by", "duration", "expected"),
    [
        ("completed", "human", 42, ("completed", "human", "42")),
        ("completed", "machine_end_beep", 18, ("completed", "machine_end_beep", "18")),
        ("no-answer", "", 0, ("no-answer", None, "0")),
        ("busy", "", None, ("busy", None, None)),
    ],
)
def test_set_call_status_is_what_a_later_fetch_sees(
    client: Client, twilio_api: Any, status: str, answered_by: str, duration: int | None,
    expected: tuple[str, str | None, str | None],
) -> None:
    """A test moves a call on (as Twilio would); a reconciliation lookup then reads that state."""
    sid = place(client)
    twilio_api.set_call_status(sid, status, answered_by=answered_by, duration=duration)
    call = client.calls(sid).fetch()
    assert (call.status, call.answered_by, call.duration) == expected


def test_set_call_status_of_an_unknown_call_is_an_error(twilio_api: Any) -> None:
    """Moving a call that was never placed is a mistake in the test, not a silent no-op."""
    with pytest.raises(KeyError):
        twilio_api.set_call_status(UNKNOWN_CALL, "completed")


def test_fetching_an_unknown_call_is_a_404_with_twilio_code_20404(client: Client, twilio_api: Any) -> None:
    """An unknown CallSid answers 404 with Twilio's JSON error, which the client raises as 20404."""
    with pytest.raises(TwilioRestException) as raised:
        client.calls(UNKNOWN_CALL).fetch()
    assert (raised.value.status, raised.value.code) == (404, 20404)
    answer = requests.get(call_url(twilio_api, UNKNOWN_CALL), auth=(twilio_api.account_sid, twilio_api.auth_token),
                          timeout=5)
    assert answer.status_code == 404 and answer.json()["code"] == 20404


def test_fetching_a_call_needs_the_accounts_credentials(client: Client, twilio_api: Any) -> None:
    """Without basic auth, with a wrong token or under another account's path the answer is 401."""
    sid = place(client)
    auth = (twilio_api.account_sid, twilio_api.auth_token)
    assert requests.get(call_url(twilio_api, sid), timeout=5).status_code == 401
    assert requests.get(call_url(twilio_api, sid), auth=(twilio_api.account_sid, "wrong"), timeout=5).status_code == 401
    assert requests.get(call_url(twilio_api, sid, "AC" + "9" * 32), auth=auth, timeout=5).status_code == 401


def test_plain_http_create_and_fetch_speak_twilios_protocol(twilio_api: Any) -> None:
    """A form POST to Calls.json answers 201 with a sid; GET of that sid answers the call's JSON."""
    auth = (twilio_api.account_sid, twilio_api.auth_token)
    created = requests.post(
        f"{twilio_api.base_url}/2010-04-01/Accounts/{twilio_api.account_sid}/Calls.json",
        data={"To": "+8613800000002", "From": "+8657188880000", "Url": "https://gridline.example.org/x"},
        auth=auth, timeout=5,
    )
    assert created.status_code == 201
    sid = created.json()["sid"]
    fetched = requests.get(call_url(twilio_api, sid), auth=auth, timeout=5)
    assert fetched.status_code == 200
    body = fetched.json()
    assert {k: body[k] for k in ("sid", "status", "to", "from", "answered_by", "duration")} == {
        "sid": sid, "status": "queued", "to": "+8613800000002", "from": "+8657188880000", "answered_by": None,
        "duration": None,
    }


def test_a_call_sooner_than_max_cps_allows_is_refused_with_429_and_code_20429(client: Client, twilio_api: Any) -> None:
    """With max_cps 0.1, a second call right after the first is throttled: 429, 20429, counted, not placed."""
    twilio_api.max_cps = 0.1
    place(client)
    with pytest.raises(TwilioRestException) as raised:
        place(client)
    assert (raised.value.status, raised.value.code) == (429, 20429)
    assert len(twilio_api.calls) == len(twilio_api.call_times) == 1 and len(twilio_api.throttled) == 1


def test_a_call_one_interval_after_the_last_accepted_one_is_placed(client: Client, twilio_api: Any) -> None:
    """With max_cps 20, calls at least 50 ms apart are all accepted and nothing is throttled."""
    twilio_api.max_cps = 20
    for _ in range(3):
        place(client)
        time.sleep(0.06)
    assert len(twilio_api.calls) == 3 and twilio_api.throttled == []
    assert all(b - a >= 0.05 for a, b in zip(twilio_api.call_times, twilio_api.call_times[1:], strict=False))


def test_max_cps_slack_forgives_that_much_early_arrival(client: Client, twilio_api: Any) -> None:
    """A slack as long as the interval forgives any early arrival: back-to-back calls are all placed."""
    twilio_api.max_cps, twilio_api.max_cps_slack = 0.1, 10.0
    for _ in range(3):
        place(client)
    assert len(twilio_api.calls) == 3 and twilio_api.throttled == []


def test_max_cps_paces_calls_only_not_messages(client: Client, twilio_api: Any) -> None:
    """Twilio's calls-per-second limit is for calls; SMS sent in between are not throttled by it."""
    twilio_api.max_cps = 0.1
    place(client)
    for _ in range(2):
        client.messages.create(to="+8613800000001", from_="+8657188880000", body="report 17 received")
    assert len(twilio_api.messages) == 2 and twilio_api.throttled == []

