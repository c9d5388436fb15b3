"""Peer exchanges: recorded city-to-city interactions, the edges of the relationship graph."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from secretariat.db import Base, enum_type, utcnow
from secretariat.groups.models import WorkingGroup
from secretariat.members.models import Member
from secretariat.vocabularies.models import Term

if TYPE_CHECKING:
    from secretariat.accounts.models import User


class ExchangeType(enum.StrEnum):
    STUDY_VISIT = "study_visit"
    EXPERT_ADVICE = "expert_advice"
    PEER_REVIEW = "peer_review"
    STAFF_EXCHANGE = "staff_exchange"
    POLICY_REPLICATION = "policy_replication"
    JOINT_PROJECT = "joint_project"


class ExchangeStatus(enum.StrEnum):
    #: Proposed by one side's focal point; counts once the other side or staff confirm it.
    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class PeerExchange(Base):
    """Directed: the source member shared or hosted, the target member learned."""

    __tablename__ = "peer_exchanges"
    __table_args__ = (CheckConstraint("from_member_id <> to_member_id", name="not_self"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    from_member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    to_member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    exchange_type: Mapped[ExchangeType] = mapped_column(enum_type(ExchangeType), index=True)
    occurred_on: Mapped[date] = mapped_column(index=True)
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("working_groups.id", ondelete="SET NULL"), index=True
    )
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("terms.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(Text)
    evidence_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[ExchangeStatus] = mapped_column(enum_type(ExchangeStatus), index=True)
    #: The side whose focal point proposed it; None when staff recorded it.
    proposed_by_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL")
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column()
    #: Why the other side or staff rejected the proposal.
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    from_member: Mapped[Member] = relationship(foreign_keys=[from_member_id])
    to_member: Mapped[Member] = relationship(foreign_keys=[to_member_id])
    group: Mapped[WorkingGroup | None] = relationship()
    theme: Mapped[Term | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    def involves(self, member_id: int) -> bool:
        return member_id in (self.from_member_id, self.to_member_id)
