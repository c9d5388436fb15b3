"""Agreement operations: the only code that writes agreements, their parties, obligations,
documents and history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from secretariat.accounts.models import Role, User
from secretariat.agreements import documents
from secretariat.agreements.models import (
    Agreement,
    AgreementChange,
    AgreementDocument,
    AgreementKind,
    AgreementParty,
    AgreementStatus,
    ChangeKind,
    Obligation,
    PartyKind,
)
from secretariat.clock import network_today
from secretariat.db import utcnow
from secretariat.followups import services as followups
from secretariat.followups.models import PENDING, FollowUpStatus, Priority
from secretariat.groups.models import WorkingGroup
from secretariat.members.models import Member
from secretariat.members.services import ValidationFailed
from secretariat.partners.models import Partner
from secretariat.permissions import (
    OutOfScope,
    Permission,
    can_see_agreement,
    ensure_permission,
)
from secretariat.text import has_control_characters, paragraphs, single_line

S = AgreementStatus

#: The moves a person may make; ``renewed`` happens only when a successor comes into force.
TRANSITIONS: dict[AgreementStatus, frozenset[AgreementStatus]] = {
    S.DRAFT: frozenset({S.NEGOTIATING, S.SIGNED, S.TERMINATED}),
    S.NEGOTIATING: frozenset({S.SIGNED, S.TERMINATED}),
    S.SIGNED: frozenset({S.ACTIVE, S.TERMINATED}),
    S.ACTIVE: frozenset({S.EXPIRED, S.TERMINATED}),
    S.EXPIRED: frozenset(),
    S.TERMINATED: frozenset(),
    S.RENEWED: frozenset(),
}
#: Statuses an agreement may be recorded in when it is entered (e.g. one signed last year).
INITIAL_STATUSES = (S.DRAFT, S.NEGOTIATING, S.SIGNED, S.ACTIVE)
#: Parties can change until signature; afterwards the signed text fixes them.
OPEN_STATUSES = frozenset({S.DRAFT, S.NEGOTIATING})
#: Agreements that can be renewed (by their status as shown today).
RENEWABLE = frozenset({S.ACTIVE, S.EXPIRED})
#: Moves that happen on a given day, asked for when they are made.
DATED = frozenset({S.SIGNED, S.ACTIVE, S.TERMINATED})
MIN_PARTIES = 2
#: The largest row id (PostgreSQL's integer); larger numbers in URLs name nothing.
MAX_ID = 2**31 - 1

_STATUS_NAMES = {
    S.DRAFT: _l("draft"),
    S.NEGOTIATING: _l("negotiating"),
    S.SIGNED: _l("signed"),
    S.ACTIVE: _l("active"),
    S.EXPIRED: _l("expired"),
    S.TERMINATED: _l("terminated"),
    S.RENEWED: _l("renewed"),
}


@dataclass(frozen=True)
class PartyRef:
    """A party as chosen in a form: a member, a partner or the secretariat."""

    kind: PartyKind
    id: int | None = None

    @classmethod
    def parse(cls, token: str) -> PartyRef | None:
        """Read "secretariat", "member:12" or "partner:3"; None if it is neither."""
        if token == PartyKind.SECRETARIAT.value:
            return cls(PartyKind.SECRETARIAT)
        kind, _sep, number = token.partition(":")
        if kind not in (PartyKind.MEMBER.value, PartyKind.PARTNER.value):
            return None
        # str.isdigit() also accepts "²", which int() refuses.
        if not (number.isascii() and number.isdigit()) or int(number) > MAX_ID:
            return None
        return cls(PartyKind(kind), int(number))

    @property
    def token(self) -> str:
        return self.kind.value if self.id is None else f"{self.kind.value}:{self.id}"

    @classmethod
    def of(cls, party: AgreementParty) -> PartyRef:
        if party.member_id is not None:
            return cls(PartyKind.MEMBER, party.member_id)
        if party.partner_id is not None:
            return cls(PartyKind.PARTNER, party.partner_id)
        return cls(PartyKind.SECRETARIAT)


@dataclass
class AgreementData:
    kind: AgreementKind | None
    title: str
    owner_id: int | None
    parties: list[PartyRef] = field(default_factory=list)
    summary: str | None = None
    group_id: int | None = None
    signed_on: date | None = None
    effective_from: date | None = None
    expires_on: date | None = None
    renewal_notice_days: int | None = None
    #: Only when the agreement is entered: the status it is recorded in.
    status: AgreementStatus = S.DRAFT


def secretariat_name(network_name: str) -> str:
    """The secretariat as a party: "C40 secretariat", or the name alone if it says so."""
    if "secretariat" in network_name.casefold():
        return network_name
    return _("%(network)s secretariat", network=network_name)


def party_name(party: AgreementParty, network_name: str) -> str:
    """The party's name, the secretariat's as the pages write it ("X secretariat")."""
    if party.member is not None:
        return party.member.name
    if party.partner is not None:
        return party.partner.name
    return secretariat_name(network_name)


def _record(
    session: Session,
    agreement: Agreement,
    actor: User | None,
    kind: ChangeKind,
    detail: str | None = None,
    from_status: AgreementStatus | None = None,
    to_status: AgreementStatus | None = None,
) -> None:
    session.add(
        AgreementChange(
            agreement=agreement,
            kind=kind,
            detail=detail,
            from_status=from_status,
            to_status=to_status,
            actor_id=actor.id if actor is not None else None,
            at=utcnow(),
        )
    )


# -- validation -----------------------------------------------------------------------------


def _validate_parties(
    session: Session, parties: list[PartyRef], current: Agreement | None
) -> dict[str, str]:
    errors: dict[str, str] = {}
    seen: set[PartyRef] = set()
    kept = {PartyRef.of(p) for p in current.parties} if current is not None else set()
    member_ids = [p.id for p in parties if p.kind is PartyKind.MEMBER]
    partner_ids = [p.id for p in parties if p.kind is PartyKind.PARTNER]
    members = (
        {m.id: m for m in session.scalars(select(Member).where(Member.id.in_(member_ids)))}
        if member_ids
        else {}
    )
    partners = (
        {p.id: p for p in session.scalars(select(Partner).where(Partner.id.in_(partner_ids)))}
        if partner_ids
        else {}
    )
    for party in parties:
        if party in seen:
            if party.kind is PartyKind.SECRETARIAT:
                name = _("The secretariat")
            elif party.kind is PartyKind.MEMBER:
                name = members[party.id].name if party.id in members else str(party.id)
            else:
                name = partners[party.id].name if party.id in partners else str(party.id)
            errors["parties"] = _("%(name)s is listed twice; list each party once.", name=name)
            break
        seen.add(party)
        if party.kind is PartyKind.MEMBER and party.id not in members:
            errors["parties"] = _("One of the members chosen does not exist.")
            break
        if party.kind is PartyKind.PARTNER:
            partner = partners.get(party.id)
            if partner is None:
                errors["parties"] = _("One of the partners chosen does not exist.")
                break
            if partner.is_archived and party not in kept:
                errors["parties"] = _(
                    "%(name)s is archived; restore the partner before adding it.",
                    name=partner.name,
                )
                break
    if "parties" not in errors and len(seen) < MIN_PARTIES:
        errors["parties"] = _(
            "An agreement has at least two parties: choose the members, partners or the "
            "secretariat who sign it."
        )
    return errors


def validate_agreement(
    session: Session, data: AgreementData, current: Agreement | None = None
) -> dict[str, str]:
    """Return every problem with the data, by field; empty when it can be saved."""
    errors: dict[str, str] = {}
    today = network_today()
    raw_title = data.title or ""
    data.title = single_line(raw_title)
    data.summary = paragraphs(data.summary)
    if not isinstance(data.kind, AgreementKind):
        errors["kind"] = _("Choose the kind of agreement.")
    if has_control_characters(raw_title):
        errors["title"] = _("Remove the invisible control characters from the title.")
    elif not data.title:
        errors["title"] = _("Enter the agreement's title.")
    elif len(data.title) > 300:
        errors["title"] = _("Use at most 300 characters.")
    if data.summary and has_control_characters(data.summary):
        errors["summary"] = _("Remove the invisible control characters from the summary.")
    elif data.summary and len(data.summary) > 20_000:
        errors["summary"] = _("Use at most 20,000 characters.")
    owner = session.get(User, data.owner_id) if data.owner_id is not None else None
    kept_owner = current is not None and current.owner_id == data.owner_id
    if owner is None or owner.role not in (Role.ADMIN, Role.STAFF):
        errors["owner_id"] = _("Choose the member of staff who looks after the agreement.")
    elif not owner.is_active and not kept_owner:
        errors["owner_id"] = _(
            "%(name)s's account is deactivated; choose someone else.", name=owner.name
        )
    if data.group_id is not None and session.get(WorkingGroup, data.group_id) is None:
        errors["group_id"] = _("Choose a working group from the list.")
    if data.renewal_notice_days is not None and not 0 <= data.renewal_notice_days <= 3650:
        errors["renewal_notice_days"] = _("Enter a number of days between 0 and 3,650.")
    if data.signed_on is not None and data.signed_on > today:
        errors["signed_on"] = _("Record the signature once it has happened.")
    if data.expires_on is not None:
        if data.signed_on is not None and data.expires_on < data.signed_on:
            errors["expires_on"] = _(
                "The agreement cannot expire (%(expiry)s) before it is signed (%(signed)s).",
                expiry=format_date(data.expires_on),
                signed=format_date(data.signed_on),
            )
        elif data.effective_from is not None and data.expires_on < data.effective_from:
            errors["expires_on"] = _(
                "The agreement cannot expire (%(expiry)s) before it takes effect (%(effect)s).",
                expiry=format_date(data.expires_on),
                effect=format_date(data.effective_from),
            )
    errors.update(_validate_parties(session, data.parties, current))
    if current is not None and "parties" not in errors:
        errors.update(_validate_party_change(current, data.parties))
    if current is None:
        errors.update(_validate_status_dates(data.status, data, today, entering=True))
    else:
        errors.update(_validate_status_dates(current.status, data, today, entering=False))
    return errors


def _validate_status_dates(
    status: AgreementStatus, data: AgreementData, today: date, *, entering: bool
) -> dict[str, str]:
    """What a status requires of the dates: a signature day once signed, and so on."""
    errors: dict[str, str] = {}
    if entering and status not in INITIAL_STATUSES:
        errors["status"] = _("A new agreement starts as a draft, in negotiation, signed or active.")
        return errors
    if status in (S.SIGNED, S.ACTIVE) and data.signed_on is None:
        errors["signed_on"] = _("Enter the day it was signed.")
    if status is S.ACTIVE:
        effective = data.effective_from or data.signed_on
        if effective is not None and effective > today:
            errors["effective_from"] = _(
                "It takes effect on %(date)s: record it as signed until then.",
                date=format_date(effective),
            )
        elif entering and data.expires_on is not None and data.expires_on < today:
            errors.setdefault(
                "expires_on",
                _("This expiry day has passed: an active agreement expires in the future."),
            )
    return errors


def _validate_party_change(current: Agreement, parties: list[PartyRef]) -> dict[str, str]:
    before = {PartyRef.of(p): p for p in current.parties}
    if set(parties) == set(before):
        return {}
    if current.status not in OPEN_STATUSES:
        return {
            "parties": _(
                "The parties of a signed agreement are fixed; start a renewal to change them."
            )
        }
    bound = {o.party_id for o in current.obligations}
    for ref, party in before.items():
        if ref not in parties and party.id in bound:
            return {
                "parties": _(
                    "A party you removed has obligations under this agreement; "
                    "change or remove those obligations first."
                )
            }
    return {}


# -- agreements -----------------------------------------------------------------------------


def _set_parties(agreement: Agreement, parties: list[PartyRef]) -> None:
    existing = {PartyRef.of(p): p for p in agreement.parties}
    kept: list[AgreementParty] = []
    for position, ref in enumerate(parties):
        party = existing.get(ref) or AgreementParty(
            member_id=ref.id if ref.kind is PartyKind.MEMBER else None,
            partner_id=ref.id if ref.kind is PartyKind.PARTNER else None,
            is_secretariat=ref.kind is PartyKind.SECRETARIAT,
        )
        party.position = position
        kept.append(party)
    agreement.parties = kept


def _apply(agreement: Agreement, data: AgreementData) -> None:
    agreement.kind = data.kind  # type: ignore[assignment]
    agreement.title = data.title
    agreement.summary = data.summary
    agreement.owner_id = data.owner_id  # type: ignore[assignment]
    agreement.group_id = data.group_id
    agreement.signed_on = data.signed_on
    agreement.effective_from = data.effective_from
    agreement.expires_on = data.expires_on
    agreement.renewal_notice_days = data.renewal_notice_days
    _set_parties(agreement, data.parties)


def create_agreement(
    session: Session, actor: User, data: AgreementData, renews: Agreement | None = None
) -> Agreement:
    """Enter an agreement; with ``renews``, as the successor of an existing one."""
    ensure_permission(actor, Permission.MANAGE_AGREEMENTS)
    errors = validate_agreement(session, data)
    if renews is not None:
        errors.update(_validate_renewal(renews))
        if data.status is S.ACTIVE:
            errors["status"] = _(
                "Enter the renewal as a draft, in negotiation or signed; make it active from "
                "its page so the agreement it renews is closed at the same time."
            )
    if errors:
        raise ValidationFailed(errors)
    agreement = Agreement(status=data.status, created_by_id=actor.id)
    if data.status is S.ACTIVE and data.effective_from is None:
        data.effective_from = data.signed_on
    _apply(agreement, data)
    session.add(agreement)
    if renews is not None:
        _release_failed_renewal(session, renews, actor)
        agreement.renews = renews
        _record(
            session,
            renews,
            actor,
            ChangeKind.RENEWAL_STARTED,
            detail=data.title,
        )
    _record(session, agreement, actor, ChangeKind.CREATED, to_status=data.status)
    session.flush()
    return agreement


def edit_refusal(agreement: Agreement) -> str | None:
    """Why the agreement's details cannot be edited, or None if they can."""
    if agreement.status in (S.TERMINATED, S.RENEWED):
        return _("A terminated or renewed agreement is kept as it was; it cannot change.")
    return None


