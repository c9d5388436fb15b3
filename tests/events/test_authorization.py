"""Targeted scope checks: a focal point sees its member's events and answers for its people only.

tests/test_permissions.py walks every route; these follow a focal point through real cases.
"""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from secretariat.events.models import (
    Attendance,
    AttendanceImport,
    Event,
    Invitation,
    Registration,
    Response,
    UnmatchedAttendee,
    UnmatchedStatus,
)
from tests.events.conftest import future_event, invite, past_event
from tests.factories import ContactFactory, MemberFactory, UserFactory
from tests.pages import without_tokens


def counts(db) -> dict[str, int]:
    db.expire_all()
    return {
        model.__name__: db.scalar(select(func.count()).select_from(model))
        for model in (Event, Invitation, Registration, Attendance, AttendanceImport)
    }


@pytest.fixture
def other(db):
    member = MemberFactory(name="Other City")
    return ContactFactory(member=member, name="Stranger Person")


def test_events_not_invited_to_are_a_uniform_404(db, client, auth, focal, other):
    hidden = future_event(title="Secret board meeting")
    invite(hidden, other.member)
    own = ContactFactory(member=focal.member)
    auth.login(focal)
    client.get("/events/")  # shows the welcome message
    missing = client.get("/events/999999")

    for url in (f"/events/{hidden.id}", f"/events/{hidden.id}.ics"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert without_tokens(response.data) == without_tokens(missing.data)
    before = counts(db)
    response = client.post(
        f"/events/{hidden.id}/respond", data={"contact_id": str(own.id), "response": "registered"}
    )
    assert response.status_code == 404
    assert counts(db) == before
    assert "Secret board meeting" not in client.get("/events/?when=all").get_data(as_text=True)


def test_a_withdrawn_invitation_withdraws_the_access(db, client, auth, staff, focal):
    event = future_event()
    (invitation,) = invite(event, focal.member)
    auth.login(focal)
    assert client.get(f"/events/{event.id}").status_code == 200
    auth.logout()
    auth.login(staff)
    client.post(f"/events/{event.id}/invitations/{invitation.id}/withdraw")
    auth.logout()
    auth.login(focal)
    assert client.get(f"/events/{event.id}").status_code == 404


def test_cannot_answer_for_another_members_people(db, client, auth, staff, focal, other):
    event = future_event()
    invite(event, focal.member, other.member)
    db.add(
        Registration(
            event_id=event.id,
            member_id=other.member_id,
            contact_id=other.id,
            response=Response.REGISTERED,
            responded_by_id=staff.id,
        )
    )
    db.flush()
    auth.login(focal)

    for answer in ("declined", "none"):
        response = client.post(
            f"/events/{event.id}/respond", data={"contact_id": str(other.id), "response": answer}
        )
        assert response.status_code == 404
    assert (
        client.post(
            f"/events/{event.id}/respond", data={"contact_id": "999999", "response": "declined"}
        ).status_code
        == 404
    )
    db.expire_all()
    (registration,) = db.scalars(select(Registration)).all()
    assert registration.response is Response.REGISTERED


def test_staff_routes_are_404_even_on_an_invited_event(db, client, auth, staff, focal):
    event = past_event()
    invite(event, focal.member)
    contact = ContactFactory(member=focal.member)
    item = UnmatchedAttendee(
        event_id=event.id,
        match_key="guest@x.example",
        email="guest@x.example",
        problem="No contact has this e-mail address.",
        status=UnmatchedStatus.OPEN,
    )
    db.add(item)
    db.flush()
    auth.login(focal)
    before = counts(db)
    base = f"/events/{event.id}"

    for url in (
        "/events/new",
        f"{base}/edit",
        f"{base}/invite",
        f"{base}/attendance",
        f"{base}/attendance/import",
        f"{base}/unmatched/{item.id}",
    ):
        assert client.get(url).status_code == 404, url
    for url, data in (
        (f"{base}/cancel", {}),
        (
            f"{base}/attendance",
            {"shown_contact": str(contact.id), "attended_contact": str(contact.id)},
        ),
        (f"{base}/attendance/uninvited", {"member_id": str(MemberFactory().id), "reason": "x"}),
        (f"{base}/attendance/import", {"file": (io.BytesIO(b"Email\na@x.example\n"), "a.csv")}),
        (f"{base}/attendance/import/{'0' * 32}", {}),
        (f"{base}/unmatched/{item.id}", {"contact_id": str(contact.id)}),
        (f"{base}/unmatched/{item.id}/dismiss", {}),
        (f"{base}/invitations/1/withdraw", {}),
    ):
        assert client.post(url, data=data).status_code == 404, url

    assert counts(db) == before
    db.expire_all()
    assert db.get(UnmatchedAttendee, item.id).status is UnmatchedStatus.OPEN
    assert not db.get(Event, event.id).is_cancelled


def test_funders_see_no_events(db, client, auth):
    event = future_event()
    auth.login(UserFactory(funder_user=True))
    for url in ("/events/", f"/events/{event.id}", f"/events/{event.id}.ics", "/events/calendar"):
        assert client.get(url).status_code == 404, url


def test_signed_out_visitors_are_sent_to_sign_in(db, client):
    event = future_event()
    for url in ("/events/", f"/events/{event.id}", f"/events/{event.id}.ics"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/sign-in" in response.headers["Location"]
