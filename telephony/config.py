"""Settings read from the environment, once, inside create_app() or a worker's start-up.

Every variable is documented in .env.example. Nothing here is read at import time.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path

from grid.lifecycle import Deadlines
from grid.retries import RetryPolicy, parse_delays

TWILIO_API_DEFAULT = "https://api.twilio.com"


def parse_quiet_hours(value: str) -> tuple[time, time]:
    """Parse "21:00-08:00" into (start, end); the window may wrap past midnight."""
    try:
        start_s, end_s = value.split("-")
        return time.fromisoformat(start_s.strip()), time.fromisoformat(end_s.strip())
    except ValueError as exc:
        raise ValueError(f"QUIET_HOURS must look like 21:00-08:00, got {value!r}") from exc


def parse_list(value: str) -> tuple[str, ...]:
    """Comma-separated list, blanks dropped."""
    return tuple(part.strip() for part in value.split(",") if part.strip())


def default_instance_dir() -> Path:
    return Path(os.environ.get("GRIDLINE_INSTANCE_DIR", Path.cwd() / "instance"))


@dataclass(frozen=True)
class Settings:
    """Typed view of the environment. Tests build one directly with overrides."""

    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_number: str = ""
    public_base_url: str = "http://127.0.0.1:5000"
    twilio_api_base_url: str = TWILIO_API_DEFAULT
    database_url: str = ""
    redis_url: str = ""
    vosk_model_zh: str = ""
    vosk_model_en: str = ""
    default_language: str = "zh-CN"
    timezone: str = "Asia/Shanghai"
    quiet_hours: str = "21:00-08:00"
    community_name: str = "花果社区"
    duty_phone: str = ""
    emergency_numbers: tuple[str, ...] = ("110", "119", "120")
    urgent_categories: tuple[str, ...] = ("safety", "vulnerable_person")
    say_voice_zh: str = "Polly.Zhiyu"
    say_language_zh: str = "cmn-CN"
    say_voice_en: str = "Polly.Joanna"
    say_language_en: str = "en-US"
    default_region: str = "CN"
    instance_dir: Path = field(default_factory=default_instance_dir)
    # The outbound call engine (issue 3): pacing, retries, deadlines, follow-ups, duplicates.
    outbound_cps: float = 1.0  # Twilio's default calls-per-second for an account
    max_concurrent_calls: int = 10
    retry_schedule: str = "10m,30m,2h"
    urgent_retry_minutes: float = 5
    urgent_max_misses: int = 2
    deadline_accept_minutes: float = 30
    deadline_verify_minutes: float = 180
    deadline_handle_minutes: float = 48 * 60
    site_check_after_minutes: float = 120  # follow-up call asking an accepting worker what they found
    handling_check_after_minutes: float = 24 * 60  # follow-up call asking whether it is handled
    duplicate_window_hours: float = 24
    # The SMS channel (issue 4).
    sms_mps: float = 1.0  # outbound messages per second
    sms_merge_seconds: float = 120  # texts this close together extend one report
    sms_draft_hours: float = 24  # how long a report waits for an unknown sender's building number
    # "name:token" pairs for the JSON API (API_TOKENS); the name is recorded as who asked.
    api_tokens: tuple[str, ...] = ()
    # Signs the dashboard's session cookies (SECRET_KEY); without one, a per-install key in the instance folder.
    secret_key: str = ""
    # Where the sandbox phone page is (SANDBOX_PHONE_URL, set by the launcher in sandbox mode): linked from the dashboard.
    sandbox_phone_url: str = ""

    @property
    def quiet_window(self) -> tuple[time, time]:
        return parse_quiet_hours(self.quiet_hours)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.instance_dir / 'gridline.db'}"

    @property
    def twilio_configured(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token)

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            delays=parse_delays(self.retry_schedule),
            urgent_interval=timedelta(minutes=self.urgent_retry_minutes),
            urgent_max_misses=self.urgent_max_misses,
        )

    @property
    def deadlines(self) -> Deadlines:
        return Deadlines(
            accept=timedelta(minutes=self.deadline_accept_minutes),
            verify=timedelta(minutes=self.deadline_verify_minutes),
            handle=timedelta(minutes=self.deadline_handle_minutes),
        )

    def api_token_names(self) -> dict[str, str]:
        """token -> name, from API_TOKENS ("staff-desk:s3cret,ops:…")."""
        pairs = (entry.split(":", 1) for entry in self.api_tokens if ":" in entry)
        return {token.strip(): name.strip() for name, token in pairs if token.strip()}

    def vosk_model_for(self, language: str) -> str:
        """The configured model folder for a caller's language ("" when none)."""
        return self.vosk_model_en if language.startswith("en") else self.vosk_model_zh


