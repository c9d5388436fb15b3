"""What each kind of reminder rule watches, when a reminder falls due, and who gets it.

A reminder falls due at ``REMINDER_HOUR`` in the network's zone on the day ``offset_days``
from the kind's anchor date (or, for a cycle opened late, when staff opened it). A scan asks
each rule for every reminder that fell due within its window, never for an exact day, so a
scan that comes late (after downtime) still finds what it missed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, extract, func, or_, select
from sqlalchemy.orm import Session, aliased, joinedload

from secretariat.accounts.models import Role, User
from secretariat.agreements.models import Agreement, AgreementStatus
from secretariat.commitments.models import ONGOING, Commitment
from secretariat.events.models import Event, Registration, Response
from secretariat.followups.models import PENDING, FollowUp
from secretariat.members.models import Contact, ContactRole, Member, MemberStatus
from secretariat.notifications.models import Category, ReminderRule, RuleKind
from secretariat.reporting.models import (
    CycleMember,
    CycleState,
    ReportingCycle,
    Submission,
    SubmissionStatus,
)

#: Agreements a reminder about expiry or renewal is still useful for.
IN_FORCE = (AgreementStatus.ACTIVE, AgreementStatus.SIGNED)
#: Reports the secretariat has not received (none, a draft, or sent back).
WAITING = (SubmissionStatus.DRAFT, SubmissionStatus.RETURNED)


@dataclass(frozen=True)
class KindInfo:
    category: Category
    #: Allowed offsets, in days from the anchor.
    lowest: int
    highest: int


KINDS: dict[RuleKind, KindInfo] = {
    RuleKind.FOLLOW_UP_DUE: KindInfo(Category.FOLLOW_UPS, -60, 60),
    RuleKind.AGREEMENT_EXPIRING: KindInfo(Category.AGREEMENTS, -366, 0),
    RuleKind.AGREEMENT_RENEWAL_NOTICE: KindInfo(Category.AGREEMENTS, 0, 60),
    RuleKind.CYCLE_OPENED: KindInfo(Category.REPORTING, 0, 60),
    RuleKind.CYCLE_DUE: KindInfo(Category.REPORTING, -60, 0),
    RuleKind.CYCLE_OVERDUE: KindInfo(Category.REPORTING, 1, 60),
    RuleKind.CYCLE_ESCALATION: KindInfo(Category.ESCALATIONS, 0, 60),
    RuleKind.COMMITMENT_STALE: KindInfo(Category.COMMITMENTS, 30, 366),
    RuleKind.EVENT_START: KindInfo(Category.EVENTS, -30, 0),
    RuleKind.FEE_RENEWAL: KindInfo(Category.FEES, -120, 0),
}


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str | None
    user_id: int | None = None
    contact_id: int | None = None
    language: str | None = None


@dataclass
class Due:
    """One reminder that fell due, for one or more recipients."""

    rule: ReminderRule
    subject_kind: str
    subject_id: int
    #: The anchor the reminder was computed from; with the rule and the recipient it makes
    #: the reminder's identity (a moved due day is a new occurrence).
    occurrence: str
    due_at: datetime
    recipients: list[Recipient]
    #: Template name under templates/notifications/mail/ and its context.
    template: str
    context: dict = field(default_factory=dict)
    #: The page the message links to.
    endpoint: str = ""
    endpoint_values: dict = field(default_factory=dict)

    @property
    def category(self) -> Category:
        return KINDS[self.rule.kind].category


@dataclass(frozen=True)
class Clock:
    """The scan's instant, window and the network's reminder hour."""

    now: datetime
    zone: ZoneInfo
    hour: int
    lookback: timedelta

    @property
    def since(self) -> datetime:
        return self.now - self.lookback

    def fire_at(self, day: date) -> datetime:
        """The instant a reminder for ``day`` falls due: the reminder hour there, in UTC.

        On a daylight-saving change the wall-clock hour is kept. An hour that does not exist
        that day (skipped when the clocks go forward) is read with the offset from before
        the change (PEP 495), so it falls due as the clocks show that hour plus the gap.
        """
        local = datetime.combine(day, time(self.hour), tzinfo=self.zone)
        moment = local.astimezone(UTC)
        return moment

    def days(self) -> list[date]:
        """The local days whose reminder instant may fall inside the window."""
        first = self.since.astimezone(self.zone).date() - timedelta(days=1)
        last = self.now.astimezone(self.zone).date() + timedelta(days=1)
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]

    def in_window(self, moment: datetime) -> bool:
        return self.since < moment <= self.now

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()


def anchors(clock: Clock, offset: int) -> list[tuple[date, datetime]]:
    """Anchor days whose reminder (``offset`` days later) falls due within the window."""
    found = []
    for day in clock.days():
        moment = clock.fire_at(day)
        if clock.in_window(moment):
            found.append((day - timedelta(days=offset), moment))
    return found


# --- recipients -----------------------------------------------------------------------------


def _current(today: date):  # type: ignore[no-untyped-def]
    return and_(
        Contact.email.is_not(None),
        or_(Contact.active_from.is_(None), Contact.active_from <= today),
        or_(Contact.active_to.is_(None), Contact.active_to >= today),
    )


def _contact_recipient(contact: Contact) -> Recipient:
    assert contact.email is not None
    return Recipient(
        email=contact.email.lower(),
        name=contact.name,
        contact_id=contact.id,
        language=contact.language,
    )


def _user_recipient(user: User) -> Recipient:
    return Recipient(
        email=user.email.lower(),
        name=user.name,
        user_id=user.id,
        language=user.contact.language if user.contact is not None else None,
    )


def _member_contacts(
    session: Session, member_ids: Iterable[int], today: date, which
) -> dict[int, list[Recipient]]:  # type: ignore[no-untyped-def]
    """Each member's current contacts with an address that match ``which``, primary first."""
    ids = sorted(set(member_ids))
    found: dict[int, list[Recipient]] = defaultdict(list)
    if not ids:
        return found
    contacts = session.scalars(
        select(Contact)
        .where(Contact.member_id.in_(ids), _current(today), which)
        .order_by(Contact.member_id, Contact.is_primary.desc(), Contact.name, Contact.id)
    )
    for contact in contacts:
        found[contact.member_id].append(_contact_recipient(contact))
    return found


