"""Reminder rules, the scan that queues reminders, digests, preferences and retries.

The scan only writes ``Notification`` rows; delivery (``delivery.py``) sends them. Every row
has a unique deduplication key (rule, subject, occurrence, recipient), inserted with "on
conflict do nothing": however often a scan runs, and however many run at once, a reminder is
queued once.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from secretariat.accounts.models import Role, User
from secretariat.agreements.models import Agreement
from secretariat.clock import network_today
from secretariat.commitments.models import ONGOING, Commitment
from secretariat.db import utcnow
from secretariat.events.models import Event
from secretariat.followups.models import PENDING, FollowUp
from secretariat.members.models import Contact, Member, MemberStatus
from secretariat.notifications.models import (
    Category,
    DeliveryMode,
    Notification,
    NotificationPreference,
    NotificationStatus,
    ReminderRule,
    RuleKind,
)
from secretariat.notifications.render import Rendered, render_digest, render_due
from secretariat.notifications.rules import (
    IN_FORCE,
    KINDS,
    Clock,
    Due,
    Recipient,
    due_reminders,
    no_renewal_under_way,
    waiting,
)
from secretariat.permissions import Permission, ensure_permission
from secretariat.reporting.models import CycleMember, CycleState, ReportingCycle

log = logging.getLogger(__name__)

S = NotificationStatus

#: Categories a person may turn off; staff escalations may only move to the digest.
ALWAYS_ON = frozenset({Category.ESCALATIONS})
#: Categories that cannot wait for Monday's digest ("tomorrow" would be stale by then).
NOT_IN_DIGEST = frozenset({Category.EVENTS})
#: Categories offered to each role on the preferences page (contacts get the member ones).
ROLE_CATEGORIES: dict[Role, tuple[Category, ...]] = {
    Role.ADMIN: (
        Category.FOLLOW_UPS,
        Category.AGREEMENTS,
        Category.ESCALATIONS,
        Category.REPORTING,
        Category.COMMITMENTS,
        Category.EVENTS,
        Category.FEES,
    ),
    Role.STAFF: (
        Category.FOLLOW_UPS,
        Category.AGREEMENTS,
        Category.ESCALATIONS,
        Category.REPORTING,
        Category.COMMITMENTS,
        Category.EVENTS,
        Category.FEES,
    ),
    Role.FOCAL_POINT: (
        Category.FOLLOW_UPS,
        Category.REPORTING,
        Category.COMMITMENTS,
        Category.EVENTS,
        Category.FEES,
    ),
}
CONTACT_CATEGORIES = (Category.REPORTING, Category.COMMITMENTS, Category.EVENTS, Category.FEES)


class RuleError(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


# --- rules ----------------------------------------------------------------------------------


def rules(session: Session) -> list[ReminderRule]:
    """Every rule, grouped by kind in the order of the year's work, then by offset."""
    order = {kind: position for position, kind in enumerate(RuleKind)}
    found = session.scalars(select(ReminderRule).options(joinedload(ReminderRule.updated_by)))
    return sorted(found, key=lambda rule: (order[rule.kind], rule.offset_days, rule.id))


def _check_offset(
    session: Session, kind: RuleKind, offset: object, rule_id: int | None
) -> dict[str, str]:
    info = KINDS[kind]
    if not isinstance(offset, int) or isinstance(offset, bool):
        return {"offset_days": _("Enter a whole number of days.")}
    if not info.lowest <= offset <= info.highest:
        return {
            "offset_days": _(
                "Use a number of days from %(low)s to %(high)s for this kind of reminder.",
                low=info.lowest,
                high=info.highest,
            )
        }
    clash = session.scalar(
        select(ReminderRule.id).where(
            ReminderRule.kind == kind,
            ReminderRule.offset_days == offset,
            ReminderRule.id != (rule_id or 0),
        )
    )
    if clash is not None:
        return {"offset_days": _("There is already a rule of this kind with this offset.")}
    return {}


