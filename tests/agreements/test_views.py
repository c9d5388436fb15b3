"""The agreement pages end to end, through real form posts; and who may reach them."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from secretariat.agreements import documents
from secretariat.agreements.models import (
    Agreement,
    AgreementDocument,
    AgreementKind,
    AgreementStatus,
    ChangeKind,
    Obligation,
)
from secretariat.db import utcnow
from secretariat.followups.models import FollowUp, FollowUpStatus, Priority
from tests.agreements.conftest import days, fresh, shown, table_counts, today
from tests.agreements.factories import (
    SECRETARIAT,
    AgreementDocumentFactory,
    AgreementFactory,
    ObligationFactory,
)
from tests.agreements.test_documents import docx_bytes, pdf_bytes, png_bytes
from tests.factories import ContactFactory, MemberFactory, UserFactory, WorkingGroupFactory
from tests.groups.conftest import field_error, rows, section, text
from tests.partners.factories import PartnerFactory

S = AgreementStatus
TITLE_LINK = re.compile(r'<a href="/agreements/(\d+)">([^<]*)</a>')


@pytest.fixture
def signed_in(staff, auth, client):
    auth.login(staff)
    client.get("/")  # shows, and so clears, the welcome message
    return staff


@pytest.fixture
def cities(db):
    return {
        name: MemberFactory(name=name, slug=name.lower()) for name in ("Lisbon", "Porto", "Braga")
    }


@pytest.fixture
def focal(db, cities):
    """A focal point of Lisbon, with a current contact under the user's own address."""
    user = UserFactory(focal_point=True, member=cities["Lisbon"])
    ContactFactory(member=user.member, name="Own Focal", email=user.email, is_primary=True)
    return user


def agreement_form(owner, **overrides) -> dict:
    data = {
        "kind": "mou",
        "title": "Cohort 2027 MoU",
        "summary": "Share heat data.",
        "status": "draft",
        "owner_id": str(owner.id),
        "group_id": "",
        "secretariat_party": "y",
        "member_ids": [],
        "partner_ids": [],
        "signed_on": "",
        "effective_from": "",
        "expires_on": "",
        "renewal_notice_days": "90",
    }
    data.update(overrides)
    return data


def flashes(response) -> list[tuple[str, str]]:
    """The flashed messages on the page, as (category, text)."""
    return [
        (kind, " ".join(re.sub(r"<[^>]+>", " ", body).split()[1:]))
        for kind, body in re.findall(
            r'<p class="flash flash-(\w+)" role="\w+">(.*?)</p>', text(response), flags=re.DOTALL
        )
    ]


def listed(response) -> list[str]:
    assert response.status_code == 200, response.status_code
    return [title for _id, title in TITLE_LINK.findall(text(response))]


def shown_status(response) -> str:
    match = re.search(r'<span class="status status-(\w+)">', text(response))
    assert match, "no status on the page"
    return match.group(1)


def only(db, model):
    (row,) = db.scalars(select(model)).all()
    return row


def upload(client, agreement, content: bytes, filename: str, description: str = ""):
    return client.post(
        f"/agreements/{agreement.id}/documents/new",
        data={"file": (io.BytesIO(content), filename), "description": description},
        content_type="multipart/form-data",
    )


# -- entering ------------------------------------------------------------------------------


def test_enter_a_cohort_mou_with_the_secretariat(db, client, signed_in, cities):
    bank = PartnerFactory(name="Green Bank")
    group = WorkingGroupFactory(name="Heat")
    page = text(client.get(f"/agreements/new?member={cities['Porto'].id}"))
    assert f'<option selected value="{cities["Porto"].id}">Porto</option>' in page
    assert f'<option selected value="{signed_in.id}">Sofia Staff</option>' in page

    response = client.post(
        "/agreements/new",
        data=agreement_form(
            signed_in,
            member_ids=[str(c.id) for c in cities.values()],
            partner_ids=[str(bank.id)],
            group_id=str(group.id),
            status="signed",
            signed_on=days(-3).isoformat(),
            expires_on=days(700).isoformat(),
        ),
    )

    assert response.status_code == 302
    agreement = only(db, Agreement)
    assert response.headers["Location"] == f"/agreements/{agreement.id}"
    assert agreement.status is S.SIGNED
    assert [
        p.member.name if p.member else p.partner.name if p.partner else "secretariat"
        for p in agreement.parties
    ] == ["secretariat", "Lisbon", "Porto", "Braga", "Green Bank"]
    page = client.get(response.headers["Location"])
    assert ("success", "The agreement “Cohort 2027 MoU” is entered.") in flashes(page)
    parties = section(text(page), "parties-title")
    for name in ("Secretariat", "Lisbon", "Porto", "Braga", "Green Bank"):
        assert name in parties
    assert shown_status(page) == "signed"


