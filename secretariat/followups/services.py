"""Follow-up operations: the only code that writes follow-ups.

A follow-up belongs to a member of staff or a focal point. Staff create and edit them; their
owner (and, for a focal point, anyone of the member concerned) moves them along: started,
done, cancelled, reopened. Completing a recurring follow-up creates its next occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from dateutil.relativedelta import relativedelta
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from secretariat.accounts.models import Role, User
from secretariat.agreements.models import Agreement
from secretariat.clock import network_today
from secretariat.events.models import Event
from secretariat.events.services import event_zone
from secretariat.followups.models import (
    PENDING,
    FollowUp,
    FollowUpStatus,
    Priority,
    Recurrence,
    SourceKind,
)
from secretariat.groups.models import WorkingGroup
from secretariat.members.models import Member
from secretariat.members.services import ValidationFailed
from secretariat.permissions import (
    OutOfScope,
    Permission,
    can_access_follow_up,
    ensure_permission,
)
from secretariat.text import has_control_characters, paragraphs, single_line

#: How far apart the occurrences of a recurring follow-up are.
STEPS = {
    Recurrence.WEEKLY: relativedelta(weeks=1),
    Recurrence.MONTHLY: relativedelta(months=1),
    Recurrence.QUARTERLY: relativedelta(months=3),
    Recurrence.YEARLY: relativedelta(years=1),
}
#: Follow-ups due within this many days count as "due soon".
DUE_SOON_DAYS = 7
#: Owners may be staff or focal points; funders do not own follow-ups.
OWNER_ROLES = (Role.ADMIN, Role.STAFF, Role.FOCAL_POINT)


@dataclass
class FollowUpData:
    title: str
    owner_id: int | None
    due_on: date | None
    description: str | None = None
    member_id: int | None = None
    event_id: int | None = None
    agreement_id: int | None = None
    group_id: int | None = None
    priority: Priority = Priority.NORMAL
    recurrence: Recurrence = Recurrence.NONE
    repeat_until: date | None = None
    #: Fields whose values the form could not read, with their messages.
    unreadable: dict[str, str] = field(default_factory=dict)

    @property
    def source_kind(self) -> SourceKind:
        if self.event_id is not None:
            return SourceKind.EVENT
        if self.agreement_id is not None:
            return SourceKind.AGREEMENT
        if self.group_id is not None:
            return SourceKind.GROUP
        return SourceKind.NONE


def event_day(event: Event) -> date:
    """The calendar day an event starts, where it takes place."""
    return event.starts_at.astimezone(event_zone(event)).date()


def eligible_owner(user: User | None) -> bool:
    return user is not None and user.is_active and user.role in OWNER_ROLES


def validate_follow_up(
    session: Session, data: FollowUpData, current: FollowUp | None = None
) -> dict[str, str]:
    """Return every problem with the data, by field; empty when it can be saved."""
    errors: dict[str, str] = dict(data.unreadable)
    raw_title = data.title or ""
    data.title = single_line(raw_title)
    data.description = paragraphs(data.description)
    if has_control_characters(raw_title):
        errors["title"] = _("Remove the invisible control characters from the title.")
    elif not data.title:
        errors["title"] = _("Say what is to be done.")
    elif len(data.title) > 300:
        errors["title"] = _("Use at most 300 characters; put the details in the description.")
    if data.description and has_control_characters(data.description):
        errors["description"] = _("Remove the invisible control characters from the description.")
    if data.description and len(data.description) > 20_000:
        errors["description"] = _("Use at most 20,000 characters.")

    owner = session.get(User, data.owner_id) if data.owner_id is not None else None
    kept_owner = current is not None and data.owner_id == current.owner_id
    if data.owner_id is None:
        errors.setdefault("owner_id", _("Choose who will do it."))
    elif owner is None or not (eligible_owner(owner) or (kept_owner and owner.role in OWNER_ROLES)):
        errors.setdefault(
            "owner_id", _("Choose an active member of staff or a focal point as the owner.")
        )
    member = session.get(Member, data.member_id) if data.member_id is not None else None
    if data.member_id is not None and member is None:
        errors.setdefault("member_id", _("Choose a member from the list."))
    if owner is not None and owner.role is Role.FOCAL_POINT and "owner_id" not in errors:
        if data.member_id is None:
            data.member_id = owner.member_id
        elif data.member_id != owner.member_id:
            errors.setdefault(
                "member_id",
                _(
                    "%(name)s is the focal point of another member; a focal point owns only "
                    "their own member's follow-ups.",
                    name=owner.name,
                ),
            )

    sources = [v for v in (data.event_id, data.agreement_id, data.group_id) if v is not None]
    if len(sources) > 1:
        errors.setdefault(
            "source", _("Choose one source at most: an event, an agreement or a group.")
        )
    elif data.event_id is not None:
        event = session.get(Event, data.event_id)
        if event is None:
            errors.setdefault("event_id", _("Choose an event from the list."))
        elif data.due_on is not None and data.due_on < event_day(event):
            errors.setdefault(
                "due_on",
                _(
                    "The event takes place on %(date)s; a follow-up is due on that day or later.",
                    date=format_date(event_day(event)),
                ),
            )
    elif data.agreement_id is not None and session.get(Agreement, data.agreement_id) is None:
        errors.setdefault("agreement_id", _("Choose an agreement from the list."))
    elif data.group_id is not None and session.get(WorkingGroup, data.group_id) is None:
        errors.setdefault("group_id", _("Choose a working group from the list."))

    if data.due_on is None:
        errors.setdefault("due_on", _("Enter the day it is due."))
    if not isinstance(data.priority, Priority):
        errors.setdefault("priority", _("Choose a priority."))
    if not isinstance(data.recurrence, Recurrence):
        errors.setdefault("recurrence", _("Choose how often it repeats."))
    elif data.recurrence is Recurrence.NONE:
        data.repeat_until = None
    elif data.repeat_until is not None and data.due_on is not None:
        if data.repeat_until < data.due_on:
            errors.setdefault("repeat_until", _("The series cannot end before the first due day."))
    return errors


def _apply(follow_up: FollowUp, data: FollowUpData) -> None:
    follow_up.title = data.title
    follow_up.description = data.description
    follow_up.owner_id = data.owner_id  # type: ignore[assignment]
    follow_up.member_id = data.member_id
    follow_up.event_id = data.event_id
    follow_up.agreement_id = data.agreement_id
    follow_up.group_id = data.group_id
    follow_up.priority = data.priority
    follow_up.recurrence = data.recurrence
    follow_up.repeat_until = data.repeat_until


def _new(data: FollowUpData, actor: User | None) -> FollowUp:
    follow_up = FollowUp(
        status=FollowUpStatus.OPEN,
        due_on=data.due_on,
        series_start=data.due_on,
        occurrence=1,
        created_by_id=actor.id if actor is not None else None,
    )
    _apply(follow_up, data)
    return follow_up


def create_follow_up(session: Session, actor: User, data: FollowUpData) -> FollowUp:
    ensure_permission(actor, Permission.MANAGE_FOLLOW_UPS)
    errors = validate_follow_up(session, data)
    if errors:
        raise ValidationFailed(errors)
    follow_up = _new(data, actor)
    session.add(follow_up)
    session.flush()
    return follow_up


def create_follow_ups(session: Session, actor: User, rows: list[FollowUpData]) -> list[FollowUp]:
    """Create several follow-ups at once, all or none.

    Errors are keyed ``"<row index>.<field>"`` so that a form can show them on their row.
    """
    ensure_permission(actor, Permission.MANAGE_FOLLOW_UPS)
    errors: dict[str, str] = {}
    if not rows:
        errors["rows"] = _("Fill in at least one row.")
    for index, data in enumerate(rows):
        for name, message in validate_follow_up(session, data).items():
            errors[f"{index}.{name}"] = message
    if errors:
        raise ValidationFailed(errors)
    created = [_new(data, actor) for data in rows]
    session.add_all(created)
    session.flush()
    return created


def create_for_system(session: Session, actor: User | None, data: FollowUpData) -> FollowUp:
    """Create a follow-up on behalf of another feature (an agreement's obligation).

    The calling service has checked the actor's permission for its own operation.
    """
    errors = validate_follow_up(session, data)
    if errors:
        raise ValidationFailed(errors)
    follow_up = _new(data, actor)
    session.add(follow_up)
    session.flush()
    return follow_up


def update_follow_up(
    session: Session, actor: User, follow_up: FollowUp, data: FollowUpData
) -> None:
    """Change what, who and when; a new due day restarts a recurring series' count from it."""
    ensure_permission(actor, Permission.MANAGE_FOLLOW_UPS)
    errors = validate_follow_up(session, data, follow_up)
    if errors:
        raise ValidationFailed(errors)
    _apply(follow_up, data)
    if data.due_on != follow_up.due_on:
        follow_up.due_on = data.due_on  # type: ignore[assignment]
        follow_up.series_start = data.due_on  # type: ignore[assignment]
        follow_up.occurrence = 1
    session.flush()


# -- moving along ---------------------------------------------------------------------------


def visible_follow_up(session: Session, user: User, follow_up_id: int) -> FollowUp:
    """The follow-up if the user may see and update it; the uniform 404 otherwise."""
    follow_up = session.get(FollowUp, follow_up_id)
    if follow_up is None or not can_access_follow_up(user, follow_up.owner_id, follow_up.member_id):
        raise OutOfScope()
    return follow_up


def _ensure_can_update(actor: User, follow_up: FollowUp) -> None:
    if not can_access_follow_up(actor, follow_up.owner_id, follow_up.member_id):
        raise OutOfScope()


def start(session: Session, actor: User, follow_up: FollowUp) -> None:
    _ensure_can_update(actor, follow_up)
    if follow_up.status is not FollowUpStatus.OPEN:
        raise ValidationFailed({"status": _("Only an open follow-up can be started.")})
    follow_up.status = FollowUpStatus.IN_PROGRESS
    session.flush()


def next_due(follow_up: FollowUp) -> date | None:
    """The due day of the occurrence after this one; None when the series stops here."""
    step = STEPS.get(follow_up.recurrence)
    if step is None:
        return None
    due = follow_up.series_start + step * follow_up.occurrence
    if follow_up.repeat_until is not None and due > follow_up.repeat_until:
        return None
    return due


def _validate_closing(
    follow_up: FollowUp, on: date | None, note: str | None, today: date
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if follow_up.status not in PENDING:
        errors["status"] = _("This follow-up is already closed; reopen it first.")
    if on is None:
        errors["completed_on"] = _("Enter the day.")
    elif on > today:
        errors["completed_on"] = _("Record it on the day it happens, not in advance.")
    if note and has_control_characters(note):
        errors["note"] = _("Remove the invisible control characters from the note.")
    elif note and len(note) > 20_000:
        errors["note"] = _("Use at most 20,000 characters.")
    return errors


def complete(
    session: Session, actor: User, follow_up: FollowUp, on: date | None, note: str | None
) -> FollowUp | None:
    """Mark it done; return the next occurrence it created, if it recurs."""
    _ensure_can_update(actor, follow_up)
    note = paragraphs(note)
    errors = _validate_closing(follow_up, on, note, network_today())
    if errors:
        raise ValidationFailed(errors)
    follow_up.status = FollowUpStatus.DONE
    follow_up.completed_on = on
    follow_up.completion_note = note
    session.flush()
    return _create_next(session, follow_up)


def _create_next(session: Session, follow_up: FollowUp) -> FollowUp | None:
    due = next_due(follow_up)
    if due is None:
        return None
    # Completing, reopening and completing again must not repeat the next occurrence.
    if session.scalar(select(FollowUp.id).where(FollowUp.previous_id == follow_up.id)):
        return None
    following = FollowUp(
        title=follow_up.title,
        description=follow_up.description,
        owner_id=follow_up.owner_id,
        member_id=follow_up.member_id,
        event_id=follow_up.event_id,
        agreement_id=follow_up.agreement_id,
        group_id=follow_up.group_id,
        priority=follow_up.priority,
        recurrence=follow_up.recurrence,
        repeat_until=follow_up.repeat_until,
        series_start=follow_up.series_start,
        occurrence=follow_up.occurrence + 1,
        due_on=due,
        status=FollowUpStatus.OPEN,
        previous_id=follow_up.id,
        created_by_id=follow_up.created_by_id,
    )
    session.add(following)
    session.flush()
    return following


def cancel(
    session: Session, actor: User, follow_up: FollowUp, on: date | None, note: str | None
) -> None:
    """Cancel it, saying why; a recurring series stops here."""
    _ensure_can_update(actor, follow_up)
    note = paragraphs(note)
    errors = _validate_closing(follow_up, on, note, network_today())
    if not note and "note" not in errors:
        errors["note"] = _("Say why it is cancelled.")
    if errors:
        raise ValidationFailed(errors)
    follow_up.status = FollowUpStatus.CANCELLED
    follow_up.completed_on = on
    follow_up.completion_note = note
    session.flush()


def reopen(session: Session, actor: User, follow_up: FollowUp) -> None:
    """Open a done or cancelled follow-up again; an occurrence it created stays."""
    _ensure_can_update(actor, follow_up)
    if follow_up.status in PENDING:
        raise ValidationFailed({"status": _("This follow-up is still open.")})
    follow_up.status = FollowUpStatus.OPEN
    follow_up.completed_on = None
    follow_up.completion_note = None
    session.flush()


def reassign_open(
    session: Session, follow_ups: list[FollowUp], from_owner_id: int, to_owner_id: int
) -> int:
    """Hand the still-open ones of ``from_owner_id`` to another owner; return how many."""
    moved = 0
    for follow_up in follow_ups:
        if follow_up.status in PENDING and follow_up.owner_id == from_owner_id:
            follow_up.owner_id = to_owner_id
            moved += 1
    session.flush()
    return moved


def due_soon_limit(today: date) -> date:
    return today + relativedelta(days=DUE_SOON_DAYS)
