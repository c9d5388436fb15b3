"""Read models for commitment pages: a member's commitments, the network view, the portal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from secretariat.commitments.models import ONGOING, Commitment, CommitmentStatus, CommitmentUpdate
from secretariat.members.models import Member
from secretariat.pagination import Page, clamp

#: An ongoing commitment not updated for this many days needs an update.
UPDATE_DUE_DAYS = 180


@dataclass
class CommitmentFilters:
    category_id: int | None = None
    status: CommitmentStatus | None = None
    #: Only commitments whose evidence is stale (or missing under a freshness rule).
    stale: bool = False
    #: Only commitments not updated for at least this many days.
    not_updated_days: int | None = None
    member_id: int | None = None
    region_id: int | None = None


def _last_touched():  # type: ignore[no-untyped-def]
    return func.coalesce(Commitment.last_update_at, Commitment.created_at)


def _filtered(filters: CommitmentFilters, today: date, now: datetime):  # type: ignore[no-untyped-def]
    stmt = select(Commitment).join(Member, Member.id == Commitment.member_id)
    if filters.category_id is not None:
        stmt = stmt.where(Commitment.category_id == filters.category_id)
    if filters.status is not None:
        stmt = stmt.where(Commitment.status == filters.status)
    if filters.stale:
        stmt = stmt.where(Commitment.evidence_stale_on <= today)
    if filters.not_updated_days is not None:
        stmt = stmt.where(_last_touched() < now - timedelta(days=filters.not_updated_days))
    if filters.member_id is not None:
        stmt = stmt.where(Commitment.member_id == filters.member_id)
    if filters.region_id is not None:
        stmt = stmt.where(Member.region_id == filters.region_id)
    return stmt


def commitment_page(
    session: Session,
    filters: CommitmentFilters,
    today: date,
    now: datetime,
    page: int,
    per_page: int,
) -> Page:
    """The network view: commitments matching the filters, by member then title."""
    stmt = _filtered(filters, today, now)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = clamp(page, total, per_page)
    items = list(
        session.scalars(
            stmt.options(joinedload(Commitment.member), joinedload(Commitment.category))
            .order_by(Member.search_name, Commitment.title, Commitment.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    return Page(items, total, page, per_page)


def status_counts(
    session: Session, filters: CommitmentFilters, today: date, now: datetime
) -> dict[CommitmentStatus, int]:
    """How many commitments matching the filters (status aside) are in each status."""
    without_status = CommitmentFilters(**{**filters.__dict__, "status": None})
    sub = _filtered(without_status, today, now).subquery()
    rows = session.execute(select(sub.c.status, func.count()).group_by(sub.c.status))
    return {CommitmentStatus(status): count for status, count in rows}


def member_commitments(session: Session, member_id: int) -> list[Commitment]:
    """A member's commitments, ongoing first, with category and current evidence."""
    ongoing_first = Commitment.status.in_(ONGOING).desc()
    return list(
        session.scalars(
            select(Commitment)
            .where(Commitment.member_id == member_id)
            .options(joinedload(Commitment.category), joinedload(Commitment.evidence_document))
            .order_by(ongoing_first, Commitment.target_on.nulls_last(), Commitment.title)
        )
    )


def needing_update(
    session: Session, member_id: int, today: date, now: datetime
) -> list[Commitment]:
    """The member's ongoing commitments with stale evidence or no update for a long time."""
    cutoff = now - timedelta(days=UPDATE_DUE_DAYS)
    return list(
        session.scalars(
            select(Commitment)
            .where(
                Commitment.member_id == member_id,
                Commitment.status.in_(ONGOING),
                or_(Commitment.evidence_stale_on <= today, _last_touched() < cutoff),
            )
            .options(joinedload(Commitment.category))
            .order_by(_last_touched(), Commitment.id)
        )
    )


def commitment_detail(session: Session, commitment_id: int) -> Commitment | None:
    return session.scalar(
        select(Commitment)
        .where(Commitment.id == commitment_id)
        .options(
            joinedload(Commitment.member),
            joinedload(Commitment.category),
            joinedload(Commitment.evidence_document),
            selectinload(Commitment.updates).options(
                joinedload(CommitmentUpdate.author),
                joinedload(CommitmentUpdate.verified_by),
                joinedload(CommitmentUpdate.evidence_document),
            ),
        )
    )


def unverified_count(session: Session) -> int:
    """Progress updates the secretariat has not yet verified (for the staff home)."""
    return (
        session.scalar(
            select(func.count(CommitmentUpdate.id)).where(CommitmentUpdate.is_verified.is_(False))
        )
        or 0
    )


def member_choices(session: Session) -> list[tuple[int, str]]:
    """Every member by name, for the network view's member filter."""
    rows = session.execute(select(Member.id, Member.name).order_by(Member.search_name, Member.id))
    return [(row.id, row.name) for row in rows]
