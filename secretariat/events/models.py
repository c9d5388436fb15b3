"""Events (workshops, webinars, forums...), invitations, registrations and attendance."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from secretariat.db import Base, enum_type, utcnow
from secretariat.groups.models import WorkingGroup
from secretariat.members.models import Contact, Member

if TYPE_CHECKING:
    from secretariat.accounts.models import User


class EventType(enum.StrEnum):
    WORKSHOP = "workshop"
    WEBINAR = "webinar"
    ANNUAL_FORUM = "annual_forum"
    STUDY_TOUR = "study_tour"
    PEER_EXCHANGE_VISIT = "peer_exchange_visit"
    BOARD_MEETING = "board_meeting"
    OTHER = "other"


class Audience(enum.StrEnum):
    """How a member came to be invited; kept on the frozen invitation."""

    ALL_ACTIVE = "all_active"
    GROUP = "group"
    CHOSEN = "chosen"


class Response(enum.StrEnum):
    REGISTERED = "registered"
    DECLINED = "declined"


class AttendanceSource(enum.StrEnum):
    MANUAL = "manual"
    IMPORT = "import"


class UnmatchedStatus(enum.StrEnum):
    OPEN = "open"
    MATCHED = "matched"
    #: Not one of the members' people (secretariat staff, speakers, guests).
    DISMISSED = "dismissed"


class Event(Base):
    """A meeting of the network; times are stored in UTC, shown in the network's zone."""

    __tablename__ = "events"
    __table_args__ = (CheckConstraint("ends_at >= starts_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column()
    event_type: Mapped[EventType] = mapped_column(enum_type(EventType), index=True)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime] = mapped_column()
    #: IANA zone of the place, for events that happen somewhere; None for online ones.
    timezone: Mapped[str | None] = mapped_column(String(64))
    is_online: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: Joining link of an online event; shown to invited members only.
    meeting_url: Mapped[str | None] = mapped_column(String(500))
    venue: Mapped[str | None] = mapped_column()
    city: Mapped[str | None] = mapped_column()
    #: ISO 3166-1 alpha-2 code.
    country: Mapped[str | None] = mapped_column(String(2))
    host_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("working_groups.id", ondelete="SET NULL"), index=True
    )
    description: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None] = mapped_column()
    #: Bumped on every change that calendar clients must pick up (RFC 5545 SEQUENCE).
    sequence: Mapped[int] = mapped_column(default=0, server_default="0")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    host_member: Mapped[Member | None] = relationship()
    group: Mapped[WorkingGroup | None] = relationship()
    created_by: Mapped[User | None] = relationship()

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    def __str__(self) -> str:
        return self.title


class Invitation(Base):
    """A member invited to an event; frozen when sent, whatever happens to groups later."""

    __tablename__ = "event_invitations"
    __table_args__ = (UniqueConstraint("event_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    audience: Mapped[Audience] = mapped_column(enum_type(Audience))
    invited_at: Mapped[datetime] = mapped_column(default=utcnow)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    event: Mapped[Event] = relationship()
    member: Mapped[Member] = relationship()


class Registration(Base):
    """A contact's answer to an invitation: registered or declined."""

    __tablename__ = "event_registrations"
    __table_args__ = (UniqueConstraint("event_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    #: The contact's member, kept for scope checks and counts.
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    response: Mapped[Response] = mapped_column(enum_type(Response))
    responded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    responded_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    contact: Mapped[Contact] = relationship()


class Attendance(Base):
    """Whether a person (or, when nobody knows who, a member) attended an event.

    A member counts as attended when any of its rows for the event says so.
    """

    __tablename__ = "attendances"
    __table_args__ = (
        Index(
            "uq_attendances_contact",
            "event_id",
            "contact_id",
            unique=True,
            sqlite_where=text("contact_id IS NOT NULL"),
            postgresql_where=text("contact_id IS NOT NULL"),
        ),
        Index(
            "uq_attendances_member_only",
            "event_id",
            "member_id",
            unique=True,
            sqlite_where=text("contact_id IS NULL"),
            postgresql_where=text("contact_id IS NULL"),
        ),
        CheckConstraint("minutes IS NULL OR minutes >= 0", name="minutes_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    attended: Mapped[bool] = mapped_column()
    source: Mapped[AttendanceSource] = mapped_column(enum_type(AttendanceSource))
    #: Why a member that was not invited is recorded (required in that case).
    not_invited_reason: Mapped[str | None] = mapped_column(Text)
    joined_at: Mapped[datetime | None] = mapped_column()
    left_at: Mapped[datetime | None] = mapped_column()
    minutes: Mapped[int | None] = mapped_column()
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    member: Mapped[Member] = relationship()
    contact: Mapped[Contact | None] = relationship()


class AttendanceImport(Base):
    """One attendance file imported for an event (kept for the record and to spot repeats)."""

    __tablename__ = "attendance_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column()
    #: SHA-256 of the file's bytes.
    digest: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column()
    matched: Mapped[int] = mapped_column()
    unmatched: Mapped[int] = mapped_column()
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)

    imported_by: Mapped[User | None] = relationship()


class UnmatchedAttendee(Base):
    """A person in an attendance file who matched no contact; waits for staff to resolve."""

    __tablename__ = "unmatched_attendees"
    __table_args__ = (UniqueConstraint("event_id", "match_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    #: Lower-cased e-mail address, or "name:" and the folded name when the file had none.
    match_key: Mapped[str] = mapped_column(String(400))
    name: Mapped[str | None] = mapped_column()
    email: Mapped[str | None] = mapped_column(String(320))
    joined_at: Mapped[datetime | None] = mapped_column()
    left_at: Mapped[datetime | None] = mapped_column()
    minutes: Mapped[int | None] = mapped_column()
    #: Why the row was not matched (no such e-mail, several contacts share it...).
    problem: Mapped[str] = mapped_column(Text)
    status: Mapped[UnmatchedStatus] = mapped_column(enum_type(UnmatchedStatus), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    contact: Mapped[Contact | None] = relationship()


class CalendarFeed(Base):
    """A user's secret calendar address; only its hash is kept, so it can be revoked."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    #: SHA-256 of the secret in the address.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