def reminder_contacts(
    session: Session, member_ids: Iterable[int], today: date
) -> dict[int, list[Recipient]]:
    """Each member's primary focal point and the contacts ticked to receive reminders."""
    return _member_contacts(
        session,
        member_ids,
        today,
        or_(Contact.is_primary.is_(True), Contact.receives_reminders.is_(True)),
    )


def focal_points(
    session: Session, member_ids: Iterable[int], today: date
) -> dict[int, list[Recipient]]:
    """Each member's current focal points: its focal-point contacts and active user accounts."""
    ids = sorted(set(member_ids))
    found = _member_contacts(
        session,
        ids,
        today,
        or_(Contact.role == ContactRole.FOCAL_POINT, Contact.is_primary.is_(True)),
    )
    if not ids:
        return found
    users = session.scalars(
        select(User)
        .where(User.member_id.in_(ids), User.role == Role.FOCAL_POINT, User.is_active.is_(True))
        .options(joinedload(User.contact))
        .order_by(User.id)
    )
    for user in users:
        assert user.member_id is not None
        found[user.member_id].append(_user_recipient(user))
    return found


def staff_recipients(session: Session) -> list[Recipient]:
    users = session.scalars(
        select(User)
        .where(User.role.in_((Role.ADMIN, Role.STAFF)), User.is_active.is_(True))
        .options(joinedload(User.contact))
        .order_by(User.id)
    )
    return [_user_recipient(user) for user in users]


def active_owner(user: User | None) -> list[Recipient]:
    return [_user_recipient(user)] if user is not None and user.is_active else []


# --- the kinds --------------------------------------------------------------------------------


def _made_after(moment: datetime, created: datetime | None) -> bool:
    """A reminder that fell due before its item existed is never sent (no back-sending)."""
    return created is not None and moment < created


def follow_up_due(session: Session, rule: ReminderRule, clock: Clock) -> list[Due]:
    found = anchors(clock, rule.offset_days)
    if not found:
        return []
    moments = dict(found)
    rows = session.scalars(
        select(FollowUp)
        .where(FollowUp.status.in_(PENDING), FollowUp.due_on.in_(list(moments)))
        .options(joinedload(FollowUp.owner).joinedload(User.contact), joinedload(FollowUp.member))
        .order_by(FollowUp.id)
    )
    dues = []
    for item in rows:
        moment = moments[item.due_on]
        if _made_after(moment, item.created_at):
            continue
        dues.append(
            Due(
                rule,
                "follow_up",
                item.id,
                item.due_on.isoformat(),
                moment,
                active_owner(item.owner),
                "follow_up",
                {"follow_up": item},
                "followups.detail",
                {"follow_up_id": item.id},
            )
        )
    return dues


def no_renewal_under_way():  # type: ignore[no-untyped-def]
    successor = aliased(Agreement)
    return ~(
        select(successor.id)
        .where(successor.renews_id == Agreement.id, successor.status != AgreementStatus.TERMINATED)
        .exists()
    )