def test_member_posted_twice_gets_a_clear_message_and_nothing_is_saved(
    db, client, signed_in, cities
):
    lisbon = str(cities["Lisbon"].id)
    before = table_counts(db)
    response = client.post(
        "/agreements/new", data=agreement_form(signed_in, member_ids=[lisbon, lisbon])
    )
    assert response.status_code == 200
    page = text(response)
    assert field_error(page, "member_ids") == "Lisbon is listed twice; list each party once."
    assert "Please correct the following" in page
    assert table_counts(db) == before


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"secretariat_party": ""},
            "member_ids",
            "An agreement has at least two parties: choose the members, partners or the "
            "secretariat who sign it.",
        ),
        (
            {"signed_on": "2026-03-10", "expires_on": "2026-03-01"},
            "expires_on",
            "The agreement cannot expire (Mar 1, 2026) before it is signed (Mar 10, 2026).",
        ),
        (
            {"title": "MoU \u202egpj.exe"},
            "title",
            "Remove the invisible control characters from the title.",
        ),
        ({"status": "active"}, "signed_on", "Enter the day it was signed."),
    ],
    ids=["one party", "expiry before signature", "control characters", "active unsigned"],
)
def test_bad_agreement_gets_a_message_next_to_the_field(
    db, client, signed_in, cities, overrides, field, message
):
    before = table_counts(db)
    form = agreement_form(signed_in, member_ids=[str(cities["Lisbon"].id)], **overrides)
    if overrides.get("secretariat_party") == "":
        del form["secretariat_party"]
    response = client.post("/agreements/new", data=form)
    assert response.status_code == 200
    assert field_error(text(response), field) == message
    assert table_counts(db) == before


def test_edit_an_agreement(db, client, signed_in, cities):
    agreement = AgreementFactory(parties=[SECRETARIAT, cities["Lisbon"]], owner=signed_in)
    page = client.get(f"/agreements/{agreement.id}/edit")
    assert page.status_code == 200
    assert 'name="status"' not in text(page)

    response = client.post(
        f"/agreements/{agreement.id}/edit",
        data=agreement_form(
            signed_in,
            title="Renamed MoU",
            member_ids=[str(cities["Lisbon"].id), str(cities["Porto"].id)],
        ),
    )

    assert response.status_code == 302, field_error(text(response), "member_ids")
    agreement = fresh(db, agreement)
    assert agreement.title == "Renamed MoU"
    assert [p.member_id for p in agreement.parties] == [
        None,
        cities["Lisbon"].id,
        cities["Porto"].id,
    ]
    assert agreement.status is S.DRAFT


def test_edit_of_a_signed_agreement_keeps_its_parties(db, client, signed_in, cities):
    agreement = AgreementFactory(signed=True, parties=[SECRETARIAT, cities["Lisbon"]])
    page = text(client.get(f"/agreements/{agreement.id}/edit"))
    assert "The parties of a signed agreement are fixed" in page
    response = client.post(
        f"/agreements/{agreement.id}/edit",
        data=agreement_form(
            agreement.owner,
            signed_on=agreement.signed_on.isoformat(),
            expires_on=days(400).isoformat(),
            member_ids=[str(cities["Porto"].id)],
        ),
    )
    assert response.status_code == 302
    agreement = fresh(db, agreement)
    assert [p.member_id for p in agreement.parties] == [None, cities["Lisbon"].id]
    assert agreement.expires_on == days(400)


