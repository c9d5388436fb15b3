"""Publishing impact reports: frozen versions, the draft/published lifecycle, the stories a
report may show, and who may do any of it."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from secretariat.db import utcnow
from secretariat.exchanges.models import ExchangeStatus
from secretariat.funding.models import Coverage
from secretariat.impact import services, snapshot
from secretariat.impact.models import (
    ImpactReport,
    ImpactReportStory,
    ImpactReportVersion,
    ReportStatus,
)
from secretariat.impact.services import ReportError, ReportText
from secretariat.permissions import OutOfScope
from secretariat.stories import services as stories
from secretariat.stories.models import Story, StoryStatus
from tests.factories import MemberFactory, PeerExchangeFactory, UserFactory
from tests.funding.factories import ProgrammeFactory
from tests.impact.factories import known_world, pdf_text, programme, squeeze, story
from tests.stories.factories import StoryFactory

DEFAULT_TITLE = "Clean Air Cities: impact report 2026"


@pytest.fixture
def world(db):
    return known_world(db)


@pytest.fixture
def report(db, world):
    return services.create_report(db, world.staff, world.programme.id, "2026")


@pytest.fixture
def light(db):
    """A programme (2025-2027) covering one member, and a member of staff: enough for the
    checks that read no figures."""
    member = MemberFactory(name="Aveiro")
    return SimpleNamespace(
        a=member,
        staff=UserFactory(name="Sam Staff"),
        programme=programme(db, members=[member]),
    )


def fresh_version(db, version_id: int) -> ImpactReportVersion:
    """The version read again from the database."""
    db.expire_all()
    return db.get(ImpactReportVersion, version_id)


def report_count(db) -> int:
    return db.scalar(select(func.count()).select_from(ImpactReport))


# --- a published version is frozen ----------------------------------------------------------


def test_a_published_version_keeps_its_figures_and_stories_after_the_records_change(
    db, world, report
):
    w, staff = world, world.staff
    tram = story([w.a], "Trams return to Aveiro")
    services.update_report(
        db, staff, report, ReportText(title="Clean air 2026", story_ids=[tram.id])
    )
    first = services.publish(db, staff, report)

    # The records change: a new exchange, B moves to Africa (A->B is now across regions), and
    # the story is taken out of the next version and deleted.
    PeerExchangeFactory(
        from_member=w.b,
        to_member=w.c,
        occurred_on=w.exchanges["a_b"].occurred_on,
        status=ExchangeStatus.CONFIRMED,
    )
    w.b.region = w.africa
    db.flush()
    services.start_new_version(db, staff, report)
    bikes = story([w.b], "Bike lanes in Braga")
    services.update_report(
        db, staff, report, ReportText(title="Clean air 2026", story_ids=[bikes.id])
    )
    stories.unpublish_story(db, staff, tram)
    stories.delete_story(db, staff, tram)
    assert db.get(Story, tram.id) is None
    second = services.publish(db, staff, report, "B moved to Africa; one more exchange.")

    old, new = fresh_version(db, first.id).snapshot, fresh_version(db, second.id).snapshot
    assert old["exchanges"] == {"total": 3, "cross_region": 1, "cross_region_share": "0.3333"}
    assert new["exchanges"] == {"total": 4, "cross_region": 2, "cross_region_share": "0.5000"}
    assert [(r["region"], r["total"]) for r in old["members"]["by_region"]] == [
        ("Europe", 2),
        ("Africa", 2),
    ]
    assert [(r["region"], r["total"]) for r in new["members"]["by_region"]] == [
        ("Europe", 1),
        ("Africa", 3),
    ]
    assert len(old["lists"]["exchanges"]) == 3
    assert [row[-1] for row in old["appendix"]["exchanges"]["rows"]] == ["Yes", "No", "No"]
    assert ["Braga", "PT", "Europe", "Medium-sized cities"] in old["appendix"]["members"]["rows"]
    assert ["Braga", "PT", "Africa", "Medium-sized cities"] in new["appendix"]["members"]["rows"]
    assert [s["title"] for s in old["stories"]] == ["Trams return to Aveiro"]
    assert [s["title"] for s in new["stories"]] == ["Bike lanes in Braga"]

    # The PDFs say the same: version 1's file is the one rendered when it was published.
    old_pdf = squeeze(pdf_text(services.version_pdf(fresh_version(db, first.id))))
    new_pdf = squeeze(pdf_text(services.version_pdf(fresh_version(db, second.id))))
    assert "Peerexchanges(confirmed)3ofwhichacrossregions1(33.3%)" in old_pdf
    assert "Peerexchanges(confirmed)4ofwhichacrossregions2(50%)" in new_pdf
    assert "Europe11002Africa00112" in old_pdf
    assert "Europe10001Africa01113" in new_pdf
    assert "TramsreturntoAveiro" in old_pdf
    assert "TramsreturntoAveiro" not in new_pdf
    assert "BikelanesinBraga" in new_pdf
    assert "Whatchangedinthisversion:BmovedtoAfrica;onemoreexchange." in new_pdf


# --- the lifecycle --------------------------------------------------------------------------


def test_the_lifecycle_of_a_report(db, world, report):
    staff = world.staff
    assert (report.status, report.title, report.period) == (
        ReportStatus.DRAFT,
        DEFAULT_TITLE,
        "2026",
    )
    assert (report.period_start.isoformat(), report.period_end.isoformat()) == (
        "2026-01-01",
        "2026-12-31",
    )

    first = services.publish(db, staff, report)
    assert (first.number, first.change_note, first.published_by_id) == (1, None, staff.id)
    assert first.pdf_sha256 is not None
    assert report.status is ReportStatus.PUBLISHED

    # Published: not written to, not published again, nothing to drop, not deleted.
    for refused in (
        lambda: services.update_report(db, staff, report, ReportText(title="Changed")),
        lambda: services.publish(db, staff, report, "Again"),
        lambda: services.abandon_new_version(db, staff, report),
        lambda: services.delete_report(db, staff, report),
    ):
        with pytest.raises(ReportError) as refusal:
            refused()
        assert list(refusal.value.errors) == ["status"]
    assert report.title == DEFAULT_TITLE

    services.start_new_version(db, staff, report)
    assert report.status is ReportStatus.DRAFT
    with pytest.raises(ReportError) as again:
        services.start_new_version(db, staff, report)
    assert again.value.errors == {"status": "The report is already a draft."}
    services.update_report(db, staff, report, ReportText(title="Clean air 2026, revised"))

    # A later version says what changed.
    for note in (None, "", "   \n "):
        with pytest.raises(ReportError) as missing:
            services.publish(db, staff, report, note)
        assert missing.value.errors == {
            "change_note": "Say what changed since the previous version."
        }
    with pytest.raises(ReportError) as too_long:
        services.publish(db, staff, report, "x" * (services.MAX_NOTE + 1))
    assert list(too_long.value.errors) == ["change_note"]
    assert (report.status, len(report.versions)) == (ReportStatus.DRAFT, 1)
    # A report that was published is kept, even while a new version is prepared.
    with pytest.raises(ReportError) as kept:
        services.delete_report(db, staff, report)
    assert list(kept.value.errors) == ["status"]

    services.abandon_new_version(db, staff, report)
    assert (report.status, len(report.versions)) == (ReportStatus.PUBLISHED, 1)
    assert report.title == DEFAULT_TITLE

    services.start_new_version(db, staff, report)
    services.update_report(db, staff, report, ReportText(title="Clean air 2026, revised"))
    second = services.publish(db, staff, report, "  Corrected the title.  ")
    assert (second.number, second.change_note) == (2, "Corrected the title.")

    db.expire_all()
    reread = db.get(ImpactReport, report.id)
    assert reread.status is ReportStatus.PUBLISHED
    assert [(v.number, v.snapshot["title"]) for v in reread.versions] == [
        (1, DEFAULT_TITLE),
        (2, "Clean air 2026, revised"),
    ]


def test_a_report_never_published_can_be_deleted_with_its_chosen_stories(db, world, report):
    tram = story([world.a], "Trams return to Aveiro")
    services.update_report(db, world.staff, report, ReportText(title="Draft", story_ids=[tram.id]))
    report_id = report.id

    services.delete_report(db, world.staff, report)

    assert db.get(ImpactReport, report_id) is None
    assert (
        db.scalars(select(ImpactReportStory).where(ImpactReportStory.report_id == report_id)).all()
        == []
    )
    assert db.get(Story, tram.id) is not None


def test_a_draft_cannot_be_dropped_before_its_first_publication(db, world, report):
    with pytest.raises(ReportError) as refusal:
        services.abandon_new_version(db, world.staff, report)

    assert list(refusal.value.errors) == ["status"]
    assert report.status is ReportStatus.DRAFT


def test_dropping_a_new_version_drops_its_changes(db, world, report):
    tram = story([world.a], "Trams return to Aveiro")
    services.update_report(
        db,
        world.staff,
        report,
        ReportText(title="Clean air 2026", introduction="As published.", story_ids=[tram.id]),
    )
    version = services.publish(db, world.staff, report)
    services.start_new_version(db, world.staff, report)
    services.update_report(
        db,
        world.staff,
        report,
        ReportText(title="A title never published", introduction="Dropped."),
    )

    services.abandon_new_version(db, world.staff, report)

    assert (report.title, report.introduction) == ("Clean air 2026", "As published.")
    assert [link.story_id for link in report.stories] == [tram.id]
    assert report.title == version.snapshot["title"]


# --- stories --------------------------------------------------------------------------------


def test_only_published_stories_about_covered_members_can_be_chosen(db, world, report):
    w = world
    now = utcnow()
    about_a = story([w.a], "About A", published_at=now - timedelta(days=2))
    about_a_and_e = story([w.a, w.e], "About A and E", published_at=now - timedelta(days=1))
    about_e = story([w.e], "About E only", published_at=now)
    draft = StoryFactory(members=[w.a], title="Draft about A", status=StoryStatus.DRAFT)
    approved = StoryFactory(members=[w.b], title="Approved about B", status=StoryStatus.APPROVED)

    assert services.choosable_stories(db, report) == [about_a_and_e, about_a]
    for refused in (about_e, draft, approved):
        with pytest.raises(ReportError) as refusal:
            services.update_report(
                db, w.staff, report, ReportText(title="Changed", story_ids=[refused.id])
            )
        assert refusal.value.errors == {
            "story_ids": "Choose published stories about members the programme covers."
        }
    with pytest.raises(ReportError):
        services.update_report(
            db, w.staff, report, ReportText(title="Changed", story_ids=[about_a.id, 999_999])
        )
    assert (report.title, report.stories) == (DEFAULT_TITLE, [])

    services.update_report(
        db,
        w.staff,
        report,
        ReportText(title="  Clean   air  ", story_ids=[about_a_and_e.id, about_a.id, about_a.id]),
    )
    assert report.title == "Clean air"
    assert [(link.story_id, link.position) for link in report.stories] == [
        (about_a_and_e.id, 1),
        (about_a.id, 2),
    ]
    assert [s["title"] for s in snapshot.for_report(db, report)["stories"]] == [
        "About A and E",
        "About A",
    ]


def test_a_programme_covering_nobody_offers_no_story(db, light):
    nobody = ProgrammeFactory(name="Nobody", coverage=Coverage.CHOSEN)
    empty = services.create_report(db, light.staff, nobody.id, "2026")
    story([light.a], "About A")

    assert services.choosable_stories(db, empty) == []


def test_an_unpublished_story_is_left_out_of_the_published_version(db, world, report):
    staff = world.staff
    kept = story([world.a], "Trams return to Aveiro", narrative="The first tram ran in May.")
    withdrawn = story([world.c], "Cotonou bus corridors")
    services.update_report(
        db, staff, report, ReportText(title="Clean air 2026", story_ids=[kept.id, withdrawn.id])
    )
    stories.unpublish_story(db, staff, withdrawn)

    # Still in the draft (marked), and still choosable since it was chosen before.
    draft = snapshot.for_report(db, report)
    assert [(s["title"], s["status"]) for s in draft["stories"]] == [
        ("Trams return to Aveiro", "published"),
        ("Cotonou bus corridors", "approved"),
    ]
    services.update_report(
        db, staff, report, ReportText(title="Clean air 2026", story_ids=[kept.id, withdrawn.id])
    )

    version = services.publish(db, staff, report)

    assert [s["title"] for s in fresh_version(db, version.id).snapshot["stories"]] == [
        "Trams return to Aveiro"
    ]
    text = squeeze(pdf_text(services.version_pdf(version)))
    assert "TramsreturntoAveiro" in text
    assert "Cotonoubuscorridors" not in text

    # Editing the story afterwards leaves the version as it was.
    kept.title, kept.narrative = "Trams everywhere", "Rewritten."
    db.flush()
    [frozen] = fresh_version(db, version.id).snapshot["stories"]
    assert (frozen["title"], frozen["narrative_text"]) == (
        "Trams return to Aveiro",
        "The first tram ran in May.",
    )


# --- creating a report ----------------------------------------------------------------------

PERIOD_FORMAT = "Enter a year (2025) or a half-year (2025-H1 or 2025-H2)."
OUTSIDE = "The programme runs from 2025-01-01 to 2027-12-31: choose a period within it."


@pytest.mark.parametrize(
    ("period", "message"),
    [
        (None, PERIOD_FORMAT),
        ("", PERIOD_FORMAT),
        ("2026-H3", PERIOD_FORMAT),
        ("2026-Q1", PERIOD_FORMAT),
        ("next year", PERIOD_FORMAT),
        ("2024", OUTSIDE),
        ("2024-H2", OUTSIDE),
        ("2028", OUTSIDE),
        ("2028-H1", OUTSIDE),
    ],
)
def test_create_report_refuses_a_bad_period(db, light, period, message):
    before = report_count(db)
    with pytest.raises(ReportError) as refusal:
        services.create_report(db, light.staff, light.programme.id, period)

    assert refusal.value.errors == {"period": message}
    assert report_count(db) == before


def test_create_report_refuses_a_second_report_of_the_same_period(db, light):
    services.create_report(db, light.staff, light.programme.id, "2026")
    with pytest.raises(ReportError) as refusal:
        services.create_report(db, light.staff, light.programme.id, " 2026 ")
    assert refusal.value.errors == {
        "period": "This programme already has a report for 2026: open it and issue a new "
        "version instead."
    }

    half = services.create_report(db, light.staff, light.programme.id, "2026-h1")
    other = programme(db, name="Other programme", members=[light.a])
    same_year = services.create_report(db, None, other.id, "2026", "  Other   2026 ")
    assert (half.period, half.title) == ("2026-H1", "Clean Air Cities: impact report 2026-H1")
    assert (same_year.period, same_year.title, same_year.created_by_id) == (
        "2026",
        "Other 2026",
        None,
    )


@pytest.mark.parametrize("programme_id", [None, 0, 999_999])
def test_create_report_needs_a_programme(db, light, programme_id):
    with pytest.raises(ReportError) as refusal:
        services.create_report(db, light.staff, programme_id, "2026")

    assert refusal.value.errors == {"programme_id": "Choose the programme."}


def test_create_report_checks_every_field_at_once(db, light):
    before = report_count(db)
    with pytest.raises(ReportError) as refusal:
        services.create_report(db, light.staff, None, "soon", "x" * (services.MAX_TITLE + 1))

    assert set(refusal.value.errors) == {"programme_id", "period", "title"}
    assert report_count(db) == before


def test_update_report_needs_a_title(db, light):
    report = services.create_report(db, light.staff, light.programme.id, "2026")
    for title in ("", "   ", "x" * (services.MAX_TITLE + 1)):
        with pytest.raises(ReportError) as refusal:
            services.update_report(db, light.staff, report, ReportText(title=title))
        assert list(refusal.value.errors) == ["title"]
    assert report.title == DEFAULT_TITLE


# --- permissions ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["focal_point", "funder_user"])
def test_only_staff_create_write_publish_or_delete_reports(db, light, role):
    report = services.create_report(db, light.staff, light.programme.id, "2026")
    outsider = UserFactory(**{role: True})
    if role == "focal_point":
        outsider.member = light.a  # even the focal point of a covered member
        db.flush()
    tram = story([light.a], "Trams return to Aveiro")

    for call in (
        lambda: services.create_report(db, outsider, light.programme.id, "2027"),
        lambda: services.update_report(
            db, outsider, report, ReportText(title="Mine", story_ids=[tram.id])
        ),
        lambda: services.publish(db, outsider, report),
        lambda: services.delete_report(db, outsider, report),
        lambda: services.abandon_new_version(db, outsider, report),
        lambda: services.start_new_version(db, outsider, report),
    ):
        with pytest.raises(OutOfScope):
            call()

    db.expire_all()
    reread = db.get(ImpactReport, report.id)
    assert (reread.status, reread.title, reread.stories, reread.versions) == (
        ReportStatus.DRAFT,
        DEFAULT_TITLE,
        [],
        [],
    )
    assert report_count(db) == 1


def test_an_admin_may_manage_reports(db, light):
    admin = UserFactory(admin=True)

    created = services.create_report(db, admin, light.programme.id, "2025-H2")

    assert created.created_by_id == admin.id
    assert snapshot.for_report(db, created)["members"]["total"] == 1