def update_agreement(
    session: Session, actor: User, agreement: Agreement, data: AgreementData
) -> int:
    """Save the agreement's details; return how many open obligation follow-ups changed owner."""
    ensure_permission(actor, Permission.MANAGE_AGREEMENTS)
    refused = edit_refusal(agreement)
    if refused:
        raise ValidationFailed({"status": refused})
    if agreement.status is S.ACTIVE and data.effective_from is None:
        # Filled in before validation, so that the expiry is checked against this day too.
        data.effective_from = agreement.effective_from or data.signed_on
    errors = validate_agreement(session, data, agreement)
    if errors:
        raise ValidationFailed(errors)
    previous_owner = agreement.owner_id
    _apply(agreement, data)
    moved = 0
    if previous_owner != agreement.owner_id:
        moved = followups.reassign_open(
            session,
            [o.follow_up for o in agreement.obligations if o.follow_up is not None],
            previous_owner,
            agreement.owner_id,
        )
    _record(session, agreement, actor, ChangeKind.EDITED)
    session.flush()
    return moved


def allowed_transitions(agreement: Agreement, today: date) -> list[AgreementStatus]:
    """The statuses a person may move the agreement to now, in lifecycle order."""
    shown = agreement.status_on(today)
    targets = TRANSITIONS[agreement.status]
    if shown is S.EXPIRED:
        # Past its expiry day an agreement can only be recorded as expired (or renewed).
        targets = frozenset({S.EXPIRED}) if agreement.status is S.ACTIVE else frozenset()
    elif S.EXPIRED in targets:
        targets = targets - {S.EXPIRED}
    return [status for status in S if status in targets]


