"""Story services: writing, validation, approvals, publication, evidence, images, deletion."""

from __future__ import annotations

import zlib

import pytest
from sqlalchemy import func, select

from secretariat.events.models import Attendance, AttendanceSource
from secretariat.members.services import ValidationFailed
from secretariat.permissions import OutOfScope
from secretariat.stories import images, services
from secretariat.stories.models import EvidenceKind, Story, StoryMember, StoryStatus
from tests.agreements.factories import SECRETARIAT, AgreementFactory
from tests.factories import (
    CommitmentFactory,
    EventFactory,
    MemberFactory,
    PeerExchangeFactory,
)
from tests.stories.factories import (
    HTML,
    SVG,
    StoryFactory,
    approve_all,
    choose_for_report,
    make_world,
    picture,
)


@pytest.fixture
def world(db):
    return make_world(db)


def data(members, **overrides) -> services.StoryData:
    values = {
        "title": "Trams for Nairobi",
        "member_ids": [m.id for m in members],
        "narrative": "After a study visit to Lisbon, Nairobi **redesigned** its bus corridors.",
        "quote": "We saw it working.",
        "quote_attribution": "Ana Silva, Deputy Mayor of Lisbon",
    }
    values.update(overrides)
    return services.StoryData(**values)


def count(db) -> int:
    return db.scalar(select(func.count()).select_from(Story))


def refused_create(db, actor, story_data) -> dict[str, str]:
    before = count(db)
    with pytest.raises(ValidationFailed) as caught:
        services.create_story(db, actor, story_data)
    assert count(db) == before
    return caught.value.errors


def edited(db, world, story, **overrides) -> bool:
    """Save the story with some fields changed (the rest as they are)."""
    values = {
        "title": story.title,
        "member_ids": [row.member_id for row in story.members],
        "narrative": story.narrative,
        "quote": story.quote,
        "quote_attribution": story.quote_attribution,
        "image_alt": story.image_alt,
    }
    values.update(overrides)
    return services.update_story(db, world.staff, story, services.StoryData(**values))


@pytest.fixture
def story(db, world) -> Story:
    """A draft about Lisbon and Nairobi, written through the service."""
    return services.create_story(db, world.staff, data([world.lisbon, world.nairobi]))


# -- writing and validation ------------------------------------------------------------------


def test_staff_write_a_draft_about_members(db, world, story):
    assert story.status is StoryStatus.DRAFT
    assert story.created_by_id == world.staff.id
    assert [row.member_id for row in story.members] == [world.lisbon.id, world.nairobi.id]
    assert all(row.approved_at is None for row in story.members)
    assert story.image_sha256 is None


def test_text_is_cleaned(db, world):
    story = services.create_story(
        db,
        world.staff,
        data(
            [world.lisbon, world.lisbon],
            title="  Trams   for\tNairobi ",
            narrative="\r\nFirst paragraph.\r\n\r\nSecond.\r\n",
        ),
    )
    assert story.title == "Trams for Nairobi"
    assert story.narrative == "First paragraph.\n\nSecond."
    assert len(story.members) == 1


def test_every_problem_is_reported_at_once_and_nothing_is_written(db, world):
    errors = refused_create(
        db,
        world.staff,
        services.StoryData(
            title="  ",
            member_ids=[],
            narrative="",
            quote="Without a name",
            quote_attribution=None,
        ),
    )
    assert errors == {
        "title": "Enter the story's title.",
        "member_ids": "Choose at least one member the story is about.",
        "narrative": "Tell the story: the narrative cannot be empty.",
        "quote_attribution": "Say who said it, e.g. “Ana Silva, Deputy Mayor of Lisbon”.",
    }


def test_limits_and_control_characters(db, world):
    errors = refused_create(
        db,
        world.staff,
        data(
            [world.lisbon],
            title="x" * 201,
            narrative="y" * 50_001,
            quote="Bidi \u202e trick",
            quote_attribution="z" * 201,
        ),
    )
    assert errors == {
        "title": "Use at most 200 characters (now 201).",
        "narrative": "Use at most 50,000 characters (now 50,001).",
        "quote": "Remove the invisible control characters.",
        "quote_attribution": "Use at most 200 characters (now 201).",
    }
    # The longest narrative allowed is accepted.
    story = services.create_story(db, world.staff, data([world.lisbon], narrative="y" * 50_000))
    assert len(story.narrative) == 50_000