def agreement_expiring(session: Session, rule: ReminderRule, clock: Clock) -> list[Due]:
    found = anchors(clock, rule.offset_days)
    if not found:
        return []
    moments = dict(found)
    rows = session.scalars(
        select(Agreement)
        .where(
            Agreement.status.in_(IN_FORCE),
            Agreement.expires_on.in_(list(moments)),
            no_renewal_under_way(),
        )
        .options(joinedload(Agreement.owner).joinedload(User.contact))
        .order_by(Agreement.id)
    )
    dues = []
    for item in rows:
        assert item.expires_on is not None
        moment = moments[item.expires_on]
        if _made_after(moment, item.created_at):
            continue
        dues.append(_agreement_due(rule, item, item.expires_on, moment, clock))
    return dues


def _agreement_due(
    rule: ReminderRule, item: Agreement, anchor: date, moment: datetime, clock: Clock
) -> Due:
    assert item.expires_on is not None
    return Due(
        rule,
        "agreement",
        item.id,
        anchor.isoformat(),
        moment,
        active_owner(item.owner),
        "agreement",
        {
            "agreement": item,
            "notice": rule.kind is RuleKind.AGREEMENT_RENEWAL_NOTICE,
        },
        "agreements.detail",
        {"agreement_id": item.id},
    )


def agreement_renewal_notice(session: Session, rule: ReminderRule, clock: Clock) -> list[Due]:
    # The anchor (expiry minus the notice days) is per row: load the agreements in force
    # with a notice period whose expiry is still ahead of the window, and compute it here.
    earliest = clock.local_day(clock.since) - timedelta(days=1)
    rows = session.scalars(
        select(Agreement)
        .where(
            Agreement.status.in_(IN_FORCE),
            Agreement.renewal_notice_days.is_not(None),
            Agreement.expires_on >= earliest,
            no_renewal_under_way(),
        )
        .options(joinedload(Agreement.owner).joinedload(User.contact))
        .order_by(Agreement.id)
    )
    dues = []
    for item in rows:
        assert item.expires_on is not None and item.renewal_notice_days is not None
        anchor = item.expires_on - timedelta(days=item.renewal_notice_days)
        moment = clock.fire_at(anchor + timedelta(days=rule.offset_days))
        if not clock.in_window(moment) or _made_after(moment, item.created_at):
            continue
        dues.append(_agreement_due(rule, item, anchor, moment, clock))
    return dues


def _open_cycles(session: Session) -> list[ReportingCycle]:
    return list(
        session.scalars(
            select(ReportingCycle)
            .where(ReportingCycle.state == CycleState.OPEN)
            .order_by(ReportingCycle.id)
        )
    )


def waiting(stmt):  # type: ignore[no-untyped-def]
    """Narrow a select from ``CycleMember`` to members whose report has not reached us."""
    return stmt.outerjoin(
        Submission,
        and_(
            Submission.cycle_id == CycleMember.cycle_id,
            Submission.member_id == CycleMember.member_id,
        ),
    ).where(or_(Submission.id.is_(None), Submission.status.in_(WAITING)))


def _waiting_members(session: Session, cycle_ids: list[int]) -> dict[int, list[CycleMember]]:
    """Per cycle, the members asked whose report the secretariat has not received."""
    found: dict[int, list[CycleMember]] = defaultdict(list)
    if not cycle_ids:
        return found
    rows = session.scalars(
        waiting(select(CycleMember))
        .join(Member, Member.id == CycleMember.member_id)
        .where(CycleMember.cycle_id.in_(cycle_ids))
        .options(joinedload(CycleMember.member))
        .order_by(CycleMember.cycle_id, Member.search_name, Member.id)
    )
    for row in rows:
        found[row.cycle_id].append(row)
    return found


def _cycle_moment(rule: ReminderRule, cycle: ReportingCycle, clock: Clock) -> tuple[date, datetime]:
    """The anchor day of a cycle rule, and the instant its reminder falls due."""
    if rule.kind is RuleKind.CYCLE_OPENED:
        anchor = cycle.opens_on
        moment = clock.fire_at(anchor + timedelta(days=rule.offset_days))
        if cycle.opened_at is not None and rule.offset_days == 0:
            # Opened after its opening day: tell them when it opened, not never.
            moment = max(moment, cycle.opened_at)
        return anchor, moment
    if rule.kind is RuleKind.CYCLE_ESCALATION:
        anchor = cycle.grace_until or cycle.due_on
    else:
        anchor = cycle.due_on
    return anchor, clock.fire_at(anchor + timedelta(days=rule.offset_days))


