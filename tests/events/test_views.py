"""The event pages as staff and focal points use them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from secretariat.db import utcnow
from secretariat.events.models import (
    Attendance,
    Audience,
    Event,
    EventType,
    Invitation,
    Registration,
    Response,
)
from secretariat.groups.models import GroupStatus
from secretariat.members.models import ContactRole
from tests.events.conftest import future_event, invite, past_event, text
from tests.factories import ContactFactory, MemberFactory, WorkingGroupFactory

TITLE_LINK = re.compile(r'<a href="/events/(\d+)">([^<]*)</a>')


def listed(response) -> list[str]:
    assert response.status_code == 200, response.status_code
    return [title for _id, title in TITLE_LINK.findall(text(response))]


def event_form(**overrides) -> dict[str, str]:
    data = {
        "title": "Heat plans workshop",
        "event_type": "workshop",
        "starts_local": "2027-06-10T09:00",
        "ends_local": "2027-06-10T17:30",
        "timezone": "Europe/Lisbon",
        "meeting_url": "",
        "venue": "City Hall",
        "city": "Lisbon",
        "country": "PT",
        "host_member_id": "",
        "group_id": "",
        "description": "",
    }
    data.update(overrides)
    return data


def event_count(db) -> int:
    return db.scalar(select(func.count()).select_from(Event))


def field_error(response, name: str) -> str:
    """The message shown next to a field."""
    found = re.search(
        rf'<small id="{name}-error" class="field-error">(.*?)</small>', text(response), re.S
    )
    assert found, f"no error next to {name}"
    return found.group(1)


# -- the list -------------------------------------------------------------------------------


def test_staff_list_shows_upcoming_events_with_figures(db, client, auth, staff):
    lisbon, porto = MemberFactory.create_batch(2)
    ana = ContactFactory(member=lisbon)
    event = future_event(title="Climate webinar", starts_at=utcnow() + timedelta(days=3))
    future_event(title="Annual forum", starts_at=utcnow() + timedelta(days=40))
    past_event(title="Last year's forum")
    invite(event, lisbon, porto)
    db.add(
        Registration(
            event_id=event.id, member_id=lisbon.id, contact_id=ana.id, response=Response.REGISTERED
        )
    )
    db.flush()
    auth.login(staff)

    response = client.get("/events/")

    assert listed(response) == ["Climate webinar", "Annual forum"]
    body = text(response)
    assert "Plan an event" in body
    row = re.search(r"Climate webinar.*?</tr>", body, re.S).group(0)
    assert re.findall(r'<td class="number">(\d+)</td>', row) == ["2", "1", "0"]
    assert listed(client.get("/events/?when=past")) == ["Last year's forum"]
    assert listed(client.get("/events/?when=all&type=workshop")) == []


def test_list_filters_by_group_and_type(db, client, auth, staff):
    group = WorkingGroupFactory()
    future_event(title="Group workshop", group=group, event_type=EventType.WORKSHOP)
    future_event(title="Board meeting", event_type=EventType.BOARD_MEETING)
    auth.login(staff)
    assert listed(client.get(f"/events/?group={group.id}")) == ["Group workshop"]
    assert listed(client.get("/events/?type=board_meeting")) == ["Board meeting"]
    # Unknown filter values are ignored rather than failing.
    assert set(listed(client.get("/events/?type=nonsense&when=nonsense&year=x"))) == {
        "Group workshop",
        "Board meeting",
    }


def test_focal_point_list_shows_only_invited_events(db, client, auth, focal):
    mine = future_event(title="Invited workshop")
    future_event(title="Someone else's study tour")
    invite(mine, focal.member, MemberFactory())
    past = past_event(title="Past invited webinar")
    invite(past, focal.member)
    auth.login(focal)

    response = client.get("/events/")

    assert listed(response) == ["Invited workshop"]
    body = text(response)
    assert "Plan an event" not in body
    assert "Invited members" not in body
    assert "Your people registered" in body
    assert listed(client.get("/events/?when=all")) == ["Invited workshop", "Past invited webinar"]


# -- the event page -------------------------------------------------------------------------


def test_event_page_for_staff(db, client, auth, staff):
    lisbon, porto = MemberFactory(name="Lisbon"), MemberFactory(name="Porto")
    ana = ContactFactory(member=lisbon, name="Ana Silva", is_primary=True)
    ContactFactory(member=lisbon, name="Former Person", active_to=datetime(2020, 1, 1).date())
    eva = ContactFactory(member=porto, name="Eva Nunes")
    event = future_event(
        title="Heat plans workshop",
        event_type=EventType.WORKSHOP,
        is_online=True,
        meeting_url="https://meet.example/heat",
        city="Lisbon",
        country="PT",
        venue="City Hall",
        host_member=lisbon,
        description="Bring your plan.",
    )
    invite(event, lisbon, porto)
    db.add_all(
        [
            Registration(
                event_id=event.id,
                member_id=lisbon.id,
                contact_id=ana.id,
                response=Response.REGISTERED,
            ),
            Registration(
                event_id=event.id, member_id=porto.id, contact_id=eva.id, response=Response.DECLINED
            ),
        ]
    )
    db.flush()
    auth.login(staff)

    response = client.get(f"/events/{event.id}")

    assert response.status_code == 200
    body = text(response)
    assert "<h1>Heat plans workshop</h1>" in body
    assert "Workshop" in body
    assert "City Hall, Lisbon, Portugal and online" in body
    assert 'href="https://meet.example/heat"' in body
    assert "Hosted by</dt><dd>Lisbon" in body
    assert "Bring your plan." in body
    assert f'href="/events/{event.id}.ics"' in body
    figures = dict(
        (label.strip(), int(n))
        for n, label in re.findall(r'<span class="figure">(\d+)</span>([^<]+)</article>', body)
    )
    assert figures == {
        "members invited": 2,
        "people registered": 1,
        "people declined": 1,
        "members attended": 0,
        "people attended": 0,
    }
    assert "Ana Silva" in body and "Eva Nunes" in body
    assert "Former Person" not in body
    assert "Withdraw the invitation" in body
    assert f'href="/events/{event.id}/edit"' in body
    assert f'href="/events/{event.id}/invite"' in body


def test_event_page_for_a_focal_point_shows_only_its_people(db, client, auth, focal):
    colleague = ContactFactory(member=focal.member, name="Own Colleague")
    other = MemberFactory(name="Other City")
    ContactFactory(member=other, name="Stranger Person")
    event = future_event(title="Webinar", meeting_url="https://meet.example/w")
    invite(event, focal.member, other)
    auth.login(focal)

    response = client.get(f"/events/{event.id}")

    assert response.status_code == 200
    body = text(response)
    assert "Your people" in body
    assert "Own Colleague" in body and "Own Focal" in body
    assert "Stranger Person" not in body and "Other City" not in body
    assert "members invited" not in body
    assert f'href="/events/{event.id}/edit"' not in body
    assert 'href="https://meet.example/w"' in body
    assert f'name="contact_id" value="{colleague.id}"' in body


def test_focal_point_registers_a_colleague_from_the_page(db, client, auth, focal):
    colleague = ContactFactory(member=focal.member, name="Own Colleague")
    event = future_event()
    invite(event, focal.member)
    auth.login(focal)

    response = client.post(
        f"/events/{event.id}/respond",
        data={"contact_id": str(colleague.id), "response": "registered"},
    )

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/events/{event.id}#people")
    db.expire_all()
    (registration,) = db.scalars(select(Registration)).all()
    assert (registration.contact_id, registration.response) == (colleague.id, Response.REGISTERED)
    page = text(client.get(f"/events/{event.id}"))
    assert "Own Colleague is registered." in page

    client.post(
        f"/events/{event.id}/respond", data={"contact_id": str(colleague.id), "response": "none"}
    )
    assert db.scalar(select(func.count()).select_from(Registration)) == 0


def test_answers_after_the_start_are_refused_with_a_message(db, client, auth, focal):
    own = ContactFactory(member=focal.member)
    event = past_event(ends_at=utcnow() + timedelta(hours=1))
    invite(event, focal.member)
    auth.login(focal)
    response = client.post(
        f"/events/{event.id}/respond",
        data={"contact_id": str(own.id), "response": "registered"},
        follow_redirects=True,
    )
    assert "The event has started; answers are closed." in text(response)
    assert db.scalar(select(func.count()).select_from(Registration)) == 0


@pytest.mark.parametrize("answer", ["maybe", ""])
def test_an_unknown_answer_is_a_bad_request(db, client, auth, focal, answer):
    own = ContactFactory(member=focal.member)
    event = future_event()
    invite(event, focal.member)
    auth.login(focal)
    response = client.post(
        f"/events/{event.id}/respond", data={"contact_id": str(own.id), "response": answer}
    )
    assert response.status_code == 400


# -- creating and editing -------------------------------------------------------------------


def test_new_event(db, client, auth, staff):
    auth.login(staff)
    assert client.get("/events/new").status_code == 200

    response = client.post("/events/new", data=event_form())

    assert response.status_code == 302
    event = db.scalar(select(Event).where(Event.title == "Heat plans workshop"))
    assert response.headers["Location"].endswith(f"/events/{event.id}/invite")
    assert event.starts_at == datetime(2027, 6, 10, 8, 0, tzinfo=UTC)
    assert (event.venue, event.city, event.country) == ("City Hall", "Lisbon", "PT")
    assert event.created_by_id == staff.id


def test_end_before_start_is_shown_next_to_the_end(db, client, auth, staff):
    auth.login(staff)
    before = event_count(db)

    response = client.post("/events/new", data=event_form(ends_local="2027-06-10T08:00"))

    assert response.status_code == 200
    assert field_error(response, "ends_local") == "The event ends before it starts."
    body = text(response)
    assert "Please correct the following" in body
    assert '<a href="#ends_local">Ends: The event ends before it starts.</a>' in body
    # What was typed is kept.
    assert 'value="2027-06-10T08:00"' in body
    assert event_count(db) == before


def test_form_errors_are_shown_next_to_their_fields(db, client, auth, staff):
    auth.login(staff)
    closed = WorkingGroupFactory(status=GroupStatus.CLOSED)
    response = client.post(
        "/events/new",
        data=event_form(
            starts_local="2027-03-28T01:30",
            ends_local="2027-03-28T04:00",
            city="",
            meeting_url="https://meet.example/x y",
        ),
    )
    assert response.status_code == 200
    assert "clocks go forward" in field_error(response, "starts_local")
    assert field_error(response, "city") == "Enter the city and country, or tick “Online”."
    assert field_error(response, "meeting_url") == "Enter a web address starting with https://."
    # A closed group is not offered: the form itself refuses it.
    response = client.post("/events/new", data=event_form(group_id=str(closed.id)))
    assert field_error(response, "group_id") == "Not a valid choice."
    assert event_count(db) == 0


def test_half_typed_date_is_explained(db, client, auth, staff):
    auth.login(staff)
    response = client.post("/events/new", data=event_form(starts_local="2027-06-10"))
    assert response.status_code == 200
    assert field_error(response, "starts_local") == (
        "Enter a date and a time, e.g. 2027-03-15 14:00."
    )
    assert event_count(db) == 0


def test_edit_form_shows_the_events_local_times(db, client, auth, staff):
    event = future_event(
        starts_at=datetime(2027, 6, 10, 8, 0, tzinfo=UTC),
        ends_at=datetime(2027, 6, 10, 16, 30, tzinfo=UTC),
        timezone="Europe/Lisbon",
        is_online=False,
        city="Lisbon",
        country="PT",
    )
    auth.login(staff)
    body = text(client.get(f"/events/{event.id}/edit"))
    assert 'value="2027-06-10T09:00"' in body
    assert 'value="2027-06-10T17:30"' in body
    assert '<option selected value="Europe/Lisbon">' in body

    response = client.post(
        f"/events/{event.id}/edit", data=event_form(title="Renamed", ends_local="2027-06-09T10:00")
    )
    assert field_error(response, "ends_local") == "The event ends before it starts."
    db.expire_all()
    assert db.get(Event, event.id).title != "Renamed"

    response = client.post(f"/events/{event.id}/edit", data=event_form(title="Renamed"))
    assert response.status_code == 302
    db.expire_all()
    assert db.get(Event, event.id).title == "Renamed"
    assert db.get(Event, event.id).sequence == 1


def test_cancel_and_reinstate_buttons(db, client, auth, staff):
    event = future_event()
    auth.login(staff)
    assert client.post(f"/events/{event.id}/cancel").status_code == 302
    db.expire_all()
    assert db.get(Event, event.id).is_cancelled
    assert "Cancelled" in text(client.get(f"/events/{event.id}"))
    assert client.post(f"/events/{event.id}/reinstate").status_code == 302
    db.expire_all()
    assert not db.get(Event, event.id).is_cancelled


# -- invitations ----------------------------------------------------------------------------


def test_invite_mails_the_focal_points(db, client, auth, staff, mailbox):
    lisbon, porto, quiet = (MemberFactory(name=n) for n in ("Lisbon", "Porto", "Quiet Town"))
    ContactFactory(member=lisbon, email="focal@lisboa.example", is_primary=True)
    ContactFactory(member=lisbon, email="deputy@lisboa.example")
    ContactFactory(member=lisbon, email="mayor@lisboa.example", role=ContactRole.LEADER)
    ContactFactory(member=porto, email="focal@porto.example")
    ContactFactory(member=quiet, email=None)
    event = future_event(title="Heat plans workshop")
    auth.login(staff)
    assert client.get(f"/events/{event.id}/invite").status_code == 200

    response = client.post(
        f"/events/{event.id}/invite",
        data={
            "audience": "chosen",
            "member_ids": [str(lisbon.id), str(porto.id), str(quiet.id)],
            "notify": "y",
        },
        follow_redirects=True,
    )

    body = text(response)
    assert "3 members invited. 2 e-mails sent." in body
    assert "No focal point with an e-mail address at: Quiet Town." in body
    assert len(mailbox.messages) == 2
    (to_lisbon,) = mailbox.to("focal@lisboa.example")
    assert to_lisbon["To"] == "focal@lisboa.example, deputy@lisboa.example"
    assert to_lisbon["Subject"] == "Invitation: Heat plans workshop"
    mail = to_lisbon.get_payload(decode=True).decode()
    assert "Heat plans workshop" in mail
    assert "invites Lisbon to" in mail
    assert f"http://localhost/events/{event.id}" in mail
    assert mailbox.to("mayor@lisboa.example") == []
    assert len(mailbox.to("focal@porto.example")) == 1
    db.expire_all()
    assert {
        (i.member_id, i.audience)
        for i in db.scalars(select(Invitation).where(Invitation.event_id == event.id))
    } == {(m.id, Audience.CHOSEN) for m in (lisbon, porto, quiet)}


def test_invite_without_mail(db, client, auth, staff, mailbox):
    member = MemberFactory()
    ContactFactory(member=member)
    event = future_event()
    auth.login(staff)
    response = client.post(
        f"/events/{event.id}/invite", data={"audience": "all_active"}, follow_redirects=True
    )
    assert "1 members invited." in text(response)
    assert mailbox.messages == []


def test_invite_errors_are_shown_on_the_form(db, client, auth, staff, mailbox):
    event = future_event()
    auth.login(staff)
    response = client.post(f"/events/{event.id}/invite", data={"audience": "chosen"})
    assert response.status_code == 200
    assert "Choose at least one member." in text(response)
    response = client.post(f"/events/{event.id}/invite", data={"audience": "group"})
    assert field_error(response, "group_id") == "Choose the working group to invite."
    assert db.scalar(select(func.count()).select_from(Invitation)) == 0
    assert mailbox.messages == []


def test_withdraw_button(db, client, auth, staff):
    event = future_event()
    (invitation,) = invite(event, MemberFactory(name="Porto"))
    auth.login(staff)
    response = client.post(
        f"/events/{event.id}/invitations/{invitation.id}/withdraw", follow_redirects=True
    )
    assert "The invitation of Porto is withdrawn." in text(response)
    assert db.scalar(select(func.count()).select_from(Invitation)) == 0
    other = future_event()
    assert (
        client.post(f"/events/{other.id}/invitations/{invitation.id}/withdraw").status_code == 404
    )


# -- attendance -----------------------------------------------------------------------------


def test_attendance_page_and_post(db, client, auth, staff):
    lisbon, porto = MemberFactory(name="Lisbon"), MemberFactory(name="Porto")
    ana, rui = (ContactFactory(member=lisbon, name=n) for n in ("Ana Silva", "Rui Costa"))
    eva = ContactFactory(member=porto, name="Eva Nunes")
    event = past_event()
    invite(event, lisbon, porto)
    auth.login(staff)

    page = client.get(f"/events/{event.id}/attendance")
    assert page.status_code == 200
    body = text(page)
    for contact in (ana, rui, eva):
        assert f'name="attended_contact" value="{contact.id}"' in body
    assert f'name="attended_member" value="{porto.id}"' in body

    response = client.post(
        f"/events/{event.id}/attendance",
        data={
            "shown_contact": [str(ana.id), str(rui.id), str(eva.id)],
            "attended_contact": [str(ana.id)],
            "shown_member": [str(lisbon.id), str(porto.id)],
            "attended_member": [str(porto.id)],
        },
        follow_redirects=True,
    )

    body = text(response)
    assert "Attendance saved: 2 added, 0 changed." in body
    figures = dict(
        (label.strip(), int(n))
        for n, label in re.findall(r'<span class="figure">(\d+)</span>([^<]+)</article>', body)
    )
    assert figures["members attended"] == 2
    assert figures["people attended"] == 1
    db.expire_all()
    rows = {
        (a.member_id, a.contact_id): a.attended
        for a in db.scalars(select(Attendance).where(Attendance.event_id == event.id))
    }
    assert rows == {(lisbon.id, ana.id): True, (porto.id, None): True}
    page = text(client.get(f"/events/{event.id}/attendance"))
    assert f'name="attended_contact" value="{ana.id}" checked' in page


def test_attendance_page_before_the_event(db, client, auth, staff):
    event = future_event()
    invite(event, MemberFactory())
    auth.login(staff)
    body = text(client.get(f"/events/{event.id}/attendance"))
    assert "Attendance can be recorded once the event has started." in body
    assert 'name="attended_contact"' not in body


def test_attendance_of_a_member_not_invited(db, client, auth, staff):
    guest = MemberFactory(name="Braga")
    contact = ContactFactory(member=guest, name="João Reis")
    event = past_event()
    invite(event, MemberFactory())
    auth.login(staff)
    url = f"/events/{event.id}/attendance/uninvited"

    refused = client.post(url, data={"member_id": str(guest.id), "contact_id": str(contact.id)})
    assert refused.status_code == 422
    assert field_error(refused, "reason") == (
        "Braga was not invited: say why it is recorded as attending."
    )
    assert db.scalar(select(func.count()).select_from(Attendance)) == 0

    done = client.post(
        url,
        data={"member_id": str(guest.id), "contact_id": str(contact.id), "reason": "Observer"},
        follow_redirects=True,
    )
    assert "Braga is recorded as attending (not invited)." in text(done)
    assert "(not invited: Observer)" in text(done)
    db.expire_all()
    (row,) = db.scalars(select(Attendance)).all()
    assert (row.member_id, row.contact_id, row.not_invited_reason) == (
        guest.id,
        contact.id,
        "Observer",
    )


# -- calendar page --------------------------------------------------------------------------


def test_calendar_page(db, client, auth, focal):
    auth.login(focal)
    page = text(client.get("/events/calendar"))
    assert "You have no calendar address yet." in page
    assert "Make my calendar address" in page
    made = text(client.post("/events/calendar", data={"action": "create"}))
    assert "webcal://localhost/events/calendar/" in made
    page = text(client.get("/events/calendar"))
    assert "is working" in page
    assert "Make a new address (the old one stops working)" in page
    assert "Revoke the address" in page
