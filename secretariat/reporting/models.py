"""Annual reporting cycles: what is asked of whom by when, and each member's submission."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from secretariat.db import Base, enum_type, utcnow
from secretariat.groups.models import WorkingGroup
from secretariat.indicators.models import VALUE_TYPE, Indicator
from secretariat.members.models import Member

if TYPE_CHECKING:
    from secretariat.accounts.models import User


class CycleState(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class Audience(enum.StrEnum):
    #: Every member whose status is active when the cycle opens.
    ALL_ACTIVE = "all_active"
    #: The current members of one working group when the cycle opens.
    GROUP = "group"
    #: Members chosen one by one.
    CHOSEN = "chosen"


class SubmissionStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    VERIFIED = "verified"
    RETURNED = "returned"


class ValueSource(enum.StrEnum):
    #: Typed (or changed) in this cycle.
    ENTERED = "entered"
    #: Prefilled from the previous cycle and kept as it was.
    UNCHANGED = "unchanged"


class ReportingCycle(Base):
    """One round of reporting, e.g. "Annual report 2025", open from March to the end of May."""

    __tablename__ = "reporting_cycles"
    __table_args__ = (
        CheckConstraint("due_on >= opens_on", name="due_after_opening"),
        CheckConstraint("grace_until IS NULL OR grace_until >= due_on", name="grace_after_due"),
        CheckConstraint(
            "(audience = 'group') = (group_id IS NOT NULL)", name="group_iff_group_audience"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(unique=True)
    #: The period reported on: "2025", "2025-H1" or "2025-Q3".
    period: Mapped[str] = mapped_column(String(10), index=True)
    opens_on: Mapped[date] = mapped_column()
    #: Submissions made after the end of this day, in the network's time zone, are late.
    due_on: Mapped[date] = mapped_column()
    #: Late submissions are still taken until the end of this day; None: until closing.
    grace_until: Mapped[date | None] = mapped_column()
    state: Mapped[CycleState] = mapped_column(enum_type(CycleState), index=True)
    audience: Mapped[Audience] = mapped_column(enum_type(Audience))
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("working_groups.id", ondelete="RESTRICT")
    )
    instructions: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()

    group: Mapped[WorkingGroup | None] = relationship()
    indicators: Mapped[list[CycleIndicator]] = relationship(
        back_populates="cycle", cascade="all, delete-orphan", order_by="CycleIndicator.position"
    )
    members: Mapped[list[CycleMember]] = relationship(
        back_populates="cycle", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return self.name


class CycleIndicator(Base):
    """An indicator requested in a cycle, in the order the form shows it."""

    __tablename__ = "cycle_indicators"
    __table_args__ = (UniqueConstraint("cycle_id", "indicator_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("reporting_cycles.id", ondelete="CASCADE"))
    indicator_id: Mapped[int] = mapped_column(
        ForeignKey("indicators.id", ondelete="RESTRICT"), index=True
    )
    position: Mapped[int] = mapped_column(default=0, server_default="0")
    #: A required indicator must have a value before the submission can be submitted.
    is_required: Mapped[bool] = mapped_column(default=True, server_default=true())

    cycle: Mapped[ReportingCycle] = relationship(back_populates="indicators")
    indicator: Mapped[Indicator] = relationship()


class CycleMember(Base):
    """A member asked to report in a cycle (the audience resolved when the cycle opens)."""

    __tablename__ = "cycle_members"
    __table_args__ = (UniqueConstraint("cycle_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("reporting_cycles.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)

    cycle: Mapped[ReportingCycle] = relationship(back_populates="members")
    member: Mapped[Member] = relationship()


class Submission(Base):
    """One member's report in one cycle."""

    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("cycle_id", "member_id"),
        Index("ix_submissions_cycle_status", "cycle_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("reporting_cycles.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    status: Mapped[SubmissionStatus] = mapped_column(enum_type(SubmissionStatus))
    general_comment: Mapped[str | None] = mapped_column(Text)
    #: The first time it was submitted: timeliness is judged on it, whatever happens after.
    first_submitted_at: Mapped[datetime | None] = mapped_column()
    submitted_at: Mapped[datetime | None] = mapped_column()
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: Whether the first submission came after the deadline (end of ``due_on`` in the network's
    #: zone); kept so that rates are counted in SQL.
    is_late: Mapped[bool | None] = mapped_column()
    #: Staff's reason when they returned it for fixes.
    return_comment: Mapped[str | None] = mapped_column(Text)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column()
    #: Set when staff reopened this one submission in a closed (or past-grace) cycle.
    is_reopened: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    cycle: Mapped[ReportingCycle] = relationship()
    member: Mapped[Member] = relationship()
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    values: Mapped[list[SubmissionValue]] = relationship(
        back_populates="submission", cascade="all, delete-orphan"
    )
    history: Mapped[list[SubmissionEvent]] = relationship(
        back_populates="submission",
        cascade="all, delete-orphan",
        order_by="SubmissionEvent.at.desc(), SubmissionEvent.id.desc()",
    )


class SubmissionValue(Base):
    """A member's value for one indicator in one submission."""

    __tablename__ = "submission_values"
    __table_args__ = (
        UniqueConstraint("submission_id", "indicator_id"),
        CheckConstraint(
            "(CASE WHEN number_value IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN bool_value IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN text_value IS NULL THEN 0 ELSE 1 END) <= 1",
            name="one_value",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    indicator_id: Mapped[int] = mapped_column(
        ForeignKey("indicators.id", ondelete="RESTRICT"), index=True
    )
    #: Numbers and percentages.
    number_value: Mapped[Decimal | None] = mapped_column(VALUE_TYPE)
    #: Yes/no answers.
    bool_value: Mapped[bool | None] = mapped_column()
    #: A choice from the indicator's list, or short text.
    text_value: Mapped[str | None] = mapped_column(String(500))
    comment: Mapped[str | None] = mapped_column(Text)
    evidence_url: Mapped[str | None] = mapped_column(String(1000))
    source: Mapped[ValueSource] = mapped_column(enum_type(ValueSource))
    #: The focal point confirmed a change of more than half from the previous cycle's value.
    change_confirmed: Mapped[bool] = mapped_column(default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="values")
    indicator: Mapped[Indicator] = relationship()

    @property
    def is_empty(self) -> bool:
        return self.number_value is None and self.bool_value is None and self.text_value is None


class SubmissionAction(enum.StrEnum):
    SAVED = "saved"
    SUBMITTED = "submitted"
    VERIFIED = "verified"
    RETURNED = "returned"
    REOPENED = "reopened"
    EDITED_BY_STAFF = "edited_by_staff"


class SubmissionEvent(Base):
    """One line of a submission's history (submitted, returned with a comment, reopened...)."""

    __tablename__ = "submission_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[SubmissionAction] = mapped_column(enum_type(SubmissionAction))
    comment: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="history")
    actor: Mapped[User | None] = relationship()
