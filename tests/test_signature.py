"""Signature check against PUBLIC_BASE_URL + path + query, pinned to Twilio's documented example."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from telephony.signature import is_valid

# Twilio's documented example: token 12345, this URL and form → this signature.
DOC_FORM = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234",
            "From": "+14158675309", "To": "+18005551212"}
DOC_SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def _check(app: Any, base: str, path: str, signature: str, form: dict[str, str]) -> bool:
    app.config["SETTINGS"] = replace(app.config["SETTINGS"], twilio_auth_token="12345", public_base_url=base)
    with app.test_request_context(path, method="POST", data=form, headers={"X-Twilio-Signature": signature},
                                  base_url="http://10.0.0.5:8000"):
        return is_valid()


def test_documented_example_validates_behind_a_proxy(app: Any) -> None:
    """The signature Twilio computed for the public URL is accepted though we listen elsewhere."""
    assert _check(app, "https://mycompany.com", "/myapp.php?foo=1&bar=2", DOC_SIGNATURE, DOC_FORM)


def test_changed_query_form_or_base_is_rejected(app: Any) -> None:
    """Any change to the query, a parameter or the public base breaks the signature."""
    assert not _check(app, "https://mycompany.com", "/myapp.php?foo=1&bar=3", DOC_SIGNATURE, DOC_FORM)
    assert not _check(app, "https://mycompany.com", "/myapp.php?foo=1&bar=2", DOC_SIGNATURE, {**DOC_FORM, "Digits": "1"})
    assert not _check(app, "https://other.example", "/myapp.php?foo=1&bar=2", DOC_SIGNATURE, DOC_FORM)


def test_no_auth_token_configured_refuses_everything(app: Any) -> None:
    """Without TWILIO_AUTH_TOKEN no webhook is trusted (secure by default)."""
    app.config["SETTINGS"] = replace(app.config["SETTINGS"], twilio_auth_token="")
    with app.test_request_context("/twilio/voice", method="POST", data=DOC_FORM,
                                  headers={"X-Twilio-Signature": DOC_SIGNATURE}):
        assert not is_valid()
