"""iCalendar output, read back with the icalendar package: single events and personal feeds."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from secretariat.db import utcnow
from secretariat.events import services
from secretariat.events.models import CalendarFeed, EventType
from secretariat.events.services import EventData
from tests.events.conftest import future_event, invite, past_event, text
from tests.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.parametrize("app_overrides", [{"TIMEZONE": "Europe/Lisbon"}])

FEED = re.compile(r'value="http://localhost(/events/calendar/[\w\-]+\.ics)"')


def parse(response) -> Calendar:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    assert calendar.name == "VCALENDAR"
    return calendar


def vevents(calendar: Calendar) -> dict[str, object]:
    return {str(item["SUMMARY"]): item for item in calendar.walk("VEVENT")}


def utc(item, name: str) -> datetime:
    return item.decoded(name).astimezone(UTC)


def assert_valid_event(calendar: Calendar, item) -> None:
    """The properties RFC 5545 requires, and a VTIMEZONE for every TZID used."""
    for name in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "SEQUENCE", "STATUS"):
        assert name in item, name
    assert item.decoded("DTSTAMP").tzinfo is not None
    zones = {str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")}
    for name in ("DTSTART", "DTEND"):
        tzid = item[name].params.get("TZID")
        assert tzid, f"{name} without TZID"
        assert tzid in zones, f"no VTIMEZONE for {tzid}"


# -- a single event -------------------------------------------------------------------------


def test_download_one_event(db, client, auth, staff):
    event = future_event(
        title="Heat plans workshop",
        starts_at=datetime(2027, 6, 10, 8, 0, tzinfo=UTC),
        ends_at=datetime(2027, 6, 10, 16, 30, tzinfo=UTC),
        timezone="Europe/Lisbon",
        is_online=True,
        city="Lisbon",
        country="PT",
        meeting_url="https://meet.example/heat",
        description="Bring your city's heat plan.",
    )
    auth.login(staff)

    response = client.get(f"/events/{event.id}.ics")

    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="event-{event.id}.ics"'
    )
    calendar = parse(response)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == "-//Secretariat//Events//EN"
    (item,) = calendar.walk("VEVENT")
    assert_valid_event(calendar, item)
    assert str(item["UID"]) == f"event-{event.id}@localhost"
    assert str(item["SUMMARY"]) == "Heat plans workshop"
    assert str(item["STATUS"]) == "CONFIRMED"
    assert item.decoded("SEQUENCE") == 0
    assert item["DTSTART"].params["TZID"] == "Europe/Lisbon"
    assert item.decoded("DTSTART").replace(tzinfo=None) == datetime(2027, 6, 10, 9, 0)
    assert utc(item, "DTSTART") == datetime(2027, 6, 10, 8, 0, tzinfo=UTC)
    assert utc(item, "DTEND") == datetime(2027, 6, 10, 16, 30, tzinfo=UTC)
    assert str(item["LOCATION"]) == "Lisbon, Portugal + online"
    description = str(item["DESCRIPTION"])
    assert "Bring your city's heat plan." in description
    assert "Join: https://meet.example/heat" in description
    assert f"http://localhost/events/{event.id}" in description


def test_cancelled_event_is_published_as_cancelled(db, client, auth, staff):
    event = future_event(title="Forum")
    services.cancel_event(db, staff, event)
    auth.login(staff)
    (item,) = parse(client.get(f"/events/{event.id}.ics")).walk("VEVENT")
    assert str(item["STATUS"]) == "CANCELLED"
    assert item.decoded("SEQUENCE") == 1


def test_sequence_increments_after_an_edit(db, client, auth, staff):
    auth.login(staff)
    event = services.create_event(
        db,
        staff,
        EventData(
            title="Webinar",
            event_type=EventType.WEBINAR,
            starts_local=datetime(2027, 5, 4, 14, 0),
            ends_local=datetime(2027, 5, 4, 15, 0),
            is_online=True,
        ),
    )
    (before,) = parse(client.get(f"/events/{event.id}.ics")).walk("VEVENT")

    response = client.post(
        f"/events/{event.id}/edit",
        data={
            "title": "Webinar",
            "event_type": "webinar",
            "starts_local": "2027-05-04T15:00",
            "ends_local": "2027-05-04T16:00",
            "timezone": "",
            "is_online": "y",
            "country": "",
            "host_member_id": "",
            "group_id": "",
        },
    )
    assert response.status_code == 302, text(response)
    (after,) = parse(client.get(f"/events/{event.id}.ics")).walk("VEVENT")

    assert after.decoded("SEQUENCE") == before.decoded("SEQUENCE") + 1
    assert str(after["UID"]) == str(before["UID"])
    # No zone of its own: the network's (Lisbon, on summer time in May).
    assert after["DTSTART"].params["TZID"] == "Europe/Lisbon"
    assert utc(after, "DTSTART") == datetime(2027, 5, 4, 14, 0, tzinfo=UTC)


def test_event_across_the_clock_change_keeps_its_instants(db, client, auth, staff):
    # Lisbon moves from UTC+0 to UTC+1 at 01:00 on 28 March 2027.
    event = services.create_event(
        db,
        staff,
        EventData(
            title="Night of the cities",
            event_type=EventType.OTHER,
            starts_local=datetime(2027, 3, 27, 22, 0),
            ends_local=datetime(2027, 3, 28, 10, 0),
            timezone="Europe/Lisbon",
            city="Lisbon",
            country="PT",
        ),
    )
    assert event.starts_at == datetime(2027, 3, 27, 22, 0, tzinfo=UTC)
    assert event.ends_at == datetime(2027, 3, 28, 9, 0, tzinfo=UTC)
    auth.login(staff)

    calendar = parse(client.get(f"/events/{event.id}.ics"))

    (item,) = calendar.walk("VEVENT")
    assert_valid_event(calendar, item)
    start, end = item.decoded("DTSTART"), item.decoded("DTEND")
    assert (start.replace(tzinfo=None), end.replace(tzinfo=None)) == (
        datetime(2027, 3, 27, 22, 0),
        datetime(2027, 3, 28, 10, 0),
    )
    assert utc(item, "DTSTART") == datetime(2027, 3, 27, 22, 0, tzinfo=UTC)
    assert utc(item, "DTEND") == datetime(2027, 3, 28, 9, 0, tzinfo=UTC)
    assert utc(item, "DTEND") - utc(item, "DTSTART") == timedelta(hours=11)
    # The VTIMEZONE itself gives the same offsets on both sides of the change.
    (vtimezone,) = calendar.walk("VTIMEZONE")
    assert str(vtimezone["TZID"]) == "Europe/Lisbon"
    zone = vtimezone.to_tz()
    assert start.replace(tzinfo=zone).utcoffset() == timedelta(0)
    assert end.replace(tzinfo=zone).utcoffset() == timedelta(hours=1)


def test_a_focal_point_downloads_only_events_it_is_invited_to(db, client, auth, focal):
    mine, other = future_event(), future_event()
    invite(mine, focal.member)
    auth.login(focal)
    assert parse(client.get(f"/events/{mine.id}.ics"))
    assert client.get(f"/events/{other.id}.ics").status_code == 404


# -- personal feeds -------------------------------------------------------------------------


def make_address(client) -> str:
    response = client.post("/events/calendar", data={"action": "create"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Copy it now: it is shown only once." in body
    (path,) = FEED.findall(body)
    return path


def test_focal_point_feed_lists_only_invited_events(db, app, client, auth, focal):
    mine = future_event(title="Invited webinar", meeting_url="https://meet.example/a")
    cancelled = future_event(title="Cancelled forum", cancelled_at=utcnow(), sequence=1)
    recent = past_event(title="Last week's workshop")
    old = past_event(
        title="Old workshop",
        starts_at=utcnow() - timedelta(days=90),
        ends_at=utcnow() - timedelta(days=89),
    )
    future_event(title="Not invited")
    for event in (mine, cancelled, recent, old):
        invite(event, focal.member)
    invite(future_event(title="Another member's"), MemberFactory())
    auth.login(focal)
    path = make_address(client)

    # The calendar application is not signed in.
    response = app.test_client().get(path)

    assert response.headers["Cache-Control"] == "private, max-age=900"
    calendar = parse(response)
    items = vevents(calendar)
    assert set(items) == {"Invited webinar", "Cancelled forum", "Last week's workshop"}
    for item in items.values():
        assert_valid_event(calendar, item)
    assert str(items["Cancelled forum"]["STATUS"]) == "CANCELLED"
    assert str(items["Invited webinar"]["STATUS"]) == "CONFIRMED"
    assert "Join: https://meet.example/a" in str(items["Invited webinar"]["DESCRIPTION"])
    assert len({str(item["UID"]) for item in items.values()}) == 3


def test_staff_feed_lists_every_event(db, app, client, auth, staff):
    future_event(title="One")
    future_event(title="Two", cancelled_at=utcnow())
    auth.login(staff)
    calendar = parse(app.test_client().get(make_address(client)))
    assert set(vevents(calendar)) == {"One", "Two"}


def test_a_new_address_replaces_the_old(db, app, client, auth, focal):
    auth.login(focal)
    old = make_address(client)
    assert app.test_client().get(old).status_code == 200

    new = make_address(client)

    assert new != old
    assert app.test_client().get(old).status_code == 404
    assert app.test_client().get(new).status_code == 200
    assert len(db.scalars(select(CalendarFeed).where(CalendarFeed.user_id == focal.id)).all()) == 1


def test_revoking_makes_the_address_404(db, app, client, auth, focal):
    auth.login(focal)
    path = make_address(client)
    page = text(client.get("/events/calendar"))
    assert "is working" in page
    # The address is shown once only.
    assert path not in page

    response = client.post("/events/calendar", data={"action": "revoke"}, follow_redirects=True)

    assert "The calendar address is revoked; it no longer works." in text(response)
    assert "You have no calendar address yet." in text(response)
    assert app.test_client().get(path).status_code == 404
    db.expire_all()
    assert db.scalar(select(CalendarFeed).where(CalendarFeed.user_id == focal.id)) is None


def test_an_inactive_users_feed_404s(db, app, client, auth, focal):
    auth.login(focal)
    path = make_address(client)
    focal.is_active = False
    db.flush()
    assert app.test_client().get(path).status_code == 404


@pytest.mark.parametrize(
    "path", ["/events/calendar/not-a-token.ics", f"/events/calendar/{'x' * 150}.ics"]
)
def test_unknown_addresses_404(db, app, path):
    UserFactory()
    assert app.test_client().get(path).status_code == 404


def test_calendar_page_needs_sign_in(db, client):
    response = client.get("/events/calendar")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]
