"""Read models of the follow-up pages, with a bounded number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import case, func, or_, select, true
from sqlalchemy.orm import Session, joinedload

from secretariat.accounts.models import Role, User
from secretariat.followups.models import PENDING, FollowUp, FollowUpStatus, SourceKind
from secretariat.followups.services import DUE_SOON_DAYS
from secretariat.pagination import Page, clamp
from secretariat.permissions import is_staff

#: Closed follow-ups stay on "My follow-ups" this long.
RECENTLY_CLOSED_DAYS = 30


def in_scope(user: User):  # type: ignore[no-untyped-def]
    """A filter on FollowUp for those the user may see (the permissions module's rule)."""
    if is_staff(user):
        return true()
    if user.role is Role.FOCAL_POINT and user.member_id is not None:
        return or_(FollowUp.owner_id == user.id, FollowUp.member_id == user.member_id)
    return FollowUp.owner_id == user.id


def _loads():  # type: ignore[no-untyped-def]
    return (
        joinedload(FollowUp.owner),
        joinedload(FollowUp.member),
        joinedload(FollowUp.event),
        joinedload(FollowUp.agreement),
        joinedload(FollowUp.group),
    )


def _pending_order():  # type: ignore[no-untyped-def]
    priority = case((FollowUp.priority == "high", 0), (FollowUp.priority == "normal", 1), else_=2)
    return (FollowUp.due_on, priority, FollowUp.id)


@dataclass
class MyFollowUps:
    overdue: list[FollowUp] = field(default_factory=list)
    due_soon: list[FollowUp] = field(default_factory=list)
    later: list[FollowUp] = field(default_factory=list)
    closed: list[FollowUp] = field(default_factory=list)

    @property
    def pending(self) -> int:
        return len(self.overdue) + len(self.due_soon) + len(self.later)


def my_follow_ups(session: Session, user: User, today: date) -> MyFollowUps:
    """The user's follow-ups (a focal point's include their member's): overdue first, then
    due soon, then later; and those closed in the last month. Two queries."""
    mine = MyFollowUps()
    soon = today + timedelta(days=DUE_SOON_DAYS)
    if is_staff(user):
        scope = FollowUp.owner_id == user.id
    else:
        scope = in_scope(user)
    pending = session.scalars(
        select(FollowUp)
        .where(scope, FollowUp.status.in_(PENDING))
        .options(*_loads())
        .order_by(*_pending_order())
    )
    for follow_up in pending:
        if follow_up.due_on < today:
            mine.overdue.append(follow_up)
        elif follow_up.due_on <= soon:
            mine.due_soon.append(follow_up)
        else:
            mine.later.append(follow_up)
    mine.closed = list(
        session.scalars(
            select(FollowUp)
            .where(
                scope,
                FollowUp.status.not_in(PENDING),
                FollowUp.completed_on >= today - timedelta(days=RECENTLY_CLOSED_DAYS),
            )
            .options(*_loads())
            .order_by(FollowUp.completed_on.desc(), FollowUp.id.desc())
        )
    )
    return mine


@dataclass
class FollowUpFilters:
    owner_id: int | None = None
    member_id: int | None = None
    status: FollowUpStatus | None = None
    #: "pending" (open or in progress, the default), "overdue", "all" or a status.
    show: str = "pending"
    source: SourceKind | None = None

    def apply(self, stmt, user: User, today: date):  # type: ignore[no-untyped-def]
        stmt = stmt.where(in_scope(user))
        if self.owner_id is not None:
            stmt = stmt.where(FollowUp.owner_id == self.owner_id)
        if self.member_id is not None:
            stmt = stmt.where(FollowUp.member_id == self.member_id)
        if self.show == "pending":
            stmt = stmt.where(FollowUp.status.in_(PENDING))
        elif self.show == "overdue":
            stmt = stmt.where(FollowUp.status.in_(PENDING), FollowUp.due_on < today)
        elif self.show in FollowUpStatus._value2member_map_:
            stmt = stmt.where(FollowUp.status == FollowUpStatus(self.show))
        if self.source is SourceKind.EVENT:
            stmt = stmt.where(FollowUp.event_id.is_not(None))
        elif self.source is SourceKind.AGREEMENT:
            stmt = stmt.where(FollowUp.agreement_id.is_not(None))
        elif self.source is SourceKind.GROUP:
            stmt = stmt.where(FollowUp.group_id.is_not(None))
        elif self.source is SourceKind.NONE:
            stmt = stmt.where(
                FollowUp.event_id.is_(None),
                FollowUp.agreement_id.is_(None),
                FollowUp.group_id.is_(None),
            )
        return stmt


def follow_up_page(
    session: Session, user: User, filters: FollowUpFilters, today: date, page: int, per_page: int
) -> Page:
    """One page of follow-ups, pending ones by due day, closed ones latest first (2 queries)."""
    total = session.scalar(filters.apply(select(func.count(FollowUp.id)), user, today)) or 0
    page = clamp(page, total, per_page)
    stmt = filters.apply(select(FollowUp).options(*_loads()), user, today)
    if filters.show in ("pending", "overdue"):
        stmt = stmt.order_by(*_pending_order())
    else:
        stmt = stmt.order_by(FollowUp.due_on.desc(), FollowUp.id.desc())
    items = list(session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))
    return Page(items=items, total=total, page=page, per_page=per_page)


