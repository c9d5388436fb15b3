"""Demo funding: a programme paid for by the demo funder, with last year's impact report
published (stories are added by the stories demo once they exist)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from secretariat.accounts.models import User
from secretariat.funding import services as funding
from secretariat.funding.models import Coverage, Frequency, Funder, Programme
from secretariat.impact import services as impact
from secretariat.indicators.models import Indicator
from secretariat.members.models import Member
from secretariat.stories import services as stories
from secretariat.stories.models import StoryStatus

PROGRAMME_SLUG = "climate-action-accelerator"
#: (indicator code, programme target).
INDICATORS = [("RE-SHARE", "50"), ("CAP", "40"), ("PEER-EXCHANGES", "45"), ("GHG-PC", "4.5")]

INTRODUCTION = """\
The Climate Action Accelerator helps member cities turn their climate commitments into
delivered projects, through peer exchanges, technical assistance and shared reporting.

This report covers **{year}**: the members the programme supports, what they did together,
and how far the network's climate indicators moved against the programme's targets.
"""


#: (title, member slugs, narrative, quote, attribution, published?)
STORIES = [
    (
        "Lisbon keeps its schools cool",
        ["lisbon"],
        "After the 2024 heatwaves, Lisbon mapped the hottest classrooms with a network of "
        "low-cost sensors and planted shade trees in **40 school yards**.\n\n"
        "- Peak classroom temperatures fell by 3 °C in the first summer.\n"
        "- The method is now part of the city's climate action plan.",
        "The children noticed before the sensors did.",
        "A head teacher in Marvila",
        True,
    ),
    (
        "Nairobi learns from Lisbon's bus corridors",
        ["lisbon", "nairobi"],
        "A study visit to Lisbon's dedicated bus corridors gave Nairobi's transport team the "
        "evidence it needed to propose two corridors of its own, now in the city budget.",
        "Seeing it work convinced our council in one afternoon.",
        "Nairobi's head of urban mobility",
        True,
    ),
    (
        "Lisbon's solar roofs for social housing",
        ["lisbon"],
        "Lisbon is fitting solar panels on social housing blocks, with tenants sharing the "
        "savings. A draft waiting for the focal point's approval.",
        None,
        None,
        False,
    ),
]


def _stories(session: Session, staff: User, focal_points: list[User]) -> list[int]:
    """The demo's stories through the same steps as the pages; the published ones' ids."""
    slugs = {slug for _t, members, *_rest in STORIES for slug in members}
    member_ids = dict(
        session.execute(select(Member.slug, Member.id).where(Member.slug.in_(slugs))).all()
    )
    published = []
    for title, members, narrative, quote, attribution, publish in STORIES:
        if any(slug not in member_ids for slug in members):
            continue
        story = stories.create_story(
            session,
            staff,
            stories.StoryData(
                title=title,
                member_ids=[member_ids[slug] for slug in members],
                narrative=narrative,
                quote=quote,
                quote_attribution=attribution,
            ),
        )
        if not publish:
            continue
        for focal in focal_points:
            if focal.member_id in {member_ids[slug] for slug in members}:
                stories.approve_story(session, focal, story)
        if story.status is StoryStatus.APPROVED:
            stories.publish_story(session, staff, story)
            published.append(story.id)
    return published


def load_funding(
    session: Session, staff: User, funder: Funder, focal_points: list[User], today: date
) -> dict[str, int]:
    """Add the programme, its grant, stories and last year's published report if missing."""
    if session.scalar(select(Programme.id).where(Programme.slug == PROGRAMME_SLUG)):
        return {"programmes_added": 0}
    indicator_ids = dict(
        session.execute(
            select(Indicator.code, Indicator.id).where(
                Indicator.code.in_([code for code, _ in INDICATORS])
            )
        ).all()
    )
    programme = funding.create_programme(
        session,
        staff,
        funding.ProgrammeData(
            name="Climate Action Accelerator",
            description=(
                "Peer learning and technical assistance for member cities delivering their "
                "climate action plans."
            ),
            starts_on=date(today.year - 1, 1, 1),
            ends_on=date(today.year + 1, 12, 31),
            coverage=Coverage.ALL,
            lead_id=staff.id,
            indicators=[
                (indicator_ids[code], target)
                for code, target in INDICATORS
                if code in indicator_ids
            ],
        ),
    )
    programme.slug = PROGRAMME_SLUG
    grant = funding.create_grant(
        session,
        staff,
        funding.GrantData(
            funder_id=funder.id,
            programme_id=programme.id,
            amount="1200000",
            currency="EUR",
            starts_on=programme.starts_on,
            ends_on=programme.ends_on,
            frequency=Frequency.ANNUAL,
            reference="BHF-2025-017",
        ),
    )
    story_ids = _stories(session, staff, focal_points)
    report = impact.create_report(session, staff, programme.id, str(today.year - 1))
    impact.update_report(
        session,
        staff,
        report,
        impact.ReportText(
            title=report.title,
            introduction=INTRODUCTION.format(year=today.year - 1),
            story_ids=story_ids,
        ),
    )
    impact.publish(session, staff, report)
    # Last year's report went to the funder in February.
    for due in grant.reports:
        if due.period_end == report.period_end and due.period_end < today:
            funding.mark_report_sent(session, staff, due, min(today, date(today.year, 2, 20)))
    return {"programmes_added": 1}
