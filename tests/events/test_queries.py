"""The event pages issue a fixed number of SQL statements, whatever the number of members."""

from __future__ import annotations

import factory
import pytest

from secretariat.events.models import (
    Attendance,
    AttendanceImport,
    AttendanceSource,
    Registration,
    Response,
    UnmatchedAttendee,
    UnmatchedStatus,
)
from tests.events.conftest import future_event, invite, past_event
from tests.factories import ContactFactory, MemberFactory, WorkingGroupFactory


@pytest.fixture
def events(db, staff):
    """A held event and an upcoming one, both of a group and hosted by a member."""
    group = WorkingGroupFactory()
    host = MemberFactory()
    held = past_event(title="Held", group=group, host_member=host)
    upcoming = future_event(title="Upcoming", group=group, host_member=host)
    db.add(
        AttendanceImport(
            event_id=held.id,
            filename="zoom.csv",
            digest="0" * 64,
            rows=3,
            matched=2,
            unmatched=1,
            imported_by_id=staff.id,
        )
    )
    return held, upcoming


def add_members(db, events, number: int, members=()) -> None:
    """Invited members with two contacts each; some registered, some attended."""
    held, upcoming = events
    members = [*members, *MemberFactory.create_batch(number - len(members))]
    first = ContactFactory.create_batch(number, member=factory.Iterator(members))
    ContactFactory.create_batch(
        number, member=factory.Iterator(members), is_primary=False, email=None
    )
    for event in events:
        invite(event, *members)
    for index, contact in enumerate(first):
        if index % 2 == 0:
            db.add(
                Registration(
                    event_id=upcoming.id,
                    member_id=contact.member_id,
                    contact_id=contact.id,
                    response=Response.REGISTERED if index % 4 == 0 else Response.DECLINED,
                )
            )
        if index % 3 == 0:
            db.add(
                Attendance(
                    event_id=held.id,
                    member_id=contact.member_id,
                    contact_id=contact.id if index % 2 else None,
                    attended=True,
                    source=AttendanceSource.IMPORT,
                    minutes=45,
                )
            )
    # A member that was not invited came, and someone matched nobody.
    guest = ContactFactory()
    db.add(
        Attendance(
            event_id=held.id,
            member_id=guest.member_id,
            contact_id=guest.id,
            attended=True,
            source=AttendanceSource.MANUAL,
            not_invited_reason="Observer",
        )
    )
    for status, contact in ((UnmatchedStatus.OPEN, None), (UnmatchedStatus.MATCHED, guest)):
        db.add(
            UnmatchedAttendee(
                event_id=held.id,
                match_key=f"{status}-{number}@x.example",
                email=f"{status}-{number}@x.example",
                problem="No contact has this e-mail address.",
                status=status,
                contact=contact,
            )
        )
    db.flush()


def statements(count_queries, client, url: str, expected: str) -> list[str]:
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200, url
    assert expected in response.get_data(as_text=True)
    return counter.statements


def assert_same_count(small: list[str], large: list[str]) -> None:
    assert len(small) == len(large), "\n\n".join(large)


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("detail-held", "Matched to"),
        ("detail-upcoming", "people registered"),
        ("attendance", "Someone, not known who"),
        ("index", "Upcoming"),
        ("index-all", "Held"),
    ],
)
def test_staff_pages(db, client, auth, staff, count_queries, events, page, expected):
    held, upcoming = events
    url = {
        "detail-held": f"/events/{held.id}",
        "detail-upcoming": f"/events/{upcoming.id}",
        "attendance": f"/events/{held.id}/attendance",
        "index": "/events/",
        "index-all": "/events/?when=all",
    }[page]
    auth.login(staff)
    add_members(db, events, 10)
    small = statements(count_queries, client, url, expected)
    add_members(db, events, 200)
    large = statements(count_queries, client, url, expected)
    assert_same_count(small, large)
    # Plus the event's follow-ups: pending and recently closed.
    assert len(large) <= 14


@pytest.mark.parametrize("page", ["detail", "index"])
def test_focal_point_pages(db, client, auth, focal, count_queries, events, page):
    held, upcoming = events
    url = f"/events/{upcoming.id}" if page == "detail" else "/events/?when=all"
    auth.login(focal)
    add_members(db, events, 10, members=[focal.member])
    small = statements(count_queries, client, url, "Upcoming")
    add_members(db, events, 200)
    large = statements(count_queries, client, url, "Upcoming")
    assert_same_count(small, large)
    assert len(large) <= 12
