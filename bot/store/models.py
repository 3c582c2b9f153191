"""The schema. Alembic migrations in migrations/ create exactly this (a test checks it)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT identities.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware on PostgreSQL; SQLite hands back naive values, which are UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    """A person on one platform and tenant (Discord guild / Slack team / console)."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("platform", "tenant", "platform_user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    tenant: Mapped[str] = mapped_column(String(64))
    platform_user_id: Mapped[str] = mapped_column(String(64))
    timezone: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str | None] = mapped_column(String(16))
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    # Where ``timezone`` came from: "person" (they said so), "platform" (Slack's users.info),
    # "server" (a server's admin default, copied as a fallback), "asked" (asked once, no
    # answer yet: a fallback applies). NULL: nothing yet.
    timezone_source: Mapped[str | None] = mapped_column(String(16))
    # What typed text answers besides the current question: "confirm:forget" after the
    # bot asked to confirm, "checkin:<id>:<occurrence>" after a check-in was delivered.
    awaiting: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    consultations: Mapped[list[Consultation]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )


class Consultation(Base):
    """One run through a playbook by one person."""

    __tablename__ = "consultations"
    __table_args__ = (
        # One active consultation per user per playbook.
        Index(
            "uq_consultations_active",
            "user_id",
            "playbook_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    playbook_id: Mapped[str] = mapped_column(String(40))
    playbook_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="active")
    current_step: Mapped[str | None] = mapped_column(String(40))
    # Checked and bumped by every turn (UPDATE ... WHERE version = :seen): a second,
    # concurrent turn on the same step matches no row and is refused.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The current answers, kept beside the step so one read gives a turn its whole state;
    # the answers table keeps the full history (every edit) for export and audit.
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The server a consultation was started from when that is not the person's tenant
    # (Discord): its admin defaults (playbook, check-ins) apply to this consultation.
    origin_tenant: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(back_populates="consultations")
    history: Mapped[list[AnswerRecord]] = relationship(
        back_populates="consultation",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="AnswerRecord.id",
    )
    snapshots: Mapped[list[RecommendationSnapshot]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="RecommendationSnapshot.id"
    )
    plan_items: Mapped[list[PlanItem]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="PlanItem.id"
    )


class AnswerRecord(Base):
    """Every answer ever given; an edit supersedes the old row instead of overwriting it."""

    __tablename__ = "answers"
    __table_args__ = (Index("ix_answers_current", "consultation_id", "superseded_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(40))
    value: Mapped[Any] = mapped_column(JSON)
    # "asked": the person answered the question; "story": taken from what they wrote
    # about their situation (role: story), shown to them to confirm or correct.
    source: Mapped[str] = mapped_column(String(8), default="asked", server_default="asked")
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    consultation: Mapped[Consultation] = relationship(back_populates="history")


class RecommendationSnapshot(Base):
    """What was shown, when: the ranking as the person saw it."""

    __tablename__ = "recommendation_snapshots"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    playbook_version: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PlanItem(Base):
    """A next step the person intends to take; check-ins are scheduled from these."""

    __tablename__ = "plan_items"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(Text)
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PlaybookVersion(Base):
    """The exact playbook a consultation started with, kept for as long as it is needed."""

    __tablename__ = "playbook_versions"

    playbook_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TenantSettings(Base):
    """Per server / workspace choices an admin makes (default playbook, check-in defaults)."""

    __tablename__ = "tenant_settings"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), primary_key=True)
    default_playbook: Mapped[str | None] = mapped_column(String(40))
    checkin_defaults: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CheckIn(Base):
    """A check-in about one plan item (or one catch-up note): the reminder's only home.

    APScheduler only wakes the delivery loop; this row decides what is due and who sends it
    (``claimed_by`` holds a lease until ``lease_until``). ``cycle`` numbers the recurrence
    (local wall time ``anchor + cycle * interval_days`` at ``at_time``); ``occurrence`` numbers
    deliveries (bumped by every reschedule, snooze and next cycle) and, with ``salt``, makes
    the idempotency key of each send.
    """

    __tablename__ = "checkins"
    __table_args__ = (
        Index("ix_checkins_due", "state", "due_at"),
        Index("ix_checkins_lease", "state", "lease_until"),
        # One pending check-in per plan item: two clicks on "remind me" schedule once.
        Index(
            "uq_checkins_item_pending",
            "plan_item_id",
            unique=True,
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
        # One pending catch-up note per person, however many reminders were missed.
        Index(
            "uq_checkins_catchup_pending",
            "user_id",
            unique=True,
            sqlite_where=text("kind = 'catchup' AND state = 'pending'"),
            postgresql_where=text("kind = 'catchup' AND state = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    plan_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_items.id", ondelete="CASCADE"), index=True
    )
    # The owner's platform, copied so the delivery queries read one table: a process
    # claims only rows of the platforms it has a sender for.
    platform: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))  # once | repeat | catchup
    interval_days: Mapped[int | None] = mapped_column(Integer)
    anchor: Mapped[date | None] = mapped_column(Date)
    at_time: Mapped[str | None] = mapped_column(String(5))
    cycle: Mapped[int] = mapped_column(Integer, default=0)
    occurrence: Mapped[int] = mapped_column(Integer, default=1)
    salt: Mapped[str] = mapped_column(String(8))
    # The wall-clock time asked for (before quiet hours), so a new time zone recomputes it.
    local_due: Mapped[datetime | None] = mapped_column(DateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(16), default="pending")
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_occurrence: Mapped[int | None] = mapped_column(Integer)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Successful sends of this check-in, every occurrence counted once (a recurring one
    # moves on when it is sent): the denominator of the admin statistics' reply rate.
    deliveries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    missed_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    missed_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CheckInOutcome(Base):
    """What became of one delivery: the person's answer, or missed / failed. One per occurrence,
    so a second click on the same answer button is recorded once."""

    __tablename__ = "checkin_outcomes"
    __table_args__ = (UniqueConstraint("checkin_id", "occurrence"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    checkin_id: Mapped[int] = mapped_column(ForeignKey("checkins.id", ondelete="CASCADE"))
    occurrence: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# ---------------------------------------------------------------- mentor hand-off
# docs/mentors.md: who sees what (docs/privacy.md), and how a request moves.

MENTOR_OPEN = ("requested", "claimed", "released")
"""States of a request that is still alive: on the board, with a mentor, or handed back."""


class MentorChannel(Base):
    """The channel of a server / workspace where mentor requests are posted (admin-set)."""

    __tablename__ = "mentor_channels"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MentorTag(Base):
    """A mentor of a server / workspace and the path families or topics they speak to."""

    __tablename__ = "mentor_tags"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), primary_key=True)
    mentor_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MentorRequest(Base):
    """A person's request for a mentor, made with their consent after a recommendation.

    ``summary`` is exactly what they agreed to share (shown to them before they said yes);
    nothing else about them is ever posted. ``platform``/``tenant`` name the board (the
    server or workspace whose mentors channel gets it). The claim is one conditional
    UPDATE (state still requested or released), so of two mentors claiming at once one
    wins; ``version`` is bumped by every change.
    """

    __tablename__ = "mentor_requests"
    __table_args__ = (
        # One live request per person: a double click on "share" posts once.
        Index(
            "uq_mentor_requests_open",
            "user_id",
            unique=True,
            sqlite_where=text("state IN ('requested', 'claimed', 'released')"),
            postgresql_where=text("state IN ('requested', 'claimed', 'released')"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(16))
    tenant: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="requested")
    version: Mapped[int] = mapped_column(Integer, default=1)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Path families and topic ids of the request: mentors tagged with one are mentioned.
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    copy_checkins: Mapped[bool] = mapped_column(Boolean, default=False)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Where the introduction reached the mentor (Slack group DM, Discord DM): check-in
    # copies go there.
    mentor_channel: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MentorPost(Base):
    """A message the bot posted about a request (the board card, introductions, notes):
    edited when the request changes, deleted when it is withdrawn or forgotten."""

    __tablename__ = "mentor_posts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("mentor_requests.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(8))  # board | intro | note
    channel: Mapped[str] = mapped_column(String(64))
    ref: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MentorJob(Base):
    """Work for a platform's mentor board, claimed with a lease like a check-in.

    kinds: ``post`` (the card, now), ``resurface`` (the card again, if still unclaimed when
    due), ``intro`` (after a claim), ``sync`` (make every post match the request's state),
    ``note`` (a check-in copy to the mentor), ``delete`` (one message: ``channel``/``ref``;
    no request, so it outlives a forget and holds nothing about the person).
    """

    __tablename__ = "mentor_jobs"
    __table_args__ = (Index("ix_mentor_jobs_due", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("mentor_requests.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(16))
    tenant: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(String(64))
    ref: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
