"""Read models of the registry pages, set-based and with a bounded number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, and_, asc, desc, exists, func, or_, select
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from secretariat.members.models import (
    Contact,
    ContactRole,
    Member,
    MemberKind,
    MemberStatus,
    MemberStatusChange,
)
from secretariat.members.services import fold
from secretariat.pagination import Page, clamp
from secretariat.vocabularies.models import Term

SORTS = {
    "name": Member.search_name,
    "country": Member.country,
    "population": Member.population,
    "joined_on": Member.joined_on,
    "status": Member.status,
}

#: Sorts offered in the directory that focal points see (public fields only).
PUBLIC_SORTS = {"name", "country", "status"}


@dataclass
class MemberFilters:
    q: str = ""
    region_id: int | None = None
    country: str | None = None
    status: MemberStatus | None = None
    kind: MemberKind | None = None
    tier_id: int | None = None
    sort: str = "name"
    descending: bool = False

    def apply(self, stmt: Select) -> Select:
        if self.q:
            folded = fold(self.q)
            pattern = (
                "%" + folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            )
            stmt = stmt.where(
                or_(Member.search_name.like(pattern, escape="\\"), Member.slug == self.q.lower())
            )
        if self.region_id is not None:
            stmt = stmt.where(Member.region_id == self.region_id)
        if self.country:
            stmt = stmt.where(Member.country == self.country)
        if self.status is not None:
            stmt = stmt.where(Member.status == self.status)
        if self.kind is not None:
            stmt = stmt.where(Member.kind == self.kind)
        if self.tier_id is not None:
            stmt = stmt.where(Member.tier_id == self.tier_id)
        return stmt

    def order(self, stmt: Select) -> Select:
        column = SORTS.get(self.sort, Member.search_name)
        direction = desc if self.descending else asc
        ordering = direction(column)
        if column is not Member.search_name:
            ordering = direction(column).nulls_last()
        return stmt.order_by(ordering, Member.search_name, Member.id)


def member_page(session: Session, filters: MemberFilters, page: int, per_page: int) -> Page:
    """One page of the member list: two queries whatever the number of members."""
    total = session.scalar(filters.apply(select(func.count()).select_from(Member))) or 0
    page = clamp(page, total, per_page)
    stmt = filters.order(
        filters.apply(select(Member).options(joinedload(Member.region), joinedload(Member.tier)))
    )
    items = list(session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))
    return Page(items=items, total=total, page=page, per_page=per_page)


def filtered_members(session: Session, filters: MemberFilters) -> list[Member]:
    stmt = filters.order(
        filters.apply(select(Member).options(joinedload(Member.region), joinedload(Member.tier)))
    )
    return list(session.scalars(stmt))


def filter_countries(session: Session) -> list[str]:
    return list(session.scalars(select(Member.country).distinct().order_by(Member.country)))


def current_contact_clause(today: date):  # type: ignore[no-untyped-def]
    return and_(
        or_(Contact.active_from.is_(None), Contact.active_from <= today),
        or_(Contact.active_to.is_(None), Contact.active_to >= today),
    )


def has_primary_focal_point(today: date):  # type: ignore[no-untyped-def]
    return exists().where(
        Contact.member_id == Member.id,
        Contact.is_primary.is_(True),
        Contact.role == ContactRole.FOCAL_POINT,
        current_contact_clause(today),
    )


@dataclass
class Dashboard:
    by_status: dict[MemberStatus, int]
    by_region: list[tuple[str, dict[MemberStatus, int], int]]
    total: int
    without_focal_point: list[Member]


def dashboard(session: Session, today: date) -> Dashboard:
    """Counts by status and region and members lacking a primary focal point (3 queries)."""
    region = aliased(Term)
    rows = session.execute(
        select(region.label, Member.status, func.count())
        .select_from(Member)
        .outerjoin(region, Member.region_id == region.id)
        .group_by(region.label, region.position, Member.status)
        .order_by(region.position.nulls_last(), region.label)
    ).all()
    by_status = {status: 0 for status in MemberStatus}
    regions: dict[str, dict[MemberStatus, int]] = {}
    for label, status, count in rows:
        by_status[status] += count
        regions.setdefault(label or "", {s: 0 for s in MemberStatus})[status] += count
    by_region = [(label, counts, sum(counts.values())) for label, counts in regions.items()]
    without = list(
        session.scalars(
            select(Member)
            .options(joinedload(Member.region))
            .where(
                Member.status.in_([MemberStatus.ACTIVE, MemberStatus.SUSPENDED]),
                ~has_primary_focal_point(today),
            )
            .order_by(Member.search_name)
        )
    )
    return Dashboard(
        by_status=by_status,
        by_region=by_region,
        total=sum(by_status.values()),
        without_focal_point=without,
    )


def member_detail(session: Session, slug: str) -> Member | None:
    """A member with its region, tier, contacts and status history (four queries)."""
    return session.scalar(
        select(Member)
        .where(Member.slug == slug)
        .options(
            joinedload(Member.region),
            joinedload(Member.tier),
            selectinload(Member.contacts),
            selectinload(Member.status_changes).joinedload(MemberStatusChange.changed_by),
        )
    )


def split_contacts(member: Member, today: date) -> tuple[list[Contact], list[Contact]]:
    """Current contacts (primary focal point first, then focal points) and the others."""
    current = sorted(
        (c for c in member.contacts if c.is_current(today)),
        key=lambda c: (not c.is_primary, c.role is not ContactRole.FOCAL_POINT, c.name),
    )
    others = [c for c in member.contacts if not c.is_current(today)]
    return current, others
