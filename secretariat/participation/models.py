"""Annual participation measurement: a year's scoring scheme, its membership conditions, and
the scores, breakdowns and evidence computed from the records.

Every row of a year's results carries ``scheme_id``: computing again replaces them as a whole,
and a finalised year's rows are never touched until staff reopen it (with a reason, audited).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from secretariat.db import Base, enum_type, utcnow
from secretariat.members.models import Member

if TYPE_CHECKING:
    from secretariat.accounts.models import User

#: Scores and criterion points: 0.00 to 100.00.
SCORE_TYPE = Numeric(5, 2)
#: Measured values (a percentage, a count) and the scheme's floors and targets.
MEASURE_TYPE = Numeric(12, 4)


class SchemeState(enum.StrEnum):
    #: Scores may be computed again at any time (nightly, or by staff).
    PROVISIONAL = "provisional"
    #: Staff closed the year: scheme and scores are frozen until reopened with a reason.
    FINAL = "final"


class CriterionKind(enum.StrEnum):
    ATTENDANCE = "attendance"
    REPORTING_ON_TIME = "reporting_on_time"
    COMPLETENESS = "completeness"
    COMMITMENTS = "commitments"
    WORKING_GROUPS = "working_groups"
    EXCHANGES = "exchanges"
    FOLLOW_UPS = "follow_ups"


#: Criteria measured as a share (0-100 %); the others are counts.
SHARE_CRITERIA = frozenset(
    {
        CriterionKind.ATTENDANCE,
        CriterionKind.REPORTING_ON_TIME,
        CriterionKind.COMPLETENESS,
        CriterionKind.COMMITMENTS,
        CriterionKind.FOLLOW_UPS,
    }
)


class ConditionKind(enum.StrEnum):
    PRIMARY_FOCAL_POINT = "primary_focal_point"
    ANNUAL_SUBMISSION = "annual_submission"
    EVENT_ATTENDED = "event_attended"
    EVIDENCE_FRESH = "evidence_fresh"


class Level(enum.StrEnum):
    LEADING = "leading"
    ACTIVE = "active"
    ENGAGED = "engaged"
    AT_RISK = "at_risk"


class ConditionsOutcome(enum.StrEnum):
    MEETS = "meets"
    #: Exactly one condition missed.
    WARNING = "warning"
    NOT_MET = "not_met"


class ConditionResult(enum.StrEnum):
    MET = "met"
    MISSED = "missed"
    #: Nothing to judge (e.g. no reporting cycle due that year).
    NOT_APPLICABLE = "not_applicable"


class LeftOut(enum.StrEnum):
    """Why a criterion was left out of a member's score (its weight is shared by the others)."""

    NO_EVENTS = "no_events"
    NOT_INVITED = "not_invited"
    NO_CYCLES = "no_cycles"
    NOT_ASKED = "not_asked"
    NO_COMMITMENTS = "no_commitments"
    NO_GROUPS = "no_groups"
    NO_EXCHANGES = "no_exchanges"
    NO_FOLLOW_UPS = "no_follow_ups"


class EvidenceKind(enum.StrEnum):
    EVENT = "event"
    CYCLE = "cycle"
    COMMITMENT = "commitment"
    GROUP = "group"
    EXCHANGE = "exchange"
    FOLLOW_UP = "follow_up"


class SchemeAction(enum.StrEnum):
    CREATED = "created"
    EDITED = "edited"
    COMPUTED = "computed"
    FINALISED = "finalised"
    REOPENED = "reopened"


