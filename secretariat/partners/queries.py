"""Read models of the partner pages, with a bounded number of queries."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from secretariat.agreements.models import AgreementParty
from secretariat.members.services import fold
from secretariat.pagination import Page, clamp
from secretariat.partners.models import Partner, PartnerContact, PartnerKind


@dataclass
class PartnerRow:
    partner: Partner
    contacts: int
    agreements: int


def _like_pattern(text: str) -> str:
    """A LIKE pattern (escape character ``\\``) matching the folded text anywhere."""
    escaped = fold(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _filtered(stmt: Select, kind: PartnerKind | None, search: str, archived: bool | None) -> Select:
    if kind is not None:
        stmt = stmt.where(Partner.kind == kind)
    if search.strip():
        stmt = stmt.where(Partner.search_name.like(_like_pattern(search), escape="\\"))
    if archived is True:
        stmt = stmt.where(Partner.archived_at.is_not(None))
    elif archived is False:
        stmt = stmt.where(Partner.archived_at.is_(None))
    return stmt


def partner_rows(
    session: Session,
    *,
    kind: PartnerKind | None = None,
    search: str = "",
    archived: bool | None = False,
    page: int = 1,
    per_page: int = 25,
) -> Page:
    """One page of partners by name, each with its contact and agreement counts: two queries.

    ``archived`` False shows the current partners, True the archived ones, None all of them.
    A page past the end shows the last page.
    """
    total = session.scalar(_filtered(select(func.count(Partner.id)), kind, search, archived)) or 0
    page = clamp(page, total, per_page)
    contacts = (
        select(PartnerContact.partner_id, func.count().label("contacts"))
        .group_by(PartnerContact.partner_id)
        .subquery()
    )
    agreements = (
        select(
            AgreementParty.partner_id,
            func.count(AgreementParty.agreement_id.distinct()).label("agreements"),
        )
        .where(AgreementParty.partner_id.is_not(None))
        .group_by(AgreementParty.partner_id)
        .subquery()
    )
    stmt = _filtered(
        select(Partner, contacts.c.contacts, agreements.c.agreements)
        .outerjoin(contacts, contacts.c.partner_id == Partner.id)
        .outerjoin(agreements, agreements.c.partner_id == Partner.id),
        kind,
        search,
        archived,
    )
    stmt = stmt.order_by(Partner.search_name, Partner.id)
    rows = [
        PartnerRow(partner=partner, contacts=n_contacts or 0, agreements=n_agreements or 0)
        for partner, n_contacts, n_agreements in session.execute(
            stmt.limit(per_page).offset((page - 1) * per_page)
        )
    ]
    return Page(items=rows, total=total, page=page, per_page=per_page)


def partner_detail(session: Session, partner_id: int) -> Partner | None:
    """The partner with its contacts loaded (by name)."""
    return session.scalar(
        select(Partner).where(Partner.id == partner_id).options(selectinload(Partner.contacts))
    )
