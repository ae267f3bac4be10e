"""GridLine's web edge: the Flask app factory.

`flask --app telephony ...` finds create_app() here.
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from telephony.config import Settings, load_settings


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app. Settings come from the environment unless test_config["SETTINGS"] is given."""
    app = Flask(__name__, instance_relative_config=False)
    settings: Settings = (test_config or {}).get("SETTINGS") or load_settings()
    app.config["SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = 16 * 1024 * 1024  # no webhook or form of ours comes near; uploads say their own
    app.config.update({k: v for k, v in (test_config or {}).items() if k != "SETTINGS"})
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from telephony import (
        api,
        cli_callbacks,
        cli_models,
        cli_registry,
        cli_simulate,
        cli_users,
        dashboard,
        database,
        jobs,
        media,
        sms,
        voice,
    )

    database.init_app(app)
    jobs.init_app(app)
    voice.init_app(app)
    sms.init_app(app)
    api.init_app(app)
    cli_registry.init_app(app)
    cli_models.init_app(app)
    cli_simulate.init_app(app)
    cli_callbacks.init_app(app)
    cli_users.init_app(app)
    dashboard.init_app(app)
    media.init_app(app)
    return app