def change_status(
    session: Session,
    actor: User,
    agreement: Agreement,
    target: AgreementStatus,
    *,
    on: date | None = None,
    reason: str | None = None,
) -> None:
    """Move the agreement along its lifecycle.

    ``on`` is the day of the change: the signature day when signing, the first day in force
    when activating, the last day when terminating. ``reason`` is required to terminate
    (and kept in the history as a note for any other move).
    """
    ensure_permission(actor, Permission.MANAGE_AGREEMENTS)
    today = network_today()
    current = agreement.status
    reason = paragraphs(reason)
    errors: dict[str, str] = {}
    if target not in allowed_transitions(agreement, today):
        errors["status"] = refusal(agreement, target, today)
        raise ValidationFailed(errors)
    requested = on
    if target is S.SIGNED:
        on = on or agreement.signed_on or today
    elif target is S.ACTIVE:
        # As when entering an active agreement: in force from its signature unless told.
        on = on or agreement.effective_from or agreement.signed_on or today
    elif target is S.TERMINATED:
        on = on or today
    else:
        on = None
    if reason and has_control_characters(reason):
        errors["reason"] = _("Remove the invisible control characters from the reason.")
    elif target is S.TERMINATED and not reason:
        errors["reason"] = _("Say why the agreement ends or the talks stopped.")
    if on is None:
        pass
    elif on > today and requested is None and target is S.ACTIVE:
        # Entered as signed with a later first day in force: that day has not come yet.
        errors["on"] = _(
            "It takes effect on %(date)s; put it into force on that day.", date=format_date(on)
        )
    elif on > today:
        errors["on"] = _("Record the change on the day it happens, not in advance.")
    elif target is S.SIGNED:
        if agreement.expires_on is not None and agreement.expires_on < on:
            errors["on"] = _(
                "The agreement expires on %(date)s, before this signature day; correct the "
                "expiry first.",
                date=format_date(agreement.expires_on),
            )
    elif target is S.ACTIVE:
        if agreement.signed_on is not None and on < agreement.signed_on:
            errors["on"] = _(
                "It was signed on %(date)s; it cannot take effect earlier.",
                date=format_date(agreement.signed_on),
            )
        elif agreement.expires_on is not None and agreement.expires_on < today:
            errors["on"] = _(
                "Its expiry day, %(date)s, has passed; correct it or renew the agreement.",
                date=format_date(agreement.expires_on),
            )
    elif target is S.TERMINATED:
        if agreement.signed_on is not None and on < agreement.signed_on:
            errors["on"] = _(
                "It was signed on %(date)s; it cannot end earlier.",
                date=format_date(agreement.signed_on),
            )
    if target is S.SIGNED and len(agreement.parties) < MIN_PARTIES:
        errors["status"] = _("Add the parties before recording the signature.")
    if errors:
        raise ValidationFailed(errors)

    if target is S.SIGNED:
        agreement.signed_on = on
    elif target is S.ACTIVE:
        agreement.effective_from = on
    elif target is S.TERMINATED:
        agreement.terminated_on = on
        agreement.termination_reason = reason
    agreement.status = target
    _record(session, agreement, actor, ChangeKind.STATUS, reason, current, target)
    if target is S.ACTIVE and agreement.renews is not None:
        _close_predecessor(session, agreement.renews, agreement, actor, today)
    session.flush()


