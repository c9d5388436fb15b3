"""Commitment operations: the only code that writes commitments, their updates and evidence.

Focal points add and edit their own member's commitments and post progress updates; staff do
the same for any member and verify updates. An update moves the commitment's status and
percent complete, and new evidence in it becomes the commitment's current evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from secretariat.accounts.models import User
from secretariat.agreements import documents
from secretariat.clock import network_today
from secretariat.commitments.models import (
    Commitment,
    CommitmentStatus,
    CommitmentUpdate,
    EvidenceDocument,
)
from secretariat.db import utcnow
from secretariat.members.models import Member
from secretariat.members.services import ValidationFailed
from secretariat.permissions import (
    OutOfScope,
    Permission,
    ensure_member_scope,
    ensure_permission,
)
from secretariat.text import has_control_characters, paragraphs, single_line
from secretariat.vocabularies.models import Term, Vocabulary

#: Uploaded evidence is kept in this folder of the upload path.
EVIDENCE_FOLDER = "evidence"
MAX_TEXT = 20_000


@dataclass
class Upload:
    """A file as it came from the form."""

    filename: str
    content: bytes


@dataclass
class CommitmentData:
    title: str
    category_id: int | None
    status: CommitmentStatus = CommitmentStatus.PLANNED
    description: str | None = None
    baseline: str | None = None
    target: str | None = None
    target_on: date | None = None
    freshness_months: int | None = None
    evidence_url: str | None = None
    evidence_on: date | None = None
    unreadable: dict[str, str] = field(default_factory=dict)


@dataclass
class UpdateData:
    status: CommitmentStatus
    narrative: str
    percent_complete: int | None = None
    evidence_url: str | None = None
    evidence_on: date | None = None
    unreadable: dict[str, str] = field(default_factory=dict)


def check_url(raw: str | None) -> tuple[str | None, str | None]:
    """A cleaned web address, or a message saying what is wrong with it."""
    url = (raw or "").strip()
    if not url:
        return None, None
    if has_control_characters(url) or any(ch.isspace() for ch in url):
        return None, _("Enter a web address without spaces.")
    if not url.lower().startswith(("https://", "http://")):
        return None, _("Enter a web address starting with https://.")
    if len(url) > 1000:
        return None, _("Use at most 1,000 characters.")
    return url, None


def _check_text(
    errors: dict[str, str], name: str, raw: str | None, *, limit: int, single: bool
) -> str | None:
    text = single_line(raw) if single else paragraphs(raw)
    if raw and has_control_characters(raw):
        errors.setdefault(name, _("Remove the invisible control characters."))
    elif text and len(text) > limit:
        errors.setdefault(name, _("Use at most %(count)d characters.", count=limit))
    return text or None


def _check_evidence(
    errors: dict[str, str],
    url: str | None,
    evidence_on: date | None,
    upload: Upload | None,
    today: date,
    *,
    kept_document: bool = False,
) -> tuple[str | None, documents.DocumentType | None]:
    clean, url_problem = check_url(url)
    if url_problem:
        errors.setdefault("evidence_url", url_problem)
    file_type = None
    if upload is not None:
        file_type, problem = documents.check(upload.content)
        if problem:
            errors.setdefault("evidence_file", problem)
    if evidence_on is not None and evidence_on > today:
        errors.setdefault("evidence_on", _("The evidence cannot date from the future."))
    has_new = clean is not None or upload is not None
    if has_new and evidence_on is None:
        errors.setdefault("evidence_on", _("Say what day the evidence dates from."))
    elif evidence_on is not None and not (has_new or kept_document or url_problem):
        # A date with no evidence would make missing evidence look fresh.
        errors.setdefault(
            "evidence_on",
            _("Add the link or the file this date belongs to, or leave the date empty."),
        )
    return clean, file_type


def validate_commitment(
    session: Session,
    data: CommitmentData,
    upload: Upload | None,
    today: date,
    *,
    kept_document: bool = False,
) -> dict[str, str]:
    """Return every problem with the data, by field; empty when it can be saved.

    ``kept_document``: the commitment already has an uploaded document that stays.
    """
    errors = dict(data.unreadable)
    raw_title = data.title or ""
    data.title = single_line(raw_title)
    if has_control_characters(raw_title):
        errors["title"] = _("Remove the invisible control characters from the title.")
    elif not data.title:
        errors["title"] = _("Say what the member pledged.")
    elif len(data.title) > 300:
        errors["title"] = _("Use at most 300 characters; put the details in the description.")
    category = session.get(Term, data.category_id) if data.category_id is not None else None
    if category is None or category.vocabulary is not Vocabulary.COMMITMENT_CATEGORY:
        errors.setdefault("category_id", _("Choose a category."))
    data.description = _check_text(
        errors, "description", data.description, limit=MAX_TEXT, single=False
    )
    data.baseline = _check_text(errors, "baseline", data.baseline, limit=500, single=True)
    data.target = _check_text(errors, "target", data.target, limit=500, single=True)
    if data.freshness_months is not None and not 1 <= data.freshness_months <= 240:
        errors.setdefault("freshness_months", _("Give a number of months between 1 and 240."))
    data.evidence_url, _type = _check_evidence(
        errors, data.evidence_url, data.evidence_on, upload, today, kept_document=kept_document
    )
    return errors


def _store_evidence(
    session: Session, actor: User, member_id: int, upload: Upload
) -> EvidenceDocument:
    file_type, problem = documents.check(upload.content)
    if file_type is None:  # pragma: no cover - validated before
        raise ValidationFailed({"evidence_file": problem or ""})
    sha256 = documents.store(upload.content, EVIDENCE_FOLDER)
    document = EvidenceDocument(
        member_id=member_id,
        filename=documents.safe_filename(upload.filename, file_type),
        file_type=file_type,
        size=len(upload.content),
        sha256=sha256,
        uploaded_by_id=actor.id,
    )
    session.add(document)
    session.flush()
    return document


def _refresh_staleness(commitment: Commitment) -> None:
    created = network_today(commitment.created_at) if commitment.created_at else network_today()
    # The relationship, not the id column: a document just attached has no id there before
    # the flush.
    has_evidence = bool(commitment.evidence_url) or commitment.evidence_document is not None
    if commitment.freshness_months is not None and not has_evidence:
        # Missing evidence under a freshness rule is stale from the day the commitment was
        # entered, whatever evidence date is left over from a removed document.
        commitment.evidence_stale_on = created
    else:
        commitment.evidence_stale_on = commitment.stale_on(created)


def create_commitment(
    session: Session,
    actor: User,
    member: Member,
    data: CommitmentData,
    upload: Upload | None = None,
) -> Commitment:
    ensure_permission(actor, Permission.UPDATE_COMMITMENTS)
    ensure_member_scope(actor, member.id)
    today = network_today()
    errors = validate_commitment(session, data, upload, today)
    if errors:
        raise ValidationFailed(errors)
    commitment = Commitment(member=member, created_by_id=actor.id, created_at=utcnow())
    _apply(commitment, data)
    if upload is not None:
        commitment.evidence_document = _store_evidence(session, actor, member.id, upload)
    _refresh_staleness(commitment)
    session.add(commitment)
    session.flush()
    return commitment


def _apply(commitment: Commitment, data: CommitmentData) -> None:
    commitment.title = data.title
    commitment.category_id = data.category_id  # type: ignore[assignment]
    commitment.status = data.status
    commitment.description = data.description
    commitment.baseline = data.baseline
    commitment.target = data.target
    commitment.target_on = data.target_on
    commitment.freshness_months = data.freshness_months
    commitment.evidence_url = data.evidence_url
    commitment.evidence_on = data.evidence_on


def update_commitment(
    session: Session,
    actor: User,
    commitment: Commitment,
    data: CommitmentData,
    upload: Upload | None = None,
    *,
    remove_document: bool = False,
) -> None:
    """Change what was pledged; progress goes through updates, which keep the history."""
    ensure_permission(actor, Permission.UPDATE_COMMITMENTS)
    ensure_member_scope(actor, commitment.member_id)
    kept_document = (
        upload is None and not remove_document and commitment.evidence_document_id is not None
    )
    errors = validate_commitment(
        session, data, upload, network_today(), kept_document=kept_document
    )
    if errors:
        raise ValidationFailed(errors)
    _apply(commitment, data)
    if upload is not None:
        commitment.evidence_document = _store_evidence(session, actor, commitment.member_id, upload)
    elif remove_document:
        commitment.evidence_document = None
    _refresh_staleness(commitment)
    session.flush()


def validate_update(data: UpdateData, upload: Upload | None, today: date) -> dict[str, str]:
    errors = dict(data.unreadable)
    raw = data.narrative or ""
    data.narrative = paragraphs(raw) or ""
    if has_control_characters(raw):
        errors["narrative"] = _("Remove the invisible control characters.")
    elif not data.narrative:
        errors["narrative"] = _("Say what has happened since the last update.")
    elif len(data.narrative) > MAX_TEXT:
        errors["narrative"] = _("Use at most %(count)d characters.", count=MAX_TEXT)
    if data.percent_complete is not None and not 0 <= data.percent_complete <= 100:
        errors.setdefault("percent_complete", _("Give a percentage between 0 and 100."))
    if data.status is CommitmentStatus.ACHIEVED and data.percent_complete not in (None, 100):
        errors.setdefault(
            "percent_complete", _("An achieved commitment is 100% complete; leave it empty.")
        )
    data.evidence_url, _type = _check_evidence(
        errors, data.evidence_url, data.evidence_on, upload, today
    )
    return errors


def add_update(
    session: Session,
    actor: User,
    commitment: Commitment,
    data: UpdateData,
    upload: Upload | None = None,
) -> CommitmentUpdate:
    """Record progress: the update joins the history and moves the commitment along."""
    ensure_permission(actor, Permission.UPDATE_COMMITMENTS)
    ensure_member_scope(actor, commitment.member_id)
    errors = validate_update(data, upload, network_today())
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    percent = 100 if data.status is CommitmentStatus.ACHIEVED else data.percent_complete
    # Stored first: storing flushes, and the update must not be half attached by then.
    document = (
        _store_evidence(session, actor, commitment.member_id, upload)
        if upload is not None
        else None
    )
    update = CommitmentUpdate(
        commitment=commitment,
        status=data.status,
        percent_complete=percent,
        narrative=data.narrative,
        evidence_url=data.evidence_url,
        evidence_document=document,
        evidence_on=data.evidence_on,
        author_id=actor.id,
        created_at=now,
    )
    session.add(update)
    commitment.status = data.status
    if percent is not None:
        commitment.percent_complete = percent
    commitment.last_update_at = now
    if data.evidence_url or upload is not None:
        commitment.evidence_url = data.evidence_url
        commitment.evidence_document = update.evidence_document
        commitment.evidence_on = data.evidence_on
        _refresh_staleness(commitment)
    session.flush()
    return update


def verify_update(session: Session, actor: User, update: CommitmentUpdate) -> None:
    """Mark an update as checked by the secretariat."""
    ensure_permission(actor, Permission.MANAGE_COMMITMENTS)
    if update.is_verified:
        return
    update.is_verified = True
    update.verified_by_id = actor.id
    update.verified_at = utcnow()
    session.flush()


def delete_commitment(session: Session, actor: User, commitment: Commitment) -> None:
    """Remove a commitment entered by mistake (a dropped pledge is marked dropped instead)."""
    ensure_permission(actor, Permission.MANAGE_COMMITMENTS)
    session.delete(commitment)
    session.flush()


def visible_commitment(session: Session, actor: User, commitment_id: int) -> Commitment:
    """The commitment, if the actor may see it; the uniform 404 otherwise."""
    ensure_permission(actor, Permission.VIEW_COMMITMENTS)
    commitment = session.get(Commitment, commitment_id)
    if commitment is None:
        raise OutOfScope()
    ensure_member_scope(actor, commitment.member_id)
    return commitment


def visible_evidence(session: Session, actor: User, document_id: int) -> EvidenceDocument:
    ensure_permission(actor, Permission.VIEW_COMMITMENTS)
    document = session.get(EvidenceDocument, document_id)
    if document is None:
        raise OutOfScope()
    ensure_member_scope(actor, document.member_id)
    return document


def category_choices(session: Session, current_id: int | None = None) -> list[Term]:
    """Active categories, plus the current one if it has been retired since."""
    return list(
        session.scalars(
            select(Term)
            .where(
                Term.vocabulary == Vocabulary.COMMITMENT_CATEGORY,
                (Term.is_active.is_(True)) | (Term.id == current_id),
            )
            .order_by(Term.position, Term.label)
        )
    )
