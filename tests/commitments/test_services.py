"""Commitment operations: entering, editing, progress history, verification, stale evidence."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import select

from secretariat.agreements import documents
from secretariat.agreements.models import DocumentType
from secretariat.commitments import services
from secretariat.commitments.models import (
    Commitment,
    CommitmentStatus,
    CommitmentUpdate,
    EvidenceDocument,
)
from secretariat.commitments.services import CommitmentData, UpdateData, Upload
from secretariat.members.services import ValidationFailed
from secretariat.permissions import OutOfScope
from tests.agreements.test_documents import docx_bytes, pdf_bytes
from tests.commitments.conftest import days, fresh, table_counts, today
from tests.factories import CommitmentFactory, TermFactory, UserFactory

S = CommitmentStatus


def data(category, **overrides) -> CommitmentData:
    values = {
        "title": "Climate action plan aligned with 1.5°C",
        "category_id": category.id,
        "status": S.PLANNED,
        "description": "Adopted by the city council.",
        "baseline": "No plan",
        "target": "Plan adopted",
        "target_on": days(400),
    }
    values.update(overrides)
    return CommitmentData(**values)


def update(**overrides) -> UpdateData:
    values = {"status": S.IN_PROGRESS, "narrative": "Draft plan out for consultation."}
    values.update(overrides)
    return UpdateData(**values)


def refusal(call) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as exc:
        call()
    return exc.value.errors


# -- entering ------------------------------------------------------------------------------


def test_create_a_commitment(db, focal, lisbon, mitigation):
    commitment = services.create_commitment(
        db,
        focal,
        lisbon,
        data(
            mitigation,
            title="  Climate   action plan ",
            evidence_url="https://lisbon.example/plan.pdf",
            evidence_on=days(-10),
            freshness_months=60,
        ),
    )
    stored = fresh(db, commitment)
    assert stored.member_id == lisbon.id
    assert stored.title == "Climate action plan"
    assert stored.category_id == mitigation.id
    assert stored.status is S.PLANNED
    assert (stored.baseline, stored.target, stored.target_on) == (
        "No plan",
        "Plan adopted",
        days(400),
    )
    assert stored.evidence_url == "https://lisbon.example/plan.pdf"
    assert stored.evidence_on == days(-10)
    assert stored.created_by_id == focal.id
    assert stored.evidence_stale_on == days(-10) + relativedelta(months=60)
    assert not stored.evidence_is_stale(today())
    assert stored.last_update_at is None
    assert stored.updates == []


def test_without_freshness_rule_evidence_never_goes_stale(db, staff, lisbon, mitigation):
    commitment = services.create_commitment(
        db,
        staff,
        lisbon,
        data(mitigation, evidence_url="https://x.example/a", evidence_on=days(-5000)),
    )
    assert commitment.evidence_stale_on is None
    assert not commitment.evidence_is_stale(days(10_000))


def test_freshness_rule_without_evidence_is_stale_from_the_first_day(db, staff, lisbon, mitigation):
    commitment = services.create_commitment(
        db, staff, lisbon, data(mitigation, freshness_months=24)
    )
    assert not commitment.has_evidence
    assert commitment.evidence_stale_on == today()
    assert commitment.evidence_is_stale(today())
    assert not commitment.evidence_is_stale(days(-1))


def test_old_evidence_is_stale_exactly_after_the_rule(db, staff, lisbon, mitigation):
    evidence_on = today() - relativedelta(months=24)
    commitment = services.create_commitment(
        db,
        staff,
        lisbon,
        data(
            mitigation,
            evidence_url="https://x.example/inventory",
            evidence_on=evidence_on,
            freshness_months=24,
        ),
    )
    assert commitment.evidence_stale_on == today()
    assert commitment.evidence_is_stale(today())
    assert not commitment.evidence_is_stale(days(-1))


def test_uploaded_evidence_is_stored_under_its_hash_and_sniffed(db, focal, lisbon, mitigation, app):
    content = docx_bytes()
    commitment = services.create_commitment(
        db,
        focal,
        lisbon,
        data(mitigation, evidence_on=days(-3), freshness_months=12),
        Upload("../../Plano de ação.pdf", content),
    )
    document = fresh(db, commitment).evidence_document
    assert document is not None
    assert document.member_id == lisbon.id
    # The content decides the type and the extension, not the name it came with.
    assert document.file_type is DocumentType.DOCX
    assert document.filename == "Plano de ação.docx"
    assert document.size == len(content)
    assert document.uploaded_by_id == focal.id
    path = documents.stored_path(document.sha256, services.EVIDENCE_FOLDER)
    assert path.read_bytes() == content
    assert path.parent.parent.name == "evidence"
    assert commitment.evidence_stale_on == days(-3) + relativedelta(months=12)


def test_an_upload_that_is_not_a_document_is_refused_and_nothing_kept(
    db, focal, lisbon, mitigation, app, tmp_path
):
    before = table_counts(db)
    errors = refusal(
        lambda: services.create_commitment(
            db,
            focal,
            lisbon,
            data(mitigation, evidence_on=days(-1)),
            Upload("plan.pdf", b"MZ\x90\x00 not a pdf at all"),
        )
    )
    assert "whatever its name says" in errors["evidence_file"]
    assert table_counts(db) == before
    assert not (tmp_path / "uploads" / "evidence").exists()


def test_an_empty_upload_is_refused(db, focal, lisbon, mitigation):
    errors = refusal(
        lambda: services.create_commitment(
            db, focal, lisbon, data(mitigation, evidence_on=days(-1)), Upload("plan.pdf", b"")
        )
    )
    assert errors == {"evidence_file": "The file is empty; choose the document to upload."}


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": "   "}, "title", "Say what the member pledged."),
        ({"title": "x" * 301}, "title", "Use at most 300 characters"),
        ({"title": "Plan\x00"}, "title", "Remove the invisible control characters"),
        ({"category_id": None}, "category_id", "Choose a category."),
        ({"category_id": 999_999}, "category_id", "Choose a category."),
        ({"description": "a\x07b"}, "description", "Remove the invisible control characters"),
        ({"description": "x" * 20_001}, "description", "Use at most 20000 characters"),
        ({"baseline": "x" * 501}, "baseline", "Use at most 500 characters"),
        ({"target": "x" * 501}, "target", "Use at most 500 characters"),
        ({"freshness_months": 0}, "freshness_months", "between 1 and 240"),
        ({"freshness_months": 241}, "freshness_months", "between 1 and 240"),
        (
            {"evidence_url": "ftp://x.example/plan", "evidence_on": days(-1)},
            "evidence_url",
            "starting with https://",
        ),
        (
            {"evidence_url": "https://x.example/a plan", "evidence_on": days(-1)},
            "evidence_url",
            "without spaces",
        ),
        (
            {"evidence_url": "https://x.example/" + "a" * 1000, "evidence_on": days(-1)},
            "evidence_url",
            "at most 1,000 characters",
        ),
        ({"evidence_url": "https://x.example/plan"}, "evidence_on", "Say what day"),
        (
            {"evidence_url": "https://x.example/plan", "evidence_on": days(1)},
            "evidence_on",
            "cannot date from the future",
        ),
        ({"evidence_on": days(-1)}, "evidence_on", "Add the link or the file this date"),
    ],
)
def test_bad_input_is_refused_field_by_field(
    db, staff, lisbon, mitigation, overrides, field, message
):
    before = table_counts(db)
    errors = refusal(
        lambda: services.create_commitment(db, staff, lisbon, data(mitigation, **overrides))
    )
    assert list(errors) == [field]
    assert message in errors[field]
    assert table_counts(db) == before


def test_a_term_of_another_list_is_not_a_category(db, staff, lisbon):
    region = TermFactory(label="Southern Europe")
    errors = refusal(lambda: services.create_commitment(db, staff, lisbon, data(region)))
    assert errors == {"category_id": "Choose a category."}


def test_every_problem_comes_back_at_once(db, staff, lisbon):
    errors = refusal(
        lambda: services.create_commitment(
            db,
            staff,
            lisbon,
            CommitmentData(
                title="",
                category_id=None,
                freshness_months=500,
                evidence_url="not a link",
                unreadable={"target_on": "Enter a date, e.g. 2027-03-15."},
            ),
        )
    )
    assert set(errors) == {"title", "category_id", "freshness_months", "evidence_url", "target_on"}


def test_a_retired_category_stays_on_offer_for_its_commitments(db, mitigation):
    retired = TermFactory(label="Water", vocabulary=mitigation.vocabulary, is_active=False)
    offered = services.category_choices(db)
    assert mitigation in offered
    assert retired not in offered
    assert retired in services.category_choices(db, retired.id)


def test_focal_point_cannot_enter_a_commitment_of_another_member(
    db, other_focal, lisbon, mitigation
):
    before = table_counts(db)
    with pytest.raises(OutOfScope):
        services.create_commitment(db, other_focal, lisbon, data(mitigation))
    assert table_counts(db) == before


# -- editing -------------------------------------------------------------------------------


def test_edit_a_commitment(db, focal, lisbon, mitigation, health):
    commitment = CommitmentFactory(member=lisbon, category=mitigation)
    services.update_commitment(
        db,
        focal,
        commitment,
        data(
            health,
            title="Smoke-free public spaces law",
            status=S.IN_PROGRESS,
            freshness_months=24,
            evidence_url="https://lisbon.example/law",
            evidence_on=days(-30),
        ),
    )
    stored = fresh(db, commitment)
    assert stored.title == "Smoke-free public spaces law"
    assert stored.category_id == health.id
    assert stored.status is S.IN_PROGRESS
    assert stored.evidence_stale_on == days(-30) + relativedelta(months=24)


def test_changing_the_freshness_rule_recomputes_staleness(db, staff, lisbon, mitigation):
    commitment = services.create_commitment(
        db,
        staff,
        lisbon,
        data(mitigation, evidence_url="https://x.example/a", evidence_on=days(-400)),
    )
    assert commitment.evidence_stale_on is None
    services.update_commitment(
        db,
        staff,
        commitment,
        data(
            mitigation,
            evidence_url="https://x.example/a",
            evidence_on=days(-400),
            freshness_months=12,
        ),
    )
    assert commitment.evidence_stale_on == days(-400) + relativedelta(months=12)
    assert commitment.evidence_is_stale(today())


def test_replace_then_remove_the_uploaded_document(db, staff, lisbon, mitigation, app):
    commitment = services.create_commitment(
        db,
        staff,
        lisbon,
        data(mitigation, evidence_on=days(-2), freshness_months=6),
        Upload("first.pdf", pdf_bytes("first")),
    )
    first = commitment.evidence_document
    # Editing without a new file keeps the document.
    services.update_commitment(
        db, staff, commitment, data(mitigation, evidence_on=days(-2), freshness_months=6)
    )
    assert commitment.evidence_document is first
    services.update_commitment(
        db,
        staff,
        commitment,
        data(mitigation, evidence_on=days(-1), freshness_months=6),
        Upload("second.pdf", pdf_bytes("second")),
    )
    assert commitment.evidence_document.filename == "second.pdf"
    assert commitment.evidence_stale_on == days(-1) + relativedelta(months=6)

    services.update_commitment(
        db, staff, commitment, data(mitigation, freshness_months=6), remove_document=True
    )
    stored = fresh(db, commitment)
    assert stored.evidence_document_id is None
    assert not stored.has_evidence
    # No evidence left under a freshness rule: flagged from the day it was entered.
    assert stored.evidence_stale_on == today()
    # The files stay: the update history or another commitment may still point at them.
    assert db.scalar(select(EvidenceDocument).where(EvidenceDocument.id == first.id)) is not None


def test_removing_the_document_but_keeping_its_date_is_refused(db, staff, lisbon, mitigation, app):
    commitment = services.create_commitment(
        db,
        staff,
        lisbon,
        data(mitigation, evidence_on=days(-2)),
        Upload("plan.pdf", pdf_bytes()),
    )
    errors = refusal(
        lambda: services.update_commitment(
            db, staff, commitment, data(mitigation, evidence_on=days(-2)), remove_document=True
        )
    )
    assert "Add the link or the file this date belongs to" in errors["evidence_on"]
    assert fresh(db, commitment).evidence_document_id is not None


def test_a_refused_edit_changes_nothing(db, staff, lisbon, mitigation):
    commitment = CommitmentFactory(member=lisbon, category=mitigation, title="Original")
    refusal(
        lambda: services.update_commitment(
            db, staff, commitment, data(mitigation, title="New", freshness_months=999)
        )
    )
    assert fresh(db, commitment).title == "Original"


def test_focal_point_cannot_edit_another_members_commitment(db, other_focal, lisbon, mitigation):
    commitment = CommitmentFactory(member=lisbon, category=mitigation, title="Original")
    with pytest.raises(OutOfScope):
        services.update_commitment(db, other_focal, commitment, data(mitigation, title="Mine"))
    assert fresh(db, commitment).title == "Original"


# -- progress updates ----------------------------------------------------------------------


def test_updates_build_the_history_and_move_the_commitment(db, focal, lisbon, mitigation):
    commitment = CommitmentFactory(member=lisbon, category=mitigation)
    first = services.add_update(db, focal, commitment, update(percent_complete=20))
    second = services.add_update(
        db,
        focal,
        commitment,
        update(status=S.OFF_TRACK, narrative="  Budget cut.\r\nDelayed. ", percent_complete=35),
    )
    stored = fresh(db, commitment)
    assert [u.id for u in stored.updates] == [second.id, first.id]
    assert stored.status is S.OFF_TRACK
    assert stored.percent_complete == 35
    assert stored.last_update_at == second.created_at
    assert second.author_id == focal.id
    assert not second.is_verified
    assert second.narrative == "Budget cut.\nDelayed."


def test_an_update_without_a_percentage_keeps_the_last_one(db, focal, lisbon, mitigation):
    commitment = CommitmentFactory(member=lisbon, category=mitigation)
    services.add_update(db, focal, commitment, update(percent_complete=40))
    services.add_update(db, focal, commitment, update(narrative="Still going."))
    assert fresh(db, commitment).percent_complete == 40


def test_achieved_means_complete(db, focal, lisbon, mitigation):
    commitment = CommitmentFactory(member=lisbon, category=mitigation)
    achieved = services.add_update(db, focal, commitment, update(status=S.ACHIEVED))
    assert achieved.percent_complete == 100
    assert fresh(db, commitment).percent_complete == 100


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"narrative": "  \n "}, "narrative", "Say what has happened"),
        ({"narrative": "Done\x1b"}, "narrative", "control characters"),
        ({"narrative": "x" * 20_001}, "narrative", "at most 20000"),
        ({"percent_complete": 140}, "percent_complete", "between 0 and 100"),
        ({"percent_complete": -1}, "percent_complete", "between 0 and 100"),
        ({"status": S.ACHIEVED, "percent_complete": 50}, "percent_complete", "100% complete"),
        ({"evidence_url": "javascript:alert(1)", "evidence_on": days(-1)}, "evidence_url", "https"),
        ({"evidence_url": "https://x.example/r"}, "evidence_on", "Say what day"),
        ({"evidence_on": days(-1)}, "evidence_on", "Add the link or the file"),
        (
            {"evidence_url": "https://x.example/r", "evidence_on": days(1)},
            "evidence_on",
            "future",
        ),
        (
            {"unreadable": {"percent_complete": "Enter a whole number."}},
            "percent_complete",
            "whole",
        ),
    ],
)
def test_bad_updates_are_refused_and_nothing_written(
    db, focal, lisbon, mitigation, overrides, field, message
):
    commitment = CommitmentFactory(member=lisbon, category=mitigation, status=S.PLANNED)
    before = table_counts(db)
    errors = refusal(lambda: services.add_update(db, focal, commitment, update(**overrides)))
    assert list(errors) == [field]
    assert message in errors[field]
    assert table_counts(db) == before
    stored = fresh(db, commitment)
    assert stored.status is S.PLANNED
    assert stored.last_update_at is None


def test_new_evidence_in_an_update_becomes_current(db, focal, lisbon, mitigation, app):
    commitment = services.create_commitment(
        db,
        focal,
        lisbon,
        data(mitigation, evidence_on=days(-900), freshness_months=24),
        Upload("old.pdf", pdf_bytes("old")),
    )
    assert commitment.evidence_is_stale(today())
    with_file = services.add_update(
        db,
        focal,
        commitment,
        update(evidence_on=days(-1)),
        Upload("inventory.pdf", pdf_bytes("inventory 2026")),
    )
    assert with_file.evidence_document.filename == "inventory.pdf"
    assert commitment.evidence_document is with_file.evidence_document
    assert commitment.evidence_on == days(-1)
    assert not commitment.evidence_is_stale(today())

    with_link = services.add_update(
        db,
        focal,
        commitment,
        update(evidence_url="https://lisbon.example/report", evidence_on=days(0)),
    )
    stored = fresh(db, commitment)
    assert stored.evidence_url == "https://lisbon.example/report"
    assert stored.evidence_document_id is None
    assert stored.evidence_stale_on == today() + relativedelta(months=24)
    # The history keeps each update's own evidence.
    assert fresh(db, with_file).evidence_document.filename == "inventory.pdf"
    assert with_link.evidence_url == "https://lisbon.example/report"


def test_an_update_without_evidence_keeps_the_current_evidence(db, focal, lisbon, mitigation):
    commitment = services.create_commitment(
        db,
        focal,
        lisbon,
        data(
            mitigation,
            evidence_url="https://x.example/plan",
            evidence_on=days(-10),
            freshness_months=60,
        ),
    )
    stale_on = commitment.evidence_stale_on
    services.add_update(db, focal, commitment, update())
    stored = fresh(db, commitment)
    assert stored.evidence_url == "https://x.example/plan"
    assert stored.evidence_stale_on == stale_on


def test_focal_point_cannot_update_another_members_commitment(db, other_focal, lisbon, mitigation):
    commitment = CommitmentFactory(member=lisbon, category=mitigation)
    before = table_counts(db)
    with pytest.raises(OutOfScope):
        services.add_update(db, other_focal, commitment, update())
    assert table_counts(db) == before


# -- verifying and deleting ----------------------------------------------------------------


def test_staff_verify_an_update_once(db, staff, focal, lisbon, mitigation):
    commitment = CommitmentFactory(member=lisbon, category=mitigation)
    progress = services.add_update(db, focal, commitment, update())
    services.verify_update(db, staff, progress)
    stored = fresh(db, progress)
    assert stored.is_verified
    assert stored.verified_by_id == staff.id
    verified_at = stored.verified_at
    assert verified_at is not None

    services.verify_update(db, UserFactory(admin=True), stored)
    again = fresh(db, progress)
    assert (again.verified_by_id, again.verified_at) == (staff.id, verified_at)


def test_focal_points_cannot_verify(db, focal, lisbon, mitigation):
    commitment = CommitmentFactory(member=lisbon, category=mitigation)
    progress = services.add_update(db, focal, commitment, update())
    with pytest.raises(OutOfScope):
        services.verify_update(db, focal, progress)
    assert not fresh(db, progress).is_verified


def test_delete_removes_the_commitment_and_its_history(db, staff, focal, lisbon, mitigation):
    commitment = CommitmentFactory(member=lisbon, category=mitigation)
    services.add_update(db, focal, commitment, update())
    kept = CommitmentFactory(member=lisbon, category=mitigation)
    services.delete_commitment(db, staff, commitment)
    assert list(db.scalars(select(Commitment.id))) == [kept.id]
    assert db.scalars(select(CommitmentUpdate)).all() == []


def test_focal_points_cannot_delete(db, focal, lisbon, mitigation):
    commitment = CommitmentFactory(member=lisbon, category=mitigation)
    with pytest.raises(OutOfScope):
        services.delete_commitment(db, focal, commitment)
    assert fresh(db, commitment) is not None


# -- who sees what -------------------------------------------------------------------------


def test_visible_commitment_and_evidence_follow_the_member_scope(
    db, staff, focal, other_focal, lisbon, mitigation, app
):
    commitment = services.create_commitment(
        db,
        focal,
        lisbon,
        data(mitigation, evidence_on=days(-1)),
        Upload("plan.pdf", pdf_bytes()),
    )
    document_id = commitment.evidence_document.id
    assert services.visible_commitment(db, focal, commitment.id) is commitment
    assert services.visible_commitment(db, staff, commitment.id) is commitment
    assert services.visible_evidence(db, focal, document_id).id == document_id
    for call in (
        lambda: services.visible_commitment(db, other_focal, commitment.id),
        lambda: services.visible_evidence(db, other_focal, document_id),
        lambda: services.visible_commitment(db, staff, commitment.id + 1000),
        lambda: services.visible_evidence(db, staff, document_id + 1000),
    ):
        with pytest.raises(OutOfScope):
            call()


def test_update_created_at_orders_history_newest_first(db, focal, lisbon, mitigation):
    commitment = CommitmentFactory(member=lisbon, category=mitigation)
    older = services.add_update(db, focal, commitment, update(narrative="Older"))
    older.created_at = older.created_at - timedelta(days=3)
    newer = services.add_update(db, focal, commitment, update(narrative="Newer"))
    assert [u.narrative for u in fresh(db, commitment).updates] == [
        newer.narrative,
        older.narrative,
    ]