def test_owner_change_through_the_edit_page_moves_open_follow_ups(db, client, signed_in, colleague):
    agreement = AgreementFactory(owner=colleague)
    client.post(
        f"/agreements/{agreement.id}/obligations/new",
        data={
            "description": "Report",
            "party_id": str(agreement.parties[1].id),
            "due_on": days(10).isoformat(),
            "priority": "normal",
        },
    )
    response = client.post(
        f"/agreements/{agreement.id}/edit",
        data=agreement_form(
            signed_in, title=agreement.title, member_ids=[str(agreement.parties[1].member_id)]
        ),
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert ("info", "1 open follow-ups of its obligations went to the new owner.") in flashes(page)
    assert only(db, FollowUp).owner_id == signed_in.id


# -- lifecycle -----------------------------------------------------------------------------


def move(client, agreement, status: str, **data):
    return client.post(f"/agreements/{agreement.id}/status/{status}", data=data)


def test_lifecycle_through_the_transition_pages(db, client, signed_in):
    agreement = AgreementFactory(title="Heat MoU", expires_on=days(365))
    detail = text(client.get(f"/agreements/{agreement.id}"))
    for label in ("Start negotiating", "Record the signature", "End the talks"):
        assert label in detail

    assert client.get(f"/agreements/{agreement.id}/status/negotiating").status_code == 200
    response = move(client, agreement, "negotiating")
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert ("success", "The agreement “Heat MoU” is now in negotiation.") in flashes(page)
    assert shown_status(page) == "negotiating"

    form = text(client.get(f"/agreements/{agreement.id}/status/signed"))
    assert f'value="{today().isoformat()}"' in form
    assert move(client, agreement, "signed", on=days(-2).isoformat()).status_code == 302
    assert move(client, agreement, "active", on=days(-1).isoformat()).status_code == 302
    agreement = fresh(db, agreement)
    assert (agreement.status, agreement.signed_on, agreement.effective_from) == (
        S.ACTIVE,
        days(-2),
        days(-1),
    )

    refused = move(client, agreement, "terminated", on=today().isoformat(), reason="")
    assert refused.status_code == 200
    assert (
        field_error(text(refused), "reason") == "Say why the agreement ends or the talks stopped."
    )
    assert fresh(db, agreement).status is S.ACTIVE

    response = move(client, agreement, "terminated", on=today().isoformat(), reason="City left.")
    assert response.status_code == 302
    page = text(client.get(f"/agreements/{agreement.id}"))
    assert "City left." in page
    history = section(page, "history-title")
    assert history.count("Status changed") == 4
    assert "Active → Terminated" in history
    assert f'href="/agreements/{agreement.id}/edit"' not in page
    assert f'href="/agreements/{agreement.id}/status/' not in page


def test_invalid_transition_is_refused_with_a_clear_message(db, client, signed_in):
    agreement = AgreementFactory()
    for method in (client.get, client.post):
        response = method(f"/agreements/{agreement.id}/status/active")
        assert response.status_code == 302
        page = client.get(response.headers["Location"])
        assert ("error", "An agreement cannot go from draft to active.") in flashes(page)
    response = client.post(f"/agreements/{agreement.id}/status/renewed")
    page = client.get(response.headers["Location"])
    assert (
        "error",
        "An agreement is renewed when its successor comes into force: use “Renew” to prepare "
        "the successor.",
    ) in flashes(page)
    assert client.get(f"/agreements/{agreement.id}/status/lost").status_code == 404
    assert fresh(db, agreement).status is S.DRAFT


def test_expired_agreement_offers_only_recording_the_expiry_and_renewal(db, client, signed_in):
    agreement = AgreementFactory(active=True, expires_on=days(-1))
    page = client.get(f"/agreements/{agreement.id}")
    assert shown_status(page) == "expired"
    assert f"Its last day in force was {shown(days(-1))}." in text(page)
    assert "Record the expiry" in text(page) and "Renew" in text(page)
    assert "Terminate" not in text(page)
    response = move(client, agreement, "expired")
    assert response.status_code == 302
    assert fresh(db, agreement).status is S.EXPIRED


def test_renew_through_the_pages(db, client, signed_in, cities):
    old = AgreementFactory(
        active=True,
        title="Heat MoU 2025",
        expires_on=days(20),
        renewal_notice_days=60,
        parties=[SECRETARIAT, cities["Lisbon"], cities["Porto"]],
        owner=signed_in,
    )
    form = text(client.get(f"/agreements/{old.id}/renew"))
    assert 'value="Heat MoU 2025"' in form
    assert '<option value="active">' not in form and 'value="active"' not in form

    response = client.post(
        f"/agreements/{old.id}/renew",
        data=agreement_form(
            signed_in,
            title="Heat MoU 2027",
            member_ids=[str(cities["Lisbon"].id), str(cities["Porto"].id), str(cities["Braga"].id)],
        ),
    )
    assert response.status_code == 302
    successor = db.scalar(select(Agreement).where(Agreement.renews_id == old.id))
    page = text(client.get(response.headers["Location"]))
    assert "Heat MoU 2025" in page  # "Renews"
    assert len(successor.parties) == 4
    assert "Renew</a>" not in text(client.get(f"/agreements/{old.id}"))

    move(client, successor, "signed", on=today().isoformat())
    move(client, successor, "active", on=today().isoformat())
    assert fresh(db, old).status is S.RENEWED
    old_page = client.get(f"/agreements/{old.id}")
    assert shown_status(old_page) == "renewed"
    assert "Heat MoU 2027" in section(text(old_page), "history-title")


@pytest.mark.parametrize("status", [S.TERMINATED, S.RENEWED])
def test_edit_of_what_cannot_change_is_refused_clearly(db, client, signed_in, status):
    agreement = AgreementFactory(status=status, signed_on=days(-9))
    before = table_counts(db)
    for method in (client.get, client.post):
        response = method(f"/agreements/{agreement.id}/edit", data=agreement_form(signed_in))
        assert response.status_code == 302
        assert response.headers["Location"] == f"/agreements/{agreement.id}"
        assert (
            "error",
            "A terminated or renewed agreement is kept as it was; it cannot change.",
        ) in flashes(client.get(response.headers["Location"]))
    assert table_counts(db) == before


@pytest.mark.parametrize("status", [S.DRAFT, S.SIGNED, S.TERMINATED, S.RENEWED])
def test_renewal_of_what_cannot_be_renewed_is_refused_clearly(db, client, signed_in, status):
    agreement = AgreementFactory(status=status, signed_on=days(-9))
    before = table_counts(db)
    message = "Only an active or expired agreement can be renewed."
    page = client.get(f"/agreements/{agreement.id}/renew")
    assert page.status_code == 200
    assert ("error", message) in flashes(page)
    response = client.post(
        f"/agreements/{agreement.id}/renew",
        data=agreement_form(signed_in, member_ids=[str(agreement.parties[1].member_id)]),
    )
    assert response.status_code == 200
    assert field_error(text(response), "status") == message
    assert table_counts(db) == before


def test_second_renewal_is_refused_clearly(db, client, signed_in):
    old = AgreementFactory(active=True)
    AgreementFactory(title="Heat MoU 2027", renews=old)
    response = client.get(f"/agreements/{old.id}/renew")
    assert ("error", "A renewal is already under way: “Heat MoU 2027”.") in flashes(response)


# -- documents -----------------------------------------------------------------------------


def test_upload_download_and_remove_a_document(app, db, client, signed_in):
    agreement = AgreementFactory()
    content = pdf_bytes()

    response = upload(client, agreement, content, "../../etc/Signed MoU\u202e.pdf", "Signed copy")

    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert flashes(page) == [
        ("success", "“Signed MoU.pdf” is attached."),
        ("info", "The file's name was made safe: it is kept as “Signed MoU.pdf”."),
    ]
    document = only(db, AgreementDocument)
    assert documents.stored_path(document.sha256).read_bytes() == content
    assert str(documents.stored_path(document.sha256)).startswith(app.config["UPLOAD_PATH"])
    docs = section(text(page), "documents-title")
    assert "Signed MoU.pdf" in docs and "Signed copy" in docs

    download = client.get(f"/agreements/{agreement.id}/documents/{document.id}")
    assert download.status_code == 200
    assert download.data == content
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"] == 'attachment; filename="Signed MoU.pdf"'
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in download.headers["Cache-Control"]
    download.close()

    response = client.post(f"/agreements/{agreement.id}/documents/{document.id}/remove")
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert "No documents attached." in page
    assert "Removed documents: Signed MoU.pdf" in page
    assert client.get(f"/agreements/{agreement.id}/documents/{document.id}").status_code == 404
    assert documents.stored_path(document.sha256).exists()


def test_non_ascii_name_is_offered_in_both_header_forms(db, client, signed_in):
    agreement = AgreementFactory()
    upload(client, agreement, docx_bytes(), "Acordo São Paulo.docx")
    document = only(db, AgreementDocument)
    assert document.filename == "Acordo São Paulo.docx"
    download = client.get(f"/agreements/{agreement.id}/documents/{document.id}")
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''Acordo%20S%C3%A3o%20Paulo.docx" in disposition
    download.close()


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        (
            "contract.pdf",
            b"MZ\x90\x00" + bytes(500),
            "This file is not a PDF, Word (DOCX), Excel (XLSX), OpenDocument text (ODT), PNG "
            "or JPEG document, whatever its name says.",
        ),
        ("contract.pdf", b"", "The file is empty; choose the document to upload."),
        (
            "contract.docx",
            docx_bytes({"word/vbaProject.bin": b"macro"}),
            "Documents with macros are not accepted; save it without macros.",
        ),
    ],
    ids=["exe", "empty", "macros"],
)
def test_refused_upload_gets_a_message_next_to_the_file(
    app, db, client, signed_in, filename, content, message
):
    agreement = AgreementFactory()
    before = table_counts(db)
    response = upload(client, agreement, content, filename)
    assert response.status_code == 200
    assert field_error(text(response), "file") == message
    assert table_counts(db) == before
    assert not (documents.stored_path("0" * 64).parent.parent).exists()


