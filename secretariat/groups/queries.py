"""Read models of the working-group pages, with a bounded number of queries."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from secretariat.groups.models import GroupMembership, GroupRole, GroupStatus, WorkingGroup
from secretariat.members.models import Member


@dataclass
class GroupRow:
    group: WorkingGroup
    members: int
    leads: int


def group_rows(session: Session, status: GroupStatus | None = None) -> list[GroupRow]:
    """Every group with its current member and lead counts, in one query."""
    current = GroupMembership.left_on.is_(None)
    counts = (
        select(
            GroupMembership.group_id,
            func.count().label("members"),
            func.sum(case((GroupMembership.role == GroupRole.LEAD, 1), else_=0)).label("leads"),
        )
        .where(current)
        .group_by(GroupMembership.group_id)
        .subquery()
    )
    stmt = (
        select(WorkingGroup, counts.c.members, counts.c.leads)
        .outerjoin(counts, counts.c.group_id == WorkingGroup.id)
        .options(joinedload(WorkingGroup.theme), joinedload(WorkingGroup.staff_lead))
        .order_by(WorkingGroup.status, func.lower(WorkingGroup.name))
    )
    if status is not None:
        stmt = stmt.where(WorkingGroup.status == status)
    return [
        GroupRow(group=group, members=members or 0, leads=int(leads or 0))
        for group, members, leads in session.execute(stmt)
    ]


def group_detail(session: Session, slug: str) -> WorkingGroup | None:
    """The group with its memberships (current and past) and their members loaded."""
    return session.scalar(
        select(WorkingGroup)
        .where(WorkingGroup.slug == slug)
        .options(
            joinedload(WorkingGroup.theme),
            joinedload(WorkingGroup.staff_lead),
            selectinload(WorkingGroup.memberships)
            .joinedload(GroupMembership.member)
            .joinedload(Member.region),
        )
    )


ROLE_ORDER = {GroupRole.LEAD: 0, GroupRole.MEMBER: 1, GroupRole.OBSERVER: 2}


def split_memberships(
    memberships: list[GroupMembership],
) -> tuple[list[GroupMembership], list[GroupMembership]]:
    """Current memberships (leads first, then by name) and past ones (latest first)."""
    current = sorted(
        (m for m in memberships if m.left_on is None),
        key=lambda m: (ROLE_ORDER[m.role], m.member.search_name),
    )
    past = sorted(
        (m for m in memberships if m.left_on is not None),
        key=lambda m: (m.left_on, m.joined_on),
        reverse=True,
    )
    return current, past


def member_groups(session: Session, member_id: int) -> list[GroupMembership]:
    """A member's group memberships, current ones first, for its page."""
    rows = session.scalars(
        select(GroupMembership)
        .where(GroupMembership.member_id == member_id)
        .options(joinedload(GroupMembership.group))
        .order_by(GroupMembership.left_on.is_not(None), GroupMembership.joined_on.desc())
    )
    return list(rows)


def joinable_members(session: Session, group: WorkingGroup) -> list[Member]:
    """Members that may be added: joinable status and not currently in the group."""
    from secretariat.groups.services import JOINABLE_STATUSES

    in_group = select(GroupMembership.member_id).where(
        GroupMembership.group_id == group.id, GroupMembership.left_on.is_(None)
    )
    return list(
        session.scalars(
            select(Member)
            .where(Member.status.in_(JOINABLE_STATUSES), Member.id.not_in(in_group))
            .order_by(Member.search_name)
        )
    )


def group_choices(session: Session, current_id: int | None) -> list[tuple[int, str]]:
    """Active working groups by name, for a select; a closed group the record already names
    stays listed, marked closed."""
    groups = session.scalars(
        select(WorkingGroup)
        .where((WorkingGroup.status == GroupStatus.ACTIVE) | (WorkingGroup.id == current_id))
        .order_by(WorkingGroup.name, WorkingGroup.id)
    )
    return [
        (g.id, g.name if g.status is GroupStatus.ACTIVE else _("%(name)s (closed)", name=g.name))
        for g in groups
    ]
