"""Read models of the event pages, with a bounded number of queries whatever the size."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, joinedload

from secretariat.accounts.models import User
from secretariat.db import utcnow
from secretariat.events.models import (
    Attendance,
    AttendanceImport,
    Event,
    EventType,
    Invitation,
    Registration,
    Response,
    UnmatchedAttendee,
    UnmatchedStatus,
)
from secretariat.events.services import event_zone, network_zone
from secretariat.members.models import Contact, Member
from secretariat.pagination import Page, clamp
from secretariat.permissions import is_staff


@dataclass
class EventFilters:
    when: str = "upcoming"  # upcoming, past or all
    event_type: EventType | None = None
    group_id: int | None = None
    year: int | None = None


@dataclass
class EventRow:
    event: Event
    invited: int
    attended: int
    registered: int
    #: For a focal point: its member's answer ("registered" when any of its people did).
    own_response: str | None = None


def _visible(stmt: Select, viewer: User) -> Select:
    if is_staff(viewer):
        return stmt
    return stmt.where(
        Event.id.in_(select(Invitation.event_id).where(Invitation.member_id == viewer.member_id))
    )


def _counts(
    event_ids: list[int], viewer: User, session: Session
) -> dict[int, tuple[int, int, int]]:
    """Invited members, members that attended and people registered, per event (3 queries)."""
    if not event_ids:
        return {}
    own = not is_staff(viewer)
    scope = (lambda column: column == viewer.member_id) if own else (lambda column: True)
    invited = dict(
        session.execute(
            select(Invitation.event_id, func.count())
            .where(Invitation.event_id.in_(event_ids), scope(Invitation.member_id))
            .group_by(Invitation.event_id)
        ).all()
    )
    attended = dict(
        session.execute(
            select(Attendance.event_id, func.count(func.distinct(Attendance.member_id)))
            .where(
                Attendance.event_id.in_(event_ids),
                Attendance.attended.is_(True),
                scope(Attendance.member_id),
            )
            .group_by(Attendance.event_id)
        ).all()
    )
    registered = dict(
        session.execute(
            select(Registration.event_id, func.count())
            .where(
                Registration.event_id.in_(event_ids),
                Registration.response == Response.REGISTERED,
                scope(Registration.member_id),
            )
            .group_by(Registration.event_id)
        ).all()
    )
    return {i: (invited.get(i, 0), attended.get(i, 0), registered.get(i, 0)) for i in event_ids}


def event_page(
    session: Session, viewer: User, filters: EventFilters, page: int, per_page: int
) -> Page:
    now = utcnow()
    stmt = _visible(select(Event), viewer)
    if filters.when == "upcoming":
        stmt = stmt.where(Event.ends_at >= now).order_by(Event.starts_at)
    elif filters.when == "past":
        stmt = stmt.where(Event.ends_at < now).order_by(Event.starts_at.desc())
    else:
        stmt = stmt.order_by(Event.starts_at.desc())
    if filters.event_type is not None:
        stmt = stmt.where(Event.event_type == filters.event_type)
    if filters.group_id is not None:
        stmt = stmt.where(Event.group_id == filters.group_id)
    if filters.year is not None:
        # The network's year: an event on 31 December evening is in that year.
        start = datetime(filters.year, 1, 1, tzinfo=network_zone())
        stmt = stmt.where(
            Event.starts_at >= start, Event.starts_at < start.replace(year=filters.year + 1)
        )
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    page = clamp(page, total, per_page)
    events = list(
        session.scalars(
            stmt.options(joinedload(Event.group), joinedload(Event.host_member))
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    counts = _counts([e.id for e in events], viewer, session)
    rows = []
    for event in events:
        invited, attended, registered = counts.get(event.id, (0, 0, 0))
        rows.append(EventRow(event, invited, attended, registered))
    return Page(items=rows, total=total, page=page, per_page=per_page)


def group_events(
    session: Session, viewer: User, group_id: int, past_limit: int = 10
) -> tuple[list[Event], list[Event]]:
    """A group's upcoming events and its latest past ones that the viewer may see."""
    now = utcnow()
    base = _visible(select(Event).where(Event.group_id == group_id), viewer)
    upcoming = session.scalars(base.where(Event.ends_at >= now).order_by(Event.starts_at))
    past = session.scalars(
        base.where(Event.ends_at < now).order_by(Event.starts_at.desc()).limit(past_limit)
    )
    return list(upcoming), list(past)


@dataclass
class MemberEvent:
    event: Event
    attended: bool


def member_events(session: Session, member_id: int, limit: int = 10) -> list[MemberEvent]:
    """The latest events a member was invited to or attended, with whether it attended."""
    attended = exists().where(
        Attendance.event_id == Event.id,
        Attendance.member_id == member_id,
        Attendance.attended.is_(True),
    )
    invited = exists().where(Invitation.event_id == Event.id, Invitation.member_id == member_id)
    rows = session.execute(
        select(Event, attended.label("attended"))
        .where(or_(invited, attended))
        .order_by(Event.starts_at.desc())
        .limit(limit)
    )
    return [MemberEvent(event, bool(flag)) for event, flag in rows]


# -- the event page -------------------------------------------------------------------------


@dataclass
class PersonLine:
    contact: Contact
    registration: Registration | None
    attendance: Attendance | None

    @property
    def attended(self) -> bool:
        return bool(self.attendance and self.attendance.attended)