_ENV_NAMES = {
    "twilio_account_sid": "TWILIO_ACCOUNT_SID",
    "twilio_auth_token": "TWILIO_AUTH_TOKEN",
    "twilio_number": "TWILIO_NUMBER",
    "public_base_url": "PUBLIC_BASE_URL",
    "twilio_api_base_url": "TWILIO_API_BASE_URL",
    "database_url": "DATABASE_URL",
    "redis_url": "REDIS_URL",
    "vosk_model_zh": "VOSK_MODEL_ZH",
    "vosk_model_en": "VOSK_MODEL_EN",
    "default_language": "DEFAULT_LANGUAGE",
    "timezone": "TIMEZONE",
    "quiet_hours": "QUIET_HOURS",
    "community_name": "COMMUNITY_NAME",
    "duty_phone": "DUTY_PHONE",
    "say_voice_zh": "SAY_VOICE_ZH",
    "say_language_zh": "SAY_LANGUAGE_ZH",
    "say_voice_en": "SAY_VOICE_EN",
    "say_language_en": "SAY_LANGUAGE_EN",
    "default_region": "DEFAULT_REGION",
    "retry_schedule": "RETRY_SCHEDULE",
    "secret_key": "SECRET_KEY",
    "sandbox_phone_url": "SANDBOX_PHONE_URL",
}
_LIST_ENV_NAMES = {
    "emergency_numbers": "EMERGENCY_NUMBERS",
    "urgent_categories": "URGENT_CATEGORIES",
    "api_tokens": "API_TOKENS",
}
_NUMBER_ENV_NAMES: dict[str, tuple[str, type]] = {
    "outbound_cps": ("OUTBOUND_CPS", float),
    "max_concurrent_calls": ("MAX_CONCURRENT_CALLS", int),
    "urgent_retry_minutes": ("URGENT_RETRY_MINUTES", float),
    "urgent_max_misses": ("URGENT_MAX_MISSES", int),
    "deadline_accept_minutes": ("DEADLINE_ACCEPT_MINUTES", float),
    "deadline_verify_minutes": ("DEADLINE_VERIFY_MINUTES", float),
    "deadline_handle_minutes": ("DEADLINE_HANDLE_MINUTES", float),
    "site_check_after_minutes": ("SITE_CHECK_AFTER_MINUTES", float),
    "handling_check_after_minutes": ("HANDLING_CHECK_AFTER_MINUTES", float),
    "duplicate_window_hours": ("DUPLICATE_WINDOW_HOURS", float),
    "sms_mps": ("SMS_MPS", float),
    "sms_merge_seconds": ("SMS_MERGE_SECONDS", float),
    "sms_draft_hours": ("SMS_DRAFT_HOURS", float),
}


def load_settings(environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Build Settings from the environment (or a given mapping), then apply overrides."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for attr, name in _ENV_NAMES.items():
        if env.get(name):
            values[attr] = env[name]
    for attr, name in _LIST_ENV_NAMES.items():
        if env.get(name):
            values[attr] = parse_list(env[name])
    for attr, (name, kind) in _NUMBER_ENV_NAMES.items():
        if env.get(name):
            try:
                values[attr] = kind(env[name])
            except ValueError:
                raise ValueError(f"{name} must be a number, got {env[name]!r}") from None
    if env.get("GRIDLINE_INSTANCE_DIR"):
        values["instance_dir"] = Path(env["GRIDLINE_INSTANCE_DIR"])
    values.update(overrides)
    settings = Settings(**values)  # type: ignore[arg-type]
    parse_quiet_hours(settings.quiet_hours)  # fail fast on a malformed QUIET_HOURS
    parse_delays(settings.retry_schedule)  # and RETRY_SCHEDULE
    if settings.outbound_cps <= 0 or settings.max_concurrent_calls < 1:
        raise ValueError("OUTBOUND_CPS must be above 0 and MAX_CONCURRENT_CALLS at least 1")
    if settings.sms_mps <= 0:
        raise ValueError("SMS_MPS must be above 0")
    return settings
