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
    # The closed loop (grid.lifecycle): when the current state began, deadlines and escalation.
    state_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)  # 1 grid leader, 2 community staff
    handler: Mapped[str] = mapped_column(String(200), default="")  # who handles it: a worker or a department
    possible_duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))
    rating: Mapped[int | None] = mapped_column(Integer)  # the resident's 1-5
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    grid: Mapped[Grid | None] = relationship()
    assignee: Mapped[Person | None] = relationship(foreign_keys=[assignee_id])
    reporter: Mapped[Person | None] = relationship(foreign_keys=[reporter_id])
    recordings: Mapped[list[Recording]] = relationship(back_populates="report", order_by="Recording.id")
    events: Mapped[list[ReportEvent]] = relationship(back_populates="report", order_by="ReportEvent.id")


class ReportEvent(Base):
    """One line of a report's timeline: a transition, a call attempt, a message, a note. Never updated."""

    __tablename__ = "report_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))  # transition | assignment | call | sms | escalation | note
    event: Mapped[str] = mapped_column(String(32), default="")  # lifecycle event, e.g. "accept"
    from_state: Mapped[str] = mapped_column(String(32), default="")
    to_state: Mapped[str] = mapped_column(String(32), default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    actor: Mapped[str] = mapped_column(String(100), default="system")  # a name, "system", "api:<token name>"
    channel: Mapped[str] = mapped_column(String(16), default="system")  # voice | sms | api | cli | dashboard | system
    note: Mapped[str] = mapped_column(Text, default="")
    report: Mapped[Report] = relationship(back_populates="events")


# Recording kinds: the report itself, or a voice note recorded on a later call.
REPORT_AUDIO = "report"
NOTE_KINDS = ("site_note", "handling_note", "reopen_reason", "answer", "addition")


class Recording(Base):
    """A Twilio recording: a report, or a voice note about one (or answering a staff question).

    Never deleted, even when it cannot be transcribed. A report's own transcript lives on the
    report; a note's transcript lives here.
    """

    __tablename__ = "recordings"
    id: Mapped[int] = mapped_column(primary_key=True)
    recording_sid: Mapped[str] = mapped_column(String(64), unique=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))
    callback_id: Mapped[int | None] = mapped_column(ForeignKey("callbacks.id"))
    kind: Mapped[str] = mapped_column(String(32), default=REPORT_AUDIO)
    transcript_status: Mapped[str] = mapped_column(String(16), default="pending")
    transcript_text: Mapped[str] = mapped_column(Text, default="")
    transcript_error: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(500))
    duration: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="")  # Twilio's RecordingStatus
    transcription_enqueued: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    report: Mapped[Report | None] = relationship(back_populates="recordings")


class CallBack(Base):
    """An outbound call the system owes somebody: its purpose, target, report and schedule."""

    __tablename__ = "callbacks"
    id: Mapped[int] = mapped_column(primary_key=True)
    # The same call-back scheduled twice (a retried job, two webhooks) collides here:
    # purpose:report:number:cycle, where cycle tells a reopened report's second follow-up apart.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    purpose: Mapped[str] = mapped_column(String(32))  # see worker.callbacks.PURPOSES
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
    # Engine bookkeeping: unanswered attempts, whether the report was urgent for this call.
    misses: Mapped[int] = mapped_column(Integer, default=0)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    question: Mapped[str] = mapped_column(Text, default="")  # staff-requested: read out on the call
    requested_by: Mapped[str] = mapped_column(String(100), default="")
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    person: Mapped[Person | None] = relationship()
    report: Mapped[Report | None] = relationship()
    attempt_rows: Mapped[list[CallAttempt]] = relationship(back_populates="callback", order_by="CallAttempt.number")


class CallAttempt(Base):
    """One placement of a call-back and how it ended (from Twilio's status callbacks)."""

    __tablename__ = "call_attempts"
    __table_args__ = (UniqueConstraint("callback_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    callback_id: Mapped[int] = mapped_column(ForeignKey("callbacks.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1 = first attempt
    call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    placed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status: Mapped[str] = mapped_column(String(32), default="placing")  # Twilio's CallStatus
    answered_by: Mapped[str] = mapped_column(String(32), default="")
    # reached | no-answer | busy | failed | canceled | machine | rest-error; "" until the call ended
    outcome: Mapped[str] = mapped_column(String(16), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    callback: Mapped[CallBack] = relationship(back_populates="attempt_rows")


class Message(Base):
    """One SMS/MMS, either direction, keyed by Twilio's MessageSid (inbound: idempotency)."""

    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    message_sid: Mapped[str | None] = mapped_column(String(64), unique=True)  # outbound: set once sent
    direction: Mapped[str] = mapped_column(String(16))  # inbound | outbound
    phone: Mapped[str] = mapped_column(String(32), index=True)  # the resident's side, E.164
    body: Mapped[str] = mapped_column(Text, default="")
    segments: Mapped[int] = mapped_column(Integer, default=1)
    # inbound: what the text was taken as (report, addition, building, keyword, answer, help, empty)
    # outbound: what it is (reply, confirmation, fallback, escalation, status, question)
    kind: Mapped[str] = mapped_column(String(32), default="")
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"), index=True)
    callback_id: Mapped[int | None] = mapped_column(ForeignKey("callbacks.id"))
    # outbound: queued | held (quiet hours) | sending | sent | suppressed (opted out) | failed
    status: Mapped[str] = mapped_column(String(16), default="received")
    scheduled_for: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    reply: Mapped[str] = mapped_column(Text, default="")  # inbound: the TwiML answered, replayed to Twilio's retries
    media: Mapped[list | None] = mapped_column(JSON)  # inbound MMS: [{"url", "content_type", "path", "status"}]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SmsDraft(Base):
    """A texting conversation in progress for one phone: a report waiting for its building number,
    or a report just filed that quick follow-up texts extend (SMS_MERGE_SECONDS)."""

    __tablename__ = "sms_drafts"
    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(32), unique=True)
    state: Mapped[str] = mapped_column(String(16))  # awaiting_building | open (a filed report taking additions)
    text: Mapped[str] = mapped_column(Text, default="")
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))
    language: Mapped[str] = mapped_column(String(16), default="zh-CN")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OptOut(Base):
    """A number that texted STOP/退订/TD (or that Twilio reports unsubscribed, error 21610)."""

    __tablename__ = "opt_outs"
    phone: Mapped[str] = mapped_column(String(32), primary_key=True)
    source: Mapped[str] = mapped_column(String(32), default="keyword")  # keyword | twilio-21610
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# Dashboard roles: community staff see everything; a grid leader their grids; a grid worker their reports.
USER_STAFF = "staff"
USER_LEADER = "leader"
USER_WORKER = "worker"
USER_ROLES = (USER_STAFF, USER_LEADER, USER_WORKER)


class User(Base):
    """A dashboard login. Leaders and workers are tied to their registry person, whose grid
    decides what they see; the password is stored only as a salted hash (werkzeug.security)."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=USER_STAFF)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    language: Mapped[str] = mapped_column(String(16), default="zh-CN")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    person: Mapped[Person | None] = relationship()