def test_an_attribution_needs_a_quote_and_unknown_members_are_refused(db, world):
    errors = refused_create(
        db, world.staff, data([world.lisbon], quote=None, member_ids=[world.lisbon.id, 999_999])
    )
    assert errors == {
        "quote": "Enter the quote, or leave the attribution empty.",
        "member_ids": "A chosen member no longer exists; reload the page.",
    }


def test_only_staff_write_stories(db, world, story):
    for user in (world.lisbon_fp, world.funder):
        with pytest.raises(OutOfScope):
            services.create_story(db, user, data([world.lisbon]))
        with pytest.raises(OutOfScope):
            services.update_story(db, user, story, data([world.lisbon], title="Changed"))
    assert story.title == "Trams for Nairobi"
    admin_story = services.create_story(db, world.admin, data([world.porto]))
    assert admin_story.created_by_id == world.admin.id


# -- the lifecycle ---------------------------------------------------------------------------


def test_lifecycle_from_draft_to_published_and_back(db, world, story):
    services.approve_story(db, world.lisbon_fp, story)
    lisbon_row, nairobi_row = story.members
    assert lisbon_row.approved_by_id == world.lisbon_fp.id and lisbon_row.approved_at
    assert nairobi_row.approved_at is None
    assert story.status is StoryStatus.DRAFT

    with pytest.raises(ValidationFailed) as caught:
        services.publish_story(db, world.staff, story)
    assert caught.value.errors == {
        "story": "Only an approved story can be published; it still waits for the approval "
        "of Nairobi."
    }

    services.approve_story(db, world.nairobi_fp, story)
    assert story.status is StoryStatus.APPROVED

    services.publish_story(db, world.staff, story)
    assert story.status is StoryStatus.PUBLISHED
    assert story.published_by_id == world.staff.id and story.published_at is not None
    with pytest.raises(ValidationFailed):
        services.publish_story(db, world.staff, story)

    services.unpublish_story(db, world.staff, story)
    assert story.status is StoryStatus.APPROVED
    assert story.published_at is None and story.published_by_id is None
    with pytest.raises(ValidationFailed):
        services.unpublish_story(db, world.staff, story)

    services.publish_story(db, world.admin, story)
    assert story.status is StoryStatus.PUBLISHED and story.published_by_id == world.admin.id


@pytest.mark.parametrize(
    "change",
    [
        {"title": "A new title"},
        {"narrative": "A new narrative."},
        {"quote": "Other words."},
        {"quote_attribution": "Someone else"},
        {"image": picture(), "image_alt": "A blue square"},
    ],
)
@pytest.mark.parametrize("publish", [False, True])
def test_edits_of_what_members_approved_clear_every_approval(db, world, story, change, publish):
    services.approve_story(db, world.lisbon_fp, story)
    services.approve_story(db, world.nairobi_fp, story)
    if publish:
        services.publish_story(db, world.staff, story)
    assert edited(db, world, story, **change) is True
    assert story.status is StoryStatus.DRAFT
    assert story.published_at is None and story.published_by_id is None
    assert all(row.approved_at is None and row.approved_by_id is None for row in story.members)


def test_saving_unchanged_or_evidence_only_keeps_the_approvals(db, world, story):
    exchange = PeerExchangeFactory(from_member=world.lisbon, to_member=world.nairobi)
    services.approve_story(db, world.lisbon_fp, story)
    services.approve_story(db, world.nairobi_fp, story)
    assert edited(db, world, story) is False
    assert edited(db, world, story, evidence={EvidenceKind.EXCHANGE: [exchange.id]}) is False
    assert story.status is StoryStatus.APPROVED
    assert [item.exchange_id for item in story.evidence] == [exchange.id]


def test_an_edit_of_a_draft_without_approvals_reports_nothing_cleared(db, world, story):
    assert edited(db, world, story, title="Better title") is False
    assert story.title == "Better title"


def test_removing_a_member_removes_its_approval_row(db, world, story):
    services.approve_story(db, world.lisbon_fp, story)
    services.approve_story(db, world.nairobi_fp, story)
    assert edited(db, world, story, member_ids=[world.lisbon.id]) is True
    rows = db.scalars(select(StoryMember).where(StoryMember.story_id == story.id)).all()
    assert [(row.member_id, row.approved_at) for row in rows] == [(world.lisbon.id, None)]
    # Lisbon alone approving is now enough.
    services.approve_story(db, world.lisbon_fp, story)
    assert story.status is StoryStatus.APPROVED
    # Nairobi's focal point no longer sees it.
    with pytest.raises(OutOfScope):
        services.approve_story(db, world.nairobi_fp, story)