def test_upload_without_a_file_is_refused(db, client, signed_in):
    agreement = AgreementFactory()
    response = client.post(
        f"/agreements/{agreement.id}/documents/new",
        data={"description": "x"},
        content_type="multipart/form-data",
    )
    assert field_error(text(response), "file") == "Choose the file to upload."


def test_a_21_mb_upload_gets_the_file_too_large_page(app, db, client, signed_in):
    agreement = AgreementFactory()
    before = table_counts(db)
    response = upload(client, agreement, b"%PDF-1.4\n" + bytes(21 * 1024 * 1024), "big.pdf")
    assert response.status_code == 413
    page = text(response)
    assert "<h1>File too large</h1>" in page
    assert "Files can be at most 20 MB. Nothing was saved" in page
    assert table_counts(db) == before


def test_a_file_just_over_20_mb_gets_a_message_on_the_form(app, db, client, signed_in):
    agreement = AgreementFactory()
    response = upload(client, agreement, b"%PDF-1.4\n" + bytes(documents.MAX_BYTES), "big.pdf")
    assert response.status_code == 200
    assert field_error(text(response), "file") == (
        "The file is larger than 20 MB; documents can be at most 20 MB."
    )


def test_document_of_another_agreement_is_not_found(db, client, signed_in):
    mine, other = AgreementFactory(), AgreementFactory()
    upload(client, other, png_bytes(), "map.png")
    document = only(db, AgreementDocument)
    assert client.get(f"/agreements/{mine.id}/documents/{document.id}").status_code == 404
    assert client.post(f"/agreements/{mine.id}/documents/{document.id}/remove").status_code == 404
    assert not fresh(db, document).is_removed


