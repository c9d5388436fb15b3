"""Members' pledges, the progress updates their focal points make, and the evidence behind them."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from dateutil.relativedelta import relativedelta
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from secretariat.agreements.models import DocumentType
from secretariat.db import Base, enum_type, utcnow
from secretariat.members.models import Member
from secretariat.vocabularies.models import Term

if TYPE_CHECKING:
    from secretariat.accounts.models import User


class CommitmentStatus(enum.StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    ACHIEVED = "achieved"
    OFF_TRACK = "off_track"
    DROPPED = "dropped"


#: Statuses of commitments still being worked on, which are expected to get updates.
ONGOING = frozenset(
    {CommitmentStatus.PLANNED, CommitmentStatus.IN_PROGRESS, CommitmentStatus.OFF_TRACK}
)


class EvidenceDocument(Base):
    """A file uploaded as evidence for a member's commitment, stored under its content hash."""

    __tablename__ = "evidence_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The member whose evidence this is: it decides who may download it.
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column()
    file_type: Mapped[DocumentType] = mapped_column(enum_type(DocumentType, length=8))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    uploaded_by: Mapped[User | None] = relationship()


class Commitment(Base):
    """Something a member has pledged, e.g. "a climate action plan aligned with 1.5°C by 2026"."""

    __tablename__ = "commitments"
    __table_args__ = (
        CheckConstraint(
            "freshness_months IS NULL OR (freshness_months >= 1 AND freshness_months <= 240)",
            name="freshness_in_range",
        ),
        Index("ix_commitments_member_status", "member_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    category_id: Mapped[int] = mapped_column(ForeignKey("terms.id"), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    #: Where the member started from, in words ("no plan", "42 kt CO2e in 2019").
    baseline: Mapped[str | None] = mapped_column(String(500))
    target: Mapped[str | None] = mapped_column(String(500))
    target_on: Mapped[date | None] = mapped_column()
    status: Mapped[CommitmentStatus] = mapped_column(enum_type(CommitmentStatus), index=True)
    #: Latest percent complete reported in an update.
    percent_complete: Mapped[int | None] = mapped_column()
    evidence_url: Mapped[str | None] = mapped_column(String(1000))
    evidence_document_id: Mapped[int | None] = mapped_column(
        ForeignKey("evidence_documents.id", ondelete="SET NULL")
    )
    #: The day the evidence dates from (a plan's adoption, an inventory's publication).
    evidence_on: Mapped[date | None] = mapped_column()
    #: Evidence older than this many months is flagged as stale (e.g. 24 for an inventory).
    freshness_months: Mapped[int | None] = mapped_column()
    #: The first day the evidence counts as stale under the freshness rule (the creation day
    #: when a rule applies and there is no evidence yet); kept by the services for filtering.
    evidence_stale_on: Mapped[date | None] = mapped_column(index=True)
    #: When the last progress update was made; None until the first.
    last_update_at: Mapped[datetime | None] = mapped_column(index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    member: Mapped[Member] = relationship()
    category: Mapped[Term] = relationship()
    evidence_document: Mapped[EvidenceDocument | None] = relationship()
    updates: Mapped[list[CommitmentUpdate]] = relationship(
        back_populates="commitment",
        order_by="CommitmentUpdate.created_at.desc(), CommitmentUpdate.id.desc()",
        cascade="all, delete-orphan",
    )

    def stale_on(self, created_on: date) -> date | None:
        """The first day the evidence counts as stale, if a freshness rule applies."""
        if self.freshness_months is None:
            return None
        if self.evidence_on is None:
            return created_on
        return self.evidence_on + relativedelta(months=self.freshness_months)

    def evidence_is_stale(self, today: date) -> bool:
        """Whether a freshness rule applies and the evidence is missing or too old."""
        return self.evidence_stale_on is not None and self.evidence_stale_on <= today

    @property
    def has_evidence(self) -> bool:
        return bool(self.evidence_url or self.evidence_document_id)

    def __str__(self) -> str:
        return self.title


class CommitmentUpdate(Base):
    """One progress update on a commitment: who, when, status, percent, narrative, evidence."""

    __tablename__ = "commitment_updates"
    __table_args__ = (
        CheckConstraint(
            "percent_complete IS NULL OR (percent_complete >= 0 AND percent_complete <= 100)",
            name="percent_in_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    commitment_id: Mapped[int] = mapped_column(
        ForeignKey("commitments.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[CommitmentStatus] = mapped_column(enum_type(CommitmentStatus))
    percent_complete: Mapped[int | None] = mapped_column()
    narrative: Mapped[str] = mapped_column(Text)
    evidence_url: Mapped[str | None] = mapped_column(String(1000))
    evidence_document_id: Mapped[int | None] = mapped_column(
        ForeignKey("evidence_documents.id", ondelete="SET NULL")
    )
    evidence_on: Mapped[date | None] = mapped_column()
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    is_verified: Mapped[bool] = mapped_column(default=False, server_default=false())
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    verified_at: Mapped[datetime | None] = mapped_column()

    commitment: Mapped[Commitment] = relationship(back_populates="updates")
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])
    evidence_document: Mapped[EvidenceDocument | None] = relationship()
