"""Twilio's half of the webhooks: signed form posts to GridLine, as Twilio would send them.

The signature covers the public URL (PUBLIC_BASE_URL + path + query, what the app checks); the
request itself goes to where the app listens, the same mapping as `Caller.post` in
telephony/cli_simulate.py. URLs outside PUBLIC_BASE_URL are posted to as they are.
"""
from __future__ import annotations

from dataclasses import dataclass

import requests
from twilio.request_validator import RequestValidator


class AppError(Exception):
    """GridLine did not answer a webhook usefully; str(exc) says what to check."""


@dataclass
class Webhooks:
    app_url: str  # where GridLine listens (GRIDLINE_URL)
    public_base_url: str  # what Twilio would call it (PUBLIC_BASE_URL)
    auth_token: str
    account_sid: str
    timeout: float = 30.0

    def target(self, public_url: str) -> str:
        """Where a request for a public URL really goes."""
        base = self.public_base_url.rstrip("/")
        if public_url == base or public_url.startswith(base + "/") or public_url.startswith(base + "?"):
            return self.app_url.rstrip("/") + public_url[len(base):]
        return public_url

    def post(self, public_url: str, form: dict[str, str]) -> str:
        """POST like Twilio; the answer's body (TwiML, or "" for a 204)."""
        form = {"AccountSid": self.account_sid, "ApiVersion": "2010-04-01", **form}
        signature = RequestValidator(self.auth_token).compute_signature(public_url, form)
        target = self.target(public_url)
        try:
            resp = requests.post(target, data=form, headers={"X-Twilio-Signature": str(signature)}, timeout=self.timeout)
        except requests.RequestException as exc:
            raise AppError(
                f"GridLine did not answer at {target} ({exc.__class__.__name__}): is it running, and is GRIDLINE_URL "
                "where it listens?"
            ) from exc
        if resp.status_code == 403:
            raise AppError(
                f"GridLine refused the signature on {public_url} (HTTP 403): the sandbox signs with its "
                "TWILIO_AUTH_TOKEN (or the local token) for PUBLIC_BASE_URL; the app must use the same two."
            )
        if resp.status_code >= 400:
            raise AppError(f"GridLine answered HTTP {resp.status_code} on {public_url}: {resp.text[:300]}")
        return resp.text

    def get(self, public_url: str) -> requests.Response:
        """A plain GET of a public URL at the app (media for <Play>), streamed."""
        return requests.get(self.target(public_url), timeout=self.timeout, stream=True)
