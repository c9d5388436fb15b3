"""The commitment pages end to end, through real form posts; and who may reach them."""

from __future__ import annotations

import re

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import select

from secretariat.agreements import documents
from secretariat.commitments import services
from secretariat.commitments.models import (
    Commitment,
    CommitmentStatus,
    CommitmentUpdate,
    EvidenceDocument,
)
from secretariat.commitments.services import CommitmentData, UpdateData, Upload
from tests.agreements.conftest import shown
from tests.agreements.test_documents import pdf_bytes, png_bytes
from tests.agreements.test_views import flashes
from tests.commitments.conftest import ago, days, file_part, fresh, table_counts, today
from tests.factories import CommitmentFactory, MemberFactory, TermFactory, UserFactory
from tests.groups.conftest import field_error, rows, section, text

S = CommitmentStatus


def commitment_form(category, **overrides) -> dict:
    values = {
        "title": "GHG inventory every two years",
        "category_id": str(category.id),
        "status": "planned",
        "description": "Published on the open data portal.",
        "baseline": "Last inventory 2019",
        "target": "Inventory 2025 published",
        "target_on": days(300).isoformat(),
        "freshness_months": "24",
        "evidence_url": "",
        "evidence_on": "",
    }
    values.update(overrides)
    return values


def update_form(**overrides) -> dict:
    values = {
        "status": "in_progress",
        "percent_complete": "40",
        "narrative": "Data collection finished for transport.",
        "evidence_url": "",
        "evidence_on": "",
    }
    values.update(overrides)
    return values


def only_commitment(db) -> Commitment:
    (row,) = db.scalars(select(Commitment)).all()
    return row


def value_of(page: str, field_id: str) -> str:
    """The value an input shows (what was typed, after a refusal)."""
    match = re.search(rf'<input[^>]*id="{field_id}"[^>]*>', page)
    assert match, f"no input {field_id}"
    found = re.search(r'value="([^"]*)"', match.group(0))
    return found.group(1) if found else ""


def textarea(page: str, field_id: str) -> str:
    match = re.search(rf'<textarea[^>]*id="{field_id}"[^>]*>\r?\n?(.*?)</textarea>', page, re.S)
    assert match, f"no textarea {field_id}"
    return match.group(1)


def selected(page: str, field_id: str) -> str:
    match = re.search(rf'<select[^>]*id="{field_id}"[^>]*>(.*?)</select>', page, re.S)
    assert match, f"no select {field_id}"
    chosen = re.search(
        r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', match[1]
    )
    return (chosen.group(1) or chosen.group(2)) if chosen else ""


def titles(page: str) -> list[str]:
    return re.findall(r'<a href="/commitments/\d+">([^<]*)</a>', page)


def with_document(db, user, member, category, **overrides) -> Commitment:
    values = {"title": "Climate plan", "category_id": category.id, "evidence_on": days(-3)}
    values.update(overrides)
    return services.create_commitment(
        db, user, member, CommitmentData(**values), Upload("Plan.pdf", pdf_bytes("plan"))
    )


# -- the network view ----------------------------------------------------------------------


