"""The story pages: list, story page, form, image, approvals, publication, deletion, scope."""

from __future__ import annotations

import html
import io
import re

import pytest
from sqlalchemy import func, select

from secretariat.db import utcnow
from secretariat.events.models import Attendance, AttendanceSource, Invitation
from secretariat.events.models import Audience as InvitationAudience
from secretariat.stories import images
from secretariat.stories.models import EvidenceKind, Story, StoryEvidence, StoryMember, StoryStatus
from tests.agreements.factories import SECRETARIAT, AgreementFactory
from tests.factories import CommitmentFactory, EventFactory, MemberFactory, PeerExchangeFactory
from tests.stories.factories import (
    SVG,
    StoryEvidenceFactory,
    StoryFactory,
    approve_all,
    choose_for_report,
    make_world,
    picture,
)


@pytest.fixture
def world(db):
    return make_world(db)


@pytest.fixture
def story(db, world) -> Story:
    """A draft about Lisbon and Nairobi that Lisbon's focal point approved."""
    story = StoryFactory(title="Trams for Nairobi", members=[world.lisbon, world.nairobi])
    lisbon_row = story.members[0]
    lisbon_row.approved_at = utcnow()
    lisbon_row.approved_by = world.lisbon_fp
    db.flush()
    return story


def sign_in(auth, user) -> None:
    """Sign in as the user (signing out whoever was signed in)."""
    auth.logout()
    auth.login(user)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def is_404(response) -> bool:
    return response.status_code == 404 and "Page not found" in response.get_data(as_text=True)


def count(db) -> int:
    return db.scalar(select(func.count()).select_from(Story))


def form(members, **overrides) -> dict:
    data = {
        "title": "Trams for Nairobi",
        "member_ids": [str(m.id) for m in members],
        "narrative": "After a study visit to Lisbon, Nairobi **redesigned** its bus corridors.",
        "quote": "We saw it working.",
        "quote_attribution": "Ana Silva, Deputy Mayor of Lisbon",
        "image_alt": "",
    }
    data.update(overrides)
    return data


def post_form(client, url, data):
    return client.post(url, data=data, content_type="multipart/form-data")


def story_form_of(story: Story, **overrides) -> dict:
    data = {
        "title": story.title,
        "member_ids": [str(row.member_id) for row in story.members],
        "narrative": story.narrative,
        "quote": story.quote or "",
        "quote_attribution": story.quote_attribution or "",
        "image_alt": story.image_alt or "",
    }
    for item in story.evidence:
        field = f"{item.kind.value}_ids"
        data.setdefault(field, []).append(
            str(item.exchange_id or item.commitment_id or item.agreement_id or item.event_id)
        )
    data.update(overrides)
    return data


# -- writing ----------------------------------------------------------------------------------


def test_staff_write_a_story_with_an_image_through_the_form(db, client, auth, world, tmp_path):
    sign_in(auth, world.staff)
    page = text(client.get(f"/stories/new?member={world.lisbon.id}"))
    assert page.count("<h1>") == 1 and "<h1>Write a story</h1>" in page
    assert f'<option selected value="{world.lisbon.id}">Lisbon</option>' in page
    for name in ("title", "member_ids", "narrative", "quote", "quote_attribution", "image"):
        assert f'<label for="{name}">' in page
    assert 'enctype="multipart/form-data"' in page
    assert "Markdown:" in page and "No HTML." in page
    assert 'name="exchange_ids"' not in page  # evidence comes once the story is saved

    content = picture()
    response = post_form(
        client,
        "/stories/new",
        form(
            [world.lisbon, world.nairobi],
            image=(io.BytesIO(content), "depot.png"),
            image_alt="The tram depot in Lisbon",
        ),
    )
    assert response.status_code == 302
    story = db.scalars(select(Story)).one()
    assert response.headers["Location"].endswith(f"/stories/{story.id}")
    assert story.status is StoryStatus.DRAFT
    assert story.image_type == "png" and story.image_alt == "The tram depot in Lisbon"
    stored = tmp_path / "uploads" / "stories" / story.image_sha256[:2] / story.image_sha256
    assert stored.read_bytes() == content

    detail = text(client.get(f"/stories/{story.id}"))
    assert "The story is saved as a draft." in detail
    assert "<h1>Trams for Nairobi</h1>" in detail
    assert f'<img src="/stories/{story.id}/image" alt="The tram depot in Lisbon">' in detail