@dataclass
class OwnerCounts:
    owner: User
    overdue: int
    due_soon: int
    pending: int


def counts_by_owner(session: Session, today: date) -> list[OwnerCounts]:
    """Pending follow-ups per owner: overdue, due within a week, all; most overdue first."""
    soon = today + timedelta(days=DUE_SOON_DAYS)
    overdue = func.sum(case((FollowUp.due_on < today, 1), else_=0))
    due_soon = func.sum(case(((FollowUp.due_on >= today) & (FollowUp.due_on <= soon), 1), else_=0))
    counts = (
        select(
            FollowUp.owner_id,
            overdue.label("overdue"),
            due_soon.label("due_soon"),
            func.count().label("pending"),
        )
        .where(FollowUp.status.in_(PENDING))
        .group_by(FollowUp.owner_id)
        .subquery()
    )
    rows = session.execute(
        select(User, counts.c.overdue, counts.c.due_soon, counts.c.pending)
        .join(counts, counts.c.owner_id == User.id)
        .order_by(counts.c.overdue.desc(), counts.c.pending.desc(), User.name)
    )
    return [
        OwnerCounts(owner=user, overdue=int(o or 0), due_soon=int(s or 0), pending=int(p or 0))
        for user, o, s, p in rows
    ]


def follow_ups_for(
    session: Session,
    user: User,
    *,
    member_id: int | None = None,
    event_id: int | None = None,
    agreement_id: int | None = None,
    group_id: int | None = None,
    closed_limit: int = 10,
) -> tuple[list[FollowUp], list[FollowUp]]:
    """A member's, event's, agreement's or group's follow-ups the user may see: the pending
    ones by due day, and the latest closed ones. Two queries."""
    if member_id is not None:
        condition = FollowUp.member_id == member_id
    elif event_id is not None:
        condition = FollowUp.event_id == event_id
    elif agreement_id is not None:
        condition = FollowUp.agreement_id == agreement_id
    elif group_id is not None:
        condition = FollowUp.group_id == group_id
    else:
        raise TypeError("follow_ups_for() needs a member, event, agreement or group")
    base = select(FollowUp).where(condition, in_scope(user)).options(*_loads())
    pending = list(
        session.scalars(base.where(FollowUp.status.in_(PENDING)).order_by(*_pending_order()))
    )
    closed = list(
        session.scalars(
            base.where(FollowUp.status.not_in(PENDING))
            .order_by(FollowUp.completed_on.desc(), FollowUp.id.desc())
            .limit(closed_limit)
        )
    )
    return pending, closed


@dataclass
class PendingSummary:
    overdue: int
    due_soon: int
    pending: int


def pending_summary(session: Session, user: User, today: date) -> PendingSummary:
    """How many of the user's own follow-ups are overdue and due soon (one query)."""
    soon = today + timedelta(days=DUE_SOON_DAYS)
    scope = FollowUp.owner_id == user.id if is_staff(user) else in_scope(user)
    row = session.execute(
        select(
            func.sum(case((FollowUp.due_on < today, 1), else_=0)),
            func.sum(case(((FollowUp.due_on >= today) & (FollowUp.due_on <= soon), 1), else_=0)),
            func.count(FollowUp.id),
        ).where(scope, FollowUp.status.in_(PENDING))
    ).one()
    return PendingSummary(overdue=int(row[0] or 0), due_soon=int(row[1] or 0), pending=int(row[2]))
