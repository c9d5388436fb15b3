"""Event operations: events, invitations, registrations and attendance; the only writers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from secretariat.accounts.models import User
from secretariat.clock import network_zone
from secretariat.db import utcnow
from secretariat.events.models import (
    Attendance,
    AttendanceSource,
    Audience,
    Event,
    EventType,
    Invitation,
    Registration,
    Response,
)
from secretariat.groups.models import GroupMembership, GroupStatus, WorkingGroup
from secretariat.members.models import Contact, Member, MemberStatus
from secretariat.members.services import ValidationFailed, is_country, is_web_url
from secretariat.permissions import (
    OutOfScope,
    Permission,
    ensure_member_scope,
    ensure_permission,
    is_staff,
)

#: Longest event we accept (an annual forum or a study tour lasts days, not months).
MAX_EVENT_DAYS = 31


def event_zone(event: Event) -> ZoneInfo:
    """The zone the event's times are entered and shown in: its own, else the network's."""
    return ZoneInfo(event.timezone) if event.timezone else network_zone()


@cache
def timezone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def is_timezone(name: str) -> bool:
    return name in timezone_names()


def localize(local: datetime, zone: ZoneInfo) -> datetime:
    """Attach a zone to a wall-clock time; refuse times skipped by a clock change.

    Times that occur twice (clocks going back) take their first occurrence.
    """
    aware = local.replace(tzinfo=zone, fold=0)
    round_trip = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if round_trip != local.replace(tzinfo=None):
        raise ValueError("nonexistent local time")
    return aware.astimezone(UTC)


# -- events ---------------------------------------------------------------------------------


@dataclass
class EventData:
    title: str
    event_type: EventType
    #: Wall-clock times in the event's zone (or the network's when it has none).
    starts_local: datetime | None
    ends_local: datetime | None
    timezone: str | None = None
    is_online: bool = False
    meeting_url: str | None = None
    venue: str | None = None
    city: str | None = None
    country: str | None = None
    host_member_id: int | None = None
    group_id: int | None = None
    description: str | None = None


def _validate_event(
    session: Session, data: EventData, event: Event | None
) -> tuple[dict[str, str], datetime | None, datetime | None]:
    errors: dict[str, str] = {}
    data.title = " ".join((data.title or "").split())
    data.timezone = (data.timezone or "").strip() or None
    data.city = " ".join((data.city or "").split()) or None
    data.venue = " ".join((data.venue or "").split()) or None
    data.country = (data.country or "").strip().upper() or None
    data.meeting_url = (data.meeting_url or "").strip() or None
    if data.description:
        data.description = data.description.replace("\r\n", "\n").strip() or None
    if not data.title:
        errors["title"] = _("Enter the event's title.")
    elif len(data.title) > 255:
        errors["title"] = _("Use at most 255 characters.")
    zone = None
    if data.timezone is not None:
        if is_timezone(data.timezone):
            zone = ZoneInfo(data.timezone)
        else:
            errors["timezone"] = _("Choose a time zone from the list, e.g. Europe/Lisbon.")
    else:
        zone = network_zone()
    starts_at = ends_at = None
    if data.starts_local is None:
        errors["starts_local"] = _("Enter when the event starts.")
    if data.ends_local is None:
        errors["ends_local"] = _("Enter when the event ends.")
    if zone is not None and data.starts_local is not None and data.ends_local is not None:
        try:
            starts_at = localize(data.starts_local, zone)
        except ValueError:
            errors["starts_local"] = _(
                "This time does not exist in %(zone)s: the clocks go forward then.", zone=zone.key
            )
        try:
            ends_at = localize(data.ends_local, zone)
        except ValueError:
            errors["ends_local"] = _(
                "This time does not exist in %(zone)s: the clocks go forward then.", zone=zone.key
            )
        if starts_at and ends_at:
            if ends_at < starts_at:
                errors["ends_local"] = _("The event ends before it starts.")
            elif ends_at - starts_at > timedelta(days=MAX_EVENT_DAYS):
                errors["ends_local"] = _(
                    "An event lasts at most %(days)d days; record longer work as a group.",
                    days=MAX_EVENT_DAYS,
                )
    if not data.is_online and not (data.city and data.country):
        errors["city"] = _("Enter the city and country, or tick “Online”.")
    if data.country is not None and not is_country(data.country):
        errors["country"] = _("Choose a country from the list.")
    if data.meeting_url is not None and not is_web_url(data.meeting_url):
        errors["meeting_url"] = _("Enter a web address starting with https://.")
    if data.host_member_id is not None and session.get(Member, data.host_member_id) is None:
        errors["host_member_id"] = _("Choose a member from the list.")
    if data.group_id is not None:
        group = session.get(WorkingGroup, data.group_id)
        unchanged = event is not None and event.group_id == data.group_id
        if group is None or (group.status is GroupStatus.CLOSED and not unchanged):
            errors["group_id"] = _("Choose an active working group.")
    return errors, starts_at, ends_at


def _apply(event: Event, data: EventData, starts_at: datetime, ends_at: datetime) -> None:
    event.title = data.title
    event.event_type = data.event_type
    event.starts_at = starts_at
    event.ends_at = ends_at
    event.timezone = data.timezone
    event.is_online = data.is_online
    event.meeting_url = data.meeting_url
    event.venue = data.venue
    event.city = data.city
    event.country = data.country
    event.host_member_id = data.host_member_id
    event.group_id = data.group_id
    event.description = data.description


def create_event(session: Session, actor: User, data: EventData) -> Event:
    ensure_permission(actor, Permission.MANAGE_EVENTS)
    errors, starts_at, ends_at = _validate_event(session, data, None)
    if errors:
        raise ValidationFailed(errors)
    assert starts_at is not None and ends_at is not None
    event = Event(created_by_id=actor.id)
    _apply(event, data, starts_at, ends_at)
    session.add(event)
    session.flush()
    return event


def update_event(session: Session, actor: User, event: Event, data: EventData) -> None:
    ensure_permission(actor, Permission.MANAGE_EVENTS)
    errors, starts_at, ends_at = _validate_event(session, data, event)
    if errors:
        raise ValidationFailed(errors)
    assert starts_at is not None and ends_at is not None
    _apply(event, data, starts_at, ends_at)
    event.sequence += 1
    session.flush()


def cancel_event(session: Session, actor: User, event: Event) -> None:
    """Cancel the event; it stays, marked cancelled, so calendars remove it too."""
    ensure_permission(actor, Permission.MANAGE_EVENTS)
    if event.is_cancelled:
        raise ValidationFailed({"event": _("The event is already cancelled.")})
    if event.ends_at <= utcnow():
        raise ValidationFailed({"event": _("The event is over; it can no longer be cancelled.")})
    event.cancelled_at = utcnow()
    event.sequence += 1
    session.flush()


def reinstate_event(session: Session, actor: User, event: Event) -> None:
    ensure_permission(actor, Permission.MANAGE_EVENTS)
    if not event.is_cancelled:
        raise ValidationFailed({"event": _("The event is not cancelled.")})
    event.cancelled_at = None
    event.sequence += 1
    session.flush()


# -- invitations ----------------------------------------------------------------------------


def audience_members(
    session: Session, audience: Audience, group_id: int | None, member_ids: Iterable[int]
) -> list[Member]:
    """The members an audience means today: all active, a group's current members, or a list."""
    stmt = select(Member).order_by(Member.search_name)
    if audience is Audience.ALL_ACTIVE:
        stmt = stmt.where(Member.status == MemberStatus.ACTIVE)
    elif audience is Audience.GROUP:
        current = select(GroupMembership.member_id).where(
            GroupMembership.group_id == group_id, GroupMembership.left_on.is_(None)
        )
        stmt = stmt.where(Member.id.in_(current))
    else:
        stmt = stmt.where(Member.id.in_(list(member_ids)))
    return list(session.scalars(stmt))


