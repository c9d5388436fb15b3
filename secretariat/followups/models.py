"""Follow-ups: action items with an owner, a due date and the meeting or agreement behind them."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from secretariat.db import Base, enum_type, utcnow
from secretariat.members.models import Member

if TYPE_CHECKING:
    from secretariat.accounts.models import User
    from secretariat.agreements.models import Agreement, Obligation
    from secretariat.events.models import Event
    from secretariat.groups.models import WorkingGroup


class FollowUpStatus(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


#: Statuses of follow-ups still to be done.
PENDING = (FollowUpStatus.OPEN, FollowUpStatus.IN_PROGRESS)


class Priority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


class Recurrence(enum.StrEnum):
    NONE = "none"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"


class SourceKind(enum.StrEnum):
    EVENT = "event"
    AGREEMENT = "agreement"
    GROUP = "group"
    NONE = "none"


class FollowUp(Base):
    """An action item; completing a recurring one creates its next occurrence."""

    __tablename__ = "follow_ups"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN event_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN agreement_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN group_id IS NULL THEN 0 ELSE 1 END) <= 1",
            name="one_source",
        ),
        CheckConstraint("repeat_until IS NULL OR repeat_until >= due_on", name="repeats_after_due"),
        CheckConstraint("occurrence >= 1", name="occurrence_positive"),
        Index("ix_follow_ups_owner_status_due", "owner_id", "status", "due_on"),
        Index("ix_follow_ups_member_status_due", "member_id", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    #: A member of staff or a focal point.
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL"), index=True
    )
    agreement_id: Mapped[int | None] = mapped_column(
        ForeignKey("agreements.id", ondelete="SET NULL"), index=True
    )
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("working_groups.id", ondelete="SET NULL"), index=True
    )
    #: The last day to do it (a calendar day in the network's zone).
    due_on: Mapped[date] = mapped_column(index=True)
    priority: Mapped[Priority] = mapped_column(enum_type(Priority))
    status: Mapped[FollowUpStatus] = mapped_column(enum_type(FollowUpStatus), index=True)
    completed_on: Mapped[date | None] = mapped_column()
    #: What was done, or why it was cancelled.
    completion_note: Mapped[str | None] = mapped_column(Text)
    recurrence: Mapped[Recurrence] = mapped_column(enum_type(Recurrence))
    #: No occurrence of a recurring follow-up is due after this day.
    repeat_until: Mapped[date | None] = mapped_column()
    #: The due day of a series' first occurrence; later ones are counted from it, so that
    #: "monthly from 31 January" stays at month ends instead of drifting to the 28th.
    series_start: Mapped[date] = mapped_column()
    #: 1 for the first occurrence of a series, 2 for the next...
    occurrence: Mapped[int] = mapped_column(default=1, server_default="1")
    #: The occurrence this one follows; each has at most one next.
    previous_id: Mapped[int | None] = mapped_column(
        ForeignKey("follow_ups.id", ondelete="SET NULL"), unique=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    member: Mapped[Member | None] = relationship()
    event: Mapped[Event | None] = relationship()
    agreement: Mapped[Agreement | None] = relationship()
    group: Mapped[WorkingGroup | None] = relationship()
    previous: Mapped[FollowUp | None] = relationship(remote_side=[id], foreign_keys=[previous_id])
    obligation: Mapped[Obligation | None] = relationship(
        "Obligation",
        primaryjoin="Obligation.follow_up_id == FollowUp.id",
        viewonly=True,
        uselist=False,
    )

    @property
    def source_kind(self) -> SourceKind:
        if self.event_id is not None:
            return SourceKind.EVENT
        if self.agreement_id is not None:
            return SourceKind.AGREEMENT
        if self.group_id is not None:
            return SourceKind.GROUP
        return SourceKind.NONE

    @property
    def is_pending(self) -> bool:
        return self.status in PENDING

    def is_overdue(self, today: date) -> bool:
        return self.is_pending and self.due_on < today