def test_a_refused_form_shows_each_message_next_to_its_field_and_writes_nothing(
    db, client, auth, world, tmp_path
):
    sign_in(auth, world.staff)
    response = post_form(
        client,
        "/stories/new",
        form(
            [],
            title=" ",
            quote_attribution="",
            image=(io.BytesIO(SVG), "innocent.png"),
            image_alt="",
        ),
    )
    assert response.status_code == 200
    page = text(response)
    assert "Please correct the following" in page
    assert '<a href="#title">Title: Enter the story\'s title.</a>' in page
    assert '<small id="member_ids-error" class="field-error">' in page
    assert "Choose at least one member the story is about." in page
    assert "Say who said it" in page
    assert (
        '<small id="image-error" class="field-error">This file is not a PNG, JPEG or WebP' in page
    )
    assert "Describe the image for people who cannot see it" in page
    assert count(db) == 0
    assert not (tmp_path / "uploads" / "stories").exists()


def test_a_good_image_must_be_chosen_again_when_the_form_has_errors(db, client, auth, world):
    sign_in(auth, world.staff)
    response = post_form(
        client,
        "/stories/new",
        form([world.lisbon], title="", image=(io.BytesIO(picture()), "a.png"), image_alt="A"),
    )
    assert "Choose the image again: a file is not kept when the form has errors." in text(response)
    assert count(db) == 0


def test_an_oversized_upload_is_refused(db, client, auth, world):
    sign_in(auth, world.staff)
    big = b"\x89PNG\r\n\x1a\n" + b"\x00" * (5 * 1024 * 1024)
    response = post_form(
        client,
        "/stories/new",
        form([world.lisbon], image=(io.BytesIO(big), "big.png"), image_alt="Big"),
    )
    assert "The image is larger than 5 MB; images can be at most 5 MB." in text(response)
    assert count(db) == 0


# -- the story page ---------------------------------------------------------------------------


def evidence_of_every_kind(db, world, story):
    exchange = PeerExchangeFactory(from_member=world.lisbon, to_member=world.porto)
    commitment = CommitmentFactory(member=world.nairobi, title="Bus lanes by 2027")
    agreement = AgreementFactory(title="Tram MoU", parties=[SECRETARIAT, world.lisbon])
    event = EventFactory(title="Mobility forum", host_member_id=world.nairobi.id)
    for record, kind in (
        (exchange, EvidenceKind.EXCHANGE),
        (commitment, EvidenceKind.COMMITMENT),
        (agreement, EvidenceKind.AGREEMENT),
        (event, EvidenceKind.EVENT),
    ):
        StoryEvidenceFactory(story=story, kind=kind, **{f"{kind.value}_id": record.id})
    db.flush()
    return exchange, commitment, agreement, event


def test_the_story_page_shows_members_approvals_text_quote_image_and_evidence(
    db, client, auth, world, story
):
    exchange, commitment, agreement, event = evidence_of_every_kind(db, world, story)
    sign_in(auth, world.staff)
    page = text(client.get(f"/stories/{story.id}"))
    assert page.count("<h1>") == 1 and "<h1>Trams for Nairobi</h1>" in page
    assert '<span class="status status-draft">Draft</span>' in page
    assert "Draft: it waits for the approval of Nairobi." in page
    assert re.search(r'<th scope="row">Lisbon</th>\s*<td>Approved on .+ by Lia Lisbon</td>', page)
    assert re.search(r'<th scope="row">Nairobi</th>\s*<td><strong>Awaiting approval', page)
    assert "<strong>Nairobi</strong>" in page  # the Markdown narrative
    assert '<blockquote class="notes">We saw it working and knew we could do it too.' in page
    assert "<figcaption>— Ana Silva, Deputy Mayor</figcaption>" in page
    assert "<img" not in page  # no image
    assert f'<a href="/exchanges/{exchange.id}">Lisbon → Porto: Study visit' in page
    assert f'<a href="/commitments/{commitment.id}">Nairobi: Bus lanes by 2027</a>' in page
    assert f'<a href="/agreements/{agreement.id}">Tram MoU</a>' in page
    assert f'<a href="/events/{event.id}">Mobility forum, ' in page
    assert f'href="/stories/{story.id}/edit"' in page
    assert f'action="/stories/{story.id}/delete"' in page
    assert "/approve" not in page and "/publish" not in page
    assert "Not chosen for any impact report" in page


