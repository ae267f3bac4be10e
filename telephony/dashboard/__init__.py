"""The staff dashboard: server-rendered pages for community staff, grid leaders and grid workers.

init_app sets up sessions (SECRET_KEY, else a per-install key in the instance folder), the page
language, the login check and CSRF, and registers each page module's blueprint.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, g, redirect, request, url_for

from grid.models import as_utc
from telephony.dashboard import auth, csrf, i18n


def init_app(app: Flask) -> None:
    from telephony.dashboard import audio, metrics, registry, reports

    settings = app.config["SETTINGS"]
    if not app.secret_key:
        from telephony.launch import secret_key

        app.secret_key = secret_key(settings)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_base_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
    )
    zone = ZoneInfo(settings.timezone)

    def local(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return as_utc(value).astimezone(zone).strftime(fmt) if value is not None else ""

    def other_language_url() -> str:
        """This page in the other language, keeping its filters (?grid=…&lang=en)."""
        args: dict[str, Any] = {**(request.view_args or {}), **request.args.to_dict()}
        args["lang"] = "zh" if g.get("lang") == i18n.EN else "en"
        return url_for(request.endpoint or "reports.index", **args)

    app.jinja_env.globals.update(tr=i18n.tr, label=i18n.label, csrf_token=csrf.token, local=local,
                                 other_language_url=other_language_url)

    app.extensions["gridline.dashboard"] = {auth.bp.name}
    app.register_blueprint(auth.bp)
    for module in (reports, audio, registry, metrics):
        register(app, module)

    @app.before_request
    def _dashboard_request() -> Any:
        """Dashboard pages: the session's user and the page language; a login for all but /login."""
        if request.blueprint not in app.extensions["gridline.dashboard"]:
            return None
        auth.load_user()
        g.lang = i18n.language()
        return None if request.blueprint == auth.bp.name else auth.require_login()

    @app.context_processor
    def _nav() -> dict[str, Any]:
        return {"nav_endpoints": frozenset(app.view_functions), "phone_url": settings.sandbox_phone_url}

    @app.get("/")
    def home() -> Any:
        return redirect(url_for("reports.index"))


def register(app: Flask, module: Any) -> None:
    """Register a page module's blueprint behind the login."""
    app.extensions["gridline.dashboard"].add(module.bp.name)
    app.register_blueprint(module.bp)
