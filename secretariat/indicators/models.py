"""Indicators (KPIs) the network tracks, and the targets set for them per period."""

from __future__ import annotations

import enum
import re
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from secretariat.db import Base, enum_type, utcnow
from secretariat.members.models import Member

#: Values are kept with this precision: 18 digits, 6 after the point.
VALUE_TYPE = Numeric(24, 6)

#: A reporting period: a year ("2025"), a half ("2025-H1") or a quarter ("2025-Q3").
PERIOD_PATTERN = re.compile(r"^(\d{4})(?:-(H[12]|Q[1-4]))?$")


class ValueType(enum.StrEnum):
    NUMBER = "number"
    PERCENTAGE = "percentage"
    YES_NO = "yes_no"
    CHOICE = "choice"
    TEXT = "text"


#: Value types whose values are numbers (kept in ``number_value``).
NUMERIC_TYPES = frozenset({ValueType.NUMBER, ValueType.PERCENTAGE})


class Direction(enum.StrEnum):
    HIGHER_IS_BETTER = "higher"
    LOWER_IS_BETTER = "lower"
    NONE = "none"


class Level(enum.StrEnum):
    #: Each member reports a value.
    MEMBER = "member"
    #: One value for the whole network (e.g. number of members with a plan).
    NETWORK = "network"


class Aggregation(enum.StrEnum):
    SUM = "sum"
    MEAN = "mean"
    MEDIAN = "median"
    COUNT_YES = "count_yes"
    NONE = "none"


class Indicator(Base):
    """A key performance indicator, e.g. "GHG emissions per capita" in t CO2e."""

    __tablename__ = "indicators"
    __table_args__ = (
        CheckConstraint(
            "min_value IS NULL OR max_value IS NULL OR min_value <= max_value",
            name="range_ordered",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Short stable identifier used in exports ("GHG-PC").
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    definition: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[str | None] = mapped_column(String(60))
    value_type: Mapped[ValueType] = mapped_column(enum_type(ValueType))
    min_value: Mapped[Decimal | None] = mapped_column(VALUE_TYPE)
    max_value: Mapped[Decimal | None] = mapped_column(VALUE_TYPE)
    #: The answers offered for a ``choice`` indicator, in order.
    choices: Mapped[list[str] | None] = mapped_column(JSON)
    direction: Mapped[Direction] = mapped_column(enum_type(Direction))
    level: Mapped[Level] = mapped_column(enum_type(Level))
    aggregation: Mapped[Aggregation] = mapped_column(enum_type(Aggregation))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    targets: Mapped[list[Target]] = relationship(
        back_populates="indicator", cascade="all, delete-orphan", order_by="Target.period"
    )

    @property
    def is_numeric(self) -> bool:
        return self.value_type in NUMERIC_TYPES

    def bounds(self) -> tuple[Decimal | None, Decimal | None]:
        """The allowed range; a percentage is never outside 0-100 whatever is configured."""
        low, high = self.min_value, self.max_value
        if self.value_type is ValueType.PERCENTAGE:
            low = Decimal(0) if low is None else max(low, Decimal(0))
            high = Decimal(100) if high is None else min(high, Decimal(100))
        return low, high

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"


class Target(Base):
    """The value aimed at for an indicator in a period, network-wide or for one member."""

    __tablename__ = "targets"
    __table_args__ = (
        # One network target per indicator and period, and one per member.
        Index(
            "uq_targets_network",
            "indicator_id",
            "period",
            unique=True,
            sqlite_where=text("member_id IS NULL"),
            postgresql_where=text("member_id IS NULL"),
        ),
        Index(
            "uq_targets_member",
            "indicator_id",
            "period",
            "member_id",
            unique=True,
            sqlite_where=text("member_id IS NOT NULL"),
            postgresql_where=text("member_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(10))
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    value: Mapped[Decimal] = mapped_column(VALUE_TYPE)
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    indicator: Mapped[Indicator] = relationship(back_populates="targets")
    member: Mapped[Member | None] = relationship()


class NetworkValue(Base):
    """The value of a network-level indicator for a period, recorded by the secretariat."""

    __tablename__ = "network_values"
    __table_args__ = (UniqueConstraint("indicator_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(10))
    number_value: Mapped[Decimal | None] = mapped_column(VALUE_TYPE)
    bool_value: Mapped[bool | None] = mapped_column()
    text_value: Mapped[str | None] = mapped_column(String(500))
    note: Mapped[str | None] = mapped_column(String(500))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    indicator: Mapped[Indicator] = relationship()