def cycle_member_reminder(session: Session, rule: ReminderRule, clock: Clock) -> list[Due]:
    """Opened, due soon and overdue: to the members who have not reported, only."""
    cycles = []
    for cycle in _open_cycles(session):
        anchor, moment = _cycle_moment(rule, cycle, clock)
        if not clock.in_window(moment) or _made_after(moment, cycle.opened_at):
            continue
        if (
            rule.kind is RuleKind.CYCLE_OVERDUE
            and cycle.grace_until is not None
            and clock.local_day(moment) > cycle.grace_until
        ):
            continue  # past the grace period the form is locked: nothing left to ask
        cycles.append((cycle, anchor, moment))
    waiting = _waiting_members(session, [cycle.id for cycle, _a, _m in cycles])
    member_ids = [row.member_id for rows in waiting.values() for row in rows]
    contacts = reminder_contacts(session, member_ids, clock.local_day(clock.now))
    dues = []
    for cycle, anchor, moment in cycles:
        for row in waiting[cycle.id]:
            dues.append(
                Due(
                    rule,
                    "cycle_member",
                    row.id,
                    anchor.isoformat(),
                    moment,
                    contacts.get(row.member_id, []),
                    "cycle",
                    {"cycle": cycle, "member": row.member, "kind": rule.kind.value},
                    "submissions.form",
                    {"cycle_id": cycle.id, "member_id": row.member_id},
                )
            )
    return dues


def cycle_escalation(session: Session, rule: ReminderRule, clock: Clock) -> list[Due]:
    """After the grace period: one message to each staff member listing the late members."""
    cycles = []
    for cycle in _open_cycles(session):
        anchor, moment = _cycle_moment(rule, cycle, clock)
        if clock.in_window(moment) and not _made_after(moment, cycle.opened_at):
            cycles.append((cycle, anchor, moment))
    if not cycles:
        return []
    waiting = _waiting_members(session, [cycle.id for cycle, _a, _m in cycles])
    staff = staff_recipients(session)
    member_ids = [row.member_id for rows in waiting.values() for row in rows]
    contacts = reminder_contacts(session, member_ids, clock.local_day(clock.now))
    dues = []
    for cycle, anchor, moment in cycles:
        late = waiting[cycle.id]
        if not late:
            continue
        listed = [(row.member, contacts.get(row.member_id, [])[:1]) for row in late]
        dues.append(
            Due(
                rule,
                "cycle",
                cycle.id,
                anchor.isoformat(),
                moment,
                staff,
                "escalation",
                {"cycle": cycle, "late": listed},
                "reporting.cycle",
                {"cycle_id": cycle.id},
            )
        )
    return dues


def commitment_stale(session: Session, rule: ReminderRule, clock: Clock) -> list[Due]:
    """A commitment still under way with no update for ``offset_days``: its focal points."""
    last = func.coalesce(Commitment.last_update_at, Commitment.created_at)
    silence = timedelta(days=rule.offset_days)
    rows = session.scalars(
        select(Commitment)
        .join(Member, Member.id == Commitment.member_id)
        .where(
            Commitment.status.in_(ONGOING),
            Member.status == MemberStatus.ACTIVE,
            last > clock.since - silence - timedelta(days=2),
            last <= clock.now - silence + timedelta(days=2),
        )
        .options(joinedload(Commitment.member))
        .order_by(Commitment.id)
    )
    candidates = []
    for item in rows:
        anchor = item.last_update_at or item.created_at
        moment = clock.fire_at(clock.local_day(anchor) + silence)
        if clock.in_window(moment):
            candidates.append((item, anchor, moment))
    people = focal_points(
        session, [item.member_id for item, _a, _m in candidates], clock.local_day(clock.now)
    )
    return [
        Due(
            rule,
            "commitment",
            item.id,
            anchor.isoformat(timespec="seconds"),
            moment,
            _unique(people.get(item.member_id, [])),
            "commitment",
            {"commitment": item, "member": item.member, "last": anchor},
            "commitments.detail",
            {"commitment_id": item.id},
        )
        for item, anchor, moment in candidates
    ]


