"""Factories and shared data of the story tests (bound like tests/factories.py)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

import factory
from PIL import Image

from secretariat.accounts.models import User
from secretariat.db import utcnow
from secretariat.funding.models import Coverage, Programme
from secretariat.impact.models import ImpactReport, ImpactReportStory, ReportStatus
from secretariat.members.models import Member
from secretariat.stories.models import Story, StoryEvidence, StoryMember, StoryStatus
from tests.factories import Base, FunderFactory, MemberFactory, UserFactory


class StoryFactory(Base):
    """A draft about one new member, unless ``members=[...]`` says which."""

    class Meta:
        model = Story

    title = factory.Sequence(lambda n: f"Story {n}")
    narrative = "Lisbon's tram depot inspired **Nairobi** to redesign its bus corridors."
    quote = "We saw it working and knew we could do it too."
    quote_attribution = "Ana Silva, Deputy Mayor"
    status = StoryStatus.DRAFT

    @factory.post_generation
    def members(self, create, extracted, **kwargs):
        for member in [MemberFactory()] if extracted is None else extracted:
            StoryMemberFactory(story=self, member=member)


class StoryMemberFactory(Base):
    class Meta:
        model = StoryMember

    story = factory.SubFactory(StoryFactory, members=[])
    member = factory.SubFactory(MemberFactory)


class StoryEvidenceFactory(Base):
    class Meta:
        model = StoryEvidence

    story = factory.SubFactory(StoryFactory)


def approve_all(story: Story, approver: User | None = None, *, publish: bool = False) -> Story:
    """Mark every member's approval (and publication) directly, for read tests."""
    for row in story.members:
        row.approved_at = utcnow()
        row.approved_by = approver
    story.status = StoryStatus.PUBLISHED if publish else StoryStatus.APPROVED
    if publish:
        story.published_at = utcnow()
    return story


def choose_for_report(session, story: Story) -> ImpactReportStory:
    """Put the story in a new impact report's draft."""
    programme = Programme(
        name="Clean air",
        slug=f"clean-air-{story.id}",
        starts_on=date(2025, 1, 1),
        ends_on=date(2027, 12, 31),
        coverage=Coverage.ALL,
    )
    report = ImpactReport(
        programme=programme,
        period="2025",
        period_start=date(2025, 1, 1),
        period_end=date(2025, 12, 31),
        title="Clean air 2025",
        status=ReportStatus.DRAFT,
    )
    chosen = ImpactReportStory(report=report, story=story)
    session.add_all([programme, report, chosen])
    session.flush()
    return chosen


def picture(
    image_format: str = "PNG", size: tuple[int, int] = (40, 30), mode: str = "RGB"
) -> bytes:
    """A real picture made with Pillow."""
    buffer = io.BytesIO()
    Image.new(mode, size, color=0 if mode == "1" else (30, 120, 200)).save(
        buffer, format=image_format
    )
    return buffer.getvalue()


SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script><rect width='10' height='10'/></svg>"
)
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


@dataclass
class World:
    lisbon: Member
    nairobi: Member
    porto: Member
    staff: User
    admin: User
    #: Focal points of Lisbon, Nairobi and Porto (Porto is in none of the stories below).
    lisbon_fp: User
    nairobi_fp: User
    porto_fp: User
    funder: User


def make_world(session) -> World:
    lisbon = MemberFactory(name="Lisbon", slug="lisbon")
    nairobi = MemberFactory(name="Nairobi", slug="nairobi", country="KE")
    porto = MemberFactory(name="Porto", slug="porto")
    world = World(
        lisbon=lisbon,
        nairobi=nairobi,
        porto=porto,
        staff=UserFactory(name="Sam Staff"),
        admin=UserFactory(admin=True, name="Ada Admin"),
        lisbon_fp=UserFactory(focal_point=True, member=lisbon, name="Lia Lisbon"),
        nairobi_fp=UserFactory(focal_point=True, member=nairobi, name="Nia Nairobi"),
        porto_fp=UserFactory(focal_point=True, member=porto, name="Pia Porto"),
        funder=UserFactory(funder_user=True, funder=FunderFactory(), name="Fay Funder"),
    )
    session.flush()
    return world