class ScoringScheme(Base):
    """One year's method: criteria and weights, conditions, level thresholds, its state."""

    __tablename__ = "scoring_schemes"
    __table_args__ = (
        CheckConstraint("year >= 2000 AND year <= 2100", name="year_in_range"),
        CheckConstraint(
            "engaged_from > 0 AND active_from > engaged_from AND leading_from > active_from"
            " AND leading_from <= 100",
            name="thresholds_ordered",
        ),
        CheckConstraint(
            "recognition_size >= 1 AND recognition_size <= 20", name="recognition_size_in_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(unique=True)
    state: Mapped[SchemeState] = mapped_column(enum_type(SchemeState), index=True)
    #: Lowest total of each level; below ``engaged_from`` a member is at risk.
    leading_from: Mapped[int] = mapped_column(default=80, server_default="80")
    active_from: Mapped[int] = mapped_column(default=60, server_default="60")
    engaged_from: Mapped[int] = mapped_column(default=40, server_default="40")
    #: How many members per region the recognition list names.
    recognition_size: Mapped[int] = mapped_column(default=3, server_default="3")
    #: When the method last changed; scores computed before it are out of date.
    edited_at: Mapped[datetime] = mapped_column(default=utcnow)
    computed_at: Mapped[datetime | None] = mapped_column()
    finalised_at: Mapped[datetime | None] = mapped_column()
    finalised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    finalised_by: Mapped[User | None] = relationship()
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="scheme", cascade="all, delete-orphan", order_by="Criterion.position"
    )
    conditions: Mapped[list[SchemeCondition]] = relationship(
        back_populates="scheme", cascade="all, delete-orphan", order_by="SchemeCondition.position"
    )
    history: Mapped[list[SchemeEvent]] = relationship(
        back_populates="scheme",
        cascade="all, delete-orphan",
        order_by="SchemeEvent.at.desc(), SchemeEvent.id.desc()",
    )

    @property
    def is_final(self) -> bool:
        return self.state is SchemeState.FINAL

    @property
    def scores_out_of_date(self) -> bool:
        """Whether the method changed after the scores were last computed (or never computed)."""
        return self.computed_at is None or self.edited_at > self.computed_at

    def __str__(self) -> str:
        return str(self.year)


class Criterion(Base):
    """One criterion of a year's scheme: its weight and the floor and target of its rule.

    Points are 0 at or below the floor, 100 at or above the target, linear in between.
    A weight of 0 leaves the criterion out of the year's method.
    """

    __tablename__ = "scoring_criteria"
    __table_args__ = (
        UniqueConstraint("scheme_id", "kind"),
        CheckConstraint("weight >= 0 AND weight <= 100", name="weight_in_range"),
        CheckConstraint("target > floor", name="target_above_floor"),
        CheckConstraint("bonus IS NULL OR bonus >= 0", name="bonus_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scoring_schemes.id", ondelete="CASCADE"))
    kind: Mapped[CriterionKind] = mapped_column(enum_type(CriterionKind))
    weight: Mapped[int] = mapped_column()
    floor: Mapped[Decimal] = mapped_column(MEASURE_TYPE)
    target: Mapped[Decimal] = mapped_column(MEASURE_TYPE)
    #: Working groups: what a lead (co-chair) role adds on top of the group itself.
    bonus: Mapped[Decimal | None] = mapped_column(MEASURE_TYPE)
    position: Mapped[int] = mapped_column(default=0, server_default="0")

    scheme: Mapped[ScoringScheme] = relationship(back_populates="criteria")


class SchemeCondition(Base):
    """A membership condition that applies in a year (its presence means it is checked)."""

    __tablename__ = "scheme_conditions"
    __table_args__ = (UniqueConstraint("scheme_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scoring_schemes.id", ondelete="CASCADE"))
    kind: Mapped[ConditionKind] = mapped_column(enum_type(ConditionKind))
    position: Mapped[int] = mapped_column(default=0, server_default="0")

    scheme: Mapped[ScoringScheme] = relationship(back_populates="conditions")


class SchemeEvent(Base):
    """The audit trail of a year: method edited, scores computed, finalised, reopened (why)."""

    __tablename__ = "scoring_scheme_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(
        ForeignKey("scoring_schemes.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[SchemeAction] = mapped_column(enum_type(SchemeAction))
    #: The reason given (required to reopen), or what changed.
    comment: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    scheme: Mapped[ScoringScheme] = relationship(back_populates="history")
    actor: Mapped[User | None] = relationship()


class ParticipationScore(Base):
    """A member's participation in a year: total, level and conditions outcome."""

    __tablename__ = "participation_scores"
    __table_args__ = (
        UniqueConstraint("scheme_id", "member_id"),
        Index("ix_participation_scores_scheme_level", "scheme_id", "level"),
        Index("ix_participation_scores_scheme_region", "scheme_id", "region_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scoring_schemes.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    #: The member's region when computed, so a finalised year's regional lists stay as they were.
    region_id: Mapped[int | None] = mapped_column(ForeignKey("terms.id", ondelete="SET NULL"))
    #: 0-100; None when no criterion had data for the member.
    total: Mapped[Decimal | None] = mapped_column(SCORE_TYPE)
    level: Mapped[Level | None] = mapped_column(enum_type(Level))
    conditions_outcome: Mapped[ConditionsOutcome] = mapped_column(enum_type(ConditionsOutcome))
    conditions_missed: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Sum of the weights of the criteria that had data (the total is renormalised over it).
    weight_used: Mapped[int] = mapped_column(default=0, server_default="0")
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)

    member: Mapped[Member] = relationship()


class ScoreCriterion(Base):
    """One line of a member's breakdown: what was measured and the points it gave."""

    __tablename__ = "participation_score_criteria"
    __table_args__ = (
        UniqueConstraint("scheme_id", "member_id", "kind"),
        CheckConstraint("points IS NULL OR (points >= 0 AND points <= 100)", name="points_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scoring_schemes.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    kind: Mapped[CriterionKind] = mapped_column(enum_type(CriterionKind))
    weight: Mapped[int] = mapped_column()
    #: Items looked at (events invited to, cycles asked, commitments...).
    items: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Items that counted (attended, on time, updated, active...); for completeness, the
    #: indicators answered.
    hits: Mapped[int] = mapped_column(default=0, server_default="0")
    #: The second measure: lead roles, commitments achieved or in progress, exchanges given;
    #: for completeness, the indicators requested.
    extra: Mapped[int] = mapped_column(default=0, server_default="0")
    #: What was measured (a percentage or a count); None when left out.
    measured: Mapped[Decimal | None] = mapped_column(MEASURE_TYPE)
    points: Mapped[Decimal | None] = mapped_column(SCORE_TYPE)
    left_out: Mapped[LeftOut | None] = mapped_column(enum_type(LeftOut))

    @property
    def is_included(self) -> bool:
        return self.left_out is None


class ScoreCondition(Base):
    """Whether a member met one membership condition in a year."""

    __tablename__ = "participation_score_conditions"
    __table_args__ = (UniqueConstraint("scheme_id", "member_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scoring_schemes.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ConditionKind] = mapped_column(enum_type(ConditionKind))
    result: Mapped[ConditionResult] = mapped_column(enum_type(ConditionResult))


class ScoreEvidence(Base):
    """A record behind a criterion (an event invited to, a cycle, an exchange...), as it was
    when the scores were computed; a finalised year keeps these as its trail."""

    __tablename__ = "participation_evidence"
    __table_args__ = (Index("ix_participation_evidence_scheme_member", "scheme_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scoring_schemes.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    criterion: Mapped[CriterionKind] = mapped_column(enum_type(CriterionKind))
    item_kind: Mapped[EvidenceKind] = mapped_column(enum_type(EvidenceKind))
    #: The id of the event, cycle, commitment, group, exchange or follow-up (no foreign key:
    #: the trail outlives the record).
    item_id: Mapped[int] = mapped_column()
    title: Mapped[str] = mapped_column(String(500))
    #: When it happened: an event's start, or a day (due date, exchange date, group joined).
    at: Mapped[datetime | None] = mapped_column()
    on_date: Mapped[date | None] = mapped_column()
    #: Whether it counted (attended, on time, updated, active in the group, closed on time).
    counted: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: The second measure (lead role, achieved or in progress, given, submitted at all).
    extra: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: Completeness: indicators answered and requested.
    part: Mapped[int | None] = mapped_column()
    whole: Mapped[int | None] = mapped_column()
    #: A status or type shown beside the item (submission status, exchange type, role).
    detail: Mapped[str | None] = mapped_column(String(64))


class ParticipationSettings(Base):
    """Network-wide settings of participation measurement (a single row)."""

    __tablename__ = "participation_settings"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    #: Whether focal points may see the regional recognition list (staff always can).
    recognition_visible_to_members: Mapped[bool] = mapped_column(
        default=False, server_default=false()
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