def test_a_focal_point_sees_its_approval_action_and_only_the_evidence_it_may_open(
    db, client, auth, world, story
):
    exchange, commitment, agreement, event = evidence_of_every_kind(db, world, story)
    sign_in(auth, world.nairobi_fp)
    page = text(client.get(f"/stories/{story.id}"))
    assert "This story awaits your approval for Nairobi." in page
    assert f'action="/stories/{story.id}/approve"' in page
    assert "Approve for Nairobi" in page
    assert "/edit" not in page and "/delete" not in page and "/publish" not in page
    # Nairobi's commitment is its own; the Lisbon–Porto exchange and Lisbon's MoU are not; the
    # event Nairobi hosted opens only for invited members.
    assert f'href="/commitments/{commitment.id}"' in page
    assert f"/exchanges/{exchange.id}" not in page and "Tram MoU" not in page
    assert "Mobility forum" not in page
    assert "3 more records, about other members, support this story." in page

    db.add(
        Invitation(
            event_id=event.id, member_id=world.nairobi.id, audience=InvitationAudience.CHOSEN
        )
    )
    db.flush()
    page = text(client.get(f"/stories/{story.id}"))
    assert f'<a href="/events/{event.id}">Mobility forum' in page
    assert "2 more records, about other members, support this story." in page


def test_markdown_is_sanitized_on_the_story_page(db, client, auth, world):
    story = StoryFactory(
        members=[world.lisbon],
        narrative=(
            "Intro <script>alert('x')</script>\n\n"
            '<img src="x" onerror="alert(1)">\n\n'
            "[click me](javascript:alert(2)) and [ok](https://example.org)"
        ),
        quote="<script>alert(3)</script>",
    )
    db.flush()
    for user in (world.staff, world.lisbon_fp):
        sign_in(auth, user)
        body = client.get(f"/stories/{story.id}").get_data(as_text=True)
        assert "<script>alert" not in body
        assert "onerror" not in body
        assert "javascript:" not in body
        assert "<img" not in body
        assert '<a href="https://example.org" rel="noopener noreferrer nofollow">ok</a>' in body
        assert "&lt;script&gt;alert(3)&lt;/script&gt;" in body  # the quote is escaped text
        assert "click me" in body


def test_the_image_is_served_with_its_type_and_nosniff(db, client, auth, world):
    for image_format, media_type in (("PNG", "image/png"), ("WEBP", "image/webp")):
        content = picture(image_format)
        sign_in(auth, world.staff)
        response = post_form(
            client,
            "/stories/new",
            form([world.lisbon], image=(io.BytesIO(content), "x.bin"), image_alt="A square"),
        )
        story_id = int(response.headers["Location"].rsplit("/", 1)[1])
        for user in (world.staff, world.lisbon_fp):
            sign_in(auth, user)
            image = client.get(f"/stories/{story_id}/image")
            assert image.status_code == 200
            assert image.headers["Content-Type"] == media_type
            assert image.headers["X-Content-Type-Options"] == "nosniff"
            assert "attachment" not in image.headers.get("Content-Disposition", "")
            assert image.data == content


def test_a_story_without_image_or_with_a_lost_file_has_no_image_url(db, client, auth, world):
    story = StoryFactory(members=[world.lisbon])
    lost = StoryFactory(
        members=[world.lisbon], image_sha256="a" * 64, image_type="png", image_alt="Gone"
    )
    db.flush()
    sign_in(auth, world.staff)
    assert is_404(client.get(f"/stories/{story.id}/image"))
    assert is_404(client.get(f"/stories/{lost.id}/image"))


# -- approvals and publication ------------------------------------------------------------------


