"""Read models of the funding pages, each with a fixed number of queries whatever the data size."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload

from secretariat.accounts.models import Role, User
from secretariat.funding.models import (
    Coverage,
    Funder,
    Grant,
    GrantReport,
    Programme,
    ProgrammeIndicator,
    ProgrammeMember,
)
from secretariat.funding.services import covered_member_select
from secretariat.groups.models import GroupMembership
from secretariat.members.models import Member, MemberStatus
from secretariat.pagination import Page, clamp


@dataclass
class Total:
    """The sum of a funder's grants in one currency."""

    currency: str
    amount: Decimal
    grants: int


@dataclass
class FunderRow:
    funder: Funder
    programmes: int
    totals: list[Total] = field(default_factory=list)


@dataclass
class ProgrammeRow:
    programme: Programme
    covered: int
    funders: list[Funder] = field(default_factory=list)


@dataclass
class GrantRow:
    grant: Grant
    #: The due day of its earliest report not sent yet (None: every report is sent).
    next_due: date | None


def _totals_by_funder(session: Session) -> dict[int, list[Total]]:
    """Each funder's grant totals per currency, summed by the database."""
    rows = session.execute(
        select(Grant.funder_id, Grant.currency, func.sum(Grant.amount), func.count(Grant.id))
        .group_by(Grant.funder_id, Grant.currency)
        .order_by(Grant.funder_id, Grant.currency)
    )
    totals: dict[int, list[Total]] = defaultdict(list)
    for funder_id, currency, amount, grants in rows:
        totals[funder_id].append(Total(currency=currency, amount=Decimal(amount), grants=grants))
    return totals


def funder_rows(session: Session) -> list[FunderRow]:
    """Every funder by name, with how many programmes it funds and its totals: two queries."""
    programmes = (
        select(Grant.funder_id, func.count(Grant.programme_id.distinct()).label("programmes"))
        .group_by(Grant.funder_id)
        .subquery()
    )
    rows = session.execute(
        select(Funder, programmes.c.programmes)
        .outerjoin(programmes, programmes.c.funder_id == Funder.id)
        .order_by(Funder.name, Funder.id)
    ).all()
    totals = _totals_by_funder(session) if rows else {}
    return [
        FunderRow(funder=funder, programmes=count or 0, totals=totals.get(funder.id, []))
        for funder, count in rows
    ]


def _covered_count():  # type: ignore[no-untyped-def]
    """How many members each programme covers today, as a column of a query on programmes.

    The same rules as ``services.covered_member_select``, for all programmes at once.
    """
    active = (
        select(func.count(Member.id)).where(Member.status == MemberStatus.ACTIVE).scalar_subquery()
    )
    in_group = (
        select(func.count(GroupMembership.member_id.distinct()))
        .where(GroupMembership.group_id == Programme.group_id, GroupMembership.left_on.is_(None))
        .correlate(Programme)
        .scalar_subquery()
    )
    chosen = (
        select(func.count(ProgrammeMember.member_id.distinct()))
        .where(ProgrammeMember.programme_id == Programme.id)
        .correlate(Programme)
        .scalar_subquery()
    )
    return case(
        (Programme.coverage == Coverage.ALL, active),
        (Programme.coverage == Coverage.GROUP, in_group),
        else_=chosen,
    )


def programme_rows(session: Session) -> list[ProgrammeRow]:
    """Every programme, latest first, with its lead, covered members and funders: two queries."""
    rows = session.execute(
        select(Programme, _covered_count())
        .options(joinedload(Programme.lead), joinedload(Programme.group))
        .order_by(Programme.starts_on.desc(), Programme.name, Programme.id)
    ).all()
    funders: dict[int, list[Funder]] = defaultdict(list)
    if rows:
        pairs = session.execute(
            select(Grant.programme_id, Funder)
            .join(Grant.funder)
            .distinct()
            .order_by(Grant.programme_id, Funder.name, Funder.id)
        )
        for programme_id, funder in pairs:
            funders[programme_id].append(funder)
    return [
        ProgrammeRow(programme=programme, covered=covered or 0, funders=funders[programme.id])
        for programme, covered in rows
    ]


def reports_due(session: Session, *, page: int = 1, per_page: int = 25) -> Page:
    """One page of the reports not sent yet, the earliest due first, with their grant, funder
    and programme: two queries."""
    unsent = GrantReport.sent_on.is_(None)
    total = session.scalar(select(func.count(GrantReport.id)).where(unsent)) or 0
    page = clamp(page, total, per_page)
    reports = session.scalars(
        select(GrantReport)
        .join(GrantReport.grant)
        .join(Grant.funder)
        .join(Grant.programme)
        .options(
            contains_eager(GrantReport.grant).contains_eager(Grant.funder),
            contains_eager(GrantReport.grant).contains_eager(Grant.programme),
        )
        .where(unsent)
        .order_by(GrantReport.due_on, Funder.name, GrantReport.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return Page(items=list(reports), total=total, page=page, per_page=per_page)


def funder_grants(session: Session, funder_id: int) -> list[GrantRow]:
    """The funder's grants, latest first, with their programme and next report due: one query."""
    next_due = (
        select(GrantReport.grant_id, func.min(GrantReport.due_on).label("due_on"))
        .where(GrantReport.sent_on.is_(None))
        .group_by(GrantReport.grant_id)
        .subquery()
    )
    rows = session.execute(
        select(Grant, next_due.c.due_on)
        .join(Grant.programme)
        .outerjoin(next_due, next_due.c.grant_id == Grant.id)
        .options(contains_eager(Grant.programme))
        .where(Grant.funder_id == funder_id)
        .order_by(Grant.starts_on.desc(), Programme.name, Grant.id)
    )
    return [GrantRow(grant=grant, next_due=due) for grant, due in rows]


def funder_contacts(session: Session, funder_id: int) -> list[User]:
    """The funder's users: the active ones first, then by name."""
    return list(
        session.scalars(
            select(User)
            .where(User.role == Role.FUNDER, User.funder_id == funder_id)
            .order_by(User.is_active.desc(), User.name, User.id)
        )
    )


def programme_detail(session: Session, programme_id: int) -> Programme | None:
    """The programme with its lead, group, indicators and grants (with funders): three queries."""
    return session.scalar(
        select(Programme)
        .where(Programme.id == programme_id)
        .options(
            joinedload(Programme.lead),
            joinedload(Programme.group),
            selectinload(Programme.indicators).joinedload(ProgrammeIndicator.indicator),
            selectinload(Programme.grants).joinedload(Grant.funder),
        )
    )


def programme_reports(session: Session, programme_id: int) -> list[GrantReport]:
    """The reports owed under the programme's grants, by due day, with grant and funder."""
    return list(
        session.scalars(
            select(GrantReport)
            .join(GrantReport.grant)
            .join(Grant.funder)
            .options(contains_eager(GrantReport.grant).contains_eager(Grant.funder))
            .where(Grant.programme_id == programme_id)
            .order_by(GrantReport.due_on, Funder.name, GrantReport.id)
        )
    )


def covered_members(
    session: Session, programme: Programme, *, page: int = 1, per_page: int = 25
) -> Page:
    """One page of the members the programme covers, by name: two queries."""
    covered = covered_member_select(programme).subquery()
    total = session.scalar(select(func.count(covered.c[0].distinct()))) or 0
    page = clamp(page, total, per_page)
    members = session.scalars(
        select(Member)
        .where(Member.id.in_(select(covered.c[0])))
        .order_by(Member.search_name, Member.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return Page(items=list(members), total=total, page=page, per_page=per_page)