def invite(
    session: Session,
    actor: User,
    event: Event,
    audience: Audience,
    *,
    group_id: int | None = None,
    member_ids: Iterable[int] = (),
) -> list[Invitation]:
    """Invite members; the list is frozen as sent. Members already invited are skipped.

    Invitations may be recorded for events already held, to keep the history complete.
    """
    ensure_permission(actor, Permission.MANAGE_EVENTS)
    member_ids = list(member_ids)
    errors: dict[str, str] = {}
    # Past events may be invited to: staff record the history of events held before.
    if event.is_cancelled:
        errors["audience"] = _("The event is cancelled.")
    if audience is Audience.GROUP:
        group = session.get(WorkingGroup, group_id) if group_id else None
        if group is None:
            errors["group_id"] = _("Choose the working group to invite.")
    if audience is Audience.CHOSEN:
        if not member_ids:
            errors["member_ids"] = _("Choose at least one member.")
        else:
            found = session.scalars(select(Member.id).where(Member.id.in_(member_ids))).all()
            if len(found) != len(set(member_ids)):
                errors["member_ids"] = _("Choose members from the list.")
    if errors:
        raise ValidationFailed(errors)
    members = audience_members(session, audience, group_id, member_ids)
    already = set(
        session.scalars(select(Invitation.member_id).where(Invitation.event_id == event.id))
    )
    invitations = [
        Invitation(event_id=event.id, member_id=m.id, audience=audience, invited_by_id=actor.id)
        for m in members
        if m.id not in already
    ]
    if not invitations:
        raise ValidationFailed(
            {"audience": _("Every member of this audience is already invited (or it is empty).")}
        )
    session.add_all(invitations)
    session.flush()
    return invitations