def test_approvals_publication_and_withdrawal_through_the_pages(db, client, auth, world, story):
    sign_in(auth, world.nairobi_fp)
    response = client.post(f"/stories/{story.id}/approve")
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert "You approved the story for Nairobi. Every member has approved it" in page
    db.refresh(story)
    assert story.status is StoryStatus.APPROVED
    assert f'action="/stories/{story.id}/withdraw"' in page

    sign_in(auth, world.staff)
    page = text(client.get(f"/stories/{story.id}"))
    assert "Every member has approved this story; the secretariat can publish it." in page
    client.post(f"/stories/{story.id}/publish")
    db.refresh(story)
    assert story.status is StoryStatus.PUBLISHED and story.published_by_id == world.staff.id
    page = text(client.get(f"/stories/{story.id}"))
    assert "The story is published: it can be chosen for impact reports." in page
    assert "Published on" in page and "by Sam Staff" in page
    assert f'action="/stories/{story.id}/unpublish"' in page
    assert f'action="/stories/{story.id}/delete"' not in page

    client.post(f"/stories/{story.id}/unpublish")
    db.refresh(story)
    assert story.status is StoryStatus.APPROVED and story.published_at is None
    client.post(f"/stories/{story.id}/publish")

    sign_in(auth, world.lisbon_fp)
    response = client.post(f"/stories/{story.id}/withdraw")
    page = text(client.get(response.headers["Location"]))
    assert "Your approval is withdrawn: the story is back to draft and no longer published." in page
    db.refresh(story)
    assert story.status is StoryStatus.DRAFT


def test_a_second_approval_and_an_early_publication_are_refused_with_a_message(
    db, client, auth, world, story
):
    sign_in(auth, world.lisbon_fp)
    response = client.post(f"/stories/{story.id}/approve")
    assert "Your member already approved this story as it stands." in text(
        client.get(response.headers["Location"])
    )
    sign_in(auth, world.staff)
    response = client.post(f"/stories/{story.id}/publish")
    assert "it still waits for the approval of Nairobi." in text(
        client.get(response.headers["Location"])
    )
    db.refresh(story)
    assert story.status is StoryStatus.DRAFT


# -- editing ----------------------------------------------------------------------------------


def test_the_edit_page_warns_and_an_edit_clears_the_approvals(db, client, auth, world, story):
    commitment = CommitmentFactory(member=world.nairobi, title="Bus lanes by 2027")
    CommitmentFactory(member=world.porto, title="Porto's own plan")
    approve_all(story, world.lisbon_fp, publish=True)
    db.flush()
    sign_in(auth, world.staff)
    page = text(client.get(f"/stories/{story.id}/edit"))
    assert page.count("<h1>") == 1 and "<h1>Edit “Trams for Nairobi”</h1>" in page
    assert "Approvals will be cleared." in page
    assert "This story is published. Changing its title" in page and "unpublishes it" in page
    assert "Linking or unlinking evidence alone keeps them." in page
    assert f'value="{commitment.id}" > Nairobi: Bus lanes by 2027' in page
    assert "Porto's own plan" not in page
    assert '<legend id="commitment_ids">Commitments</legend>' in page

    # Linking evidence keeps the approvals.
    response = post_form(
        client,
        f"/stories/{story.id}/edit",
        story_form_of(story, commitment_ids=[str(commitment.id)]),
    )
    assert response.status_code == 302
    db.refresh(story)
    assert story.status is StoryStatus.PUBLISHED
    assert [e.commitment_id for e in story.evidence] == [commitment.id]

    response = post_form(
        client, f"/stories/{story.id}/edit", story_form_of(story, title="Trams and buses")
    )
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert "The approvals given before were cleared and the story is back to draft" in page
    db.refresh(story)
    assert story.title == "Trams and buses"
    assert story.status is StoryStatus.DRAFT
    assert all(row.approved_at is None for row in story.members)


def test_unrelated_evidence_is_refused_next_to_its_field(db, client, auth, world, story):
    other = CommitmentFactory(member=world.porto, title="Porto's own plan")
    sign_in(auth, world.staff)
    response = post_form(
        client,
        f"/stories/{story.id}/edit",
        story_form_of(story, title="Changed", commitment_ids=[str(other.id)]),
    )
    assert response.status_code == 200
    page = text(response)
    assert (
        '<small id="commitment_ids-error" class="field-error">“Porto\'s own plan” is not about '
        "any of the story's members" in page
    )
    assert '<a href="#commitment_ids">Commitments: ' in page
    db.refresh(story)
    assert story.title == "Trams for Nairobi" and story.evidence == []


