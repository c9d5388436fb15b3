"""Impact reports: a programme's results over a period, published in frozen versions."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from secretariat.db import Base, enum_type, utcnow

if TYPE_CHECKING:
    from secretariat.accounts.models import User
    from secretariat.funding.models import Programme
    from secretariat.stories.models import Story


class ReportStatus(enum.StrEnum):
    #: Staff are writing it (the first version, or the next one after a publication).
    DRAFT = "draft"
    #: Its latest version is published and nothing newer is being written.
    PUBLISHED = "published"


class ImpactReport(Base):
    """The impact report of one programme for one period (a year or a half-year)."""

    __tablename__ = "impact_reports"
    __table_args__ = (
        UniqueConstraint("programme_id", "period"),
        CheckConstraint("period_end >= period_start", name="period_in_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programmes.id", ondelete="RESTRICT"), index=True
    )
    #: "2025" for a year, "2025-H1" or "2025-H2" for a half-year.
    period: Mapped[str] = mapped_column(String(10))
    period_start: Mapped[date] = mapped_column()
    period_end: Mapped[date] = mapped_column()
    title: Mapped[str] = mapped_column(String(300))
    #: Markdown written by staff; sanitized when rendered.
    introduction: Mapped[str | None] = mapped_column(Text)
    status: Mapped[ReportStatus] = mapped_column(enum_type(ReportStatus), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    programme: Mapped[Programme] = relationship()
    stories: Mapped[list[ImpactReportStory]] = relationship(
        back_populates="report",
        order_by="ImpactReportStory.position",
        cascade="all, delete-orphan",
    )
    versions: Mapped[list[ImpactReportVersion]] = relationship(
        back_populates="report",
        order_by="ImpactReportVersion.number",
        cascade="all, delete-orphan",
    )

    def __str__(self) -> str:
        return self.title

    def version(self, number: int | None) -> ImpactReportVersion | None:
        """The published version with this number, if there is one."""
        return next((v for v in self.versions if v.number == number), None)


class ImpactReportStory(Base):
    """A published story chosen for the draft of a report, in the order it appears."""

    __tablename__ = "impact_report_stories"
    __table_args__ = (UniqueConstraint("report_id", "story_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("impact_reports.id", ondelete="CASCADE"))
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="RESTRICT"), index=True)
    position: Mapped[int] = mapped_column(default=0, server_default="0")

    report: Mapped[ImpactReport] = relationship(back_populates="stories")
    story: Mapped[Story] = relationship()


class ImpactReportVersion(Base):
    """A published version: the figures, texts and stories frozen when it was published."""

    __tablename__ = "impact_report_versions"
    __table_args__ = (UniqueConstraint("report_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("impact_reports.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column()
    #: Why this version replaces the previous one (empty for the first).
    change_note: Mapped[str | None] = mapped_column(Text)
    #: Everything the report shows, as computed at publication (see ``impact.snapshot``).
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: The rendered PDF, kept in the upload folder under its SHA-256 once first asked for.
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))

    report: Mapped[ImpactReport] = relationship(back_populates="versions")
    published_by: Mapped[User | None] = relationship()