def test_adding_a_member_asks_it_too(db, world, story):
    services.approve_story(db, world.lisbon_fp, story)
    services.approve_story(db, world.nairobi_fp, story)
    edited(db, world, story, member_ids=[world.lisbon.id, world.nairobi.id, world.porto.id])
    assert story.status is StoryStatus.DRAFT
    for user in (world.lisbon_fp, world.nairobi_fp):
        services.approve_story(db, user, story)
    assert story.status is StoryStatus.DRAFT
    services.approve_story(db, world.porto_fp, story)
    assert story.status is StoryStatus.APPROVED


def test_approvals_twice_and_withdrawals_of_nothing_are_refused(db, world, story):
    services.approve_story(db, world.lisbon_fp, story)
    with pytest.raises(ValidationFailed) as caught:
        services.approve_story(db, world.lisbon_fp, story)
    assert caught.value.errors == {"story": "Your member already approved this story as it stands."}
    with pytest.raises(ValidationFailed) as caught:
        services.withdraw_approval(db, world.nairobi_fp, story)
    assert caught.value.errors == {"story": "Your member has not approved this story."}


@pytest.mark.parametrize("publish", [False, True])
def test_a_withdrawal_returns_the_story_to_draft(db, world, story, publish):
    services.approve_story(db, world.lisbon_fp, story)
    services.approve_story(db, world.nairobi_fp, story)
    if publish:
        services.publish_story(db, world.staff, story)
    services.withdraw_approval(db, world.nairobi_fp, story)
    assert story.status is StoryStatus.DRAFT
    assert story.published_at is None
    lisbon_row, nairobi_row = story.members
    assert lisbon_row.approved_at is not None
    assert nairobi_row.approved_at is None and nairobi_row.approved_by_id is None


def test_only_the_members_focal_points_approve(db, world, story):
    for user in (world.porto_fp, world.staff, world.admin, world.funder):
        with pytest.raises(OutOfScope):
            services.approve_story(db, user, story)
        with pytest.raises(OutOfScope):
            services.withdraw_approval(db, user, story)
    assert all(row.approved_at is None for row in story.members)
    assert services.can_approve(world.lisbon_fp, story)
    assert not services.can_approve(world.porto_fp, story)
    assert not services.can_approve(world.staff, story)


def test_only_staff_publish_unpublish_and_delete(db, world, story):
    approve_all(story)
    for user in (world.lisbon_fp, world.nairobi_fp, world.funder):
        with pytest.raises(OutOfScope):
            services.publish_story(db, user, story)
        with pytest.raises(OutOfScope):
            services.delete_story(db, user, story)
    assert story.status is StoryStatus.APPROVED
    services.publish_story(db, world.staff, story)
    with pytest.raises(OutOfScope):
        services.unpublish_story(db, world.lisbon_fp, story)
    assert story.status is StoryStatus.PUBLISHED


def test_scope_of_the_story(db, world, story):
    assert services.visible_story(db, world.staff, story.id) is story
    assert services.visible_story(db, world.lisbon_fp, story.id) is story
    for user in (world.porto_fp, world.funder):
        with pytest.raises(OutOfScope):
            services.visible_story(db, user, story.id)
    with pytest.raises(OutOfScope):
        services.visible_story(db, world.staff, 999_999)


# -- evidence ---------------------------------------------------------------------------------


def attendance(event, member, attended=True) -> Attendance:
    return Attendance(
        event_id=event.id, member_id=member.id, attended=attended, source=AttendanceSource.MANUAL
    )


def test_evidence_about_the_members_is_linked(db, world, story):
    exchange = PeerExchangeFactory(from_member=world.porto, to_member=world.nairobi)
    commitment = CommitmentFactory(member=world.lisbon)
    agreement = AgreementFactory(parties=[SECRETARIAT, world.porto, world.lisbon])
    hosted = EventFactory(host_member_id=world.nairobi.id)
    attended = EventFactory()
    db.add(attendance(attended, world.lisbon))
    db.flush()
    evidence = {
        EvidenceKind.EXCHANGE: [exchange.id],
        EvidenceKind.COMMITMENT: [commitment.id],
        EvidenceKind.AGREEMENT: [agreement.id],
        EvidenceKind.EVENT: [hosted.id, attended.id, hosted.id],
    }
    assert edited(db, world, story, evidence=evidence) is False
    linked = services.evidence_by_kind(story.evidence)
    assert linked == {
        EvidenceKind.EXCHANGE: [exchange.id],
        EvidenceKind.COMMITMENT: [commitment.id],
        EvidenceKind.AGREEMENT: [agreement.id],
        EvidenceKind.EVENT: [hosted.id, attended.id],
    }
    # Unlinking keeps the others.
    edited(db, world, story, evidence={**evidence, EvidenceKind.EVENT: [attended.id]})
    assert services.evidence_by_kind(story.evidence)[EvidenceKind.EVENT] == [attended.id]
    assert len(story.evidence) == 4


