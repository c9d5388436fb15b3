"""Configurable lists (network regions, membership tiers, themes) that admins maintain."""

from __future__ import annotations

import enum

from sqlalchemy import UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from secretariat.db import Base, enum_type


class Vocabulary(enum.StrEnum):
    REGION = "region"
    TIER = "tier"
    #: Themes of working groups and peer exchanges ("Transport", "Air quality"...).
    THEME = "theme"
    #: Kinds of members' commitments ("Mitigation", "Health"...).
    COMMITMENT_CATEGORY = "commitment_category"


class Term(Base):
    """One entry of a configurable list, e.g. the region "Africa" or the tier "Full"."""

    __tablename__ = "terms"
    __table_args__ = (UniqueConstraint("vocabulary", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vocabulary: Mapped[Vocabulary] = mapped_column(enum_type(Vocabulary))
    label: Mapped[str] = mapped_column()
    position: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Retired terms stay on the records that use them but are no longer offered.
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())

    def __str__(self) -> str:
        return self.label
