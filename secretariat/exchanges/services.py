"""Peer-exchange operations: record, propose, confirm, reject, edit and delete.

Staff record exchanges directly (confirmed at once). A focal point proposes exchanges that
involve its own member; the proposal counts only once the other side's focal point or staff
confirm it. Every operation re-checks the actor's scope and only flushes.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from secretariat.accounts.models import User
from secretariat.clock import network_today
from secretariat.db import utcnow
from secretariat.exchanges.models import ExchangeStatus, ExchangeType, PeerExchange
from secretariat.groups.models import WorkingGroup
from secretariat.members.models import Member, MemberStatus
from secretariat.members.services import ValidationFailed, is_web_url
from secretariat.permissions import OutOfScope, Permission, ensure_permission, is_staff
from secretariat.vocabularies.models import Term, Vocabulary

__all__ = [
    "ExchangeData",
    "ValidationFailed",
    "can_decide",
    "can_edit",
    "can_view",
    "confirm_exchange",
    "delete_exchange",
    "ensure_exchange_scope",
    "network_today",
    "record_exchange",
    "reject_exchange",
    "update_exchange",
    "validate_exchange",
]

#: The statuses of the members a focal point may choose as the other side of a proposal.
PROPOSABLE_STATUSES = (MemberStatus.ACTIVE,)

MAX_TEXT = 10_000


@dataclass
class ExchangeData:
    from_member_id: int | None
    to_member_id: int | None
    exchange_type: ExchangeType | None
    occurred_on: date | None
    description: str
    group_id: int | None = None
    theme_id: int | None = None
    outcome: str | None = None
    evidence_url: str | None = None

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


# -- who may do what to one exchange -----------------------------------------------------------


def _own_member_id(actor: User | None) -> int | None:
    return getattr(actor, "member_id", None)


def can_view(actor: User | None, exchange: PeerExchange) -> bool:
    """Staff see every exchange; a focal point only those involving its member."""
    if actor is None or is_staff(actor):
        return True
    member_id = _own_member_id(actor)
    return member_id is not None and exchange.involves(member_id)


def ensure_exchange_scope(actor: User | None, exchange: PeerExchange) -> None:
    """Refuse, with the uniform 404, an exchange the actor may not see."""
    if actor is not None:
        ensure_permission(actor, Permission.PROPOSE_EXCHANGES)
    if not can_view(actor, exchange):
        raise OutOfScope()


def can_decide(actor: User | None, exchange: PeerExchange) -> bool:
    """Staff, or a focal point of the side that did not propose, while it is proposed."""
    if exchange.status is not ExchangeStatus.PROPOSED:
        return False
    if actor is None or is_staff(actor):
        return True
    member_id = _own_member_id(actor)
    return (
        member_id is not None
        and exchange.involves(member_id)
        and member_id != exchange.proposed_by_member_id
    )


def can_edit(actor: User | None, exchange: PeerExchange) -> bool:
    """Staff at any time; the proposing side's focal point while the proposal is open."""
    if actor is None or is_staff(actor):
        return True
    member_id = _own_member_id(actor)
    return (
        exchange.status is ExchangeStatus.PROPOSED
        and member_id is not None
        and member_id == exchange.proposed_by_member_id
    )


# -- validation --------------------------------------------------------------------------------


