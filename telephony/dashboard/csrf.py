"""CSRF protection for the dashboard's forms: a per-session random token in every form.

A state-changing request to a protected blueprint without the session's token (form field
`csrf_token`, or header X-CSRF-Token) is refused with 400 and changes nothing. Twilio webhooks
(signature-checked) and the JSON API (bearer tokens, no cookies) are not protected this way.
"""
from __future__ import annotations

import hmac
import secrets

from flask import Blueprint, abort, request, session

FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def token() -> str:
    """The session's token, made on first use (templates: {{ csrf_token() }})."""
    if FIELD not in session:
        session[FIELD] = secrets.token_urlsafe(32)
    return str(session[FIELD])


def valid(sent: str | None) -> bool:
    expected = session.get(FIELD)
    return bool(expected and sent and hmac.compare_digest(str(expected), sent))


def check() -> None:
    if request.method in SAFE_METHODS:
        return
    if not valid(request.form.get(FIELD) or request.headers.get("X-CSRF-Token")):
        abort(400, description="csrf")


def protect(bp: Blueprint) -> None:
    """Check the token on every state-changing request the blueprint serves."""
    bp.before_request(check)