@dataclass
class MemberLine:
    member: Member
    invitation: Invitation | None
    people: list[PersonLine] = field(default_factory=list)
    #: Attendance recorded for the member without knowing who came.
    member_attendance: Attendance | None = None

    @property
    def attended(self) -> bool:
        return bool(self.member_attendance and self.member_attendance.attended) or any(
            p.attended for p in self.people
        )

    @property
    def not_invited_reason(self) -> str | None:
        rows = [self.member_attendance, *(p.attendance for p in self.people)]
        return next((r.not_invited_reason for r in rows if r and r.not_invited_reason), None)


@dataclass
class EventOverview:
    event: Event
    lines: list[MemberLine]
    unmatched: list[UnmatchedAttendee]
    imports: list[AttendanceImport]

    @property
    def invited(self) -> int:
        return sum(1 for line in self.lines if line.invitation is not None)

    @property
    def attended(self) -> int:
        return sum(1 for line in self.lines if line.attended)

    @property
    def people_attended(self) -> int:
        return sum(1 for line in self.lines for p in line.people if p.attended)

    @property
    def registered(self) -> int:
        return sum(
            1
            for line in self.lines
            for p in line.people
            if p.registration and p.registration.response is Response.REGISTERED
        )

    @property
    def declined(self) -> int:
        return sum(
            1
            for line in self.lines
            for p in line.people
            if p.registration and p.registration.response is Response.DECLINED
        )

    @property
    def open_unmatched(self) -> list[UnmatchedAttendee]:
        return [u for u in self.unmatched if u.status is UnmatchedStatus.OPEN]


def event_overview(session: Session, event: Event, member_id: int | None = None) -> EventOverview:
    """Invited (and attending) members with their people, answers and attendance.

    With ``member_id`` only that member's line (a focal point's view). A fixed number of
    queries whatever the number of members.
    """

    def scoped(stmt: Select, column) -> Select:  # type: ignore[no-untyped-def]
        return stmt.where(column == member_id) if member_id is not None else stmt

    invitations = list(
        session.scalars(
            scoped(
                select(Invitation).where(Invitation.event_id == event.id), Invitation.member_id
            ).options(joinedload(Invitation.member).joinedload(Member.region))
        )
    )
    attendance = list(
        session.scalars(
            scoped(select(Attendance).where(Attendance.event_id == event.id), Attendance.member_id)
        )
    )
    registrations = list(
        session.scalars(
            scoped(
                select(Registration).where(Registration.event_id == event.id),
                Registration.member_id,
            )
        )
    )
    members: dict[int, Member] = {i.member_id: i.member for i in invitations}
    missing = {a.member_id for a in attendance} - members.keys()
    if missing:
        for member in session.scalars(
            select(Member).where(Member.id.in_(missing)).options(joinedload(Member.region))
        ):
            members[member.id] = member
    day = event.starts_at.astimezone(event_zone(event)).date()
    wanted_contacts = {a.contact_id for a in attendance if a.contact_id} | {
        r.contact_id for r in registrations
    }
    contacts = (
        list(
            session.scalars(
                select(Contact)
                .where(
                    Contact.member_id.in_(list(members)),
                    or_(
                        Contact.id.in_(wanted_contacts),
                        and_(
                            or_(Contact.active_from.is_(None), Contact.active_from <= day),
                            or_(Contact.active_to.is_(None), Contact.active_to >= day),
                        ),
                    ),
                )
                .order_by(Contact.is_primary.desc(), Contact.name)
            )
        )
        if members
        else []
    )
    by_contact_attendance = {a.contact_id: a for a in attendance if a.contact_id}
    by_member_attendance = {a.member_id: a for a in attendance if a.contact_id is None}
    by_contact_registration = {r.contact_id: r for r in registrations}
    invitation_of = {i.member_id: i for i in invitations}
    lines = {
        member_id: MemberLine(
            member=member,
            invitation=invitation_of.get(member_id),
            member_attendance=by_member_attendance.get(member_id),
        )
        for member_id, member in members.items()
    }
    for contact in contacts:
        lines[contact.member_id].people.append(
            PersonLine(
                contact,
                by_contact_registration.get(contact.id),
                by_contact_attendance.get(contact.id),
            )
        )
    unmatched: list[UnmatchedAttendee] = []
    imports: list[AttendanceImport] = []
    if member_id is None:
        unmatched = list(
            session.scalars(
                select(UnmatchedAttendee)
                .where(UnmatchedAttendee.event_id == event.id)
                .options(joinedload(UnmatchedAttendee.contact).joinedload(Contact.member))
                .order_by(UnmatchedAttendee.status, UnmatchedAttendee.name)
            )
        )
        imports = list(
            session.scalars(
                select(AttendanceImport)
                .where(AttendanceImport.event_id == event.id)
                .options(joinedload(AttendanceImport.imported_by))
                .order_by(AttendanceImport.imported_at.desc())
            )
        )
    ordered = sorted(
        lines.values(), key=lambda line: (line.invitation is None, line.member.search_name)
    )
    return EventOverview(event=event, lines=ordered, unmatched=unmatched, imports=imports)


def event_years(session: Session) -> list[int]:
    """The years that have events, newest first, for the filter."""
    first, last = session.execute(
        select(func.min(Event.starts_at), func.max(Event.starts_at))
    ).one()
    if first is None:
        return []
    return list(range(last.year, first.year - 1, -1))


def unmatched_count(session: Session) -> int:
    """People in imported attendance files still waiting to be matched, across events."""
    return (
        session.scalar(
            select(func.count())
            .select_from(UnmatchedAttendee)
            .where(UnmatchedAttendee.status == UnmatchedStatus.OPEN)
        )
        or 0
    )
