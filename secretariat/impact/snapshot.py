"""Everything an impact report shows, gathered in one JSON-ready dictionary.

A draft is built afresh on every view; publishing stores the dictionary in the version, so a
published report is rendered from what it held that day and later changes to the records do
not alter it. Every output (page, PDF, data pack) is rendered from this dictionary alone.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from secretariat import markdown
from secretariat.db import utcnow
from secretariat.funding.models import Grant, Programme, ProgrammeIndicator
from secretariat.impact import queries
from secretariat.impact.models import ImpactReport, ImpactReportStory
from secretariat.impact.periods import Period, parse_period
from secretariat.stories.models import Story, StoryMember, StoryStatus

#: Bumped when the dictionary's shape changes, so old versions can still be read.
SCHEMA = 1


def load_programme(session: Session, programme_id: int) -> Programme | None:
    """The programme with what a report reads of it, in a bounded number of statements."""
    return session.scalar(
        select(Programme)
        .where(Programme.id == programme_id)
        .options(
            selectinload(Programme.indicators).joinedload(ProgrammeIndicator.indicator),
            selectinload(Programme.grants).joinedload(Grant.funder),
            selectinload(Programme.lead),
            selectinload(Programme.group),
        )
    )


def _stories(session: Session, report: ImpactReport | None, published_only: bool) -> list[dict]:
    if report is None or report.id is None:
        return []
    chosen = session.scalars(
        select(ImpactReportStory)
        .where(ImpactReportStory.report_id == report.id)
        .order_by(ImpactReportStory.position, ImpactReportStory.id)
        .options(
            selectinload(ImpactReportStory.story)
            .selectinload(Story.members)
            .joinedload(StoryMember.member)
        )
    ).all()
    result = []
    for link in chosen:
        story = link.story
        if published_only and story.status is not StoryStatus.PUBLISHED:
            continue
        result.append(
            {
                "id": story.id,
                "title": story.title,
                "status": story.status.value,
                "members": sorted(m.member.name for m in story.members),
                "narrative_html": str(markdown.render(story.narrative)),
                "narrative_text": markdown.plain(story.narrative),
                "quote": story.quote,
                "attribution": story.quote_attribution,
                "image": (
                    {"sha256": story.image_sha256, "type": story.image_type, "alt": story.image_alt}
                    if story.image_sha256
                    else None
                ),
            }
        )
    return result


def build(
    session: Session,
    programme: Programme,
    period: Period,
    report: ImpactReport | None = None,
    *,
    published_only: bool = False,
) -> dict[str, Any]:
    """The report's content as of now (``report`` gives its texts and chosen stories)."""
    scope = queries.scope_of(session, programme, period)
    data = queries.figures(session, programme, scope)
    appendix = {}
    for key in queries.APPENDIX:
        headings, rows = queries.records(session, key, data["lists"][key])
        appendix[key] = {"headings": headings, "rows": [row.cells for row in rows]}
    introduction = report.introduction if report is not None else None
    funders = sorted({grant.funder.name for grant in programme.grants})
    return {
        "schema": SCHEMA,
        "title": report.title if report is not None else default_title(programme, period),
        "introduction": introduction,
        "introduction_html": str(markdown.render(introduction)),
        "programme": {
            "id": programme.id,
            "name": programme.name,
            "slug": programme.slug,
            "description": programme.description,
            "starts_on": programme.starts_on.isoformat(),
            "ends_on": programme.ends_on.isoformat(),
            "coverage": programme.coverage.value,
            "group": programme.group.name if programme.group is not None else None,
            "lead": programme.lead.name if programme.lead is not None else None,
            "funders": funders,
        },
        "period": {
            "label": period.label,
            "start": scope.period.start.isoformat(),
            "end": scope.period.end.isoformat(),
        },
        "computed_at": utcnow().isoformat(timespec="seconds"),
        "size_labels": queries.size_labels(),
        "list_titles": queries.list_titles(),
        **data,
        "stories": _stories(session, report, published_only),
        "appendix": appendix,
    }


def default_title(programme: Programme, period: Period) -> str:
    return _(
        "%(programme)s: impact report %(period)s", programme=programme.name, period=period.label
    )


def for_report(session: Session, report: ImpactReport, *, published_only: bool = False) -> dict:
    period = parse_period(report.period)
    programme = load_programme(session, report.programme_id)
    assert period is not None and programme is not None
    return build(session, programme, period, report, published_only=published_only)
