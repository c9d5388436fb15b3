"""Fixtures and helpers shared by the event tests."""

from __future__ import annotations

import html
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from secretariat.db import utcnow
from secretariat.events.models import Attendance, AttendanceImport, UnmatchedAttendee
from tests.factories import ContactFactory, EventFactory, InvitationFactory, UserFactory


@pytest.fixture
def staff(db):
    return UserFactory(name="Sofia Staff")


@pytest.fixture
def focal(db):
    """A focal point; its member has a current contact with the user's own address."""
    user = UserFactory(focal_point=True)
    ContactFactory(member=user.member, name="Own Focal", email=user.email, is_primary=True)
    return user


def hour(when: datetime) -> datetime:
    return when.replace(minute=0, second=0, microsecond=0)


def past_event(**kwargs):
    """An event that started yesterday and lasted two hours."""
    starts = hour(utcnow()) - timedelta(days=1)
    kwargs.setdefault("starts_at", starts)
    kwargs.setdefault("ends_at", kwargs["starts_at"] + timedelta(hours=2))
    return EventFactory(**kwargs)


def future_event(**kwargs):
    """An event in two weeks (the factory's default)."""
    return EventFactory(**kwargs)


def invite(event, *members):
    return [InvitationFactory(event=event, member=member) for member in members]


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def attendance_snapshot(db, event) -> tuple[list, list, list]:
    """Everything an attendance import writes, for comparing before and after."""
    db.expire_all()

    def rows(model, *columns):
        return [
            tuple(row)
            for row in db.execute(
                select(*columns).where(model.event_id == event.id).order_by(model.id)
            )
        ]

    return (
        rows(
            Attendance,
            Attendance.id,
            Attendance.member_id,
            Attendance.contact_id,
            Attendance.attended,
            Attendance.source,
            Attendance.not_invited_reason,
            Attendance.joined_at,
            Attendance.left_at,
            Attendance.minutes,
            Attendance.recorded_at,
        ),
        rows(
            UnmatchedAttendee,
            UnmatchedAttendee.id,
            UnmatchedAttendee.match_key,
            UnmatchedAttendee.name,
            UnmatchedAttendee.email,
            UnmatchedAttendee.minutes,
            UnmatchedAttendee.status,
            UnmatchedAttendee.contact_id,
            UnmatchedAttendee.resolved_at,
        ),
        rows(
            AttendanceImport,
            AttendanceImport.id,
            AttendanceImport.digest,
            AttendanceImport.rows,
            AttendanceImport.matched,
            AttendanceImport.unmatched,
        ),
    )
