"""Alembic migrations against the models, on SQLite and PostgreSQL: the schema the migrations build is
the schema the models describe, and a database from the spine era keeps its rows through the upgrade."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Boolean, DateTime, Engine, bindparam, select, text
from sqlalchemy.exc import IntegrityError

from grid.db import MIGRATIONS_DIR, make_engine, make_session_factory, upgrade
from grid.models import Base, CallBack, Recording, Report

BOTH = pytest.mark.parametrize("db_backend", ["sqlite", "postgresql"], indirect=True)
FILED = datetime(2026, 3, 1, 2, 30, tzinfo=UTC)


def schema_drift(engine: Engine) -> list[Any]:
    """What `alembic revision --autogenerate` would put in a new migration (types compared too)."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@BOTH
def test_migrated_schema_matches_the_models(database_url: str) -> None:
    """A model change without its migration fails here: autogenerate finds nothing to add on a fresh database."""
    engine = make_engine(database_url)
    try:
        assert schema_drift(engine) == [], "the models and migrations/versions disagree: write a migration"
    finally:
        engine.dispose()


def spine_era(url: str) -> None:
    """The database as revision 0001 left it, holding a report, its recording and a call-back."""
    engine = make_engine(url)
    with engine.begin() as conn:  # start from nothing: the fixture's database is already at head
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE alembic_version"))
    command.upgrade(alembic_config(url), "0001")
    when = {"filed": FILED}
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO reports (id, channel, reporter_phone, language, category, urgent, building, assignment_rule,"
                " state, transcript_status, transcript_text, transcript_error, transcript_model, needs_listening,"
                " verification_answer, created_at) VALUES (7, 'voice', '+8613800000004', 'zh-CN', 'environment', :no,"
                " '1', '', 'new', 'done', '楼道里有垃圾', '', 'vosk', :no, '', :filed)"
            ).bindparams(bindparam("no", False, type_=Boolean), bindparam("filed", type_=DateTime(timezone=True))),
            when,
        )
        conn.execute(
            text(
                "INSERT INTO recordings (id, recording_sid, report_id, url, status, transcription_enqueued, created_at)"
                " VALUES (3, 'RE0001', 7, 'https://api.twilio.com/RE0001', 'completed', :yes, :filed)"
            ).bindparams(bindparam("yes", True, type_=Boolean), bindparam("filed", type_=DateTime(timezone=True))),
            when,
        )
        conn.execute(
            text(
                "INSERT INTO callbacks (id, purpose, report_id, to_number, language, scheduled_for, status, attempts,"
                " last_error, answer, created_at) VALUES (5, 'worker_verification', 7, '+8613900000201', 'zh-CN',"
                " :filed, 'placed', 1, '', '', :filed)"
            ).bindparams(bindparam("filed", type_=DateTime(timezone=True))),
            when,
        )
    engine.dispose()


@BOTH
def test_upgrading_a_spine_era_database_keeps_its_rows_with_sensible_defaults(database_url: str) -> None:
    """An installation from revision 0001 upgrades in place: its report, recording and call-back survive."""
    spine_era(database_url)
    try:
        upgrade(database_url)
    except IntegrityError as exc:
        pytest.fail(f"BUG: 0001 -> 0002 cannot upgrade a database that holds reports: {exc.orig} "
                    "(batch mode re-creates a referenced table while SQLite enforces foreign keys)")
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as s:
            report = s.get(Report, 7)
            assert report is not None and report.transcript_text == "楼道里有垃圾"
            assert report.created_at.astimezone(UTC) == FILED
            assert report.state_changed_at.astimezone(UTC) == FILED  # it entered "new" when it was filed
            assert (report.overdue, report.escalation_level, report.handler, report.reopen_count) == (False, 0, "", 0)
            assert (report.possible_duplicate_of_id, report.duplicate_of_id, report.rating, report.closed_at) == (
                None, None, None, None
            )
            assert report.events == []
            recording = s.get(Recording, 3)
            assert recording is not None
            assert (recording.kind, recording.report_id, recording.callback_id) == ("report", 7, None)
            assert (recording.transcript_status, recording.transcript_text, recording.transcript_error) == ("pending", "", "")
            callback = s.get(CallBack, 5)
            assert callback is not None and (callback.status, callback.attempts) == ("placed", 1)
            assert (callback.misses, callback.urgent, callback.question, callback.requested_by) == (0, False, "", "")
            assert (callback.dedupe_key, callback.answered_at, callback.attempt_rows) == (None, None, [])
            # 0002 dropped the one-call-back-per-(report, purpose, person, number) rule: a reopened
            # report's second follow-up to the same worker must fit beside the first.
            s.add(CallBack(purpose="worker_verification", report_id=7, to_number="+8613900000201",
                           scheduled_for=FILED, dedupe_key="worker_verification:7:+8613900000201:again"))
            s.commit()
            assert len(s.scalars(select(CallBack).where(CallBack.report_id == 7)).all()) == 2
        assert schema_drift(engine) == [], "upgrading from 0001 leaves a schema the models do not describe"
    finally:
        engine.dispose()