def withdraw_invitation(session: Session, actor: User, invitation: Invitation) -> None:
    """Withdraw an invitation sent by mistake, with its registrations; not after the event."""
    ensure_permission(actor, Permission.MANAGE_EVENTS)
    event = session.get(Event, invitation.event_id)
    assert event is not None
    if event.starts_at <= utcnow():
        raise ValidationFailed({"invitation": _("The event has started; the invitation stays.")})
    session.execute(
        delete(Registration).where(
            Registration.event_id == event.id, Registration.member_id == invitation.member_id
        )
    )
    session.delete(invitation)
    session.flush()


def is_invited(session: Session, event_id: int, member_id: int) -> bool:
    return (
        session.scalar(
            select(Invitation.id).where(
                Invitation.event_id == event_id, Invitation.member_id == member_id
            )
        )
        is not None
    )


def visible_event(session: Session, user: User, event_id: int) -> Event:
    """The event if the user may see it: staff any, a focal point those its member is invited to."""
    ensure_permission(user, Permission.VIEW_EVENTS)
    event = session.get(Event, event_id)
    if event is None:
        raise OutOfScope()
    if not is_staff(user) and not is_invited(session, event.id, user.member_id):
        raise OutOfScope()
    return event


# -- registrations --------------------------------------------------------------------------


def respond(
    session: Session, actor: User, event: Event, contact: Contact, response: Response | None
) -> Registration | None:
    """Register or decline a contact for an event; None withdraws the answer."""
    ensure_permission(actor, Permission.RESPOND_TO_EVENTS)
    ensure_member_scope(actor, contact.member_id)
    if not is_invited(session, event.id, contact.member_id):
        if not is_staff(actor):
            raise OutOfScope()
        raise ValidationFailed(
            {"contact": _("%(member)s is not invited.", member=contact.member.name)}
        )
    if event.is_cancelled:
        raise ValidationFailed({"contact": _("The event is cancelled.")})
    if event.starts_at <= utcnow():
        raise ValidationFailed({"contact": _("The event has started; answers are closed.")})
    if not contact.is_current(event.starts_at.astimezone(event_zone(event)).date()):
        raise ValidationFailed(
            {
                "contact": _(
                    "%(name)s is not a current contact on the event's day.", name=contact.name
                )
            }
        )
    registration = session.scalar(
        select(Registration).where(
            Registration.event_id == event.id, Registration.contact_id == contact.id
        )
    )
    if response is None:
        if registration is not None:
            session.delete(registration)
            session.flush()
        return None
    if registration is None:
        registration = Registration(
            event_id=event.id, member_id=contact.member_id, contact_id=contact.id
        )
        session.add(registration)
    registration.response = response
    registration.responded_by_id = actor.id
    session.flush()
    return registration


# -- attendance -----------------------------------------------------------------------------