def test_missing_file_on_disk_is_not_found(db, client, signed_in):
    document = AgreementDocumentFactory()
    assert (
        client.get(f"/agreements/{document.agreement_id}/documents/{document.id}").status_code
        == 404
    )


# -- obligations ---------------------------------------------------------------------------


def test_add_edit_and_remove_an_obligation(db, client, signed_in, colleague, cities):
    agreement = AgreementFactory(
        signed=True, signed_on=days(-5), owner=colleague, parties=[SECRETARIAT, cities["Lisbon"]]
    )
    lisbon_party = agreement.parties[1]
    form = text(client.get(f"/agreements/{agreement.id}/obligations/new"))
    assert "owned by Carlos Colleague" in form
    assert f'<option value="{lisbon_party.id}">Lisbon</option>' in form
    assert f'<option value="{agreement.parties[0].id}">Secretariat</option>' in form

    refused = client.post(
        f"/agreements/{agreement.id}/obligations/new",
        data={
            "description": "Report",
            "party_id": str(lisbon_party.id),
            "due_on": days(-6).isoformat(),
            "priority": "normal",
        },
    )
    assert field_error(text(refused), "due_on") == (
        f"The agreement was signed on {shown(days(-5))}; an obligation falls due on or after it."
    )
    assert db.scalar(select(func.count()).select_from(FollowUp)) == 0

    response = client.post(
        f"/agreements/{agreement.id}/obligations/new",
        data={
            "description": "Send the heat plan",
            "party_id": str(lisbon_party.id),
            "due_on": days(30).isoformat(),
            "priority": "high",
        },
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert (
        "success",
        "The obligation is recorded; a follow-up for Carlos Colleague tracks it.",
    ) in flashes(page)
    obligation = only(db, Obligation)
    follow_up = only(db, FollowUp)
    assert (follow_up.owner_id, follow_up.member_id, follow_up.priority, follow_up.due_on) == (
        colleague.id,
        cities["Lisbon"].id,
        Priority.HIGH,
        days(30),
    )
    obligations = rows(section(text(page), "obligations-title"))
    assert obligations[0][:3] == ["Send the heat plan", "Lisbon", shown(days(30))]
    assert "Send the heat plan" in section(text(page), "followups-title")

    edit = text(client.get(f"/agreements/{agreement.id}/obligations/{obligation.id}/edit"))
    assert '<option selected value="high">' in edit
    response = client.post(
        f"/agreements/{agreement.id}/obligations/{obligation.id}/edit",
        data={
            "description": "Send the final heat plan",
            "party_id": str(agreement.parties[0].id),
            "due_on": days(40).isoformat(),
            "priority": "normal",
        },
    )
    assert response.status_code == 302
    follow_up = fresh(db, follow_up)
    assert (follow_up.title, follow_up.member_id, follow_up.due_on) == (
        "Send the final heat plan",
        None,
        days(40),
    )

    response = client.post(f"/agreements/{agreement.id}/obligations/{obligation.id}/remove")
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert "The obligation is removed; its open follow-up is cancelled." in page
    assert "No obligations recorded." in page
    assert fresh(db, follow_up).status is FollowUpStatus.CANCELLED


def test_obligation_of_another_agreement_is_not_found(db, client, signed_in):
    mine = AgreementFactory()
    other = ObligationFactory()
    for method, path in (
        ("get", f"/agreements/{mine.id}/obligations/{other.id}/edit"),
        ("post", f"/agreements/{mine.id}/obligations/{other.id}/remove"),
    ):
        assert getattr(client, method)(path).status_code == 404
    assert db.get(Obligation, other.id) is not None


# -- the list and the member's page --------------------------------------------------------


@pytest.fixture
def catalogue(db, cities):
    """Agreements of every kind of interest for the list's filters."""
    bank = PartnerFactory(name="Green Bank")
    return {
        "draft": AgreementFactory(
            title="Draft data deal",
            kind=AgreementKind.DATA_SHARING,
            parties=[cities["Lisbon"], bank],
        ),
        "soon": AgreementFactory(
            active=True,
            title="Expires soon",
            expires_on=days(20),
            parties=[SECRETARIAT, cities["Lisbon"]],
        ),
        "later": AgreementFactory(
            active=True,
            title="Expires later",
            kind=AgreementKind.GRANT,
            expires_on=days(80),
            parties=[SECRETARIAT, cities["Porto"]],
        ),
        "lapsed": AgreementFactory(
            active=True,
            title="Lapsed",
            expires_on=days(-1),
            parties=[SECRETARIAT, cities["Porto"], cities["Lisbon"]],
        ),
        "open": AgreementFactory(active=True, title="Open-ended", parties=[SECRETARIAT, bank]),
        "signed": AgreementFactory(
            signed=True,
            title="Signed soon expiring",
            expires_on=days(10),
            parties=[SECRETARIAT, cities["Braga"]],
        ),
        "bank": bank,
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "",
            [
                "Signed soon expiring",
                "Open-ended",
                "Lapsed",
                "Expires later",
                "Expires soon",
                "Draft data deal",
            ],
        ),
        ("kind=grant", ["Expires later"]),
        ("kind=data_sharing", ["Draft data deal"]),
        ("status=active", ["Open-ended", "Expires later", "Expires soon"]),
        ("status=expired", ["Lapsed"]),
        ("status=signed", ["Signed soon expiring"]),
        ("party=member:LISBON", ["Lapsed", "Expires soon", "Draft data deal"]),
        ("party=partner:BANK", ["Open-ended", "Draft data deal"]),
        (
            "party=secretariat",
            ["Signed soon expiring", "Open-ended", "Lapsed", "Expires later", "Expires soon"],
        ),
        ("expiring=30", ["Signed soon expiring", "Expires soon"]),
        ("expiring=90", ["Signed soon expiring", "Expires soon", "Expires later"]),
        ("expiring=90&kind=grant&status=active", ["Expires later"]),
        ("q=EXPIRES", ["Expires later", "Expires soon"]),
        ("q=100%25", []),
        (
            "expiring=45&kind=nonsense&status=lost&party=user:1",
            [
                "Signed soon expiring",
                "Open-ended",
                "Lapsed",
                "Expires later",
                "Expires soon",
                "Draft data deal",
            ],
        ),
    ],
)
def test_list_filters(db, client, signed_in, catalogue, cities, query, expected):
    query = query.replace("LISBON", str(cities["Lisbon"].id)).replace(
        "BANK", str(catalogue["bank"].id)
    )
    assert listed(client.get(f"/agreements/?{query}")) == expected


