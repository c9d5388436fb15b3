"""Success stories: a documented change in members' work, approved by their focal points."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from secretariat.db import Base, enum_type, utcnow

if TYPE_CHECKING:
    from secretariat.accounts.models import User
    from secretariat.agreements.models import Agreement
    from secretariat.commitments.models import Commitment
    from secretariat.events.models import Event
    from secretariat.exchanges.models import PeerExchange
    from secretariat.members.models import Member


class StoryStatus(enum.StrEnum):
    #: Being written by staff; the members' focal points are asked to approve it.
    DRAFT = "draft"
    #: Every member involved has approved the text as it stands.
    APPROVED = "approved"
    #: Published by staff: it can be chosen for impact reports.
    PUBLISHED = "published"


class Story(Base):
    """A success story told for funders and the network."""

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    #: Markdown; rendered through the sanitizer, never as raw HTML.
    narrative: Mapped[str] = mapped_column(Text)
    quote: Mapped[str | None] = mapped_column(Text)
    quote_attribution: Mapped[str | None] = mapped_column(String(200))
    #: SHA-256 of the stored image (PNG, JPEG or WebP, checked on upload), if any.
    image_sha256: Mapped[str | None] = mapped_column(String(64))
    image_type: Mapped[str | None] = mapped_column(String(8))
    image_alt: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[StoryStatus] = mapped_column(enum_type(StoryStatus), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    published_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    published_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    members: Mapped[list[StoryMember]] = relationship(
        back_populates="story", cascade="all, delete-orphan", order_by="StoryMember.id"
    )
    evidence: Mapped[list[StoryEvidence]] = relationship(
        back_populates="story", cascade="all, delete-orphan", order_by="StoryEvidence.id"
    )
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    published_by: Mapped[User | None] = relationship(foreign_keys=[published_by_id])

    def __str__(self) -> str:
        return self.title


class StoryMember(Base):
    """A member the story is about, and its focal point's approval of the current text."""

    __tablename__ = "story_members"
    __table_args__ = (UniqueConstraint("story_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    #: Set when the member's focal point approves; cleared when the text changes.
    approved_at: Mapped[datetime | None] = mapped_column()
    approved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    story: Mapped[Story] = relationship(back_populates="members")
    member: Mapped[Member] = relationship()
    approved_by: Mapped[User | None] = relationship()


class EvidenceKind(enum.StrEnum):
    EXCHANGE = "exchange"
    COMMITMENT = "commitment"
    AGREEMENT = "agreement"
    EVENT = "event"


class StoryEvidence(Base):
    """A record the story rests on: a peer exchange, a commitment, an agreement or an event."""

    __tablename__ = "story_evidence"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN exchange_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN commitment_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN agreement_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN event_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_record",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    kind: Mapped[EvidenceKind] = mapped_column(enum_type(EvidenceKind))
    exchange_id: Mapped[int | None] = mapped_column(
        ForeignKey("peer_exchanges.id", ondelete="CASCADE"), index=True
    )
    commitment_id: Mapped[int | None] = mapped_column(
        ForeignKey("commitments.id", ondelete="CASCADE"), index=True
    )
    agreement_id: Mapped[int | None] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), index=True
    )

    story: Mapped[Story] = relationship(back_populates="evidence")
    exchange: Mapped[PeerExchange | None] = relationship()
    commitment: Mapped[Commitment | None] = relationship()
    agreement: Mapped[Agreement | None] = relationship()
    event: Mapped[Event | None] = relationship()