def test_network_view_lists_commitments_with_their_state(
    db, client, login, staff, lisbon, porto, mitigation, health
):
    CommitmentFactory(
        member=lisbon,
        category=mitigation,
        title="Lisbon plan",
        status=S.IN_PROGRESS,
        percent_complete=40,
        target_on=days(100),
        evidence_url="https://x.example/p",
        evidence_on=days(-900),
        freshness_months=24,
        evidence_stale_on=days(-170),
        last_update_at=ago(3),
    )
    CommitmentFactory(
        member=porto,
        category=health,
        title="Porto smoke-free",
        status=S.ACHIEVED,
        percent_complete=100,
        evidence_url="https://x.example/s",
        evidence_on=days(-10),
        freshness_months=60,
        evidence_stale_on=days(-10) + relativedelta(months=60),
    )
    CommitmentFactory(member=porto, category=health, title="Porto clean air")
    login(staff)

    page = text(client.get("/commitments/"))

    assert "<h1>Commitments of the network</h1>" in page
    assert "3 commitments" in page
    assert rows(page) == [
        [
            "Lisbon",
            "Lisbon plan",
            "Mitigation",
            "In progress",
            "40%",
            f"{shown(days(100))}",
            f"Stale since {shown(days(-170))}",
            shown(ago(3).date()),
        ],
        [
            "Porto",
            "Porto clean air",
            "Health",
            "Planned",
            "—",
            "—",
            "None",
            f"Never; entered {shown(today())}",
        ],
        [
            "Porto",
            "Porto smoke-free",
            "Health",
            "Achieved",
            "100%",
            "—",
            f"Fresh (stale from {shown(days(-10) + relativedelta(months=60))})",
            f"Never; entered {shown(today())}",
        ],
    ]
    counts = section(page, "counts-title")
    assert re.search(r'<span class="figure">3</span>All statuses', counts)
    assert re.search(r'<span class="figure">1</span>In progress', counts)
    assert re.search(r'<span class="figure">0</span>Dropped', counts)


def test_network_view_filters(db, client, login, staff, lisbon, porto, mitigation, health):
    africa = TermFactory(label="Africa")
    accra = MemberFactory(name="Accra", region=africa)
    CommitmentFactory(
        member=lisbon,
        category=mitigation,
        title="Stale plan",
        freshness_months=12,
        evidence_stale_on=days(-5),
        created_at=ago(400),
    )
    CommitmentFactory(
        member=porto,
        category=health,
        title="Health law",
        status=S.IN_PROGRESS,
        last_update_at=ago(100),
    )
    CommitmentFactory(member=accra, category=health, title="Accra air", created_at=ago(50))
    login(staff)

    def listed(query: str) -> list[str]:
        response = client.get(f"/commitments/?{query}")
        assert response.status_code == 200
        return sorted(titles(text(response)))

    assert listed(f"category={health.id}") == ["Accra air", "Health law"]
    assert listed("status=in_progress") == ["Health law"]
    assert listed("stale=1") == ["Stale plan"]
    assert listed("not_updated=90") == ["Health law", "Stale plan"]
    assert listed("not_updated=365") == ["Stale plan"]
    assert listed(f"region={africa.id}") == ["Accra air"]
    assert listed(f"member={porto.id}") == ["Health law"]
    assert listed(f"category={health.id}&not_updated=90") == ["Health law"]
    # Garbled filters are ignored rather than failing.
    assert listed("status=lost&category=x&region=%C2%B2&member=99999999999") == [
        "Accra air",
        "Health law",
        "Stale plan",
    ]

    page = text(client.get(f"/commitments/?stale=1&category={mitigation.id}"))
    assert selected(page, "category") == str(mitigation.id)
    assert 'id="stale" name="stale" value="1" role="switch" checked' in page
    # The status links keep the other filters.
    assert f'href="/commitments/?category={mitigation.id}&amp;stale=1&amp;status=planned"' in (
        client.get(f"/commitments/?stale=1&category={mitigation.id}").get_data(as_text=True)
    )


def test_any_positive_number_of_days_is_accepted(db, client, login, staff, lisbon, mitigation):
    CommitmentFactory(member=lisbon, category=mitigation, title="Old", created_at=ago(50))
    CommitmentFactory(member=lisbon, category=mitigation, title="New", created_at=ago(40))
    login(staff)
    page = text(client.get("/commitments/?not_updated=45"))
    assert titles(page) == ["Old"]
    assert selected(page, "not_updated") == "45"
    assert "45 days or more" in page
    assert field_error(page, "not_updated") == ""


@pytest.mark.parametrize("bad", ["abc", "0", "-5", "4.5", "99999999", "1e3"])
def test_a_bad_number_of_days_is_explained_and_not_applied(
    db, client, login, staff, lisbon, mitigation, bad
):
    CommitmentFactory(member=lisbon, category=mitigation, title="Recent")
    login(staff)
    response = client.get("/commitments/", query_string={"not_updated": bad})
    assert response.status_code == 200
    page = text(response)
    assert field_error(page, "not_updated") == (
        "Give the number of days as a whole number between 1 and 36,500, e.g. 180. "
        "This filter is not applied."
    )
    assert titles(page) == ["Recent"]
    assert selected(page, "not_updated") == bad