def update_rule(
    session: Session, actor: User, rule: ReminderRule, offset_days: object, enabled: bool
) -> None:
    """Change a rule's offset or switch it on or off (admins)."""
    ensure_permission(actor, Permission.MANAGE_NOTIFICATIONS)
    errors = _check_offset(session, rule.kind, offset_days, rule.id)
    if errors:
        raise RuleError(errors)
    assert isinstance(offset_days, int)
    rule.offset_days = offset_days
    rule.enabled = enabled
    rule.updated_by_id = actor.id
    session.flush()


def add_rule(
    session: Session, actor: User, kind: object, offset_days: object, enabled: bool = True
) -> ReminderRule:
    """Add another reminder of a kind at a different offset (admins)."""
    ensure_permission(actor, Permission.MANAGE_NOTIFICATIONS)
    if not isinstance(kind, RuleKind):
        raise RuleError({"kind": _("Choose what the reminder is about.")})
    errors = _check_offset(session, kind, offset_days, None)
    if errors:
        raise RuleError(errors)
    assert isinstance(offset_days, int)
    rule = ReminderRule(kind=kind, offset_days=offset_days, enabled=enabled, updated_by_id=actor.id)
    session.add(rule)
    session.flush()
    return rule


# --- the scan -------------------------------------------------------------------------------


class Action:
    SEND = "send"
    HOLD = "hold"
    LATE = "late"
    OFF = "off"
    ALREADY = "already"
    NOBODY = "nobody"


@dataclass
class Planned:
    """What a scan does with one reminder for one recipient (or for nobody)."""

    due: Due
    recipient: Recipient | None
    action: str
    key: str


def clock(now: datetime | None = None) -> Clock:
    config = current_app.config
    return Clock(
        now=now or utcnow(),
        zone=ZoneInfo(config["TIMEZONE"]),
        hour=config["REMINDER_HOUR"],
        lookback=timedelta(days=config["REMINDER_LOOKBACK_DAYS"]),
    )


def dedup_key(due: Due, email: str) -> str:
    """The reminder's identity. The offset is part of it: after an admin moves a rule from
    3 days before to 1 day before, the new reminder is still sent to those who had the old."""
    rule = due.rule
    return (
        f"r{rule.id}@{rule.offset_days}|{due.subject_kind}:{due.subject_id}|"
        f"{due.occurrence}|{email}"
    )


def _chunks(items: list, size: int = 500) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def modes_for(session: Session, emails: Iterable[str]) -> dict[tuple[str, Category], DeliveryMode]:
    found: dict[tuple[str, Category], DeliveryMode] = {}
    for chunk in _chunks(sorted(set(emails))):
        for pref in session.scalars(
            select(NotificationPreference).where(NotificationPreference.email.in_(chunk))
        ):
            found[(pref.email, pref.category)] = pref.mode
    return found


def mode_of(modes: dict, email: str, category: Category) -> DeliveryMode:
    mode = modes.get((email, category), DeliveryMode.IMMEDIATELY)
    if mode is DeliveryMode.OFF and category in ALWAYS_ON:
        return DeliveryMode.IMMEDIATELY
    if mode is DeliveryMode.DIGEST and category in NOT_IN_DIGEST:
        return DeliveryMode.IMMEDIATELY
    return mode


def plan(session: Session, now: datetime | None = None) -> list[Planned]:
    """Every reminder due now or overdue and what a scan would do with it (writes nothing)."""
    at = clock(now)
    max_late = timedelta(hours=current_app.config["REMINDER_MAX_LATENESS_HOURS"])
    dues = due_reminders(session, rules(session), at)
    emails = [r.email for due in dues for r in due.recipients]
    modes = modes_for(session, emails)
    keys = [dedup_key(due, r.email) for due in dues for r in due.recipients]
    existing: set[str] = set()
    for chunk in _chunks(keys):
        existing.update(
            session.scalars(select(Notification.dedup_key).where(Notification.dedup_key.in_(chunk)))
        )
    planned = []
    for due in dues:
        if not due.recipients:
            planned.append(Planned(due, None, Action.NOBODY, ""))
            continue
        for recipient in due.recipients:
            key = dedup_key(due, recipient.email)
            mode = mode_of(modes, recipient.email, due.category)
            if key in existing:
                action = Action.ALREADY
            elif mode is DeliveryMode.OFF:
                action = Action.OFF
            elif due.due_at < at.now - max_late:
                action = Action.LATE
            elif mode is DeliveryMode.DIGEST:
                action = Action.HOLD
            else:
                action = Action.SEND
            planned.append(Planned(due, recipient, action, key))
    return planned