def refusal(agreement: Agreement, target: AgreementStatus, today: date) -> str:
    """Why the agreement cannot move to ``target`` today, in words."""
    shown = agreement.status_on(today)
    if target is S.RENEWED:
        return _(
            "An agreement is renewed when its successor comes into force: use “Renew” to "
            "prepare the successor."
        )
    if shown is S.EXPIRED and target is not S.EXPIRED:
        return _(
            "This agreement expired on %(date)s; renew it or correct its expiry day.",
            date=format_date(agreement.expires_on),  # type: ignore[arg-type]
        )
    if target is S.EXPIRED and agreement.status is S.ACTIVE:
        if agreement.expires_on is None:
            return _("This agreement has no expiry day; terminate it to end it.")
        return _(
            "This agreement is in force until %(date)s; it expires after that day.",
            date=format_date(agreement.expires_on),
        )
    return _(
        "An agreement cannot go from %(current)s to %(target)s.",
        current=_STATUS_NAMES[shown],
        target=_STATUS_NAMES[target],
    )


def _close_predecessor(
    session: Session, old: Agreement, new: Agreement, actor: User | None, today: date
) -> None:
    if old.status_on(today) in RENEWABLE:
        previous = old.status
        old.status = S.RENEWED
        _record(session, old, actor, ChangeKind.STATUS, new.title, previous, S.RENEWED)


