"""Fixtures of the reminder tests: a fixed clock, and scans and deliveries run as the jobs run."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from secretariat.notifications.jobs import deliver_outbox, scan_reminders, weekly_digest
from secretariat.notifications.models import Notification, NotificationStatus

#: Rows made "long ago", so that no reminder falls due before its item existed.
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def at(day: date, hour: int = 8, minute: int = 0, zone: str = "UTC") -> datetime:
    """The UTC instant of a wall-clock time on a day in a zone."""
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(zone)).astimezone(UTC)


@pytest.fixture
def base_day() -> date:
    """A Wednesday well ahead of today, so every date in a test is in the future."""
    day = date.today() + timedelta(days=60)
    return day + timedelta(days=(2 - day.weekday()) % 7)


class Runner:
    def __init__(self, app, db) -> None:
        self.app = app
        self.db = db

    def scan(self, now: datetime):
        result = scan_reminders(self.app, now)
        self.db.expire_all()
        return result

    def deliver(self, now: datetime):
        result = deliver_outbox(self.app, now)
        self.db.expire_all()
        return result

    def digest(self, now: datetime):
        result = weekly_digest(self.app, now)
        self.db.expire_all()
        return result

    def cycle(self, now: datetime):
        """One scan and one delivery, as the scheduler does within a minute."""
        scanned = self.scan(now)
        delivered = self.deliver(now)
        return scanned, delivered

    def notifications(self, **where) -> list[Notification]:
        stmt = select(Notification).order_by(Notification.id)
        for name, value in where.items():
            stmt = stmt.where(getattr(Notification, name) == value)
        return list(self.db.scalars(stmt))

    def statuses(self) -> list[NotificationStatus]:
        return [n.status for n in self.notifications()]


@pytest.fixture
def run(app, db) -> Runner:
    return Runner(app, db)


def text_of(message) -> str:
    """The plain-text part of a received message."""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text/plain part")


def html_of(message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/html":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text/html part")