def test_evidence_about_other_members_is_refused_with_its_names(db, world, story):
    other = MemberFactory(name="Oslo")
    exchange = PeerExchangeFactory(from_member=world.porto, to_member=other)
    commitment = CommitmentFactory(member=world.porto, title="Porto's plan")
    agreement = AgreementFactory(title="Porto MoU", parties=[SECRETARIAT, world.porto])
    missed = EventFactory(title="Missed forum", host_member_id=world.porto.id)
    db.add(attendance(missed, world.lisbon, attended=False))
    db.flush()
    before = services.evidence_by_kind(story.evidence)
    with pytest.raises(ValidationFailed) as caught:
        edited(
            db,
            world,
            story,
            title="Changed too",
            evidence={
                EvidenceKind.EXCHANGE: [exchange.id],
                EvidenceKind.COMMITMENT: [commitment.id],
                EvidenceKind.AGREEMENT: [agreement.id],
                EvidenceKind.EVENT: [missed.id],
            },
        )
    assert caught.value.errors == {
        "exchange_ids": "“Porto → Oslo” is not about any of the story's members: choose records "
        "of the members involved, or add the member to the story.",
        "commitment_ids": "“Porto's plan” is not about any of the story's members: choose "
        "records of the members involved, or add the member to the story.",
        "agreement_ids": "“Porto MoU” is not about any of the story's members: choose records "
        "of the members involved, or add the member to the story.",
        "event_ids": "“Missed forum” is not about any of the story's members: choose records "
        "of the members involved, or add the member to the story.",
    }
    # Nothing was written.
    assert story.title == "Trams for Nairobi"
    assert services.evidence_by_kind(story.evidence) == before


def test_unknown_records_are_refused(db, world, story):
    with pytest.raises(ValidationFailed) as caught:
        edited(db, world, story, evidence={EvidenceKind.COMMITMENT: [999_999]})
    assert caught.value.errors == {
        "commitment_ids": "A chosen record no longer exists; reload the page."
    }


def test_removing_the_member_its_evidence_is_about_is_refused(db, world, story):
    commitment = CommitmentFactory(member=world.nairobi, title="Bus lanes")
    edited(db, world, story, evidence={EvidenceKind.COMMITMENT: [commitment.id]})
    with pytest.raises(ValidationFailed) as caught:
        edited(
            db,
            world,
            story,
            member_ids=[world.lisbon.id],
            evidence={EvidenceKind.COMMITMENT: [commitment.id]},
        )
    assert caught.value.errors["commitment_ids"].startswith("“Bus lanes” is not about")
    assert len(story.members) == 2


# -- images -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image_format", "image_type"), [("PNG", "png"), ("JPEG", "jpeg"), ("WEBP", "webp")]
)
def test_real_pictures_are_accepted_and_stored(db, world, image_format, image_type):
    content = picture(image_format)
    story = services.create_story(
        db, world.staff, data([world.lisbon], image=content, image_alt="  A blue   square ")
    )
    assert story.image_type == image_type
    assert story.image_alt == "A blue square"
    path = images.image_path(story)
    assert path is not None and path.read_bytes() == content
    assert story.image_sha256 == images.documents.digest(content)
    assert path.parent.parent.name == "stories"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"\x89PNG\r\n\x1a\n this is only text pretending to be a PNG",
            "This file is not a PNG, JPEG or WebP picture, whatever its name says; "
            "export it as one of those.",
        ),
        (
            SVG,
            "This file is not a PNG, JPEG or WebP picture, whatever its name says; "
            "export it as one of those.",
        ),
        (
            HTML,
            "This file is not a PNG, JPEG or WebP picture, whatever its name says; "
            "export it as one of those.",
        ),
        (
            picture("GIF"),
            "This file is not a PNG, JPEG or WebP picture, whatever its name says; "
            "export it as one of those.",
        ),
        (
            picture()[:-30],
            "This file is not a PNG, JPEG or WebP picture, whatever its name "
            "says; export it as one of those.",
        ),
        (b"", "The file is empty; choose the picture to upload."),
        (
            picture(size=(8000, 5001), mode="1"),
            "The picture has more than 40 megapixels; make it smaller (e.g. 4000 × 3000).",
        ),
        (
            b"\x00" * (images.MAX_BYTES + 1),
            "The image is larger than 5 MB; images can be at most 5 MB.",
        ),
    ],
    ids=["fake-png", "svg", "html", "gif", "truncated", "empty", "megapixels", "bytes"],
)
def test_anything_but_a_sound_picture_is_refused(db, world, tmp_path, content, message):
    errors = refused_create(
        db, world.staff, data([world.lisbon], image=content, image_alt="A picture")
    )
    assert errors == {"image": message}
    assert not (tmp_path / "uploads" / "stories").exists()


