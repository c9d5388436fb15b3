"""Partners: organisations outside the membership that sign agreements with the network."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from secretariat.db import Base, enum_type, utcnow


class PartnerKind(enum.StrEnum):
    COMPANY = "company"
    NGO = "ngo"
    UNIVERSITY = "university"
    DEVELOPMENT_BANK = "development_bank"
    GOVERNMENT_AGENCY = "government_agency"
    FOUNDATION = "foundation"
    INTERNATIONAL_ORGANISATION = "international_organisation"
    OTHER = "other"


class Partner(Base):
    """A company, NGO, university, bank, agency or foundation the network works with."""

    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column()
    #: The name folded for case- and accent-insensitive search and uniqueness checks.
    search_name: Mapped[str] = mapped_column(index=True)
    kind: Mapped[PartnerKind] = mapped_column(enum_type(PartnerKind), index=True)
    #: ISO 3166-1 alpha-2; None for international organisations without a seat country.
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    website: Mapped[str | None] = mapped_column(String(500))
    notes: Mapped[str | None] = mapped_column(Text)
    #: Set when the partner is archived: kept for history, left out of lists and choices.
    archived_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    contacts: Mapped[list[PartnerContact]] = relationship(
        back_populates="partner",
        cascade="all, delete-orphan",
        order_by="PartnerContact.name",
    )

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def __str__(self) -> str:
        return self.name


class PartnerContact(Base):
    """A person the secretariat deals with at a partner."""

    __tablename__ = "partner_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column()
    email: Mapped[str | None] = mapped_column(String(320))
    #: Their job or part in the relationship, e.g. "Head of urban programmes".
    role: Mapped[str | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    partner: Mapped[Partner] = relationship(back_populates="contacts")