def test_staff_replace_and_remove_the_image(db, client, auth, world, story):
    sign_in(auth, world.staff)
    post_form(
        client,
        f"/stories/{story.id}/edit",
        story_form_of(story, image=(io.BytesIO(picture("JPEG")), "p.jpg"), image_alt="Tram"),
    )
    db.refresh(story)
    assert story.image_type == "jpeg"
    page = text(client.get(f"/stories/{story.id}/edit"))
    assert '<input id="remove_image" name="remove_image" role="switch" type="checkbox"' in page
    post_form(client, f"/stories/{story.id}/edit", story_form_of(story, remove_image="y"))
    db.refresh(story)
    assert story.image_sha256 is None and story.image_alt is None
    assert is_404(client.get(f"/stories/{story.id}/image"))


# -- deletion ---------------------------------------------------------------------------------


def test_staff_delete_a_draft_but_not_a_published_or_reported_story(db, client, auth, world, story):
    published = approve_all(StoryFactory(members=[world.lisbon]), publish=True)
    reported = approve_all(StoryFactory(members=[world.lisbon]))
    db.flush()
    choose_for_report(db, reported)
    sign_in(auth, world.staff)

    response = client.post(f"/stories/{published.id}/delete")
    assert "A published story cannot be deleted: unpublish it first." in text(
        client.get(response.headers["Location"])
    )
    response = client.post(f"/stories/{reported.id}/delete")
    assert "This story is chosen for an impact report" in text(
        client.get(response.headers["Location"])
    )
    assert count(db) == 3

    response = client.post(f"/stories/{story.id}/delete")
    assert response.headers["Location"].endswith("/stories/")
    assert "“Trams for Nairobi” is deleted." in text(client.get("/stories/"))
    assert count(db) == 2


# -- lists ------------------------------------------------------------------------------------


def titles(page: str) -> list[str]:
    return re.findall(r'<a href="/stories/\d+">([^<]+)</a>', page)


def test_staff_list_filters_and_pages(db, client, auth, world):
    lisbon_draft = StoryFactory(title="Lisbon draft", members=[world.lisbon])
    approve_all(StoryFactory(title="Nairobi approved", members=[world.nairobi]))
    approve_all(
        StoryFactory(
            title="Shared published", members=[world.lisbon, world.nairobi], narrative="Bike lanes"
        ),
        publish=True,
    )
    db.flush()
    sign_in(auth, world.staff)
    page = text(client.get("/stories/"))
    assert page.count("<h1>") == 1
    assert set(titles(page)) == {"Lisbon draft", "Nairobi approved", "Shared published"}
    assert "3 stories" in page
    assert set(titles(text(client.get("/stories/?status=approved")))) == {"Nairobi approved"}
    assert set(titles(text(client.get(f"/stories/?member={world.lisbon.id}")))) == {
        "Lisbon draft",
        "Shared published",
    }
    assert titles(text(client.get("/stories/?q=bike"))) == ["Shared published"]
    assert titles(text(client.get("/stories/?q=100%25"))) == []
    assert titles(text(client.get("/stories/?q=%00draft"))) == ["Lisbon draft"]
    assert "No story matches these filters." in text(client.get("/stories/?q=nothing"))
    assert f"/stories/{lisbon_draft.id}" in page

    for index in range(26):
        StoryFactory(title=f"More {index}", members=[world.porto])
    db.flush()
    first = text(client.get("/stories/"))
    assert len(titles(first)) == 25 and "Page 1 of 2" in first
    second = text(client.get("/stories/?page=2"))
    assert len(titles(second)) == 4 and "Page 2 of 2" in second
    assert len(titles(text(client.get("/stories/?page=99")))) == 4