def renewal_refusal(agreement: Agreement) -> str | None:
    """Why the agreement cannot be renewed now, or None if it can."""
    return _validate_renewal(agreement).get("status")


def _validate_renewal(agreement: Agreement) -> dict[str, str]:
    today = network_today()
    if agreement.status_on(today) not in RENEWABLE:
        return {"status": _("Only an active or expired agreement can be renewed.")}
    successor = agreement.renewed_by
    if successor is not None and successor.status is not S.TERMINATED:
        return {"status": _("A renewal is already under way: “%(title)s”.", title=successor.title)}
    return {}


def _release_failed_renewal(session: Session, agreement: Agreement, actor: User) -> None:
    """A renewal whose talks failed (terminated) gives way to a new attempt."""
    successor = agreement.renewed_by
    if successor is not None:
        successor.renews_id = None
        agreement.renewed_by = None
        session.flush()


def renewal_data(agreement: Agreement) -> AgreementData:
    """The successor's starting point: the same kind, parties, owner and group."""
    return AgreementData(
        kind=agreement.kind,
        title=agreement.title,
        owner_id=agreement.owner_id,
        parties=[PartyRef.of(p) for p in agreement.parties],
        summary=agreement.summary,
        group_id=agreement.group_id,
        renewal_notice_days=agreement.renewal_notice_days,
    )


