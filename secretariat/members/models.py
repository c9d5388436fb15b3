"""The member registry: members (cities, regions...), their contacts and status history."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from secretariat.db import Base, enum_type, utcnow
from secretariat.vocabularies.models import Term

if TYPE_CHECKING:
    from secretariat.accounts.models import User


class MemberKind(enum.StrEnum):
    CITY = "city"
    METROPOLITAN_AUTHORITY = "metropolitan_authority"
    REGION_OR_STATE = "region_or_state"
    RURAL_AREA = "rural_area"
    OTHER = "other"


class MemberStatus(enum.StrEnum):
    APPLICANT = "applicant"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    LAPSED = "lapsed"
    EXITED = "exited"


class ContactRole(enum.StrEnum):
    LEADER = "leader"
    FOCAL_POINT = "focal_point"
    TECHNICAL_LEAD = "technical_lead"
    NATIONAL_REPRESENTATIVE = "national_representative"
    OTHER = "other"


class Member(Base):
    """A city, region or other subnational body that belongs (or applies) to the network."""

    __tablename__ = "members"
    __table_args__ = (
        CheckConstraint("population IS NULL OR population >= 0", name="population_not_negative"),
        CheckConstraint("annual_fee IS NULL OR annual_fee >= 0", name="fee_not_negative"),
        CheckConstraint("(annual_fee IS NULL) = (fee_currency IS NULL)", name="fee_has_currency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column()
    #: Case- and accent-folded name ("sao paulo"), kept by the services, for search and sort
    #: that behave the same on SQLite and PostgreSQL whatever the script.
    search_name: Mapped[str] = mapped_column(index=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[MemberKind] = mapped_column(enum_type(MemberKind))
    #: ISO 3166-1 alpha-2 code.
    country: Mapped[str] = mapped_column(String(2), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("terms.id"), index=True)
    population: Mapped[int | None] = mapped_column()
    joined_on: Mapped[date | None] = mapped_column()
    status: Mapped[MemberStatus] = mapped_column(enum_type(MemberStatus), index=True)
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("terms.id"), index=True)
    annual_fee: Mapped[Decimal | None] = mapped_column()
    #: ISO 4217 code, set exactly when annual_fee is.
    fee_currency: Mapped[str | None] = mapped_column(String(3))
    next_election_on: Mapped[date | None] = mapped_column()
    leader_term_ends_on: Mapped[date | None] = mapped_column()
    website: Mapped[str | None] = mapped_column(String(500))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    region: Mapped[Term | None] = relationship(foreign_keys=[region_id])
    tier: Mapped[Term | None] = relationship(foreign_keys=[tier_id])
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="member", order_by="Contact.name", cascade="all, delete-orphan"
    )
    status_changes: Mapped[list[MemberStatusChange]] = relationship(
        back_populates="member",
        order_by="MemberStatusChange.changed_at.desc()",
        cascade="all, delete-orphan",
    )

    def __str__(self) -> str:
        return self.name


class MemberStatusChange(Base):
    """One change of a member's status: who changed it, when and why."""

    __tablename__ = "member_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[MemberStatus | None] = mapped_column(enum_type(MemberStatus))
    to_status: Mapped[MemberStatus] = mapped_column(enum_type(MemberStatus))
    reason: Mapped[str] = mapped_column(Text)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    member: Mapped[Member] = relationship(back_populates="status_changes")
    changed_by: Mapped[User | None] = relationship()


class Contact(Base):
    """A person at a member. People move on: a contact is ended, never overwritten."""

    __tablename__ = "contacts"
    __table_args__ = (
        # At most one primary focal point per member; ending a contact clears the flag.
        Index(
            "uq_contacts_primary_per_member",
            "member_id",
            unique=True,
            sqlite_where=text("is_primary"),
            postgresql_where=text("is_primary"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column()
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    phone: Mapped[str | None] = mapped_column(String(50))
    job_title: Mapped[str | None] = mapped_column()
    role: Mapped[ContactRole] = mapped_column(enum_type(ContactRole))
    is_primary: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: Also gets the member's reminders (reporting cycles, fees) besides the primary focal point.
    receives_reminders: Mapped[bool] = mapped_column(default=False, server_default=false())
    active_from: Mapped[date | None] = mapped_column()
    active_to: Mapped[date | None] = mapped_column()
    #: ISO 639-1 code of the language the person prefers to be written to in.
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    member: Mapped[Member] = relationship(back_populates="contacts")

    def is_current(self, today: date) -> bool:
        """Whether the person holds this role on the given day."""
        started = self.active_from is None or self.active_from <= today
        return started and (self.active_to is None or self.active_to >= today)

    def __str__(self) -> str:
        return self.name
