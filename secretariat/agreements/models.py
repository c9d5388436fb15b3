"""Agreements: MoUs, letters of intent and other agreements, their parties and obligations."""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta
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
from secretariat.members.models import Member
from secretariat.partners.models import Partner

if TYPE_CHECKING:
    from secretariat.accounts.models import User
    from secretariat.followups.models import FollowUp


class AgreementKind(enum.StrEnum):
    MOU = "mou"
    LETTER_OF_INTENT = "letter_of_intent"
    COOPERATION = "cooperation"
    GRANT = "grant"
    DATA_SHARING = "data_sharing"
    OTHER = "other"


class AgreementStatus(enum.StrEnum):
    DRAFT = "draft"
    NEGOTIATING = "negotiating"
    SIGNED = "signed"
    ACTIVE = "active"
    EXPIRED = "expired"
    TERMINATED = "terminated"
    #: Replaced by a successor agreement that has come into force.
    RENEWED = "renewed"


class Agreement(Base):
    """An agreement between two or more parties, with its dates and lifecycle.

    The stored ``status`` of an active agreement whose expiry day has passed in the network's
    zone is still ``active`` until the daily job records it; every page shows
    :meth:`status_on` instead, so they agree whether or not the job has run.
    """

    __tablename__ = "agreements"
    __table_args__ = (
        CheckConstraint(
            "expires_on IS NULL OR signed_on IS NULL OR expires_on >= signed_on",
            name="expires_after_signature",
        ),
        CheckConstraint(
            "expires_on IS NULL OR effective_from IS NULL OR expires_on >= effective_from",
            name="expires_after_effect",
        ),
        CheckConstraint(
            "renewal_notice_days IS NULL OR renewal_notice_days >= 0", name="notice_not_negative"
        ),
        CheckConstraint("renews_id IS NULL OR renews_id <> id", name="not_own_renewal"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[AgreementKind] = mapped_column(enum_type(AgreementKind), index=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str | None] = mapped_column(Text)
    status: Mapped[AgreementStatus] = mapped_column(enum_type(AgreementStatus), index=True)
    #: The member of staff who watches the agreement; obligations' follow-ups are theirs.
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("working_groups.id", ondelete="SET NULL"), index=True
    )
    signed_on: Mapped[date | None] = mapped_column()
    effective_from: Mapped[date | None] = mapped_column()
    #: The last day the agreement is in force (a calendar day in the network's zone).
    expires_on: Mapped[date | None] = mapped_column(index=True)
    #: How many days before expiry the renewal should start being prepared.
    renewal_notice_days: Mapped[int | None] = mapped_column()
    terminated_on: Mapped[date | None] = mapped_column()
    termination_reason: Mapped[str | None] = mapped_column(Text)
    #: The agreement this one renews; the old one becomes ``renewed`` when this one is active.
    renews_id: Mapped[int | None] = mapped_column(
        ForeignKey("agreements.id", ondelete="SET NULL"), unique=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    group: Mapped[WorkingGroup | None] = relationship()
    parties: Mapped[list[AgreementParty]] = relationship(
        back_populates="agreement",
        cascade="all, delete-orphan",
        order_by="AgreementParty.position",
    )
    obligations: Mapped[list[Obligation]] = relationship(
        back_populates="agreement",
        cascade="all, delete-orphan",
        order_by="(Obligation.due_on, Obligation.id)",
    )
    documents: Mapped[list[AgreementDocument]] = relationship(
        back_populates="agreement",
        cascade="all, delete-orphan",
        order_by="AgreementDocument.uploaded_at",
    )
    history: Mapped[list[AgreementChange]] = relationship(
        back_populates="agreement",
        cascade="all, delete-orphan",
        order_by="(AgreementChange.at.desc(), AgreementChange.id.desc())",
    )
    renews: Mapped[Agreement | None] = relationship(
        remote_side=[id], foreign_keys=[renews_id], back_populates="renewed_by"
    )
    renewed_by: Mapped[Agreement | None] = relationship(
        foreign_keys=[renews_id], back_populates="renews", uselist=False
    )

    def status_on(self, today: date) -> AgreementStatus:
        """The status shown on ``today`` (the network's calendar day)."""
        if (
            self.status is AgreementStatus.ACTIVE
            and self.expires_on is not None
            and self.expires_on < today
        ):
            return AgreementStatus.EXPIRED
        return self.status

    def renewal_notice_on(self) -> date | None:
        """The day the renewal notice period starts, if the agreement expires."""
        if self.expires_on is None or not self.renewal_notice_days:
            return None
        return self.expires_on - timedelta(days=self.renewal_notice_days)

    def __str__(self) -> str:
        return self.title


class PartyKind(enum.StrEnum):
    MEMBER = "member"
    PARTNER = "partner"
    SECRETARIAT = "secretariat"


class AgreementParty(Base):
    """One party to an agreement: a member, a partner or the secretariat itself."""

    __tablename__ = "agreement_parties"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN member_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN partner_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN is_secretariat THEN 1 ELSE 0 END) = 1",
            name="exactly_one_party",
        ),
        UniqueConstraint("agreement_id", "member_id"),
        UniqueConstraint("agreement_id", "partner_id"),
        Index(
            "uq_agreement_parties_secretariat",
            "agreement_id",
            unique=True,
            sqlite_where=text("is_secretariat"),
            postgresql_where=text("is_secretariat"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"), index=True)
    is_secretariat: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: Order in which the parties are listed (as in the signed text).
    position: Mapped[int] = mapped_column(default=0)

    agreement: Mapped[Agreement] = relationship(back_populates="parties")
    member: Mapped[Member | None] = relationship()
    partner: Mapped[Partner | None] = relationship()

    @property
    def kind(self) -> PartyKind:
        if self.member_id is not None:
            return PartyKind.MEMBER
        if self.partner_id is not None:
            return PartyKind.PARTNER
        return PartyKind.SECRETARIAT


class Obligation(Base):
    """Something a party must do under an agreement; its follow-up tracks it."""

    __tablename__ = "obligations"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), index=True
    )
    description: Mapped[str] = mapped_column(Text)
    party_id: Mapped[int] = mapped_column(ForeignKey("agreement_parties.id"), index=True)
    due_on: Mapped[date] = mapped_column()
    follow_up_id: Mapped[int | None] = mapped_column(
        ForeignKey("follow_ups.id", ondelete="SET NULL"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    agreement: Mapped[Agreement] = relationship(back_populates="obligations")
    party: Mapped[AgreementParty] = relationship()
    follow_up: Mapped[FollowUp | None] = relationship()


class DocumentType(enum.StrEnum):
    PDF = "pdf"
    DOCX = "docx"
    XLSX = "xlsx"
    ODT = "odt"
    PNG = "png"
    JPEG = "jpeg"


class AgreementDocument(Base):
    """A file attached to an agreement, stored outside the web root under its content hash."""

    __tablename__ = "agreement_documents"
    __table_args__ = (
        # The same file once per agreement; removed ones stay as history.
        Index(
            "uq_agreement_documents_current",
            "agreement_id",
            "sha256",
            unique=True,
            sqlite_where=text("removed_at IS NULL"),
            postgresql_where=text("removed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), index=True
    )
    #: The uploaded name made safe, offered again on download.
    filename: Mapped[str] = mapped_column()
    file_type: Mapped[DocumentType] = mapped_column(enum_type(DocumentType, length=8))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    description: Mapped[str | None] = mapped_column()
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column()
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    agreement: Mapped[Agreement] = relationship(back_populates="documents")
    uploaded_by: Mapped[User | None] = relationship(foreign_keys=[uploaded_by_id])

    @property
    def is_removed(self) -> bool:
        return self.removed_at is not None


class ChangeKind(enum.StrEnum):
    CREATED = "created"
    EDITED = "edited"
    STATUS = "status"
    DOCUMENT_ADDED = "document_added"
    DOCUMENT_REMOVED = "document_removed"
    OBLIGATION_ADDED = "obligation_added"
    OBLIGATION_CHANGED = "obligation_changed"
    OBLIGATION_REMOVED = "obligation_removed"
    RENEWAL_STARTED = "renewal_started"


class AgreementChange(Base):
    """One line of an agreement's history: who did what, when."""

    __tablename__ = "agreement_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ChangeKind] = mapped_column(enum_type(ChangeKind))
    from_status: Mapped[AgreementStatus | None] = mapped_column(enum_type(AgreementStatus))
    to_status: Mapped[AgreementStatus | None] = mapped_column(enum_type(AgreementStatus))
    #: What changed, in words (a document's name, the termination reason...).
    detail: Mapped[str | None] = mapped_column(Text)
    #: None for changes made by the daily job.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    agreement: Mapped[Agreement] = relationship(back_populates="history")
    actor: Mapped[User | None] = relationship()