def test_network_view_pages(db, app, client, login, staff, mitigation):
    per_page = app.config["MEMBERS_PER_PAGE"]
    for n in range(per_page + 2):
        CommitmentFactory(category=mitigation, member=MemberFactory(name=f"M{n:03d}"))
    login(staff)
    first = text(client.get(f"/commitments/?category={mitigation.id}"))
    assert len(titles(first)) == per_page
    assert f'href="/commitments/?category={mitigation.id}&page=2" rel="next"' in first
    second = text(client.get(f"/commitments/?category={mitigation.id}&page=2"))
    assert len(titles(second)) == 2


def test_a_focal_point_is_sent_to_their_own_members_commitments(db, client, login, focal, lisbon):
    login(focal)
    response = client.get("/commitments/?member=1&stale=1")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/commitments/member/{lisbon.id}"


def test_network_view_is_refused_to_funders_and_anonymous(db, client, login):
    assert client.get("/commitments/").status_code == 302  # to sign in
    login(UserFactory(funder_user=True))
    assert client.get("/commitments/").status_code == 404


# -- a member's commitments ----------------------------------------------------------------


def test_member_page_for_its_focal_point(db, client, login, focal, lisbon, porto, mitigation):
    with_document(db, focal, lisbon, mitigation, title="Climate plan", freshness_months=60)
    CommitmentFactory(
        member=lisbon,
        category=mitigation,
        title="Bike lanes",
        status=S.IN_PROGRESS,
        created_at=ago(400),
        freshness_months=12,
        evidence_stale_on=days(-35),
    )
    CommitmentFactory(member=porto, category=mitigation, title="Not theirs")
    login(focal)

    page = text(client.get(f"/commitments/member/{lisbon.id}"))

    assert "<h1>Commitments of Lisbon</h1>" in page
    assert f'href="/commitments/member/{lisbon.id}/new">Add a commitment</a>' in page
    assert "All commitments of the network" not in page
    assert titles(page) == ["Bike lanes", "Climate plan"]
    bike, plan = rows(page)
    assert bike[2] == "In progress"
    assert bike[5] == f"None: stale since {shown(days(-35))}"
    assert bike[6] == "Never Update due"
    assert plan[5].startswith("Fresh (stale from")
    assert "Plan.pdf" in plan[5]
    document = db.scalar(select(EvidenceDocument))
    assert f'href="/commitments/evidence/{document.id}" download>Plan.pdf</a>' in page


def test_member_page_for_staff_and_when_empty(db, client, login, staff, porto):
    login(staff)
    page = text(client.get(f"/commitments/member/{porto.id}"))
    assert "No commitments recorded yet." in page
    assert "Add a commitment" in page
    assert 'href="/commitments/">All commitments of the network</a>' in page


def test_member_page_of_an_unknown_member(db, client, login, staff):
    login(staff)
    assert client.get("/commitments/member/999999").status_code == 404
    assert client.get("/commitments/member/99999999999999").status_code == 404


def test_the_members_page_links_to_its_commitments(db, client, login, focal, lisbon, porto):
    login(focal)
    page = text(client.get(f"/members/{lisbon.slug}"))
    assert f'href="/commitments/member/{lisbon.id}"' in page


# -- entering ------------------------------------------------------------------------------


def test_new_form(db, client, login, focal, lisbon, mitigation):
    TermFactory(vocabulary=mitigation.vocabulary, label="Retired one", is_active=False)
    login(focal)
    page = text(client.get(f"/commitments/member/{lisbon.id}/new"))
    assert "<h1>Add a commitment of Lisbon</h1>" in page
    assert 'enctype="multipart/form-data"' in page
    assert f'<option value="{mitigation.id}">Mitigation</option>' in page
    assert "Retired one" not in page
    assert selected(page, "status") == "planned"
    assert re.search(r'<input accept="\.pdf,[^"]*" [^>]*type="file"', page)
    assert "remove_document" not in page


