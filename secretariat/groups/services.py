"""Working-group operations: the only code that writes groups and their memberships."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from secretariat.accounts.models import Role, User
from secretariat.db import utcnow
from secretariat.groups.models import GroupMembership, GroupRole, GroupStatus, WorkingGroup
from secretariat.members.models import Member, MemberStatus
from secretariat.members.services import RESERVED_SLUGS, SLUG_PATTERN, ValidationFailed
from secretariat.permissions import Permission, ensure_permission
from secretariat.vocabularies.models import Term, Vocabulary

#: Members in these states can join a group; the others keep their history only.
JOINABLE_STATUSES = frozenset({MemberStatus.ACTIVE, MemberStatus.APPLICANT, MemberStatus.SUSPENDED})


@dataclass
class GroupData:
    name: str
    slug: str
    theme_id: int | None = None
    description: str | None = None
    started_on: date | None = None
    staff_lead_id: int | None = None


def validate_group(
    session: Session, data: GroupData, group_id: int | None, kept_lead_id: int | None = None
) -> dict[str, str]:
    """Return every problem with the data, by field; empty when it can be saved.

    ``kept_lead_id`` is the group's present staff lead: it may stay though no longer active.
    """
    errors: dict[str, str] = {}
    data.name = " ".join((data.name or "").split())
    data.slug = (data.slug or "").strip().lower()
    if data.description:
        data.description = data.description.replace("\r\n", "\n").strip() or None
    if not data.name:
        errors["name"] = _("Enter the group's name.")
    elif len(data.name) > 255:
        errors["name"] = _("Use at most 255 characters.")
    else:
        # Compared here: SQL lower() folds only ASCII on SQLite (and under PostgreSQL's C
        # locale); a network has tens of groups.
        folded = data.name.casefold()
        clash = next(
            (
                row
                for row in session.execute(select(WorkingGroup.id, WorkingGroup.name))
                if row.name.casefold() == folded and row.id != group_id
            ),
            None,
        )
        if clash is not None:
            errors["name"] = _("Another group is already called “%(name)s”.", name=clash.name)
    if not data.slug:
        errors["slug"] = _("Enter a short name made of letters and digits.")
    elif not SLUG_PATTERN.match(data.slug) or len(data.slug) > 100:
        errors["slug"] = _("Use lower-case letters, digits and single hyphens, e.g. “air-quality”.")
    elif data.slug in RESERVED_SLUGS:
        errors["slug"] = _("“%(slug)s” is reserved; choose another short name.", slug=data.slug)
    else:
        clash = session.scalar(select(WorkingGroup).where(WorkingGroup.slug == data.slug))
        if clash is not None and clash.id != group_id:
            errors["slug"] = _("Another group already uses this short name.")
    if data.theme_id is not None:
        theme = session.get(Term, data.theme_id)
        if theme is None or theme.vocabulary is not Vocabulary.THEME:
            errors["theme_id"] = _("Choose a theme from the list.")
    if data.staff_lead_id is not None and data.staff_lead_id != kept_lead_id:
        lead = session.get(User, data.staff_lead_id)
        if lead is None or lead.role not in (Role.ADMIN, Role.STAFF) or not lead.is_active:
            errors["staff_lead_id"] = _("Choose an active member of the secretariat staff.")
    if data.started_on is not None and data.started_on > utcnow().date():
        errors["started_on"] = _("A group's start is a date no later than today.")
    return errors


def create_group(session: Session, actor: User, data: GroupData) -> WorkingGroup:
    ensure_permission(actor, Permission.MANAGE_GROUPS)
    errors = validate_group(session, data, None)
    if errors:
        raise ValidationFailed(errors)
    group = WorkingGroup(
        name=data.name,
        slug=data.slug,
        theme_id=data.theme_id,
        description=data.description,
        started_on=data.started_on or utcnow().date(),
        staff_lead_id=data.staff_lead_id,
        status=GroupStatus.ACTIVE,
    )
    session.add(group)
    session.flush()
    return group


def update_group(session: Session, actor: User, group: WorkingGroup, data: GroupData) -> None:
    ensure_permission(actor, Permission.MANAGE_GROUPS)
    errors = validate_group(session, data, group.id, kept_lead_id=group.staff_lead_id)
    if not errors and data.started_on:
        first_joined = session.scalar(
            select(func.min(GroupMembership.joined_on)).where(GroupMembership.group_id == group.id)
        )
        if group.closed_on is not None and data.started_on > group.closed_on:
            errors["started_on"] = _(
                "The group closed on %(date)s, before this date.", date=format_date(group.closed_on)
            )
        elif first_joined is not None and data.started_on > first_joined:
            errors["started_on"] = _(
                "A member joined on %(date)s, before this date.", date=format_date(first_joined)
            )
    if errors:
        raise ValidationFailed(errors)
    group.name = data.name
    group.slug = data.slug
    group.theme_id = data.theme_id
    group.description = data.description
    # An empty start keeps the recorded one: a group always has a start.
    group.started_on = data.started_on or group.started_on
    group.staff_lead_id = data.staff_lead_id
    session.flush()


def close_group(session: Session, actor: User, group: WorkingGroup, closed_on: date | None) -> int:
    """Close the group; current memberships end on the closing day. Return how many ended."""
    ensure_permission(actor, Permission.MANAGE_GROUPS)
    errors: dict[str, str] = {}
    if group.status is GroupStatus.CLOSED:
        errors["closed_on"] = _("The group is already closed.")
    elif closed_on is None:
        errors["closed_on"] = _("Enter the day the group closed.")
    elif closed_on > utcnow().date():
        errors["closed_on"] = _("Record the closure on the day it happens, not in advance.")
    elif group.started_on is not None and closed_on < group.started_on:
        errors["closed_on"] = _(
            "The group started on %(date)s, after this date.", date=format_date(group.started_on)
        )
    else:
        late = session.scalar(
            select(func.max(GroupMembership.joined_on)).where(
                GroupMembership.group_id == group.id, GroupMembership.left_on.is_(None)
            )
        )
        if late is not None and late > closed_on:
            errors["closed_on"] = _(
                "A member joined on %(date)s, after this date.", date=format_date(late)
            )
    if errors:
        raise ValidationFailed(errors)
    assert closed_on is not None
    current = _current_memberships(session, group.id)
    for membership in current:
        membership.left_on = closed_on
    group.status = GroupStatus.CLOSED
    group.closed_on = closed_on
    session.flush()
    return len(current)


def reopen_group(session: Session, actor: User, group: WorkingGroup) -> None:
    """Reopen a closed group; its former members do not come back by themselves."""
    ensure_permission(actor, Permission.MANAGE_GROUPS)
    if group.status is not GroupStatus.CLOSED:
        raise ValidationFailed({"status": _("The group is not closed.")})
    group.status = GroupStatus.ACTIVE
    group.closed_on = None
    session.flush()


def _current_memberships(session: Session, group_id: int) -> list[GroupMembership]:
    return list(
        session.scalars(
            select(GroupMembership).where(
                GroupMembership.group_id == group_id, GroupMembership.left_on.is_(None)
            )
        )
    )


def add_members(
    session: Session,
    actor: User,
    group: WorkingGroup,
    member_ids: list[int],
    role: GroupRole,
    joined_on: date | None,
) -> list[GroupMembership]:
    """Add members to the group with one role; all or none."""
    ensure_permission(actor, Permission.MANAGE_GROUPS)
    today = utcnow().date()
    errors: dict[str, str] = {}
    if group.status is GroupStatus.CLOSED:
        errors["member_ids"] = _("The group is closed; reopen it before adding members.")
    if not member_ids:
        errors["member_ids"] = _("Choose at least one member.")
    if joined_on is None:
        errors["joined_on"] = _("Enter the day they joined.")
    elif joined_on > today:
        errors["joined_on"] = _("Record members on the day they join, not in advance.")
    elif group.started_on is not None and joined_on < group.started_on:
        errors["joined_on"] = _(
            "The group started on %(date)s; members cannot join before that.",
            date=format_date(group.started_on),
        )
    members = list(session.scalars(select(Member).where(Member.id.in_(member_ids))))
    if len(members) != len(set(member_ids)):
        errors["member_ids"] = _("Choose members from the list.")
    if joined_on is not None and "joined_on" not in errors and members:
        # A member that left may rejoin, but not within its former membership.
        last_left = session.execute(
            select(GroupMembership.member_id, func.max(GroupMembership.left_on))
            .where(
                GroupMembership.group_id == group.id,
                GroupMembership.member_id.in_(member_ids),
                GroupMembership.left_on.is_not(None),
            )
            .group_by(GroupMembership.member_id)
        )
        left_later = {member_id for member_id, left_on in last_left if left_on > joined_on}
        if left_later:
            errors["joined_on"] = _(
                "%(names)s left the group after this date.",
                names=", ".join(sorted(m.name for m in members if m.id in left_later)),
            )
    current = {m.member_id for m in _current_memberships(session, group.id)}
    already = sorted(m.name for m in members if m.id in current)
    if already:
        errors["member_ids"] = _("Already in the group: %(names)s.", names=", ".join(already))
    not_joinable = sorted(m.name for m in members if m.status not in JOINABLE_STATUSES)
    if not_joinable:
        errors["member_ids"] = _(
            "Lapsed or exited members cannot join: %(names)s.", names=", ".join(not_joinable)
        )
    if errors:
        raise ValidationFailed(errors)
    assert joined_on is not None
    added = [
        GroupMembership(group_id=group.id, member_id=m.id, role=role, joined_on=joined_on)
        for m in members
    ]
    session.add_all(added)
    session.flush()
    return added


def _check_end_date(membership: GroupMembership, on: date | None, field: str) -> dict[str, str]:
    if membership.left_on is not None:
        return {field: _("This membership has already ended.")}
    if on is None:
        return {field: _("Enter the date.")}
    if on > utcnow().date():
        return {field: _("Record the change on the day it happens, not in advance.")}
    if on < membership.joined_on:
        return {
            field: _(
                "%(member)s joined on %(date)s, after this date.",
                member=membership.member.name,
                date=format_date(membership.joined_on),
            )
        }
    return {}


def change_role(
    session: Session, actor: User, membership: GroupMembership, role: GroupRole, on: date | None
) -> GroupMembership:
    """Give a member a new role from a date; the old role stays in the history."""
    ensure_permission(actor, Permission.MANAGE_GROUPS)
    errors = _check_end_date(membership, on, "changed_on")
    if not errors and role is membership.role:
        errors["role"] = _("%(member)s already has this role.", member=membership.member.name)
    if errors:
        raise ValidationFailed(errors)
    assert on is not None
    if on == membership.joined_on:
        # Corrected on the day it began: nothing worth keeping as history.
        membership.role = role
        session.flush()
        return membership
    membership.left_on = on
    session.flush()
    successor = GroupMembership(
        group_id=membership.group_id, member_id=membership.member_id, role=role, joined_on=on
    )
    session.add(successor)
    session.flush()
    return successor


def remove_member(
    session: Session, actor: User, membership: GroupMembership, left_on: date | None
) -> None:
    """End a member's part in the group; the membership stays in the history."""
    ensure_permission(actor, Permission.MANAGE_GROUPS)
    errors = _check_end_date(membership, left_on, "left_on")
    if errors:
        raise ValidationFailed(errors)
    membership.left_on = left_on
    session.flush()