@pytest.mark.parametrize(
    "query",
    [
        "page=%C2%B2",
        "page=99999999999999999999",
        "party=member:%C2%B2",
        "party=member:99999999999999999999",
        "party=partner:-1",
        "expiring=%C2%B3%C2%B0",
        "q=%00",
    ],
)
def test_list_ignores_odd_query_values(db, client, signed_in, catalogue, query):
    assert len(listed(client.get(f"/agreements/?{query}"))) == 6


@pytest.mark.parametrize(
    "path",
    [
        "/agreements/99999999999999999999",
        "/agreements/99999999999999999999/edit",
        "/agreements/1/documents/99999999999999999999",
        "/agreements/99999999999999999999/obligations/1/edit",
    ],
)
def test_too_large_ids_are_not_found(db, client, signed_in, path):
    AgreementFactory()
    assert client.get(path).status_code == 404


def test_new_agreement_ignores_an_odd_member_in_the_address(db, client, signed_in):
    for value in ("%C2%B2", "99999999999999999999", "x"):
        assert client.get(f"/agreements/new?member={value}&partner={value}").status_code == 200


def test_search_ignores_control_characters(db, client, signed_in, catalogue):
    assert listed(client.get("/agreements/?q=Lap%00sed%E2%80%AE")) == ["Lapsed"]


def test_list_shows_the_status_of_today(db, client, signed_in, catalogue):
    table = {row[0]: row for row in rows(text(client.get("/agreements/")))}
    assert table["Lapsed"][3] == "Expired"
    assert table["Expires soon"][3] == "Active"
    assert table["Lapsed"][2] == "Secretariat, Porto, Lisbon"
    assert table["Expires soon"][6] == catalogue["soon"].owner.name


def test_list_shortens_a_long_list_of_parties(db, client, signed_in):
    AgreementFactory(title="Cohort", parties=[SECRETARIAT, *(MemberFactory() for _ in range(5))])
    (row,) = rows(text(client.get("/agreements/")))
    assert row[2].endswith("and 3 others")


def test_member_page_lists_its_agreements(db, client, signed_in, catalogue, cities):
    page = text(client.get("/members/lisbon"))
    agreements = section(page, "agreements-title")
    table = {row[0]: row for row in rows(agreements)}
    assert set(table) == {"Draft data deal", "Expires soon", "Lapsed"}
    assert table["Lapsed"][3] == "Expired"
    assert table["Expires soon"][3] == "Active"
    assert f'href="/agreements/new?member={cities["Lisbon"].id}"' in agreements


