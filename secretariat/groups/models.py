"""Working groups: the network's thematic sub-networks and the members taking part in them."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from secretariat.db import Base, enum_type, utcnow
from secretariat.members.models import Member
from secretariat.vocabularies.models import Term

if TYPE_CHECKING:
    from secretariat.accounts.models import User


class GroupStatus(enum.StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


class GroupRole(enum.StrEnum):
    #: Lead member (co-chair) of the group.
    LEAD = "lead"
    MEMBER = "member"
    OBSERVER = "observer"


class WorkingGroup(Base):
    """A thematic sub-network, e.g. "Transport", with its member cities and a staff lead."""

    __tablename__ = "working_groups"
    __table_args__ = (
        CheckConstraint(
            "closed_on IS NULL OR started_on IS NULL OR closed_on >= started_on",
            name="closed_after_start",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(unique=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("terms.id"), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[GroupStatus] = mapped_column(enum_type(GroupStatus), index=True)
    started_on: Mapped[date | None] = mapped_column()
    closed_on: Mapped[date | None] = mapped_column()
    staff_lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    theme: Mapped[Term | None] = relationship()
    staff_lead: Mapped[User | None] = relationship()
    memberships: Mapped[list[GroupMembership]] = relationship(
        back_populates="group", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return self.name


class GroupMembership(Base):
    """A member's part in a group over a period; leaving or changing role closes the row."""

    __tablename__ = "group_memberships"
    __table_args__ = (
        # One current membership per member and group; past ones are history.
        Index(
            "uq_group_memberships_current",
            "group_id",
            "member_id",
            unique=True,
            sqlite_where=text("left_on IS NULL"),
            postgresql_where=text("left_on IS NULL"),
        ),
        CheckConstraint("left_on IS NULL OR left_on >= joined_on", name="left_after_joined"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("working_groups.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    role: Mapped[GroupRole] = mapped_column(enum_type(GroupRole))
    joined_on: Mapped[date] = mapped_column()
    #: The day the member left the group or changed role; None while current.
    left_on: Mapped[date | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    group: Mapped[WorkingGroup] = relationship(back_populates="memberships")
    member: Mapped[Member] = relationship()

    @property
    def is_current(self) -> bool:
        return self.left_on is None