def record_expiries(session: Session, today: date | None = None) -> list[Agreement]:
    """Record as expired every active agreement whose last day has passed (the daily job)."""
    today = today or network_today()
    due = list(
        session.scalars(
            select(Agreement).where(Agreement.status == S.ACTIVE, Agreement.expires_on < today)
        )
    )
    for agreement in due:
        agreement.status = S.EXPIRED
        _record(
            session,
            agreement,
            None,
            ChangeKind.STATUS,
            _("Its last day, %(date)s, has passed.", date=format_date(agreement.expires_on)),
            S.ACTIVE,
            S.EXPIRED,
        )
    session.flush()
    return due


# -- scope ----------------------------------------------------------------------------------


def party_member_ids(agreement: Agreement) -> list[int]:
    return [p.member_id for p in agreement.parties if p.member_id is not None]


def ensure_visible(user: User, agreement: Agreement | None) -> Agreement:
    """The agreement if the user may see it (staff any, a focal point their member's);
    the uniform 404 otherwise, also when there is no such agreement."""
    ensure_permission(user, Permission.VIEW_AGREEMENTS)
    if agreement is None or not can_see_agreement(user, party_member_ids(agreement)):
        raise OutOfScope()
    return agreement


def visible_agreement(session: Session, user: User, agreement_id: int) -> Agreement:
    """The agreement if the user may see it: staff any, a focal point their member's."""
    ensure_permission(user, Permission.VIEW_AGREEMENTS)
    return ensure_visible(user, session.get(Agreement, agreement_id))


# -- documents ------------------------------------------------------------------------------


def add_document(
    session: Session,
    actor: User,
    agreement: Agreement,
    filename: str,
    content: bytes,
    description: str | None = None,
) -> tuple[AgreementDocument, bool]:
    """Attach a file; return the document and whether its name had to be cleaned."""
    ensure_permission(actor, Permission.MANAGE_AGREEMENTS)
    errors: dict[str, str] = {}
    raw_description = description or ""
    description = single_line(raw_description) or None
    if has_control_characters(raw_description):
        errors["description"] = _("Remove the invisible control characters from the description.")
    elif description and len(description) > 255:
        errors["description"] = _("Use at most 255 characters.")
    file_type, problem = documents.check(content)
    if problem:
        errors["file"] = problem
    sha256 = documents.digest(content) if content else ""
    if file_type is not None:
        twin = next(
            (d for d in agreement.documents if d.sha256 == sha256 and not d.is_removed), None
        )
        if twin is not None:
            errors["file"] = _("This file is already attached as “%(name)s”.", name=twin.filename)
    if errors:
        raise ValidationFailed(errors)
    assert file_type is not None
    safe = documents.safe_filename(filename, file_type)
    documents.store(content)
    document = AgreementDocument(
        agreement=agreement,
        filename=safe,
        file_type=file_type,
        size=len(content),
        sha256=sha256,
        description=description,
        uploaded_by_id=actor.id,
        uploaded_at=utcnow(),
    )
    session.add(document)
    _record(session, agreement, actor, ChangeKind.DOCUMENT_ADDED, safe)
    session.flush()
    return document, safe != filename


def remove_document(session: Session, actor: User, document: AgreementDocument) -> None:
    """Take a document off the agreement; the file and the record stay, as history."""
    ensure_permission(actor, Permission.MANAGE_AGREEMENTS)
    if document.is_removed:
        raise ValidationFailed({"file": _("This document was already removed.")})
    document.removed_at = utcnow()
    document.removed_by_id = actor.id
    _record(session, document.agreement, actor, ChangeKind.DOCUMENT_REMOVED, document.filename)
    session.flush()


# -- obligations ----------------------------------------------------------------------------


@dataclass
class ObligationData:
    description: str
    party_id: int | None
    due_on: date | None
    priority: Priority = Priority.NORMAL


