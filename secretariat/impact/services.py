"""Impact reports: create a draft, write it, publish a frozen version, issue a new one."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from secretariat import markdown
from secretariat.accounts.models import User
from secretariat.agreements import documents
from secretariat.db import utcnow
from secretariat.funding.models import Programme
from secretariat.funding.services import covered_member_ids
from secretariat.impact import render, snapshot
from secretariat.impact.models import (
    ImpactReport,
    ImpactReportStory,
    ImpactReportVersion,
    ReportStatus,
)
from secretariat.impact.periods import parse_period
from secretariat.permissions import Permission, ensure_permission
from secretariat.stories.models import Story
from secretariat.stories.queries import published_stories

#: Where rendered PDFs are kept under the upload path, named by their SHA-256.
PDF_FOLDER = "impact"
MAX_TITLE = 300
MAX_NOTE = 2000


class ReportError(ValueError):
    """The report cannot be saved or moved on; ``errors`` maps field names to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def _title(text: str | None) -> str:
    return " ".join((text or "").split())


def create_report(
    session: Session,
    actor: User | None,
    programme_id: int | None,
    period_text: str | None,
    title: str | None = None,
) -> ImpactReport:
    """A draft report of a programme for a year or a half-year."""
    if actor is not None:
        ensure_permission(actor, Permission.MANAGE_IMPACT_REPORTS)
    errors: dict[str, str] = {}
    programme = session.get(Programme, programme_id) if programme_id else None
    period = parse_period(period_text)
    if programme is None:
        errors["programme_id"] = _("Choose the programme.")
    if period is None:
        errors["period"] = _("Enter a year (2025) or a half-year (2025-H1 or 2025-H2).")
    elif programme is not None:
        if period.end < programme.starts_on or period.start > programme.ends_on:
            errors["period"] = _(
                "The programme runs from %(start)s to %(end)s: choose a period within it.",
                start=programme.starts_on.isoformat(),
                end=programme.ends_on.isoformat(),
            )
        elif session.scalar(
            select(ImpactReport.id).where(
                ImpactReport.programme_id == programme.id, ImpactReport.period == period.label
            )
        ):
            errors["period"] = _(
                "This programme already has a report for %(period)s: open it and issue a "
                "new version instead.",
                period=period.label,
            )
    title = _title(title)
    if len(title) > MAX_TITLE:
        errors["title"] = _("Use at most %(n)s characters.", n=MAX_TITLE)
    if errors:
        raise ReportError(errors)
    assert programme is not None and period is not None
    report = ImpactReport(
        programme_id=programme.id,
        period=period.label,
        period_start=period.start,
        period_end=period.end,
        title=title or snapshot.default_title(programme, period),
        status=ReportStatus.DRAFT,
        created_by_id=actor.id if actor is not None else None,
    )
    session.add(report)
    session.flush()
    return report


def choosable_stories(session: Session, report: ImpactReport) -> list[Story]:
    """Published stories about at least one member the programme covers."""
    programme = session.get(Programme, report.programme_id)
    assert programme is not None
    return published_stories(session, covered_member_ids(session, programme))


@dataclass
class ReportText:
    title: str
    introduction: str | None = None
    #: Chosen stories, in the order they appear.
    story_ids: list[int] = field(default_factory=list)


def _ensure_draft(report: ImpactReport) -> None:
    if report.status is not ReportStatus.DRAFT:
        raise ReportError(
            {"status": _("The report is published: issue a new version to change it.")}
        )


def update_report(session: Session, actor: User, report: ImpactReport, data: ReportText) -> None:
    """Write the draft's title and introduction and choose its stories."""
    ensure_permission(actor, Permission.MANAGE_IMPACT_REPORTS)
    _ensure_draft(report)
    errors: dict[str, str] = {}
    title = _title(data.title)
    if not title:
        errors["title"] = _("Enter the report's title.")
    elif len(title) > MAX_TITLE:
        errors["title"] = _("Use at most %(n)s characters.", n=MAX_TITLE)
    introduction = (data.introduction or "").strip() or None
    if introduction and len(introduction) > markdown.MAX_LENGTH:
        errors["introduction"] = _("Use at most %(n)s characters.", n=markdown.MAX_LENGTH)
    wanted = list(dict.fromkeys(data.story_ids))
    allowed = {story.id for story in choosable_stories(session, report)}
    kept = {link.story_id for link in report.stories}
    # A story already chosen stays choosable even if it was unpublished since (it is left out
    # of the published version, and the page says so).
    if set(wanted) - allowed - kept:
        errors["story_ids"] = _("Choose published stories about members the programme covers.")
    if errors:
        raise ReportError(errors)
    report.title = title
    report.introduction = introduction
    current = {link.story_id: link for link in report.stories}
    report.stories = [
        _positioned(current.get(story_id) or ImpactReportStory(story_id=story_id), position)
        for position, story_id in enumerate(wanted, start=1)
    ]
    session.flush()


