"""Every Twilio-facing route checks X-Twilio-Signature against PUBLIC_BASE_URL + path + query."""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, current_app, request
from twilio.request_validator import RequestValidator

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


def public_url() -> str:
    """The URL Twilio signed: the public base (not what the proxy passed on) + path + query."""
    base = current_app.config["SETTINGS"].public_base_url.rstrip("/")
    query = request.query_string.decode("latin-1")
    return f"{base}{request.path}" + (f"?{query}" if query else "")


def is_valid() -> bool:
    token = current_app.config["SETTINGS"].twilio_auth_token
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    return bool(RequestValidator(token).validate(public_url(), request.form.to_dict(), signature))


def twilio_signed(view: F) -> F:
    """Refuse (403, nothing stored) any request Twilio did not sign with our auth token."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not is_valid():
            if not current_app.config["SETTINGS"].twilio_auth_token:
                log.error("TWILIO_AUTH_TOKEN is not set: refusing every Twilio webhook")
            log.warning("refused unsigned or forged request to %s", request.path)
            abort(403)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