def test_a_focal_point_lists_its_members_stories_awaiting_ones_first(
    db, client, auth, world, story
):
    approved = approve_all(StoryFactory(title="Already approved", members=[world.nairobi]))
    waiting = StoryFactory(title="Waiting one", members=[world.nairobi, world.porto])
    StoryFactory(title="About Lisbon only", members=[world.lisbon])
    db.flush()
    approved.updated_at = utcnow()  # the latest change, yet listed after the awaiting ones
    db.flush()
    sign_in(auth, world.nairobi_fp)
    page = text(client.get("/stories/"))
    listed = titles(page)
    assert set(listed[:2]) == {"Trams for Nairobi", "Waiting one"}
    assert listed[2:] == ["Already approved"]
    assert "2 stories await your approval; they are listed first." in page
    assert page.count("<strong>Awaiting your approval</strong>") == 2
    assert "Approved on" in page
    assert 'name="member"' not in page  # no member filter for a focal point
    assert "/stories/new" not in page
    assert f"/stories/{waiting.id}" in page


# -- who may do what ----------------------------------------------------------------------------


def urls(story_id: int) -> list[tuple[str, str]]:
    return [
        ("GET", f"/stories/{story_id}"),
        ("GET", f"/stories/{story_id}/image"),
        ("GET", f"/stories/{story_id}/edit"),
        ("POST", f"/stories/{story_id}/edit"),
        ("POST", f"/stories/{story_id}/approve"),
        ("POST", f"/stories/{story_id}/withdraw"),
        ("POST", f"/stories/{story_id}/publish"),
        ("POST", f"/stories/{story_id}/unpublish"),
        ("POST", f"/stories/{story_id}/delete"),
    ]


def snapshot(db, story: Story) -> tuple:
    db.expire_all()
    fresh = db.get(Story, story.id)
    return (
        fresh.title,
        fresh.status,
        fresh.image_sha256,
        [(row.member_id, row.approved_at) for row in fresh.members],
        len(fresh.evidence),
    )


def with_image(db, story: Story) -> Story:
    content = picture()
    story.image_sha256 = images.store(content)
    story.image_type, story.image_alt = "png", "A picture"
    db.flush()
    return story


@pytest.mark.parametrize("status", ["draft", "approved", "published"])
def test_a_focal_point_of_another_member_gets_404_everywhere_and_nothing_changes(
    db, client, auth, world, story, status
):
    with_image(db, story)
    if status != "draft":
        approve_all(story, world.lisbon_fp, publish=status == "published")
    db.flush()
    before = snapshot(db, story)
    sign_in(auth, world.porto_fp)
    assert "Trams for Nairobi" not in text(client.get("/stories/"))
    for method, url in urls(story.id):
        response = client.open(url, method=method, data=story_form_of(story, title="Hacked"))
        assert is_404(response), (method, url)
    assert snapshot(db, story) == before


def test_a_funder_gets_404_everywhere_under_stories(db, client, auth, world, story):
    with_image(db, story)
    before = snapshot(db, story)
    sign_in(auth, world.funder)
    for method, url in [("GET", "/stories/"), ("GET", "/stories/new"), ("POST", "/stories/new")]:
        assert is_404(client.open(url, method=method, data=form([world.lisbon]))), url
    for method, url in urls(story.id):
        assert is_404(client.open(url, method=method, data=story_form_of(story))), url
    assert snapshot(db, story) == before
    assert count(db) == 1


def test_a_focal_point_cannot_write_edit_publish_or_delete(db, client, auth, world, story):
    approve_all(story, world.lisbon_fp)
    db.flush()
    before = snapshot(db, story)
    sign_in(auth, world.lisbon_fp)
    assert client.get(f"/stories/{story.id}").status_code == 200
    assert client.get(f"/stories/{story.id}/image").status_code == 404  # it has no image
    for method, url in [
        ("GET", "/stories/new"),
        ("POST", "/stories/new"),
        ("GET", f"/stories/{story.id}/edit"),
        ("POST", f"/stories/{story.id}/edit"),
        ("POST", f"/stories/{story.id}/publish"),
        ("POST", f"/stories/{story.id}/unpublish"),
        ("POST", f"/stories/{story.id}/delete"),
    ]:
        response = client.open(url, method=method, data=story_form_of(story, title="Mine"))
        assert is_404(response), (method, url)
    assert snapshot(db, story) == before
    assert count(db) == 1