def event_start(session: Session, rule: ReminderRule, clock: Clock) -> list[Due]:
    """An event ``-offset_days`` ahead: to the contacts registered for it."""
    reach = timedelta(days=-rule.offset_days + 2)
    rows = session.scalars(
        select(Event)
        .where(
            Event.cancelled_at.is_(None),
            Event.starts_at > clock.since,
            Event.starts_at <= clock.now + reach,
        )
        .order_by(Event.starts_at, Event.id)
    )
    candidates = []
    for item in rows:
        day = clock.local_day(item.starts_at)
        moment = clock.fire_at(day + timedelta(days=rule.offset_days))
        # Never a "tomorrow" reminder once the event has begun, nor one for before it existed.
        if (
            clock.in_window(moment)
            and moment < item.starts_at
            and not _made_after(moment, item.created_at)
        ):
            candidates.append((item, day, moment))
    if not candidates:
        return []
    today = clock.local_day(clock.now)
    registered: dict[int, list[Recipient]] = defaultdict(list)
    contacts = session.execute(
        select(Registration.event_id, Contact)
        .join(Contact, Contact.id == Registration.contact_id)
        .where(
            Registration.event_id.in_([item.id for item, _d, _m in candidates]),
            Registration.response == Response.REGISTERED,
            _current(today),
        )
        .order_by(Registration.event_id, Contact.name, Contact.id)
    )
    for event_id, contact in contacts:
        registered[event_id].append(_contact_recipient(contact))
    return [
        Due(
            rule,
            "event",
            item.id,
            day.isoformat(),
            moment,
            registered.get(item.id, []),
            "event",
            {"event": item, "event_day": day},
            "events.detail",
            {"event_id": item.id},
        )
        for item, day, moment in candidates
    ]


def fee_renewal(session: Session, rule: ReminderRule, clock: Clock) -> list[Due]:
    """Membership fee renewal ahead of the joining anniversary, for members paying a fee."""
    found = anchors(clock, rule.offset_days)
    if not found:
        return []
    wanted: dict[tuple[int, int], list[tuple[date, datetime]]] = defaultdict(list)
    for anniversary, moment in found:
        wanted[(anniversary.month, anniversary.day)].append((anniversary, moment))
        if (anniversary.month, anniversary.day) == (2, 28) and not _leap(anniversary.year):
            wanted[(2, 29)].append((anniversary, moment))  # joined on 29 February
    month = extract("month", Member.joined_on)
    day = extract("day", Member.joined_on)
    rows = session.scalars(
        select(Member)
        .where(
            Member.status == MemberStatus.ACTIVE,
            Member.annual_fee > 0,
            Member.joined_on.is_not(None),
            or_(*(and_(month == m, day == d) for m, d in wanted)),
        )
        .order_by(Member.id)
    )
    candidates = []
    for member in rows:
        assert member.joined_on is not None
        for anniversary, moment in wanted[(member.joined_on.month, member.joined_on.day)]:
            if member.joined_on < anniversary and not _made_after(moment, member.created_at):
                candidates.append((member, anniversary, moment))
    contacts = reminder_contacts(
        session, [m.id for m, _a, _t in candidates], clock.local_day(clock.now)
    )
    return [
        Due(
            rule,
            "member",
            member.id,
            anniversary.isoformat(),
            moment,
            contacts.get(member.id, []),
            "fee",
            {"member": member, "anniversary": anniversary},
            "members.detail",
            {"slug": member.slug},
        )
        for member, anniversary, moment in candidates
    ]


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _unique(recipients: list[Recipient]) -> list[Recipient]:
    seen: dict[str, Recipient] = {}
    for recipient in recipients:
        seen.setdefault(recipient.email, recipient)
    return list(seen.values())


FINDERS: dict[RuleKind, Callable[[Session, ReminderRule, Clock], list[Due]]] = {
    RuleKind.FOLLOW_UP_DUE: follow_up_due,
    RuleKind.AGREEMENT_EXPIRING: agreement_expiring,
    RuleKind.AGREEMENT_RENEWAL_NOTICE: agreement_renewal_notice,
    RuleKind.CYCLE_OPENED: cycle_member_reminder,
    RuleKind.CYCLE_DUE: cycle_member_reminder,
    RuleKind.CYCLE_OVERDUE: cycle_member_reminder,
    RuleKind.CYCLE_ESCALATION: cycle_escalation,
    RuleKind.COMMITMENT_STALE: commitment_stale,
    RuleKind.EVENT_START: event_start,
    RuleKind.FEE_RENEWAL: fee_renewal,
}


def due_reminders(session: Session, rules: list[ReminderRule], clock: Clock) -> list[Due]:
    """Every reminder of the enabled rules that fell due within the clock's window."""
    dues: list[Due] = []
    for rule in rules:
        if rule.enabled:
            for due in FINDERS[rule.kind](session, rule, clock):
                due.recipients = _unique(due.recipients)
                dues.append(due)
    return dues
