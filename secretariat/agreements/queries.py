"""Read models of the agreement pages, with a bounded number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Date, and_, func, literal, or_, select, true
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from secretariat.accounts.models import User
from secretariat.agreements.models import (
    Agreement,
    AgreementChange,
    AgreementDocument,
    AgreementKind,
    AgreementParty,
    AgreementStatus,
    Obligation,
    PartyKind,
)
from secretariat.agreements.services import PartyRef
from secretariat.followups.models import FollowUp
from secretariat.members.models import Member
from secretariat.pagination import Page, clamp
from secretariat.partners.models import Partner
from secretariat.permissions import can_see_agreement

S = AgreementStatus
#: The "expiring within" choices of the list.
EXPIRING_WINDOWS = (30, 90)


def status_filter(status: AgreementStatus, today: date):  # type: ignore[no-untyped-def]
    """Agreements showing ``status`` today; an active one past its last day shows as expired."""
    if status is S.EXPIRED:
        return or_(
            Agreement.status == S.EXPIRED,
            and_(Agreement.status == S.ACTIVE, Agreement.expires_on < today),
        )
    if status is S.ACTIVE:
        return and_(
            Agreement.status == S.ACTIVE,
            or_(Agreement.expires_on.is_(None), Agreement.expires_on >= today),
        )
    return Agreement.status == status


def expiring_filter(today: date, days: int):  # type: ignore[no-untyped-def]
    """Agreements signed or in force whose last day falls within ``days`` from today."""
    return and_(
        Agreement.status.in_((S.ACTIVE, S.SIGNED)),
        Agreement.expires_on >= today,
        Agreement.expires_on <= today + timedelta(days=days),
    )


def party_filter(party: PartyRef):  # type: ignore[no-untyped-def]
    if party.kind is PartyKind.MEMBER:
        condition = AgreementParty.member_id == party.id
    elif party.kind is PartyKind.PARTNER:
        condition = AgreementParty.partner_id == party.id
    else:
        condition = AgreementParty.is_secretariat.is_(True)
    return Agreement.parties.any(condition)


def visible_to(user: User):  # type: ignore[no-untyped-def]
    """A filter on Agreement for the agreements the user may see."""
    if can_see_agreement(user, ()):
        return true()
    return Agreement.parties.any(AgreementParty.member_id == user.member_id)


@dataclass
class AgreementFilters:
    kind: AgreementKind | None = None
    status: AgreementStatus | None = None
    party: PartyRef | None = None
    expiring_within: int | None = None
    search: str | None = None

    def apply(self, stmt, user: User, today: date):  # type: ignore[no-untyped-def]
        stmt = stmt.where(visible_to(user))
        if self.kind is not None:
            stmt = stmt.where(Agreement.kind == self.kind)
        if self.status is not None:
            stmt = stmt.where(status_filter(self.status, today))
        if self.party is not None:
            stmt = stmt.where(party_filter(self.party))
        if self.expiring_within is not None:
            stmt = stmt.where(expiring_filter(today, self.expiring_within))
        if self.search:
            # "50%" or "snake_case" are searched as typed, not as LIKE wildcards.
            stmt = stmt.where(
                func.lower(Agreement.title).contains(self.search.lower(), autoescape=True)
            )
        return stmt

    @property
    def active(self) -> bool:
        return any(
            v is not None and v != ""
            for v in (self.kind, self.status, self.party, self.expiring_within, self.search)
        )


def _party_loads():  # type: ignore[no-untyped-def]
    return selectinload(Agreement.parties).options(
        joinedload(AgreementParty.member), joinedload(AgreementParty.partner)
    )


def agreement_page(
    session: Session,
    user: User,
    filters: AgreementFilters,
    today: date,
    page: int,
    per_page: int,
) -> Page:
    """One page of the agreements the user may see: three queries whatever their number."""
    total = session.scalar(filters.apply(select(func.count(Agreement.id)), user, today)) or 0
    page = clamp(page, total, per_page)
    stmt = filters.apply(
        select(Agreement).options(joinedload(Agreement.owner), _party_loads()), user, today
    )
    if filters.expiring_within is not None:
        stmt = stmt.order_by(Agreement.expires_on, Agreement.id)
    else:
        stmt = stmt.order_by(Agreement.created_at.desc(), Agreement.id.desc())
    items = list(session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))
    return Page(items=items, total=total, page=page, per_page=per_page)


def agreement_detail(session: Session, agreement_id: int) -> Agreement | None:
    """The agreement with everything its page shows, loaded in a fixed number of queries."""
    return session.scalar(
        select(Agreement)
        .where(Agreement.id == agreement_id)
        .options(
            joinedload(Agreement.owner),
            joinedload(Agreement.group),
            joinedload(Agreement.renews),
            joinedload(Agreement.renewed_by),
            _party_loads(),
            selectinload(Agreement.obligations).options(
                joinedload(Obligation.follow_up).joinedload(FollowUp.owner),
                joinedload(Obligation.party).options(
                    joinedload(AgreementParty.member), joinedload(AgreementParty.partner)
                ),
            ),
            selectinload(Agreement.documents).joinedload(AgreementDocument.uploaded_by),
            selectinload(Agreement.history).joinedload(AgreementChange.actor),
        )
    )


def agreements_of(
    session: Session, user: User, *, member_id: int | None = None, partner_id: int | None = None
) -> list[Agreement]:
    """The agreements a member or a partner is party to, newest first (two queries)."""
    if member_id is not None:
        condition = party_filter(PartyRef(PartyKind.MEMBER, member_id))
    else:
        condition = party_filter(PartyRef(PartyKind.PARTNER, partner_id))
    return list(
        session.scalars(
            select(Agreement)
            .where(condition, visible_to(user))
            .options(_party_loads())
            .order_by(Agreement.created_at.desc(), Agreement.id.desc())
        )
    )


def _days_until(session: Session, day, today: date):  # type: ignore[no-untyped-def]
    """Whole days from ``today`` to a date column, in SQL (SQLite has no date arithmetic)."""
    if session.get_bind().dialect.name == "sqlite":
        return func.julianday(day) - func.julianday(literal(today.isoformat()))
    return day - literal(today, Date)


def renewals_due(session: Session, today: date, limit: int = 10) -> list[Agreement]:
    """Agreements in force whose renewal notice period has begun, with no renewal under way."""
    successor = aliased(Agreement)
    stmt = (
        select(Agreement)
        .where(
            status_filter(S.ACTIVE, today),
            Agreement.expires_on.is_not(None),
            Agreement.renewal_notice_days.is_not(None),
            _days_until(session, Agreement.expires_on, today) <= Agreement.renewal_notice_days,
            ~select(successor.id)
            .where(successor.renews_id == Agreement.id, successor.status != S.TERMINATED)
            .exists(),
        )
        .options(joinedload(Agreement.owner))
        .order_by(Agreement.expires_on, Agreement.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


@dataclass
class PartyChoices:
    members: list[tuple[int, str]]
    partners: list[tuple[int, str]]


def party_choices(session: Session, keep: list[PartyRef] | None = None) -> PartyChoices:
    """Members and partners that can be chosen as parties (archived partners only if kept)."""
    kept_partners = {p.id for p in keep or () if p.kind is PartyKind.PARTNER}
    members = [
        (row.id, row.name)
        for row in session.execute(select(Member.id, Member.name).order_by(Member.search_name))
    ]
    partners = [
        (row.id, row.name)
        for row in session.execute(
            select(Partner.id, Partner.name)
            .where(or_(Partner.archived_at.is_(None), Partner.id.in_(kept_partners or [0])))
            .order_by(Partner.search_name)
        )
    ]
    return PartyChoices(members=members, partners=partners)
