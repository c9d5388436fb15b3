"""Funders, the programmes they pay for, and their grants with reporting due dates."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from secretariat.db import Base, enum_type, utcnow

if TYPE_CHECKING:
    from secretariat.accounts.models import User
    from secretariat.groups.models import WorkingGroup
    from secretariat.indicators.models import Indicator
    from secretariat.members.models import Member


class FunderKind(enum.StrEnum):
    PHILANTHROPY = "philanthropy"
    PUBLIC = "public"
    MULTILATERAL = "multilateral"
    CORPORATE = "corporate"
    OTHER = "other"


class Funder(Base):
    """A funding organisation; its users see only the programmes it funds."""

    __tablename__ = "funders"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column()
    slug: Mapped[str] = mapped_column(unique=True)
    kind: Mapped[FunderKind] = mapped_column(
        enum_type(FunderKind), default=FunderKind.OTHER, server_default="other"
    )
    #: ISO 3166-1 alpha-2 code of its seat, when it has one.
    country: Mapped[str | None] = mapped_column(String(2))
    website: Mapped[str | None] = mapped_column(String(500))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    grants: Mapped[list[Grant]] = relationship(back_populates="funder", order_by="Grant.starts_on")

    def __str__(self) -> str:
        return self.name


class Coverage(enum.StrEnum):
    """Which members a programme covers."""

    #: Every active member of the network.
    ALL = "all"
    #: The current members of one working group.
    GROUP = "group"
    #: Members chosen one by one.
    CHOSEN = "chosen"


class Programme(Base):
    """A funded line of work over a period, covering some members, with indicators it tracks."""

    __tablename__ = "programmes"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
        CheckConstraint("(coverage = 'group') = (group_id IS NOT NULL)", name="group_coverage"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column()
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    starts_on: Mapped[date] = mapped_column()
    ends_on: Mapped[date] = mapped_column()
    coverage: Mapped[Coverage] = mapped_column(enum_type(Coverage))
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("working_groups.id", ondelete="RESTRICT"), index=True
    )
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    group: Mapped[WorkingGroup | None] = relationship()
    lead: Mapped[User | None] = relationship()
    chosen_members: Mapped[list[ProgrammeMember]] = relationship(
        back_populates="programme", cascade="all, delete-orphan"
    )
    indicators: Mapped[list[ProgrammeIndicator]] = relationship(
        back_populates="programme",
        order_by="ProgrammeIndicator.position",
        cascade="all, delete-orphan",
    )
    grants: Mapped[list[Grant]] = relationship(
        back_populates="programme", order_by="Grant.starts_on"
    )

    def __str__(self) -> str:
        return self.name


class ProgrammeMember(Base):
    """A member chosen for a programme whose coverage is "chosen"."""

    __tablename__ = "programme_members"
    __table_args__ = (UniqueConstraint("programme_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)

    programme: Mapped[Programme] = relationship(back_populates="chosen_members")
    member: Mapped[Member] = relationship()


class ProgrammeIndicator(Base):
    """An indicator the programme's funders follow, with the value aimed at by its end."""

    __tablename__ = "programme_indicators"
    __table_args__ = (UniqueConstraint("programme_id", "indicator_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    indicator_id: Mapped[int] = mapped_column(
        ForeignKey("indicators.id", ondelete="RESTRICT"), index=True
    )
    #: The network-wide value aimed at by the programme's end (None: followed, no target).
    target: Mapped[Decimal | None] = mapped_column(Numeric(20, 4))
    position: Mapped[int] = mapped_column(default=0, server_default="0")

    programme: Mapped[Programme] = relationship(back_populates="indicators")
    indicator: Mapped[Indicator] = relationship()


class Frequency(enum.StrEnum):
    ANNUAL = "annual"
    SEMI_ANNUAL = "semi_annual"


class Grant(Base):
    """Money from one funder for one programme; a programme can have several funders."""

    __tablename__ = "grants"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    funder_id: Mapped[int] = mapped_column(
        ForeignKey("funders.id", ondelete="RESTRICT"), index=True
    )
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programmes.id", ondelete="RESTRICT"), index=True
    )
    #: The funder's own reference for the grant, if it has one.
    reference: Mapped[str | None] = mapped_column(String(100))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    #: ISO 4217 code.
    currency: Mapped[str] = mapped_column(String(3))
    starts_on: Mapped[date] = mapped_column()
    ends_on: Mapped[date] = mapped_column()
    frequency: Mapped[Frequency] = mapped_column(enum_type(Frequency))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    funder: Mapped[Funder] = relationship(back_populates="grants")
    programme: Mapped[Programme] = relationship(back_populates="grants")
    reports: Mapped[list[GrantReport]] = relationship(
        back_populates="grant", order_by="GrantReport.due_on", cascade="all, delete-orphan"
    )


class GrantReport(Base):
    """A report owed to the funder: the period it covers and the day it is due."""

    __tablename__ = "grant_reports"
    __table_args__ = (
        UniqueConstraint("grant_id", "period_end"),
        CheckConstraint("period_end >= period_start", name="period_in_order"),
        CheckConstraint("due_on >= period_end", name="due_after_period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id", ondelete="CASCADE"))
    period_start: Mapped[date] = mapped_column()
    period_end: Mapped[date] = mapped_column()
    due_on: Mapped[date] = mapped_column(index=True)
    #: When the report went to the funder (None: not yet).
    sent_on: Mapped[date | None] = mapped_column()

    grant: Mapped[Grant] = relationship(back_populates="reports")