def test_staff_do_not_approve_for_members(db, client, auth, world, story):
    before = snapshot(db, story)
    sign_in(auth, world.staff)
    assert is_404(client.post(f"/stories/{story.id}/approve"))
    assert is_404(client.post(f"/stories/{story.id}/withdraw"))
    assert snapshot(db, story) == before


def test_unknown_stories_and_oversized_ids_are_404(db, client, auth, world):
    sign_in(auth, world.staff)
    assert is_404(client.get("/stories/999999"))
    assert is_404(client.get(f"/stories/{2**31}"))
    assert is_404(client.post("/stories/999999/publish"))


def test_anonymous_is_sent_to_sign_in(db, client, world, story):
    for method, url in [("GET", "/stories/"), *urls(story.id)]:
        response = client.open(url, method=method)
        assert response.status_code == 302, url
        assert "/sign-in" in response.headers["Location"]


# -- a bounded number of queries ----------------------------------------------------------------


def populate(db, world, how_many: int) -> None:
    members = [world.lisbon, world.nairobi, world.porto]
    for index in range(how_many):
        story = StoryFactory(
            members=[members[index % 3], members[(index + 1) % 3]],
            status=StoryStatus.DRAFT,
        )
        if index % 2:
            approve_all(story, world.lisbon_fp, publish=index % 4 == 1)
    db.flush()


def grow(db, world, story: Story, how_many: int) -> None:
    """Give the story more members and evidence of every kind."""
    for _ in range(how_many):
        member = MemberFactory()
        story.members.append(StoryMember(member_id=member.id))
        exchange = PeerExchangeFactory(from_member=world.lisbon, to_member=member)
        commitment = CommitmentFactory(member=world.nairobi)
        agreement = AgreementFactory(parties=[SECRETARIAT, world.nairobi, member])
        event = EventFactory(host_member_id=world.lisbon.id)
        db.add(
            Invitation(
                event_id=event.id, member_id=world.nairobi.id, audience=InvitationAudience.CHOSEN
            )
        )
        db.add(
            Attendance(
                event_id=event.id,
                member_id=member.id,
                attended=True,
                source=AttendanceSource.MANUAL,
            )
        )
        for kind, record in (
            (EvidenceKind.EXCHANGE, exchange),
            (EvidenceKind.COMMITMENT, commitment),
            (EvidenceKind.AGREEMENT, agreement),
            (EvidenceKind.EVENT, event),
        ):
            story.evidence.append(StoryEvidence(kind=kind, **{f"{kind.value}_id": record.id}))
    db.flush()


def statements(count_queries, client, url: str) -> list[str]:
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200, url
    return counter.statements


@pytest.mark.parametrize(
    ("who", "page"),
    [
        ("staff", "index"),
        ("staff", "filtered"),
        ("staff", "detail"),
        ("staff", "edit"),
        ("focal", "index"),
        ("focal", "detail"),
    ],
)
def test_pages_run_the_same_queries_for_10_and_200_stories(
    db, client, auth, count_queries, world, story, who, page
):
    urls_by_page = {
        "index": "/stories/",
        "filtered": f"/stories/?status=draft&member={world.nairobi.id}&q=story",
        "detail": f"/stories/{story.id}",
        "edit": f"/stories/{story.id}/edit",
    }
    url = urls_by_page[page]
    sign_in(auth, world.staff if who == "staff" else world.nairobi_fp)
    populate(db, world, 10)
    grow(db, world, story, 2)
    small = statements(count_queries, client, url)
    populate(db, world, 190)
    grow(db, world, story, 20)
    large = statements(count_queries, client, url)
    assert len(small) == len(large), "\n\n".join(large)
    assert len(large) <= 12


def test_the_focal_points_home_counts_stories_awaiting_approval(client, auth, world, story):
    sign_in(auth, world.nairobi_fp)
    home = text(client.get("/"))
    assert "1 story about your member awaits your approval" in home
    assert 'href="/stories/"' in home
    # Lisbon already approved: nothing to say on its focal point's home.
    sign_in(auth, world.lisbon_fp)
    assert "awaits your approval" not in text(client.get("/"))