def test_enter_a_commitment_with_a_link(db, client, login, focal, lisbon, mitigation):
    login(focal)
    response = client.post(
        f"/commitments/member/{lisbon.id}/new",
        data=commitment_form(
            mitigation,
            evidence_url="https://lisbon.example/inventory-2023",
            evidence_on=days(-20).isoformat(),
        ),
    )
    assert response.status_code == 302
    commitment = only_commitment(db)
    assert response.headers["Location"] == f"/commitments/{commitment.id}"
    assert commitment.member_id == lisbon.id
    assert commitment.title == "GHG inventory every two years"
    assert commitment.freshness_months == 24
    assert commitment.evidence_url == "https://lisbon.example/inventory-2023"
    assert commitment.evidence_stale_on == days(-20) + relativedelta(months=24)
    assert commitment.created_by_id == focal.id
    page = client.get(response.headers["Location"])
    assert flashes(page) == [
        ("success", "The commitment “GHG inventory every two years” is entered.")
    ]


def test_enter_a_commitment_with_a_file(db, app, client, login, staff, lisbon, mitigation):
    login(staff)
    content = png_bytes()
    response = client.post(
        f"/commitments/member/{lisbon.id}/new",
        data={
            **commitment_form(mitigation, evidence_on=days(-1).isoformat()),
            "evidence_file": file_part(content, "photo of the\u202e plan.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    document = only_commitment(db).evidence_document
    assert document.filename == "photo of the plan.png"
    path = documents.stored_path(document.sha256, services.EVIDENCE_FOLDER)
    assert path.read_bytes() == content
    assert str(path).startswith(app.config["UPLOAD_PATH"])
    page = client.get(response.headers["Location"])
    assert ("info", "The file's name was made safe: it is kept as “photo of the plan.png”.") in (
        flashes(page)
    )


def test_bad_input_keeps_what_was_typed_and_writes_nothing(
    db, client, login, focal, lisbon, mitigation
):
    login(focal)
    before = table_counts(db)
    response = client.post(
        f"/commitments/member/{lisbon.id}/new",
        data=commitment_form(
            mitigation,
            title="",
            description="Kept <b>as typed</b>",
            baseline="Baseline typed",
            freshness_months="two years",
            target_on="31/02/2027",
            evidence_url="www.lisbon.example/plan",
            evidence_on=days(3).isoformat(),
            status="bogus",
        ),
    )
    assert response.status_code == 200
    assert table_counts(db) == before
    page = text(response)
    assert "Please correct the following" in page
    assert field_error(page, "title") == "Say what the member pledged."
    assert field_error(page, "freshness_months") == "Enter a whole number, e.g. 24."
    assert field_error(page, "target_on") == "Enter a date, e.g. 2027-03-15."
    assert field_error(page, "evidence_url") == "Enter a web address starting with https://."
    assert field_error(page, "evidence_on") == "The evidence cannot date from the future."
    assert field_error(page, "status") == "Choose a status from the list."
    assert value_of(page, "freshness_months") == "two years"
    assert value_of(page, "target_on") == "31/02/2027"
    assert value_of(page, "evidence_url") == "www.lisbon.example/plan"
    assert value_of(page, "baseline") == "Baseline typed"
    assert textarea(page, "description") == "Kept <b>as typed</b>"
    assert selected(page, "category_id") == str(mitigation.id)
    # Typed markup is shown as text, never as markup.
    assert "Kept &lt;b&gt;as typed&lt;/b&gt;" in response.get_data(as_text=True)


def test_a_file_that_is_not_a_document_is_refused(db, client, login, focal, lisbon, mitigation):
    login(focal)
    before = table_counts(db)
    response = client.post(
        f"/commitments/member/{lisbon.id}/new",
        data={
            **commitment_form(mitigation, evidence_on=days(-1).isoformat()),
            "evidence_file": file_part(b"#!/bin/sh\nrm -rf /\n", "plan.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "whatever its name says" in field_error(text(response), "evidence_file")
    assert table_counts(db) == before


def test_a_good_file_refused_for_another_field_asks_to_choose_it_again(
    db, client, login, focal, lisbon, mitigation
):
    login(focal)
    response = client.post(
        f"/commitments/member/{lisbon.id}/new",
        data={
            **commitment_form(mitigation, title="", evidence_on=days(-1).isoformat()),
            "evidence_file": file_part(pdf_bytes(), "plan.pdf"),
        },
        content_type="multipart/form-data",
    )
    page = text(response)
    assert field_error(page, "evidence_file") == "Nothing was saved: choose the file again."
    assert db.scalars(select(EvidenceDocument)).all() == []


# -- one commitment ------------------------------------------------------------------------


def test_detail_page_shows_everything(db, client, login, staff, focal, lisbon, mitigation):
    commitment = with_document(
        db,
        focal,
        lisbon,
        mitigation,
        title="Heat action plan",
        description="Cooling centres and shade.",
        baseline="No plan",
        target="Plan adopted",
        target_on=days(200),
        freshness_months=1,
        evidence_on=days(-60),
    )
    first = services.add_update(
        db,
        focal,
        commitment,
        UpdateData(
            status=S.IN_PROGRESS,
            narrative="Consultation done.",
            percent_complete=30,
            evidence_url="https://lisbon.example/consultation",
            evidence_on=days(-40),
        ),
    )
    services.verify_update(db, staff, first)
    second = services.add_update(
        db, focal, commitment, UpdateData(status=S.OFF_TRACK, narrative="Council delayed it.")
    )
    login(staff)

    page = text(client.get(f"/commitments/{commitment.id}"))

    assert "<h1>Heat action plan</h1>" in page
    facts = section(page, "facts-title")
    for shown_text in (
        "Mitigation",
        "Off track",
        "30%",
        "No plan",
        "Plan adopted",
        shown(days(200)),
        "Cooling centres and shade.",
        "Evidence no older than 1 month",
        "https://lisbon.example/consultation",
    ):
        assert shown_text in facts, shown_text
    assert "Stale since" in facts
    assert "The evidence is stale since" in page
    history = rows(re.sub(r'<tr id="[^"]*">', "<tr>", section(page, "history-title")))
    assert [r[1:5] for r in history] == [
        ["Lena Focal", "Off track", "—", "Council delayed it."],
        ["Lena Focal", "In progress", "30%", "Consultation done."],
    ]
    assert history[0][6].startswith("Not verified")
    assert history[1][6] == f"Verified by Sofia Staff on {shown(today())}"
    assert f'action="/commitments/updates/{second.id}/verify"' in page
    assert f'action="/commitments/updates/{first.id}/verify"' not in page
    assert f'action="/commitments/{commitment.id}/delete"' in page
    assert "it disappears for good, with its 2 progress updates" in page
    assert "Post a progress update" in page


def test_detail_page_for_a_focal_point_has_no_staff_buttons(
    db, client, login, focal, lisbon, mitigation
):
    commitment = CommitmentFactory(
        member=lisbon, category=mitigation, freshness_months=24, evidence_stale_on=days(-1)
    )
    services.add_update(db, focal, commitment, UpdateData(status=S.PLANNED, narrative="Started."))
    login(focal)
    page = text(client.get(f"/commitments/{commitment.id}"))
    assert f'href="/commitments/{commitment.id}/update">Post a progress update</a>' in page
    assert f'href="/commitments/{commitment.id}/edit">Edit</a>' in page
    assert "/verify" not in page
    assert "/delete" not in page
    assert "Evidence no older than 24 months is expected, and there is none." in page
    assert "No progress updates yet." not in page


def test_detail_of_an_unknown_commitment(db, client, login, staff):
    login(staff)
    assert client.get("/commitments/999999").status_code == 404


# -- editing -------------------------------------------------------------------------------


def test_edit_form_is_filled_in(db, client, login, focal, lisbon, mitigation):
    commitment = with_document(db, focal, lisbon, mitigation, baseline="Base", freshness_months=6)
    login(focal)
    page = text(client.get(f"/commitments/{commitment.id}/edit"))
    assert value_of(page, "title") == "Climate plan"
    assert value_of(page, "baseline") == "Base"
    assert value_of(page, "freshness_months") == "6"
    assert value_of(page, "evidence_on") == days(-3).isoformat()
    assert selected(page, "category_id") == str(mitigation.id)
    assert 'id="remove_document"' in page
    assert "Plan.pdf" in page


def test_edit_a_commitment(db, client, login, focal, lisbon, mitigation, health):
    commitment = CommitmentFactory(member=lisbon, category=mitigation, title="Old title")
    login(focal)
    response = client.post(
        f"/commitments/{commitment.id}/edit",
        data=commitment_form(health, title="New title", status="off_track", freshness_months=""),
    )
    assert response.status_code == 302
    stored = fresh(db, commitment)
    assert (stored.title, stored.category_id, stored.status) == (
        "New title",
        health.id,
        S.OFF_TRACK,
    )
    assert stored.freshness_months is None


def test_edit_removes_the_uploaded_document(db, client, login, focal, lisbon, mitigation):
    commitment = with_document(db, focal, lisbon, mitigation, freshness_months=12)
    login(focal)
    response = client.post(
        f"/commitments/{commitment.id}/edit",
        data=commitment_form(
            mitigation, title="Climate plan", freshness_months="12", remove_document="y"
        ),
    )
    assert response.status_code == 302
    stored = fresh(db, commitment)
    assert stored.evidence_document_id is None
    assert stored.evidence_is_stale(today())


def test_edit_replaces_the_document_with_an_upload(db, client, login, focal, lisbon, mitigation):
    commitment = with_document(db, focal, lisbon, mitigation)
    login(focal)
    response = client.post(
        f"/commitments/{commitment.id}/edit",
        data={
            **commitment_form(mitigation, evidence_on=days(-1).isoformat()),
            "evidence_file": file_part(png_bytes(), "new.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert fresh(db, commitment).evidence_document.filename == "new.png"


def test_a_refused_edit_keeps_what_was_typed(db, client, login, focal, lisbon, mitigation):
    commitment = CommitmentFactory(member=lisbon, category=mitigation, title="Old title")
    login(focal)
    response = client.post(
        f"/commitments/{commitment.id}/edit",
        data=commitment_form(mitigation, title="Typed title", freshness_months="500"),
    )
    assert response.status_code == 200
    page = text(response)
    assert field_error(page, "freshness_months") == "Give a number of months between 1 and 240."
    assert value_of(page, "title") == "Typed title"
    assert value_of(page, "freshness_months") == "500"
    assert fresh(db, commitment).title == "Old title"


# -- progress updates ----------------------------------------------------------------------


def test_update_form_starts_from_the_current_state(db, client, login, focal, lisbon, mitigation):
    commitment = CommitmentFactory(
        member=lisbon, category=mitigation, status=S.OFF_TRACK, percent_complete=35
    )
    login(focal)
    page = text(client.get(f"/commitments/{commitment.id}/update"))
    assert selected(page, "status") == "off_track"
    assert value_of(page, "percent_complete") == "35"
    assert 'enctype="multipart/form-data"' in page


def test_post_a_progress_update_with_a_file(db, client, login, focal, lisbon, mitigation):
    commitment = CommitmentFactory(member=lisbon, category=mitigation)
    login(focal)
    response = client.post(
        f"/commitments/{commitment.id}/update",
        data={
            **update_form(evidence_on=days(-2).isoformat()),
            "evidence_file": file_part(pdf_bytes("report"), "report.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/commitments/{commitment.id}"
    (progress,) = db.scalars(select(CommitmentUpdate)).all()
    assert (progress.status, progress.percent_complete, progress.author_id) == (
        S.IN_PROGRESS,
        40,
        focal.id,
    )
    assert progress.evidence_document.filename == "report.pdf"
    stored = fresh(db, commitment)
    assert stored.status is S.IN_PROGRESS
    assert stored.evidence_document_id == progress.evidence_document_id
    page = text(client.get(f"/commitments/{commitment.id}"))
    assert "Data collection finished for transport." in page


@pytest.mark.parametrize(
    ("overrides", "field", "message", "kept"),
    [
        ({"percent_complete": "forty"}, "percent_complete", "Enter a whole number", "forty"),
        ({"percent_complete": "140"}, "percent_complete", "between 0 and 100", "140"),
        ({"narrative": "   "}, "narrative", "Say what has happened", None),
        ({"evidence_url": "https://x.example/r"}, "evidence_on", "Say what day", None),
        ({"evidence_on": "yesterday"}, "evidence_on", "Enter a date", "yesterday"),
        ({"status": "finished"}, "status", "Choose a status from the list.", None),
    ],
)
def test_a_bad_update_keeps_what_was_typed(
    db, client, login, focal, lisbon, mitigation, overrides, field, message, kept
):
    commitment = CommitmentFactory(member=lisbon, category=mitigation)
    login(focal)
    before = table_counts(db)
    response = client.post(
        f"/commitments/{commitment.id}/update",
        data=update_form(narrative="My typed narrative", **overrides)
        if "narrative" not in overrides
        else update_form(**overrides),
    )
    assert response.status_code == 200
    page = text(response)
    assert message in field_error(page, field)
    if kept is not None:
        assert value_of(page, field) == kept
    if "narrative" not in overrides:
        assert textarea(page, "narrative") == "My typed narrative"
    assert table_counts(db) == before
    assert fresh(db, commitment).last_update_at is None


# -- verifying, deleting -------------------------------------------------------------------


def test_staff_verify_an_update(db, client, login, staff, focal, lisbon, mitigation):
    commitment = CommitmentFactory(member=lisbon, category=mitigation)
    progress = services.add_update(
        db, focal, commitment, UpdateData(status=S.IN_PROGRESS, narrative="Done a step.")
    )
    login(staff)
    assert client.get(f"/commitments/updates/{progress.id}/verify").status_code == 405
    response = client.post(f"/commitments/updates/{progress.id}/verify")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/commitments/{commitment.id}#history-title"
    stored = fresh(db, progress)
    assert stored.is_verified and stored.verified_by_id == staff.id
    assert flashes(client.get(f"/commitments/{commitment.id}")) == [
        ("success", "The update is marked as verified.")
    ]
    client.post(f"/commitments/updates/{progress.id}/verify")
    assert flashes(client.get(f"/commitments/{commitment.id}")) == [
        ("info", "This update was already verified.")
    ]
    assert client.post("/commitments/updates/999999/verify").status_code == 404


def test_staff_delete_a_commitment(db, client, login, staff, focal, lisbon, mitigation):
    commitment = CommitmentFactory(member=lisbon, category=mitigation, title="By mistake")
    services.add_update(db, focal, commitment, UpdateData(status=S.PLANNED, narrative="x"))
    login(staff)
    assert client.get(f"/commitments/{commitment.id}/delete").status_code == 405
    response = client.post(f"/commitments/{commitment.id}/delete")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/commitments/member/{lisbon.id}"
    assert db.scalars(select(Commitment)).all() == []
    assert db.scalars(select(CommitmentUpdate)).all() == []
    assert flashes(client.get(response.headers["Location"])) == [
        ("success", "The commitment “By mistake” and its updates are deleted.")
    ]
    assert client.post("/commitments/999999/delete").status_code == 404


# -- evidence downloads --------------------------------------------------------------------


def test_evidence_download(db, client, login, focal, lisbon, mitigation):
    commitment = with_document(db, focal, lisbon, mitigation)
    document = commitment.evidence_document
    login(focal)
    response = client.get(f"/commitments/evidence/{document.id}")
    assert response.status_code == 200
    assert response.data == pdf_bytes("plan")
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == "attachment; filename=Plan.pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response.headers["Cache-Control"]
    assert "sandbox" in response.headers["Content-Security-Policy"]
    response.close()


def test_evidence_missing_on_disk_or_unknown_is_404(db, client, login, staff, lisbon, mitigation):
    commitment = with_document(db, staff, lisbon, mitigation)
    document = commitment.evidence_document
    documents.stored_path(document.sha256, services.EVIDENCE_FOLDER).unlink()
    login(staff)
    assert client.get(f"/commitments/evidence/{document.id}").status_code == 404
    assert client.get("/commitments/evidence/999999").status_code == 404


# -- focal points of another member --------------------------------------------------------


def test_another_members_focal_point_gets_404_everywhere_and_changes_nothing(
    db, client, login, focal, other_focal, lisbon, mitigation
):
    commitment = with_document(db, focal, lisbon, mitigation, freshness_months=12)
    progress = services.add_update(
        db, focal, commitment, UpdateData(status=S.IN_PROGRESS, narrative="Ours.")
    )
    document_id = commitment.evidence_document.id
    before = table_counts(db)
    login(other_focal)
    form = commitment_form(mitigation, title="Hijacked", evidence_url="", evidence_on="")
    for method, path, data in (
        ("get", f"/commitments/member/{lisbon.id}", None),
        ("get", f"/commitments/member/{lisbon.id}/new", None),
        ("post", f"/commitments/member/{lisbon.id}/new", form),
        ("get", f"/commitments/{commitment.id}", None),
        ("get", f"/commitments/{commitment.id}/edit", None),
        ("post", f"/commitments/{commitment.id}/edit", {**form, "remove_document": "y"}),
        ("get", f"/commitments/{commitment.id}/update", None),
        ("post", f"/commitments/{commitment.id}/update", update_form(status="dropped")),
        ("post", f"/commitments/updates/{progress.id}/verify", None),
        ("post", f"/commitments/{commitment.id}/delete", None),
        ("get", f"/commitments/evidence/{document_id}", None),
    ):
        response = getattr(client, method)(path, data=data)
        assert response.status_code == 404, (method, path)
    assert table_counts(db) == before
    stored = fresh(db, commitment)
    assert stored.title == "Climate plan"
    assert stored.status is S.IN_PROGRESS
    assert stored.evidence_document_id == document_id
    assert not fresh(db, progress).is_verified
    # The same answer as for things that do not exist.
    assert client.get("/commitments/999999").status_code == 404
    assert client.get("/commitments/member/999999").status_code == 404


def test_a_focal_point_cannot_verify_or_delete_even_their_own(
    db, client, login, focal, lisbon, mitigation
):
    commitment = CommitmentFactory(member=lisbon, category=mitigation)
    progress = services.add_update(
        db, focal, commitment, UpdateData(status=S.IN_PROGRESS, narrative="Ours.")
    )
    login(focal)
    assert client.post(f"/commitments/updates/{progress.id}/verify").status_code == 404
    assert client.post(f"/commitments/{commitment.id}/delete").status_code == 404
    assert not fresh(db, progress).is_verified
    assert fresh(db, commitment) is not None


@pytest.mark.parametrize("role", ["funder", "anonymous"])
def test_funders_and_anonymous_reach_nothing(db, client, login, focal, lisbon, mitigation, role):
    commitment = with_document(db, focal, lisbon, mitigation)
    progress = services.add_update(
        db, focal, commitment, UpdateData(status=S.IN_PROGRESS, narrative="Ours.")
    )
    if role == "funder":
        login(UserFactory(funder_user=True))
    expected = 404 if role == "funder" else 302
    before = table_counts(db)
    for method, path in (
        ("get", "/commitments/"),
        ("get", f"/commitments/member/{lisbon.id}"),
        ("post", f"/commitments/member/{lisbon.id}/new"),
        ("get", f"/commitments/{commitment.id}"),
        ("post", f"/commitments/{commitment.id}/edit"),
        ("post", f"/commitments/{commitment.id}/update"),
        ("post", f"/commitments/updates/{progress.id}/verify"),
        ("post", f"/commitments/{commitment.id}/delete"),
        ("get", f"/commitments/evidence/{commitment.evidence_document.id}"),
    ):
        assert getattr(client, method)(path).status_code == expected, (method, path)
    assert table_counts(db) == before