def ensure_started(event: Event) -> None:
    if event.is_cancelled:
        raise ValidationFailed({"attendance": _("The event was cancelled.")})
    if event.starts_at > utcnow():
        raise ValidationFailed(
            {"attendance": _("Attendance can be recorded once the event has started.")}
        )


def attendance_rows(session: Session, event_id: int) -> list[Attendance]:
    return list(session.scalars(select(Attendance).where(Attendance.event_id == event_id)))


@dataclass
class AttendanceChange:
    added: int = 0
    changed: int = 0


def record_attendance(
    session: Session,
    actor: User,
    event: Event,
    *,
    shown_contacts: set[int],
    attended_contacts: set[int],
    shown_members: set[int],
    attended_members: set[int],
) -> AttendanceChange:
    """Save the checkbox list: ticked means attended, unticked (among those shown) did not."""
    ensure_permission(actor, Permission.MANAGE_EVENTS)
    ensure_started(event)
    invited = set(
        session.scalars(select(Invitation.member_id).where(Invitation.event_id == event.id))
    )
    existing = attendance_rows(session, event.id)
    recorded_members = {row.member_id for row in existing}
    allowed_members = invited | recorded_members
    contacts = {
        c.id: c for c in session.scalars(select(Contact).where(Contact.id.in_(shown_contacts)))
    }
    if set(contacts) != shown_contacts or any(
        c.member_id not in allowed_members for c in contacts.values()
    ):
        raise ValidationFailed(
            {"attendance": _("The list changed since it was shown. Please record it again.")}
        )
    if not shown_members <= allowed_members:
        raise ValidationFailed(
            {"attendance": _("The list changed since it was shown. Please record it again.")}
        )
    by_contact = {row.contact_id: row for row in existing if row.contact_id is not None}
    by_member = {row.member_id: row for row in existing if row.contact_id is None}
    change = AttendanceChange()

    def mark(row: Attendance | None, attended: bool, **keys: int | None) -> None:
        if row is None:
            if not attended:
                return
            session.add(
                Attendance(
                    event_id=event.id,
                    attended=True,
                    source=AttendanceSource.MANUAL,
                    recorded_by_id=actor.id,
                    **keys,
                )
            )
            change.added += 1
        elif row.attended != attended:
            row.attended = attended
            row.recorded_by_id = actor.id
            change.changed += 1

    for contact_id, contact in contacts.items():
        mark(
            by_contact.get(contact_id),
            contact_id in attended_contacts,
            member_id=contact.member_id,
            contact_id=contact_id,
        )
    for member_id in shown_members:
        mark(by_member.get(member_id), member_id in attended_members, member_id=member_id)
    session.flush()
    return change


def add_uninvited_attendance(
    session: Session,
    actor: User,
    event: Event,
    member: Member,
    contact: Contact | None,
    reason: str | None,
) -> Attendance:
    """Record that a member who was not invited attended; a reason is required."""
    ensure_permission(actor, Permission.MANAGE_EVENTS)
    ensure_started(event)
    reason = (reason or "").strip()
    errors: dict[str, str] = {}
    if contact is not None and contact.member_id != member.id:
        errors["contact_id"] = _("Choose a contact of %(member)s.", member=member.name)
    if is_invited(session, event.id, member.id):
        errors["member_id"] = _(
            "%(member)s is invited: tick its people in the attendance list.", member=member.name
        )
    elif not reason:
        errors["reason"] = _(
            "%(member)s was not invited: say why it is recorded as attending.", member=member.name
        )
    if errors:
        raise ValidationFailed(errors)
    contact_id = contact.id if contact else None
    row = session.scalar(
        select(Attendance).where(
            Attendance.event_id == event.id,
            Attendance.member_id == member.id,
            Attendance.contact_id == contact_id
            if contact_id is not None
            else Attendance.contact_id.is_(None),
        )
    )
    if row is None:
        row = Attendance(
            event_id=event.id,
            member_id=member.id,
            contact_id=contact_id,
            source=AttendanceSource.MANUAL,
        )
        session.add(row)
    row.attended = True
    row.not_invited_reason = reason
    row.recorded_by_id = actor.id
    session.flush()
    return row
