"""The official twilio REST client, pointed at TWILIO_API_BASE_URL when one is configured.

This lets a TwiML-compatible provider (e.g. SignalWire's compatibility API) or a local test
endpoint receive the REST calls while the app still uses twilio's own client code.
"""
from __future__ import annotations

from twilio.rest import Client

from telephony.config import TWILIO_API_DEFAULT, Settings


def make_client(settings: Settings) -> Client:
    if not settings.twilio_configured:
        raise RuntimeError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set: no outbound calls or SMS")
    client = Client(settings.twilio_account_sid, settings.twilio_auth_token)
    base = settings.twilio_api_base_url.rstrip("/")
    if base and base != TWILIO_API_DEFAULT:
        client.api.base_url = base
    return client
