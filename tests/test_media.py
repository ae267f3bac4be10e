"""Signed <Play> URLs for the caller's voice on outbound calls (telephony.media)."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from telephony.config import Settings
from telephony.media import PLAY_URL_TTL_S, play_url, valid


def _parts(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    return parts.path.rsplit("/", 1)[1].removesuffix(".wav"), query["expires"][0], query["sig"][0]


@pytest.mark.parametrize(
    ("sid", "shift", "tamper", "ok"),
    [
        ("RE" + "1" * 32, 0, "", True),  # as issued
        ("RE" + "1" * 32, PLAY_URL_TTL_S + 1, "", False),  # expired
        ("RE" + "2" * 32, 0, "sid", False),  # the signature of another recording
        ("RE" + "1" * 32, 0, "expires", False),  # a later expiry written in by hand
        ("RE" + "1" * 32, 0, "sig", False),  # a made-up signature
    ],
)
def test_play_urls_work_only_as_issued_and_until_they_expire(settings: Settings, sid: str, shift: int, tamper: str,
                                                             ok: bool) -> None:
    """A play URL opens its own recording until it expires; any edit to it is refused."""
    url = play_url(settings, "RE" + "1" * 32, now=1_000_000)
    assert url.startswith(f"{settings.public_base_url}/media/recordings/")
    got_sid, expires, sig = _parts(url)
    if tamper == "expires":
        expires = str(int(expires) + 3600)
    if tamper == "sig":
        sig = "0" * len(sig)
    assert valid(settings, sid if tamper == "sid" else got_sid, expires, sig, now=1_000_000 + shift) is ok