def _validate_obligation(agreement: Agreement, data: ObligationData) -> dict[str, str]:
    errors: dict[str, str] = {}
    data.description = paragraphs(data.description) or ""
    if not data.description:
        errors["description"] = _("Say what the party must do.")
    elif has_control_characters(data.description):
        errors["description"] = _("Remove the invisible control characters from the description.")
    elif len(data.description) > 5_000:
        errors["description"] = _("Use at most 5,000 characters.")
    if data.party_id not in {p.id for p in agreement.parties}:
        errors["party_id"] = _("Choose one of the agreement's parties.")
    if data.due_on is None:
        errors["due_on"] = _("Enter the day it is due.")
    elif agreement.signed_on is not None and data.due_on < agreement.signed_on:
        errors["due_on"] = _(
            "The agreement was signed on %(date)s; an obligation falls due on or after it.",
            date=format_date(agreement.signed_on),
        )
    if agreement.status in (S.TERMINATED, S.RENEWED):
        errors["status"] = _("A terminated or renewed agreement takes no new obligations.")
    return errors


def _follow_up_title(description: str) -> str:
    line = description.splitlines()[0]
    return line if len(line) <= 300 else line[:299] + "…"


def _follow_up_data(agreement: Agreement, data: ObligationData) -> followups.FollowUpData:
    party = next(p for p in agreement.parties if p.id == data.party_id)
    return followups.FollowUpData(
        title=_follow_up_title(data.description),
        description=data.description,
        owner_id=agreement.owner_id,
        due_on=data.due_on,
        member_id=party.member_id,
        agreement_id=agreement.id,
        priority=data.priority,
    )


def add_obligation(
    session: Session, actor: User, agreement: Agreement, data: ObligationData
) -> Obligation:
    """Record an obligation and the follow-up, owned by the agreement's owner, that tracks it."""
    ensure_permission(actor, Permission.MANAGE_AGREEMENTS)
    errors = _validate_obligation(agreement, data)
    if not agreement.owner.is_active:
        errors.setdefault(
            "status",
            _(
                "%(name)s, the agreement's owner, is deactivated; give the agreement another "
                "owner first, so that someone follows its obligations up.",
                name=agreement.owner.name,
            ),
        )
    if errors:
        raise ValidationFailed(errors)
    follow_up = followups.create_for_system(session, actor, _follow_up_data(agreement, data))
    obligation = Obligation(
        agreement=agreement,
        description=data.description,
        party_id=data.party_id,
        due_on=data.due_on,
        follow_up=follow_up,
    )
    session.add(obligation)
    _record(
        session, agreement, actor, ChangeKind.OBLIGATION_ADDED, _follow_up_title(data.description)
    )
    session.flush()
    return obligation


def update_obligation(
    session: Session, actor: User, obligation: Obligation, data: ObligationData
) -> None:
    """Change an obligation; its follow-up, while still open, follows the change."""
    ensure_permission(actor, Permission.MANAGE_AGREEMENTS)
    agreement = obligation.agreement
    errors = _validate_obligation(agreement, data)
    if errors:
        raise ValidationFailed(errors)
    obligation.description = data.description
    obligation.party_id = data.party_id  # type: ignore[assignment]
    obligation.due_on = data.due_on  # type: ignore[assignment]
    follow_up = obligation.follow_up
    if follow_up is not None and follow_up.status in PENDING:
        fresh = _follow_up_data(agreement, data)
        follow_up.title = fresh.title
        follow_up.description = fresh.description
        follow_up.member_id = fresh.member_id
        follow_up.due_on = fresh.due_on  # type: ignore[assignment]
        follow_up.series_start = fresh.due_on  # type: ignore[assignment]
        follow_up.priority = data.priority
    _record(
        session, agreement, actor, ChangeKind.OBLIGATION_CHANGED, _follow_up_title(data.description)
    )
    session.flush()


def remove_obligation(session: Session, actor: User, obligation: Obligation) -> None:
    """Remove an obligation recorded by mistake; its open follow-up is cancelled."""
    ensure_permission(actor, Permission.MANAGE_AGREEMENTS)
    follow_up = obligation.follow_up
    if follow_up is not None and follow_up.status in PENDING:
        follow_up.status = FollowUpStatus.CANCELLED
        follow_up.completed_on = network_today()
        follow_up.completion_note = _("The obligation was removed from the agreement.")
    agreement = obligation.agreement
    _record(
        session,
        agreement,
        actor,
        ChangeKind.OBLIGATION_REMOVED,
        _follow_up_title(obligation.description),
    )
    session.delete(obligation)
    session.flush()


def parties_of(parties: list[AgreementParty]) -> list[PartyRef]:
    return [PartyRef.of(p) for p in parties]
