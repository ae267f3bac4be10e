"""SQLAlchemy models: the registry, calls, reports, recordings and call-backs.

One name for one thing: a *report* is a problem a resident filed; a *call-back* is an
outbound call the system owes somebody; a *call* is one phone call (either direction).
"""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Aware UTC datetime; SQLite returns the naive UTC values it stored."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


# Roles, in the words the registry CSV uses.
RESIDENT = "resident"
VOLUNTEER = "volunteer"  # 微网格员
GRID_WORKER = "grid_worker"  # 专职网格员
GRID_LEADER = "grid_leader"  # 网格长
STAFF = "community_staff"
ROLES = (RESIDENT, VOLUNTEER, GRID_WORKER, GRID_LEADER, STAFF)

# Grid kinds.
GRID = "grid"
MICRO_GRID = "micro_grid"
EXCLUSIVE_GRID = "exclusive_grid"  # 专属网格: a school, a market, a building site
GRID_KINDS = (GRID, MICRO_GRID, EXCLUSIVE_GRID)


class Grid(Base):
    """A grid, micro-grid or exclusive grid. Micro-grids have a parent grid."""

    __tablename__ = "grids"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), default=GRID)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))
    parent: Mapped[Grid | None] = relationship(remote_side="Grid.id")


class Building(Base):
    """A building number an unknown caller can key, mapped to the micro-grid covering it."""

    __tablename__ = "buildings"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"))
    grid: Mapped[Grid] = relationship()


class Household(Base):
    """An address (building, unit, room) in a micro-grid. Several people may share its phone."""

    __tablename__ = "households"
    __table_args__ = (UniqueConstraint("building", "unit", "room"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    building: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(32), default="")
    room: Mapped[str] = mapped_column(String(32), default="")
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"))
    grid: Mapped[Grid] = relationship()


class Person(Base):
    """Anyone in the registry. Identity for re-import is (phone, name): one phone may be shared."""

    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("phone", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(32), index=True)  # E.164
    role: Mapped[str] = mapped_column(String(32), default=RESIDENT)
    language: Mapped[str] = mapped_column(String(16), default="zh-CN")
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"))
    on_duty: Mapped[bool] = mapped_column(Boolean, default=False)
    quiet_hours: Mapped[str | None] = mapped_column(String(32))  # per-person override, "21:00-15:00"
    grid: Mapped[Grid | None] = relationship()
    household: Mapped[Household | None] = relationship()


class Call(Base):
    """One phone call, keyed by Twilio's CallSid. Holds the IVR session between webhooks."""

    __tablename__ = "calls"
    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    direction: Mapped[str] = mapped_column(String(16))  # inbound | outbound
    from_number: Mapped[str] = mapped_column(String(32), default="")
    to_number: Mapped[str] = mapped_column(String(32), default="")
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    flow_state: Mapped[dict] = mapped_column(JSON, default=dict)
    # What the flow needs to know about the caller, looked up once when the call starts.
    flow_context: Mapped[dict | None] = mapped_column(JSON)
    step: Mapped[int] = mapped_column(Integer, default=0)  # webhooks answered so far
    last_response: Mapped[str] = mapped_column(Text, default="")  # TwiML, replayed to retries
    status: Mapped[str] = mapped_column(String(32), default="in-progress")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Report(Base):
    """A problem filed by a resident; its number is its id, read back digit by digit."""

    __tablename__ = "reports"
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), unique=True)
    channel: Mapped[str] = mapped_column(String(16), default="voice")
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    reporter_phone: Mapped[str] = mapped_column(String(32), default="")
    language: Mapped[str] = mapped_column(String(16), default="zh-CN")
    category: Mapped[str] = mapped_column(String(32))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    building: Mapped[str] = mapped_column(String(32), default="")
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    assignment_rule: Mapped[str] = mapped_column(String(64), default="")
    state: Mapped[str] = mapped_column(String(32), default="new")
    transcript_status: Mapped[str] = mapped_column(String(16), default="pending")
    transcript_text: Mapped[str] = mapped_column(Text, default="")
    transcript_confidence: Mapped[float | None] = mapped_column(Float)
    transcript_words: Mapped[list | None] = mapped_column(JSON)
    transcript_error: Mapped[str] = mapped_column(Text, default="")
    audio_duration: Mapped[float | None] = mapped_column(Float)
    transcript_model: Mapped[str] = mapped_column(String(200), default="")
    needs_listening: Mapped[bool] = mapped_column(Boolean, default=False)
    verification_answer: Mapped[str] = mapped_column(String(32), default="")
    verification_answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    grid: Mapped[Grid | None] = relationship()
    assignee: Mapped[Person | None] = relationship(foreign_keys=[assignee_id])
    reporter: Mapped[Person | None] = relationship(foreign_keys=[reporter_id])
    recordings: Mapped[list[Recording]] = relationship(back_populates="report")


class Recording(Base):
    """A Twilio recording of a report. Never deleted, even when it cannot be transcribed."""

    __tablename__ = "recordings"
    id: Mapped[int] = mapped_column(primary_key=True)
    recording_sid: Mapped[str] = mapped_column(String(64), unique=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"))
    url: Mapped[str] = mapped_column(String(500))
    duration: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="")  # Twilio's RecordingStatus
    transcription_enqueued: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    report: Mapped[Report] = relationship(back_populates="recordings")


class CallBack(Base):
    """An outbound call the system owes somebody: its purpose, target, report and schedule."""

    __tablename__ = "callbacks"
    __table_args__ = (UniqueConstraint("report_id", "purpose", "person_id", "to_number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))  # worker_verification | missed_call_return
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    to_number: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(16), default="zh-CN")
    scheduled_for: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    answer: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    person: Mapped[Person | None] = relationship()
    report: Mapped[Report | None] = relationship()