def test_staff_dashboard_lists_renewals_due(db, client, signed_in, cities):
    AgreementFactory(active=True, title="Due", expires_on=days(20), renewal_notice_days=30)
    AgreementFactory(active=True, title="Not yet", expires_on=days(60), renewal_notice_days=30)
    AgreementFactory(active=True, title="Lapsed", expires_on=days(-1), renewal_notice_days=30)
    page = text(client.get("/"))
    todo = section(page, "todo-title")
    assert "Prepare the renewal of" in todo and ">Due</a>" in todo
    assert "Not yet" not in todo and "Lapsed" not in todo


# -- the network's calendar day ------------------------------------------------------------


@pytest.mark.parametrize(
    "app_overrides",
    [{"TIMEZONE": "Pacific/Kiritimati"}, {"TIMEZONE": "Pacific/Pago_Pago"}],
    ids=["Kiritimati", "Pago_Pago"],
)
def test_every_page_shows_the_same_status_in_the_networks_day(db, client, signed_in, cities):
    """Kiritimati (UTC+14) is ahead of UTC, Pago Pago (UTC-11) behind: at any instant at least
    one of them is on another calendar day than UTC, so the UTC day's agreement differs."""
    utc_day = utcnow().date()
    lisbon = cities["Lisbon"]
    made = {
        "yesterday": AgreementFactory(
            active=True,
            title="Last day yesterday",
            expires_on=days(-1),
            parties=[SECRETARIAT, lisbon],
        ),
        "today": AgreementFactory(
            active=True,
            title="Last day today",
            expires_on=today(),
            renewal_notice_days=10,
            parties=[SECRETARIAT, lisbon],
        ),
        "utc": AgreementFactory(
            active=True,
            title="Last day UTC day",
            expires_on=utc_day,
            renewal_notice_days=10,
            parties=[SECRETARIAT, lisbon],
        ),
    }
    expected = {
        "yesterday": "expired",
        "today": "active",
        "utc": "expired" if today() > utc_day else "active",
    }

    listed_status = {row[0]: row[3].lower() for row in rows(text(client.get("/agreements/")))}
    member_status = {
        row[0]: row[3].lower()
        for row in rows(section(text(client.get("/members/lisbon")), "agreements-title"))
    }
    dashboard = section(text(client.get("/")), "todo-title")
    for key, agreement in made.items():
        assert listed_status[agreement.title] == expected[key], key
        assert member_status[agreement.title] == expected[key], key
        assert shown_status(client.get(f"/agreements/{agreement.id}")) == expected[key], key
        in_filter = listed(client.get(f"/agreements/?status={expected[key]}"))
        assert agreement.title in in_filter, key
        assert (f">{agreement.title}</a>" in dashboard) == (expected[key] == "active"), key


# -- who may see what ----------------------------------------------------------------------


@pytest.fixture
def scoped(db, focal, cities):
    """An agreement of the focal point's member with a document, and one without it."""
    own = AgreementFactory(
        signed=True, title="Lisbon MoU", parties=[SECRETARIAT, focal.member, cities["Porto"]]
    )
    other = AgreementFactory(signed=True, title="Porto MoU", parties=[SECRETARIAT, cities["Porto"]])
    return {"own": own, "other": other}


def test_focal_point_reads_their_members_agreements(app, db, client, auth, staff, focal, scoped):
    own, other = scoped["own"], scoped["other"]
    auth.login(staff)
    upload(client, own, pdf_bytes(), "Lisbon MoU signed.pdf")
    upload(client, other, png_bytes(), "porto.png")
    client.post(
        f"/agreements/{own.id}/obligations/new",
        data={
            "description": "Send data",
            "party_id": str(own.parties[1].id),
            "due_on": days(9).isoformat(),
            "priority": "normal",
        },
    )
    auth.logout()
    auth.login(focal)
    own_doc, other_doc = db.scalars(select(AgreementDocument).order_by(AgreementDocument.id)).all()

    assert listed(client.get("/agreements/")) == ["Lisbon MoU"]
    assert listed(
        client.get(f"/agreements/?party=member:{scoped['other'].parties[1].member_id}")
    ) == ["Lisbon MoU"]
    page = text(client.get(f"/agreements/{own.id}"))
    assert "Lisbon MoU signed.pdf" in page
    assert "Send data" in page
    for staff_only in (
        "Edit",
        "Upload a document",
        "Add an obligation",
        "History",
        "Remove",
        "Record the signature",
        staff.name,
    ):
        assert staff_only not in page, staff_only
    assert "Lisbon MoU" in section(text(client.get("/members/lisbon")), "agreements-title")

    download = client.get(f"/agreements/{own.id}/documents/{own_doc.id}")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"] == 'attachment; filename="Lisbon MoU signed.pdf"'
    download.close()

    assert client.get(f"/agreements/{other.id}").status_code == 404
    assert client.get(f"/agreements/{other.id}/documents/{other_doc.id}").status_code == 404
    assert client.get(f"/agreements/{own.id}/documents/{other_doc.id}").status_code == 404
    assert client.get("/agreements/999999").status_code == 404