def _positioned(link: ImpactReportStory, position: int) -> ImpactReportStory:
    link.position = position
    return link


def publish(
    session: Session, actor: User | None, report: ImpactReport, change_note: str | None = None
) -> ImpactReportVersion:
    """Freeze the report's figures, texts and published stories as its next version, and
    render its PDF once."""
    if actor is not None:
        ensure_permission(actor, Permission.MANAGE_IMPACT_REPORTS)
    _ensure_draft(report)
    note = (change_note or "").strip() or None
    number = len(report.versions) + 1
    if number > 1 and not note:
        raise ReportError({"change_note": _("Say what changed since the previous version.")})
    if note and len(note) > MAX_NOTE:
        raise ReportError({"change_note": _("Use at most %(n)s characters.", n=MAX_NOTE)})
    content = snapshot.for_report(session, report, published_only=True)
    version = ImpactReportVersion(
        number=number,
        change_note=note,
        snapshot=content,
        published_at=utcnow(),
        published_by_id=actor.id if actor is not None else None,
    )
    # Rendered before anything is written, so a slow render holds no write lock.
    version.pdf_sha256 = documents.store(
        render.pdf(content, draft=False, version=version), PDF_FOLDER
    )
    report.versions.append(version)
    report.status = ReportStatus.PUBLISHED
    session.flush()
    return version


def start_new_version(session: Session, actor: User, report: ImpactReport) -> None:
    """Reopen a published report as a draft of its next version (the published ones stay)."""
    ensure_permission(actor, Permission.MANAGE_IMPACT_REPORTS)
    if report.status is not ReportStatus.PUBLISHED:
        raise ReportError({"status": _("The report is already a draft.")})
    report.status = ReportStatus.DRAFT
    session.flush()


def abandon_new_version(session: Session, actor: User, report: ImpactReport) -> None:
    """Stop preparing a new version: its edits are dropped and the latest published version
    stays the current one (its title, introduction and stories come back)."""
    ensure_permission(actor, Permission.MANAGE_IMPACT_REPORTS)
    if report.status is not ReportStatus.DRAFT or not report.versions:
        raise ReportError({"status": _("Only a new version of a published report can be dropped.")})
    published = report.versions[-1].snapshot
    report.title = published["title"]
    report.introduction = published.get("introduction")
    still_there = set(
        session.scalars(
            select(Story.id).where(Story.id.in_([s["id"] for s in published["stories"]]))
        )
    )
    current = {link.story_id: link for link in report.stories}
    report.stories = [
        _positioned(current.get(story["id"]) or ImpactReportStory(story_id=story["id"]), n)
        for n, story in enumerate(
            (s for s in published["stories"] if s["id"] in still_there), start=1
        )
    ]
    report.status = ReportStatus.PUBLISHED
    session.flush()


def delete_report(session: Session, actor: User, report: ImpactReport) -> None:
    """Delete a report that was never published."""
    ensure_permission(actor, Permission.MANAGE_IMPACT_REPORTS)
    if report.versions:
        raise ReportError(
            {"status": _("A report that was published is kept; issue a new version instead.")}
        )
    session.delete(report)
    session.flush()


def version_pdf(version: ImpactReportVersion) -> bytes:
    """The version's PDF: the file rendered when it was published, or, if that file is gone
    (e.g. a new server without the upload folder), the same snapshot rendered again. Reading
    never writes: restore the upload folder to serve the original files again."""
    if version.pdf_sha256:
        path = documents.stored_path(version.pdf_sha256, PDF_FOLDER)
        if path.is_file():
            return path.read_bytes()
    return render.pdf(version.snapshot, draft=False, version=version)