@pytest.mark.parametrize("side", [7_000, 100_000])
def test_a_pixel_bomb_is_refused_from_its_header(db, world, side):
    """A tiny PNG whose header claims side × side pixels (its checksum right) is never decoded."""
    content = picture(size=(1, 1))
    header = side.to_bytes(4, "big") * 2 + content[24:29]
    bomb = content[:16] + header + zlib.crc32(b"IHDR" + header).to_bytes(4, "big") + content[33:]
    errors = refused_create(db, world.staff, data([world.lisbon], image=bomb, image_alt="Bomb"))
    assert errors == {
        "image": "The picture has more than 40 megapixels; make it smaller (e.g. 4000 × 3000)."
    }


def test_an_image_needs_alt_text(db, world):
    errors = refused_create(db, world.staff, data([world.lisbon], image=picture(), image_alt=" "))
    assert errors == {
        "image_alt": "Describe the image for people who cannot see it, e.g. "
        "“Children crossing the new bike lane in front of the school”."
    }


def test_the_image_can_be_replaced_and_removed(db, world):
    first, second = picture(), picture("JPEG")
    story = services.create_story(
        db, world.staff, data([world.lisbon], image=first, image_alt="First")
    )
    # Kept as it is when nothing is uploaded; its alt text is still required.
    with pytest.raises(ValidationFailed) as caught:
        edited(db, world, story, image_alt=None)
    assert set(caught.value.errors) == {"image_alt"}
    edited(db, world, story, image=second, image_alt="Second")
    assert (story.image_type, story.image_alt) == ("jpeg", "Second")
    assert images.image_path(story).read_bytes() == second
    with pytest.raises(ValidationFailed) as caught:
        edited(db, world, story, image=first, remove_image=True)
    assert caught.value.errors == {
        "remove_image": "Either upload a new image or remove the current one, not both."
    }
    edited(db, world, story, remove_image=True)
    assert (story.image_sha256, story.image_type, story.image_alt) == (None, None, None)
    assert images.image_path(story) is None


# -- deletion ---------------------------------------------------------------------------------


def test_a_draft_or_approved_story_is_deleted_with_its_rows(db, world, story):
    exchange = PeerExchangeFactory(from_member=world.lisbon, to_member=world.nairobi)
    edited(db, world, story, evidence={EvidenceKind.EXCHANGE: [exchange.id]})
    services.delete_story(db, world.staff, story)
    assert count(db) == 0
    assert db.scalar(select(func.count()).select_from(StoryMember)) == 0
    approved = approve_all(StoryFactory(members=[world.lisbon]))
    db.flush()
    services.delete_story(db, world.staff, approved)
    assert count(db) == 0


def test_a_published_story_is_not_deleted(db, world, story):
    approve_all(story, publish=True)
    with pytest.raises(ValidationFailed) as caught:
        services.delete_story(db, world.staff, story)
    assert caught.value.errors == {
        "story": "A published story cannot be deleted: unpublish it first."
    }
    assert count(db) == 1


def test_a_story_chosen_for_an_impact_report_is_not_deleted(db, world, story):
    approve_all(story, publish=True)
    choose_for_report(db, story)
    services.unpublish_story(db, world.staff, story)
    with pytest.raises(ValidationFailed) as caught:
        services.delete_story(db, world.staff, story)
    assert caught.value.errors == {
        "story": "This story is chosen for an impact report: take it out of the report before "
        "deleting it."
    }
    assert count(db) == 1


def test_image_path_is_none_when_the_file_is_gone(db, world):
    story = services.create_story(
        db, world.staff, data([world.lisbon], image=picture(), image_alt="A square")
    )
    path = images.image_path(story)
    assert path is not None
    path.unlink()
    assert images.image_path(story) is None
    story.image_sha256 = "not a digest"
    assert images.image_path(story) is None
