"""Read models of the reminder pages: the outbox list, its counts and the scheduler's state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from secretariat.notifications.models import (
    Category,
    JobRun,
    Notification,
    NotificationStatus,
    SchedulerHeartbeat,
)
from secretariat.pagination import Page, clamp


@dataclass
class OutboxFilters:
    status: NotificationStatus | None = None
    category: Category | None = None
    #: Part of the recipient's address or name, or of the subject.
    text: str = ""

    @property
    def active(self) -> bool:
        return bool(self.status or self.category or self.text)


def outbox_page(session: Session, filters: OutboxFilters, page: int, per_page: int) -> Page:
    conditions = []
    if filters.status is not None:
        conditions.append(Notification.status == filters.status)
    if filters.category is not None:
        conditions.append(Notification.category == filters.category)
    if filters.text:
        # Addresses are stored lower-cased; "%" and "_" in the search are plain characters.
        text = filters.text.lower()
        conditions.append(
            or_(
                Notification.recipient_email.contains(text, autoescape=True),
                func.lower(Notification.recipient_name).contains(text, autoescape=True),
                func.lower(Notification.subject).contains(text, autoescape=True),
            )
        )
    total = session.scalar(select(func.count(Notification.id)).where(*conditions)) or 0
    page = clamp(page, total, per_page)
    items = list(
        session.scalars(
            select(Notification)
            .where(*conditions)
            .options(joinedload(Notification.rule))
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    return Page(items, total, page, per_page)


def status_counts(session: Session) -> dict[NotificationStatus, int]:
    counts = dict(
        session.execute(
            select(Notification.status, func.count(Notification.id)).group_by(Notification.status)
        ).all()
    )
    return {status: counts.get(status, 0) for status in NotificationStatus}


@dataclass
class SchedulerState:
    heartbeat: SchedulerHeartbeat | None
    runs: list[JobRun]
    #: No heartbeat for three beats: the scheduler process is not running.
    stale: bool
    #: The oldest queued message that is due, if any (a backlog is a warning sign too).
    oldest_due: datetime | None
    #: The scheduler process beats; when not stale without it, cron runs the jobs.
    beating: bool = False


#: Without a scheduler heartbeat, a delivery pass this recent (cron) still counts as running.
CRON_TOLERANCE = timedelta(minutes=15)


def _stale(
    now: datetime, beat_at: datetime | None, delivered_at: datetime | None, beat: int
) -> bool:
    """Neither the scheduler's heartbeat (three beats) nor a recent delivery pass (cron)."""
    beating = beat_at is not None and now - beat_at <= timedelta(seconds=3 * beat)
    delivering = delivered_at is not None and now - delivered_at <= CRON_TOLERANCE
    return not (beating or delivering)


def scheduler_state(session: Session, now: datetime, beat_seconds: int) -> SchedulerState:
    heartbeat = session.get(SchedulerHeartbeat, 1)
    runs = list(session.scalars(select(JobRun).order_by(JobRun.name)))
    delivered = next((r.last_finished_at for r in runs if r.name == "outbox.deliver"), None)
    beat_at = heartbeat.beat_at if heartbeat else None
    stale = _stale(now, beat_at, delivered, beat_seconds)
    beating = not _stale(now, beat_at, None, beat_seconds)
    oldest = session.scalar(
        select(func.min(Notification.next_attempt_at)).where(
            Notification.status == NotificationStatus.QUEUED, Notification.next_attempt_at <= now
        )
    )
    return SchedulerState(heartbeat, runs, stale, oldest, beating)


@dataclass
class Alerts:
    """What an admin's home page warns about: the scheduler down, messages that failed."""

    scheduler_down: bool
    failed: int

    @property
    def any(self) -> bool:
        return self.scheduler_down or bool(self.failed)


def alerts(session: Session, now: datetime, beat_seconds: int) -> Alerts:
    beat = session.scalar(select(SchedulerHeartbeat.beat_at).where(SchedulerHeartbeat.id == 1))
    delivered = session.scalar(
        select(JobRun.last_finished_at).where(JobRun.name == "outbox.deliver")
    )
    failed = session.scalar(
        select(func.count(Notification.id)).where(Notification.status == NotificationStatus.FAILED)
    )
    return Alerts(_stale(now, beat, delivered, beat_seconds), failed or 0)