def _clean_text(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    return value or None


def validate_exchange(
    session: Session,
    data: ExchangeData,
    today: date,
    *,
    proposing_member_id: int | None = None,
    kept_member_ids: tuple[int, ...] = (),
) -> dict[str, str]:
    """Return every problem with the data, by field; empty when it can be saved.

    ``proposing_member_id`` is the focal point's own member: the other side must then be an
    active member (staff may record exchanges with members of any status, e.g. past ones),
    unless it is one of ``kept_member_ids`` (the sides of the proposal being edited).
    """
    errors: dict[str, str] = {}
    data.description = _clean_text(data.description) or ""
    data.outcome = _clean_text(data.outcome)
    data.evidence_url = (data.evidence_url or "").strip() or None

    ids = {i for i in (data.from_member_id, data.to_member_id) if i is not None}
    rows = (
        session.execute(select(Member.id, Member.status).where(Member.id.in_(ids))) if ids else []
    )
    found = {member_id: status for member_id, status in rows}
    for name, missing in (
        ("from_member_id", _("Choose the member that shared or hosted.")),
        ("to_member_id", _("Choose the member that learned.")),
    ):
        member_id = getattr(data, name)
        if member_id is None:
            errors[name] = missing
        elif member_id not in found:
            errors[name] = _("Choose a member from the list.")
        elif (
            proposing_member_id is not None
            and member_id != proposing_member_id
            and member_id not in kept_member_ids
            and found[member_id] not in PROPOSABLE_STATUSES
        ):
            errors[name] = _("Choose an active member of the network.")
    if (
        "to_member_id" not in errors
        and data.from_member_id is not None
        and data.from_member_id == data.to_member_id
    ):
        errors["to_member_id"] = _("A member cannot exchange with itself.")

    if not isinstance(data.exchange_type, ExchangeType):
        errors["exchange_type"] = _("Choose the type of exchange.")

    if data.occurred_on is None:
        errors["occurred_on"] = _("Enter the date of the exchange.")
    elif data.occurred_on > today:
        errors["occurred_on"] = _(
            "An exchange is recorded once it has happened; use a date no later than today."
        )
    elif data.occurred_on.year < 1900:
        errors["occurred_on"] = _("Enter a date after 1900.")

    if not data.description:
        errors["description"] = _("Describe what was exchanged.")
    elif len(data.description) > MAX_TEXT:
        errors["description"] = _("Use at most %(max)d characters.", max=MAX_TEXT)
    if data.outcome and len(data.outcome) > MAX_TEXT:
        errors["outcome"] = _("Use at most %(max)d characters.", max=MAX_TEXT)
    if data.evidence_url and (len(data.evidence_url) > 500 or not is_web_url(data.evidence_url)):
        errors["evidence_url"] = _("Enter a full web address starting with https:// or http://.")

    if data.group_id is not None and session.get(WorkingGroup, data.group_id) is None:
        errors["group_id"] = _("Choose a working group from the list.")
    if data.theme_id is not None:
        theme = session.get(Term, data.theme_id)
        if theme is None or theme.vocabulary is not Vocabulary.THEME:
            errors["theme_id"] = _("Choose a theme from the list.")
    return errors


def _ensure_involves_own_member(actor: User | None, data: ExchangeData) -> int | None:
    """The focal point's member, which must be one side; None for staff and the system."""
    if actor is None or is_staff(actor):
        return None
    member_id = _own_member_id(actor)
    if member_id is None or member_id not in (data.from_member_id, data.to_member_id):
        raise OutOfScope()
    return member_id


def _apply(exchange: PeerExchange, data: ExchangeData) -> None:
    for name in ExchangeData.field_names():
        setattr(exchange, name, getattr(data, name))


# -- operations --------------------------------------------------------------------------------


def record_exchange(session: Session, actor: User | None, data: ExchangeData) -> PeerExchange:
    """Record an exchange: confirmed when staff record it, proposed when a focal point does."""
    if actor is not None:
        ensure_permission(actor, Permission.PROPOSE_EXCHANGES)
    own_member_id = _ensure_involves_own_member(actor, data)
    errors = validate_exchange(session, data, network_today(), proposing_member_id=own_member_id)
    if errors:
        raise ValidationFailed(errors)
    exchange = PeerExchange(created_by_id=actor.id if actor else None)
    _apply(exchange, data)
    if own_member_id is None:
        exchange.status = ExchangeStatus.CONFIRMED
        exchange.decided_by_id = actor.id if actor else None
        exchange.decided_at = utcnow()
    else:
        exchange.status = ExchangeStatus.PROPOSED
        exchange.proposed_by_member_id = own_member_id
    session.add(exchange)
    session.flush()
    return exchange


def update_exchange(
    session: Session, actor: User | None, exchange: PeerExchange, data: ExchangeData
) -> None:
    """Change an exchange: staff at any time, the proposing side while it is proposed."""
    ensure_exchange_scope(actor, exchange)
    if not can_edit(actor, exchange):
        raise ValidationFailed(
            {"status": _("Only the secretariat can change an exchange once it is decided.")}
        )
    own_member_id = _ensure_involves_own_member(actor, data)
    errors = validate_exchange(
        session,
        data,
        network_today(),
        proposing_member_id=own_member_id,
        kept_member_ids=(exchange.from_member_id, exchange.to_member_id),
    )
    if errors:
        raise ValidationFailed(errors)
    _apply(exchange, data)
    session.flush()


def _decide(actor: User | None, exchange: PeerExchange) -> None:
    ensure_exchange_scope(actor, exchange)
    if exchange.status is not ExchangeStatus.PROPOSED:
        raise ValidationFailed({"status": _("This exchange has already been decided.")})
    if not can_decide(actor, exchange):
        raise ValidationFailed(
            {
                "status": _(
                    "Your member proposed this exchange: the other member or the secretariat "
                    "confirms it."
                )
            }
        )


def confirm_exchange(session: Session, actor: User | None, exchange: PeerExchange) -> None:
    """Confirm a proposal; from now on it counts in the network's figures."""
    _decide(actor, exchange)
    exchange.status = ExchangeStatus.CONFIRMED
    exchange.decided_by_id = actor.id if actor else None
    exchange.decided_at = utcnow()
    exchange.rejection_reason = None
    session.flush()


def reject_exchange(
    session: Session, actor: User | None, exchange: PeerExchange, reason: str
) -> None:
    """Reject a proposal, saying why; the proposing side sees the reason."""
    _decide(actor, exchange)
    reason = _clean_text(reason) or ""
    if not reason:
        raise ValidationFailed({"reason": _("Say why; the proposing member will see it.")})
    if len(reason) > MAX_TEXT:
        raise ValidationFailed({"reason": _("Use at most %(max)d characters.", max=MAX_TEXT)})
    exchange.status = ExchangeStatus.REJECTED
    exchange.decided_by_id = actor.id if actor else None
    exchange.decided_at = utcnow()
    exchange.rejection_reason = reason
    session.flush()


def delete_exchange(session: Session, actor: User | None, exchange: PeerExchange) -> None:
    """Remove an exchange recorded in error (staff only)."""
    if actor is not None:
        ensure_permission(actor, Permission.MANAGE_EXCHANGES)
    session.delete(exchange)
    session.flush()