@dataclass
class ScanResult:
    queued: int = 0
    held: int = 0
    skipped_late: int = 0

    def __str__(self) -> str:
        return f"{self.queued} queued, {self.held} held for digests, {self.skipped_late} too late"


def _row(rendered: Rendered, at: datetime, status: NotificationStatus, **fields: object) -> dict:
    """An outbox row for ``_insert``: the rendered message, its status and who and what."""
    return {
        **fields,
        "language": rendered.language,
        "subject": rendered.subject[:500],
        "body_text": rendered.text,
        "body_html": rendered.html,
        "link": rendered.link,
        "status": status,
        "attempts": 0,
        "next_attempt_at": at if status is S.QUEUED else None,
        "created_at": at,
    }


def _insert(session: Session, rows: list[dict]) -> dict[str, int]:
    """Insert outbox rows, skipping any whose key is already there; return the new ids by key."""
    if not rows:
        return {}
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    inserted: dict[str, int] = {}
    for chunk in _chunks(rows, 200):
        stmt = (
            insert(Notification)
            .on_conflict_do_nothing(index_elements=["dedup_key"])
            .returning(Notification.dedup_key, Notification.id)
        )
        inserted.update((key, row_id) for key, row_id in session.execute(stmt, chunk))
    return inserted


def scan(session: Session, now: datetime | None = None) -> ScanResult:
    """Queue every reminder due now or overdue and not yet queued; log the ones too late."""
    at = now or utcnow()
    today = network_today(at)
    result = ScanResult()
    rows = []
    for item in plan(session, at):
        if item.action not in (Action.SEND, Action.HOLD, Action.LATE):
            continue
        assert item.recipient is not None
        due, recipient = item.due, item.recipient
        # A skipped reminder reads as it would have on its day (it is only ever looked at).
        written_on = network_today(due.due_at) if item.action == Action.LATE else today
        rendered = render_due(due, recipient, written_on)
        status = {Action.SEND: S.QUEUED, Action.HOLD: S.HELD, Action.LATE: S.SKIPPED}[item.action]
        reason = None
        if item.action == Action.LATE:
            reason = _(
                "Fell due %(hours)s hours before the scan: later than the maximum lateness.",
                hours=int((at - due.due_at).total_seconds() // 3600),
            )
        rows.append(
            _row(
                rendered,
                at,
                status,
                dedup_key=item.key,
                rule_id=due.rule.id,
                category=due.category,
                subject_kind=due.subject_kind,
                subject_id=due.subject_id,
                occurrence=due.occurrence,
                recipient_email=recipient.email,
                recipient_name=recipient.name,
                recipient_user_id=recipient.user_id,
                recipient_contact_id=recipient.contact_id,
                due_at=due.due_at,
                reason=reason,
            )
        )
    # A concurrent scan may have queued some between our check and our insert: only what we
    # inserted counts (and is logged).
    inserted = _insert(session, rows)
    for row in rows:
        if row["dedup_key"] not in inserted:
            continue
        if row["status"] is S.SKIPPED:
            result.skipped_late += 1
            log.warning(
                "reminder skipped, too late: %s (due %s, scan %s)",
                row["dedup_key"],
                row["due_at"].isoformat(),
                at.isoformat(),
            )
        elif row["status"] is S.HELD:
            result.held += 1
        else:
            result.queued += 1
    session.flush()
    return result


# --- still wanted? --------------------------------------------------------------------------


def no_longer_wanted(session: Session, items: list[Notification], now: datetime) -> dict[int, str]:
    """Reminders whose reason went away since they were queued, with why (by id)."""
    by_kind: dict[str, list[Notification]] = defaultdict(list)
    for item in items:
        by_kind[item.subject_kind].append(item)
    gone: dict[int, str] = {}

    def ids(kind: str) -> list[int]:
        return sorted({n.subject_id for n in by_kind[kind] if n.subject_id is not None})

    if by_kind["follow_up"]:
        current = dict(
            session.execute(
                select(FollowUp.id, FollowUp.due_on).where(
                    FollowUp.id.in_(ids("follow_up")), FollowUp.status.in_(PENDING)
                )
            ).all()
        )
        for n in by_kind["follow_up"]:
            due_on = current.get(n.subject_id)
            if due_on is None:
                gone[n.id] = _("The follow-up is done, cancelled or removed.")
            elif due_on.isoformat() != n.occurrence:
                gone[n.id] = _("The follow-up's due day moved.")
    if by_kind["agreement"]:
        alive = {
            row.id: row
            for row in session.execute(
                select(Agreement.id, Agreement.expires_on, Agreement.renewal_notice_days).where(
                    Agreement.id.in_(ids("agreement")),
                    Agreement.status.in_(IN_FORCE),
                    no_renewal_under_way(),
                )
            )
        }
        for n in by_kind["agreement"]:
            row = alive.get(n.subject_id)
            anchors = set()
            if row is not None and row.expires_on is not None:
                anchors.add(row.expires_on.isoformat())
                if row.renewal_notice_days is not None:
                    notice = row.expires_on - timedelta(days=row.renewal_notice_days)
                    anchors.add(notice.isoformat())
            if row is None:
                gone[n.id] = _("The agreement is no longer in force, or its renewal is under way.")
            elif n.occurrence not in anchors:
                gone[n.id] = _("The agreement's expiry date changed.")
    if by_kind["cycle_member"]:
        still_waiting = set(
            session.scalars(
                waiting(select(CycleMember.id))
                .join(ReportingCycle, ReportingCycle.id == CycleMember.cycle_id)
                .where(
                    CycleMember.id.in_(ids("cycle_member")),
                    ReportingCycle.state == CycleState.OPEN,
                )
            )
        )
        for n in by_kind["cycle_member"]:
            if n.subject_id not in still_waiting:
                gone[n.id] = _("The member has reported, or the cycle is closed.")
    if by_kind["cycle"]:
        open_ids = set(
            session.scalars(
                select(ReportingCycle.id).where(
                    ReportingCycle.id.in_(ids("cycle")), ReportingCycle.state == CycleState.OPEN
                )
            )
        )
        for n in by_kind["cycle"]:
            if n.subject_id not in open_ids:
                gone[n.id] = _("The cycle is closed.")
    if by_kind["commitment"]:
        last = dict(
            session.execute(
                select(
                    Commitment.id, func.coalesce(Commitment.last_update_at, Commitment.created_at)
                ).where(Commitment.id.in_(ids("commitment")), Commitment.status.in_(ONGOING))
            ).all()
        )
        for n in by_kind["commitment"]:
            moment = last.get(n.subject_id)
            if moment is None:
                gone[n.id] = _("The commitment is achieved, dropped or removed.")
            elif moment.isoformat(timespec="seconds") != n.occurrence:
                gone[n.id] = _("The commitment has been updated.")
    if by_kind["event"]:
        coming = set(
            session.scalars(
                select(Event.id).where(
                    Event.id.in_(ids("event")), Event.cancelled_at.is_(None), Event.starts_at > now
                )
            )
        )
        for n in by_kind["event"]:
            if n.subject_id not in coming:
                gone[n.id] = _("The event was cancelled or has begun.")
    if by_kind["member"]:
        paying = set(
            session.scalars(
                select(Member.id).where(
                    Member.id.in_(ids("member")),
                    Member.status == MemberStatus.ACTIVE,
                    Member.annual_fee > 0,
                )
            )
        )
        for n in by_kind["member"]:
            if n.subject_id not in paying:
                gone[n.id] = _("The member no longer pays a fee or is no longer active.")
    contact_ids = sorted(
        {n.recipient_contact_id for n in items if n.recipient_contact_id is not None}
    )
    if contact_ids:
        today = network_today(now)
        reachable = {
            contact_id: email.lower()
            for contact_id, email in session.execute(
                select(Contact.id, Contact.email).where(
                    Contact.id.in_(contact_ids),
                    Contact.email.is_not(None),
                    or_(Contact.active_to.is_(None), Contact.active_to >= today),
                )
            )
        }
        for n in items:
            if n.recipient_contact_id is None:
                continue
            if reachable.get(n.recipient_contact_id) != n.recipient_email:
                gone.setdefault(n.id, _("The contact has left or has another address."))
    user_ids = sorted({n.recipient_user_id for n in items if n.recipient_user_id is not None})
    if user_ids:
        active = set(
            session.scalars(select(User.id).where(User.id.in_(user_ids), User.is_active.is_(True)))
        )
        for n in items:
            if n.recipient_user_id is not None and n.recipient_user_id not in active:
                gone.setdefault(n.id, _("The recipient's account is deactivated."))
    return gone


# --- digests --------------------------------------------------------------------------------


def digest_period_start(now: datetime) -> datetime:
    """The last Monday at the reminder hour in the network's zone, at or before ``now``."""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    local = now.astimezone(zone)
    monday = local.date() - timedelta(days=local.weekday())
    start = datetime.combine(monday, time(current_app.config["REMINDER_HOUR"]), tzinfo=zone)
    if start > local:
        start = datetime.combine(
            monday - timedelta(days=7), time(current_app.config["REMINDER_HOUR"]), tzinfo=zone
        )
    return start.astimezone(now.tzinfo)


@dataclass
class DigestResult:
    digests: int = 0
    items: int = 0
    cancelled: int = 0

    def __str__(self) -> str:
        return f"{self.digests} digests with {self.items} reminders, {self.cancelled} dropped"


def compose_digests(session: Session, now: datetime | None = None) -> DigestResult:
    """Bundle each person's held reminders into one queued digest (once per week).

    Held reminders that no longer apply are cancelled instead. A scheduler that missed
    Monday's run sends the week's digest when it comes back; a second run finds nothing.
    """
    at = now or utcnow()
    start = digest_period_start(at)
    held = list(
        session.scalars(
            select(Notification)
            .where(Notification.status == S.HELD, Notification.created_at <= start)
            .order_by(Notification.recipient_email, Notification.due_at, Notification.id)
        )
    )
    result = DigestResult()
    if not held:
        return result
    gone = no_longer_wanted(session, held, at)
    for item in held:
        if item.id in gone:
            item.status = S.CANCELLED
            item.reason = gone[item.id]
            result.cancelled += 1
    by_email: dict[str, list[Notification]] = defaultdict(list)
    for item in held:
        if item.id not in gone:
            by_email[item.recipient_email].append(item)
    for email, items in by_email.items():
        first = items[0]
        rendered = render_digest(email, first.recipient_name, first.language, items)
        key = f"digest|{start.date().isoformat()}|{email}"
        row = _row(
            rendered,
            at,
            S.QUEUED,
            dedup_key=key,
            rule_id=None,
            category=Category.DIGEST,
            subject_kind="digest",
            subject_id=None,
            occurrence=start.isoformat(timespec="minutes"),
            recipient_email=email,
            recipient_name=first.recipient_name,
            recipient_user_id=first.recipient_user_id,
            recipient_contact_id=first.recipient_contact_id,
            due_at=start,
            reason=None,
        )
        inserted = _insert(session, [row])
        digest_id = inserted.get(key)
        if digest_id is None:
            log.info("digest %s already composed; its new items wait for next week", key)
            continue
        for item in items:
            item.status = S.DIGESTED
            item.digest_id = digest_id
        result.digests += 1
        result.items += len(items)
    session.flush()
    return result


# --- preferences ----------------------------------------------------------------------------


def categories_for(user: User | None) -> tuple[Category, ...]:
    if user is None:
        return CONTACT_CATEGORIES
    return ROLE_CATEGORIES.get(user.role, ())


def preferences(session: Session, email: str) -> dict[Category, DeliveryMode]:
    email = email.lower()
    chosen = {
        pref.category: pref.mode
        for pref in session.scalars(
            select(NotificationPreference).where(NotificationPreference.email == email)
        )
    }
    return {category: chosen.get(category, DeliveryMode.IMMEDIATELY) for category in Category}


def set_preferences(
    session: Session,
    email: str,
    choices: dict[Category, object],
    allowed: Iterable[Category],
    now: datetime | None = None,
) -> None:
    """Record how ``email`` wants each category; held reminders follow the new choice."""
    email = email.lower()
    allowed = tuple(allowed)
    errors: dict[str, str] = {}
    for category, mode in choices.items():
        if category not in allowed:
            errors[category.value] = _("This kind of message is not sent to you.")
        elif not isinstance(mode, DeliveryMode):
            errors[category.value] = _("Choose how you want these messages.")
        elif mode is DeliveryMode.OFF and category in ALWAYS_ON:
            errors[category.value] = _(
                "Escalations to staff cannot be turned off; choose the weekly digest instead."
            )
        elif mode is DeliveryMode.DIGEST and category in NOT_IN_DIGEST:
            errors[category.value] = _(
                "Event reminders come the day before the event: they cannot wait for the digest."
            )
    if errors:
        raise RuleError(errors)
    at = now or utcnow()
    existing = {
        pref.category: pref
        for pref in session.scalars(
            select(NotificationPreference).where(NotificationPreference.email == email)
        )
    }
    for category, mode in choices.items():
        assert isinstance(mode, DeliveryMode)
        pref = existing.get(category)
        if pref is None:
            session.add(NotificationPreference(email=email, category=category, mode=mode))
        else:
            pref.mode = mode
        held = and_(
            Notification.recipient_email == email,
            Notification.category == category,
            Notification.status == S.HELD,
        )
        if mode is DeliveryMode.IMMEDIATELY:
            session.execute(
                update(Notification).where(held).values(status=S.QUEUED, next_attempt_at=at)
            )
        elif mode is DeliveryMode.OFF:
            session.execute(
                update(Notification)
                .where(held)
                .values(status=S.CANCELLED, reason=_("Turned off by the recipient."))
            )
    session.flush()


# --- retries --------------------------------------------------------------------------------


def retry(
    session: Session, actor: User, notification: Notification, now: datetime | None = None
) -> None:
    """Queue a failed message again for a fresh round of attempts (admins)."""
    ensure_permission(actor, Permission.MANAGE_NOTIFICATIONS)
    if notification.status is not S.FAILED:
        raise RuleError({"status": _("Only a failed message can be sent again.")})
    _requeue(notification, actor, now or utcnow())
    session.flush()


def retry_all_failed(session: Session, actor: User, now: datetime | None = None) -> int:
    ensure_permission(actor, Permission.MANAGE_NOTIFICATIONS)
    at = now or utcnow()
    failed = list(session.scalars(select(Notification).where(Notification.status == S.FAILED)))
    for notification in failed:
        _requeue(notification, actor, at)
    session.flush()
    return len(failed)


def _requeue(notification: Notification, actor: User, at: datetime) -> None:
    notification.status = S.QUEUED
    notification.attempts = 0
    notification.first_attempt_at = None
    notification.next_attempt_at = at
    notification.lease_until = None
    notification.claim_token = None
    notification.retried_by_id = actor.id