def manage_requests(agreement, document, obligation) -> list[tuple[str, str, dict]]:
    base = f"/agreements/{agreement.id}"
    party = str(agreement.parties[0].id)
    return [
        ("GET", "/agreements/new", {}),
        ("POST", "/agreements/new", {"kind": "mou", "title": "x", "secretariat_party": "y"}),
        ("GET", f"{base}/edit", {}),
        ("POST", f"{base}/edit", {"kind": "mou", "title": "Hacked"}),
        ("GET", f"{base}/renew", {}),
        ("POST", f"{base}/renew", {"kind": "mou", "title": "Hacked"}),
        ("GET", f"{base}/status/terminated", {}),
        ("POST", f"{base}/status/terminated", {"reason": "Hacked"}),
        ("POST", f"{base}/status/active", {}),
        ("GET", f"{base}/documents/new", {}),
        ("POST", f"{base}/documents/new", {"file": (io.BytesIO(pdf_bytes("x")), "x.pdf")}),
        ("POST", f"{base}/documents/{document.id}/remove", {}),
        ("GET", f"{base}/obligations/new", {}),
        (
            "POST",
            f"{base}/obligations/new",
            {"description": "x", "party_id": party, "due_on": "2030-01-01", "priority": "low"},
        ),
        ("GET", f"{base}/obligations/{obligation.id}/edit", {}),
        (
            "POST",
            f"{base}/obligations/{obligation.id}/edit",
            {"description": "x", "party_id": party, "due_on": "2030-01-01", "priority": "low"},
        ),
        ("POST", f"{base}/obligations/{obligation.id}/remove", {}),
    ]


@pytest.mark.parametrize("which", ["own", "other"])
def test_focal_point_gets_404_on_every_manage_endpoint(db, client, auth, focal, scoped, which):
    agreement = scoped[which]
    document = AgreementDocumentFactory(agreement=agreement)
    obligation = ObligationFactory(agreement=agreement)
    auth.login(focal)
    before = table_counts(db)
    for method, path, data in manage_requests(agreement, document, obligation):
        response = client.open(path, method=method, data=data)
        assert response.status_code == 404, (method, path)
        assert "Page not found" in text(response)
    assert table_counts(db) == before
    agreement = fresh(db, agreement)
    assert (agreement.title, agreement.status) == (scoped[which].title, S.SIGNED)
    assert not db.get(AgreementDocument, document.id).is_removed


def test_funder_gets_404_everywhere(db, client, auth, scoped):
    funder = UserFactory(funder_user=True)
    document = AgreementDocumentFactory(agreement=scoped["own"])
    auth.login(funder)
    for path in (
        "/agreements/",
        f"/agreements/{scoped['own'].id}",
        f"/agreements/{scoped['own'].id}/documents/{document.id}",
    ):
        assert client.get(path).status_code == 404, path


def test_anonymous_visitor_is_sent_to_sign_in(db, client, scoped):
    for path in ("/agreements/", f"/agreements/{scoped['own'].id}", "/agreements/new"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/sign-in")


def test_focal_point_of_a_former_party_sees_the_agreement_no_more(db, client, auth, focal, cities):
    agreement = AgreementFactory(parties=[SECRETARIAT, focal.member])
    auth.login(focal)
    assert client.get(f"/agreements/{agreement.id}").status_code == 200
    agreement.parties[1].member_id = cities["Porto"].id
    db.flush()
    assert client.get(f"/agreements/{agreement.id}").status_code == 404


def test_history_records_document_changes_with_the_actor(db, client, signed_in):
    agreement = AgreementFactory()
    upload(client, agreement, pdf_bytes(), "a.pdf")
    kinds = [c.kind for c in fresh(db, agreement).history]
    assert kinds == [ChangeKind.DOCUMENT_ADDED]
    page = section(text(client.get(f"/agreements/{agreement.id}")), "history-title")
    assert "Document added" in page and "a.pdf" in page and signed_in.name in page


def test_obligation_refused_when_the_owner_left_is_explained(db, client, signed_in):
    gone = UserFactory(name="Gone Person", is_active=False)
    agreement = AgreementFactory(owner=gone)
    response = client.post(
        f"/agreements/{agreement.id}/obligations/new",
        data={
            "description": "x",
            "party_id": str(agreement.parties[0].id),
            "due_on": (today() + timedelta(days=3)).isoformat(),
            "priority": "low",
        },
    )
    assert response.status_code == 200
    assert (
        "error",
        "Gone Person, the agreement's owner, is deactivated; give the agreement another owner "
        "first, so that someone follows its obligations up.",
    ) in flashes(response)
