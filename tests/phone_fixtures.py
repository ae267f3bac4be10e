"""Fixtures for tests that run the app against the sandbox phone (a plugin of tests/conftest.py).
A module using them also overrides `twilio_api` with `phone.api`, so that its app and worker talk to
the phone's Twilio stand-in; every other module keeps conftest's bare one."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.server import PhoneSandbox
from telephony.config import Settings
from tests.live import serve
from tests.loop_driver import Loop


@pytest.fixture
def phone(settings: Settings) -> Iterator[PhoneSandbox]:
    """The sandbox phone on a free port; the app's URL is filled in once the app is served."""
    sandbox = PhoneSandbox(settings, app_url="http://127.0.0.1:9").start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def live(loop: Loop, phone: PhoneSandbox) -> Iterator[str]:
    """The app (demo community, 09:00 Shanghai) served over HTTP, and the phone posting to it."""
    with serve(loop.app) as url:
        phone.app_url = url
        yield url
