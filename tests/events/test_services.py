"""Event services: validation, invitations frozen when sent, answers and attendance."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from secretariat.db import utcnow
from secretariat.events import queries, services
from secretariat.events.models import (
    Attendance,
    AttendanceSource,
    Audience,
    Event,
    EventType,
    Invitation,
    Registration,
    Response,
)
from secretariat.events.services import EventData
from secretariat.groups.models import GroupStatus
from secretariat.members.models import MemberStatus
from secretariat.members.services import ValidationFailed
from secretariat.permissions import OutOfScope
from tests.events.conftest import future_event, invite, past_event
from tests.factories import (
    ContactFactory,
    GroupMembershipFactory,
    MemberFactory,
    WorkingGroupFactory,
)


def event_data(**overrides) -> EventData:
    values = {
        "title": "Heat plans workshop",
        "event_type": EventType.WORKSHOP,
        "starts_local": datetime(2027, 6, 10, 9, 0),
        "ends_local": datetime(2027, 6, 10, 17, 30),
        "timezone": "Europe/Lisbon",
        "city": "Lisbon",
        "country": "PT",
    }
    values.update(overrides)
    return EventData(**values)


def event_count(db) -> int:
    return db.scalar(select(func.count()).select_from(Event))


def refused(db, staff, data: EventData) -> dict[str, str]:
    before = event_count(db)
    with pytest.raises(ValidationFailed) as caught:
        services.create_event(db, staff, data)
    assert event_count(db) == before
    return caught.value.errors


def invited_ids(db, event) -> set[int]:
    return set(db.scalars(select(Invitation.member_id).where(Invitation.event_id == event.id)))


# -- creating and editing -------------------------------------------------------------------


def test_create_event_stores_utc_from_the_events_zone(db, staff):
    event = services.create_event(db, staff, event_data(title="  Heat   plans  "))

    assert event.title == "Heat plans"
    # Lisbon is on summer time (UTC+1) in June.
    assert event.starts_at == datetime(2027, 6, 10, 8, 0, tzinfo=UTC)
    assert event.ends_at == datetime(2027, 6, 10, 16, 30, tzinfo=UTC)
    assert event.sequence == 0
    assert event.created_by_id == staff.id
    db.expire_all()
    stored = db.get(Event, event.id)
    assert stored.starts_at == datetime(2027, 6, 10, 8, 0, tzinfo=UTC)
    assert stored.starts_at.tzinfo is not None


@pytest.mark.parametrize("app_overrides", [{"TIMEZONE": "America/Sao_Paulo"}])
def test_event_without_zone_uses_the_networks(db, staff):
    event = services.create_event(db, staff, event_data(timezone=None))
    assert event.timezone is None
    assert event.starts_at == datetime(2027, 6, 10, 12, 0, tzinfo=UTC)


def test_end_before_start_is_refused_on_the_end(db, staff):
    errors = refused(db, staff, event_data(ends_local=datetime(2027, 6, 10, 8, 0)))
    assert errors == {"ends_local": "The event ends before it starts."}


def test_time_skipped_by_the_clock_change_is_refused(db, staff):
    # Lisbon goes from 01:00 to 02:00 on 28 March 2027: 01:30 never happens there.
    errors = refused(
        db,
        staff,
        event_data(
            starts_local=datetime(2027, 3, 28, 1, 30), ends_local=datetime(2027, 3, 28, 4, 0)
        ),
    )
    assert set(errors) == {"starts_local"}
    assert "Europe/Lisbon" in errors["starts_local"]
    assert "clocks go forward" in errors["starts_local"]


def test_time_repeated_by_the_clock_change_takes_its_first_occurrence(db, staff):
    # Lisbon goes back from 02:00 to 01:00 on 31 October 2027: 01:30 happens twice.
    event = services.create_event(
        db,
        staff,
        event_data(
            starts_local=datetime(2027, 10, 31, 1, 30), ends_local=datetime(2027, 10, 31, 3, 0)
        ),
    )
    assert event.starts_at == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
    assert event.ends_at == datetime(2027, 10, 31, 3, 0, tzinfo=UTC)


def test_place_or_online_is_required(db, staff):
    errors = refused(db, staff, event_data(city="", country=None))
    assert errors == {"city": "Enter the city and country, or tick “Online”."}
    assert refused(db, staff, event_data(country=None))["city"]

    event = services.create_event(
        db, staff, event_data(city=None, country=None, is_online=True, timezone=None)
    )
    assert event.is_online and event.city is None


@pytest.mark.parametrize(
    "url", ["zoom.example/j/123", "ftp://files.example/x", "https://", "https://a b.example"]
)
def test_bad_meeting_url_is_refused(db, staff, url):
    errors = refused(db, staff, event_data(is_online=True, meeting_url=url))
    assert errors == {"meeting_url": "Enter a web address starting with https://."}


def test_several_problems_are_reported_together(db, staff):
    errors = refused(
        db,
        staff,
        event_data(title=" ", timezone="Europe/Atlantis", country="XX", starts_local=None),
    )
    assert set(errors) == {"title", "timezone", "starts_local", "country"}


def test_an_event_lasts_at_most_31_days(db, staff):
    errors = refused(db, staff, event_data(ends_local=datetime(2027, 7, 12, 9, 0)))
    assert "at most 31 days" in errors["ends_local"]


def test_closed_group_is_refused_but_kept_on_an_edit(db, staff):
    closed = WorkingGroupFactory(status=GroupStatus.CLOSED)
    assert refused(db, staff, event_data(group_id=closed.id)) == {
        "group_id": "Choose an active working group."
    }
    assert "group_id" in refused(db, staff, event_data(group_id=999_999))

    group = WorkingGroupFactory()
    event = services.create_event(db, staff, event_data(group_id=group.id))
    group.status = GroupStatus.CLOSED
    db.flush()
    # The group closed after the event was planned: editing the event keeps it.
    services.update_event(db, staff, event, event_data(group_id=group.id, title="Renamed"))
    assert event.title == "Renamed"
    assert event.group_id == group.id


def test_unknown_host_member_is_refused(db, staff):
    assert set(refused(db, staff, event_data(host_member_id=999_999))) == {"host_member_id"}


def test_update_bumps_the_sequence_and_validates(db, staff):
    event = services.create_event(db, staff, event_data())
    services.update_event(db, staff, event, event_data(ends_local=datetime(2027, 6, 10, 18, 0)))
    assert event.sequence == 1
    assert event.ends_at == datetime(2027, 6, 10, 17, 0, tzinfo=UTC)

    with pytest.raises(ValidationFailed) as caught:
        services.update_event(db, staff, event, event_data(ends_local=datetime(2027, 6, 9, 18, 0)))
    assert set(caught.value.errors) == {"ends_local"}
    assert event.sequence == 1
    assert event.ends_at == datetime(2027, 6, 10, 17, 0, tzinfo=UTC)


def test_cancel_and_reinstate(db, staff):
    event = future_event()
    services.cancel_event(db, staff, event)
    assert event.is_cancelled and event.sequence == 1
    with pytest.raises(ValidationFailed):
        services.cancel_event(db, staff, event)
    services.reinstate_event(db, staff, event)
    assert not event.is_cancelled and event.sequence == 2
    with pytest.raises(ValidationFailed):
        services.reinstate_event(db, staff, event)


def test_a_held_event_cannot_be_cancelled(db, staff):
    event = past_event()
    with pytest.raises(ValidationFailed):
        services.cancel_event(db, staff, event)
    assert not event.is_cancelled


def test_focal_points_cannot_manage_events(db, focal):
    with pytest.raises(OutOfScope):
        services.create_event(db, focal, event_data())
    event = future_event()
    with pytest.raises(OutOfScope):
        services.update_event(db, focal, event, event_data())
    with pytest.raises(OutOfScope):
        services.cancel_event(db, focal, event)
    with pytest.raises(OutOfScope):
        services.invite(db, focal, event, Audience.CHOSEN, member_ids=[focal.member_id])


# -- invitations ----------------------------------------------------------------------------


def test_invite_all_active_members(db, staff):
    active = MemberFactory.create_batch(3)
    MemberFactory(status=MemberStatus.SUSPENDED)
    MemberFactory(status=MemberStatus.APPLICANT)
    MemberFactory(status=MemberStatus.EXITED)
    event = future_event()

    added = services.invite(db, staff, event, Audience.ALL_ACTIVE)

    assert {i.member_id for i in added} == {m.id for m in active}
    assert invited_ids(db, event) == {m.id for m in active}
    assert {i.audience for i in added} == {Audience.ALL_ACTIVE}
    assert {i.invited_by_id for i in added} == {staff.id}


def test_group_invitation_is_frozen_when_sent(db, staff):
    group = WorkingGroupFactory()
    stays, leaves = MemberFactory.create_batch(2)
    GroupMembershipFactory(group=group, member=stays)
    leaving = GroupMembershipFactory(group=group, member=leaves)
    GroupMembershipFactory(group=group, left_on=date(2023, 1, 1))  # left long ago
    event = future_event(group=group)

    services.invite(db, staff, event, Audience.GROUP, group_id=group.id)
    assert invited_ids(db, event) == {stays.id, leaves.id}

    # The group changes afterwards: the invitation list does not.
    leaving.left_on = date.today()
    newcomer = GroupMembershipFactory(group=group).member
    db.flush()
    assert invited_ids(db, event) == {stays.id, leaves.id}

    # Inviting the group again adds only the newcomer; those invited already are skipped.
    added = services.invite(db, staff, event, Audience.GROUP, group_id=group.id)
    assert [i.member_id for i in added] == [newcomer.id]
    assert invited_ids(db, event) == {stays.id, leaves.id, newcomer.id}


def test_invite_chosen_members_skips_those_invited(db, staff):
    first, second, third = MemberFactory.create_batch(3)
    event = future_event()
    services.invite(db, staff, event, Audience.CHOSEN, member_ids=[first.id])

    added = services.invite(
        db, staff, event, Audience.CHOSEN, member_ids=[first.id, second.id, third.id]
    )
    assert {i.member_id for i in added} == {second.id, third.id}
    assert (
        db.scalar(
            select(func.count()).select_from(Invitation).where(Invitation.event_id == event.id)
        )
        == 3
    )

    with pytest.raises(ValidationFailed) as caught:
        services.invite(db, staff, event, Audience.CHOSEN, member_ids=[first.id, second.id])
    assert "already invited" in caught.value.errors["audience"]


@pytest.mark.parametrize(
    ("audience", "kwargs", "field"),
    [
        (Audience.CHOSEN, {}, "member_ids"),
        (Audience.CHOSEN, {"member_ids": [999_999]}, "member_ids"),
        (Audience.GROUP, {}, "group_id"),
        (Audience.GROUP, {"group_id": 999_999}, "group_id"),
    ],
)
def test_invite_refuses_an_unclear_audience(db, staff, audience, kwargs, field):
    MemberFactory()
    event = future_event()
    with pytest.raises(ValidationFailed) as caught:
        services.invite(db, staff, event, audience, **kwargs)
    assert field in caught.value.errors
    assert invited_ids(db, event) == set()


def test_invite_to_a_cancelled_event_is_refused(db, staff):
    member = MemberFactory()
    event = future_event(cancelled_at=utcnow())
    with pytest.raises(ValidationFailed) as caught:
        services.invite(db, staff, event, Audience.CHOSEN, member_ids=[member.id])
    assert caught.value.errors["audience"] == "The event is cancelled."
    assert invited_ids(db, event) == set()


def test_withdraw_removes_the_invitation_and_its_answers(db, staff):
    member, other = MemberFactory.create_batch(2)
    contact = ContactFactory(member=member)
    other_contact = ContactFactory(member=other)
    event = future_event()
    invitation, _other = invite(event, member, other)
    services.respond(db, staff, event, contact, Response.REGISTERED)
    services.respond(db, staff, event, other_contact, Response.REGISTERED)

    services.withdraw_invitation(db, staff, invitation)

    assert invited_ids(db, event) == {other.id}
    assert set(
        db.scalars(select(Registration.contact_id).where(Registration.event_id == event.id))
    ) == {other_contact.id}


def test_withdraw_is_refused_once_the_event_started(db, staff):
    event = past_event()
    (invitation,) = invite(event, MemberFactory())
    with pytest.raises(ValidationFailed):
        services.withdraw_invitation(db, staff, invitation)
    assert invited_ids(db, event) == {invitation.member_id}


def test_visible_event_hides_events_a_focal_point_is_not_invited_to(db, staff, focal):
    mine, other = future_event(), future_event()
    invite(mine, focal.member)
    assert services.visible_event(db, focal, mine.id) is mine
    with pytest.raises(OutOfScope):
        services.visible_event(db, focal, other.id)
    with pytest.raises(OutOfScope):
        services.visible_event(db, focal, 999_999)
    assert services.visible_event(db, staff, other.id) is other


# -- answers --------------------------------------------------------------------------------


def registration_of(db, event, contact) -> Registration | None:
    return db.scalar(
        select(Registration).where(
            Registration.event_id == event.id, Registration.contact_id == contact.id
        )
    )


def test_focal_point_registers_declines_and_clears_its_own_people(db, focal):
    colleague = ContactFactory(member=focal.member)
    event = future_event()
    invite(event, focal.member)

    services.respond(db, focal, event, colleague, Response.REGISTERED)
    row = registration_of(db, event, colleague)
    assert row.response is Response.REGISTERED
    assert row.member_id == focal.member_id and row.responded_by_id == focal.id

    services.respond(db, focal, event, colleague, Response.DECLINED)
    assert registration_of(db, event, colleague).response is Response.DECLINED
    assert db.scalar(select(func.count()).select_from(Registration)) == 1

    assert services.respond(db, focal, event, colleague, None) is None
    assert registration_of(db, event, colleague) is None
    # Clearing an answer that does not exist is harmless.
    assert services.respond(db, focal, event, colleague, None) is None


def test_focal_point_cannot_answer_for_another_member(db, focal):
    other = MemberFactory()
    stranger = ContactFactory(member=other)
    event = future_event()
    invite(event, focal.member, other)
    with pytest.raises(OutOfScope):
        services.respond(db, focal, event, stranger, Response.REGISTERED)
    assert registration_of(db, event, stranger) is None


def test_focal_point_cannot_answer_for_an_event_it_is_not_invited_to(db, focal):
    own = ContactFactory(member=focal.member)
    event = future_event()
    invite(event, MemberFactory())
    with pytest.raises(OutOfScope):
        services.respond(db, focal, event, own, Response.REGISTERED)
    assert registration_of(db, event, own) is None


def test_staff_answering_for_a_member_not_invited_is_told_why(db, staff):
    contact = ContactFactory()
    event = future_event()
    with pytest.raises(ValidationFailed) as caught:
        services.respond(db, staff, event, contact, Response.REGISTERED)
    assert caught.value.errors == {"contact": f"{contact.member.name} is not invited."}


def test_answers_close_when_the_event_starts(db, focal):
    own = ContactFactory(member=focal.member)
    event = past_event(ends_at=utcnow() + timedelta(days=1))
    invite(event, focal.member)
    with pytest.raises(ValidationFailed) as caught:
        services.respond(db, focal, event, own, Response.REGISTERED)
    assert caught.value.errors == {"contact": "The event has started; answers are closed."}


def test_no_answers_for_a_cancelled_event(db, focal):
    own = ContactFactory(member=focal.member)
    event = future_event(cancelled_at=utcnow())
    invite(event, focal.member)
    with pytest.raises(ValidationFailed):
        services.respond(db, focal, event, own, Response.REGISTERED)


def test_a_former_contact_cannot_be_registered(db, staff):
    gone = ContactFactory(active_to=date(2024, 12, 31))
    event = future_event()
    invite(event, gone.member)
    with pytest.raises(ValidationFailed) as caught:
        services.respond(db, staff, event, gone, Response.REGISTERED)
    assert "not a current contact" in caught.value.errors["contact"]


# -- attendance -----------------------------------------------------------------------------


def record(db, staff, event, *, contacts=(), attended=(), members=(), attended_members=()):
    return services.record_attendance(
        db,
        staff,
        event,
        shown_contacts={c.id for c in contacts},
        attended_contacts={c.id for c in attended},
        shown_members={m.id for m in members},
        attended_members={m.id for m in attended_members},
    )


def attended_members(db, event) -> set[int]:
    db.expire_all()
    overview = queries.event_overview(db, event)
    return {line.member.id for line in overview.lines if line.attended}


def test_record_attendance_ticks_and_unticks(db, staff):
    lisbon, porto = MemberFactory.create_batch(2)
    ana, rui = ContactFactory.create_batch(2, member=lisbon)
    eva = ContactFactory(member=porto)
    event = past_event()
    invite(event, lisbon, porto)
    shown = {"contacts": (ana, rui, eva), "members": (lisbon, porto)}

    change = record(db, staff, event, attended=(ana,), **shown)
    assert (change.added, change.changed) == (1, 0)
    # A member counts as attended when any of its people did.
    assert attended_members(db, event) == {lisbon.id}
    row = db.scalar(select(Attendance).where(Attendance.contact_id == ana.id))
    assert row.attended and row.source is AttendanceSource.MANUAL
    assert row.member_id == lisbon.id and row.recorded_by_id == staff.id

    # Saving the same ticks again changes nothing.
    change = record(db, staff, event, attended=(ana,), **shown)
    assert (change.added, change.changed) == (0, 0)

    # "Someone, not known who" for Porto; Ana unticked: recorded as not attended.
    change = record(db, staff, event, attended=(), attended_members=(porto,), **shown)
    assert (change.added, change.changed) == (1, 1)
    assert attended_members(db, event) == {porto.id}
    assert db.scalar(select(Attendance).where(Attendance.contact_id == ana.id)).attended is False
    member_row = db.scalar(
        select(Attendance).where(Attendance.member_id == porto.id, Attendance.contact_id.is_(None))
    )
    assert member_row.attended is True
    assert db.scalar(select(func.count()).select_from(Attendance)) == 2


def test_unticking_only_touches_the_people_shown(db, staff):
    member = MemberFactory()
    ana, rui = ContactFactory.create_batch(2, member=member)
    event = past_event()
    invite(event, member)
    record(db, staff, event, contacts=(ana, rui), attended=(ana, rui))

    record(db, staff, event, contacts=(rui,), attended=())

    db.expire_all()
    rows = {
        a.contact_id: a.attended
        for a in db.scalars(select(Attendance).where(Attendance.event_id == event.id))
    }
    assert rows == {ana.id: True, rui.id: False}


def test_attendance_waits_for_the_event_to_start(db, staff):
    member = MemberFactory()
    contact = ContactFactory(member=member)
    event = future_event()
    invite(event, member)
    with pytest.raises(ValidationFailed) as caught:
        record(db, staff, event, contacts=(contact,), attended=(contact,))
    assert "once the event has started" in caught.value.errors["attendance"]
    cancelled = past_event(cancelled_at=utcnow())
    invite(cancelled, member)
    with pytest.raises(ValidationFailed):
        record(db, staff, cancelled, contacts=(contact,), attended=(contact,))
    assert db.scalar(select(func.count()).select_from(Attendance)) == 0


def test_attendance_list_of_a_member_not_invited_is_refused(db, staff):
    invited, stranger = MemberFactory.create_batch(2)
    own = ContactFactory(member=invited)
    other = ContactFactory(member=stranger)
    event = past_event()
    invite(event, invited)
    with pytest.raises(ValidationFailed) as caught:
        record(db, staff, event, contacts=(own, other), attended=(own, other))
    assert "changed since it was shown" in caught.value.errors["attendance"]
    with pytest.raises(ValidationFailed):
        record(db, staff, event, members=(stranger,), attended_members=(stranger,))
    assert db.scalar(select(func.count()).select_from(Attendance)) == 0


def test_uninvited_attendance_needs_a_reason(db, staff):
    invited, guest = MemberFactory.create_batch(2)
    guest_contact = ContactFactory(member=guest)
    event = past_event()
    invite(event, invited)

    with pytest.raises(ValidationFailed) as caught:
        services.add_uninvited_attendance(db, staff, event, guest, guest_contact, "  ")
    assert set(caught.value.errors) == {"reason"}
    assert db.scalar(select(func.count()).select_from(Attendance)) == 0

    row = services.add_uninvited_attendance(
        db, staff, event, guest, guest_contact, " Came with the mayor's delegation "
    )
    assert row.attended and row.contact_id == guest_contact.id
    assert row.not_invited_reason == "Came with the mayor's delegation"
    assert attended_members(db, event) == {guest.id}
    line = next(
        line for line in queries.event_overview(db, event).lines if line.member.id == guest.id
    )
    assert line.invitation is None
    assert line.not_invited_reason == "Came with the mayor's delegation"

    # Once recorded, the member may be ticked and unticked in the list like the others.
    record(db, staff, event, contacts=(guest_contact,), attended=())
    assert attended_members(db, event) == set()


def test_uninvited_attendance_of_the_member_only(db, staff):
    guest = MemberFactory()
    event = past_event()
    row = services.add_uninvited_attendance(db, staff, event, guest, None, "Sent an observer")
    assert row.contact_id is None and row.member_id == guest.id
    # Recording it again updates the same row.
    again = services.add_uninvited_attendance(db, staff, event, guest, None, "An observer")
    assert again.id == row.id and again.not_invited_reason == "An observer"


def test_uninvited_attendance_refuses_invited_members_and_foreign_contacts(db, staff):
    invited, guest = MemberFactory.create_batch(2)
    foreign = ContactFactory(member=invited)
    event = past_event()
    invite(event, invited)

    with pytest.raises(ValidationFailed) as caught:
        services.add_uninvited_attendance(db, staff, event, invited, None, "Because")
    assert set(caught.value.errors) == {"member_id"}
    with pytest.raises(ValidationFailed) as caught:
        services.add_uninvited_attendance(db, staff, event, guest, foreign, "Because")
    assert set(caught.value.errors) == {"contact_id"}
    with pytest.raises(ValidationFailed):
        services.add_uninvited_attendance(db, staff, future_event(), guest, None, "Because")


def test_focal_points_cannot_record_attendance(db, focal):
    event = past_event()
    invite(event, focal.member)
    with pytest.raises(OutOfScope):
        record(db, focal, event, members=(focal.member,), attended_members=(focal.member,))
    with pytest.raises(OutOfScope):
        services.add_uninvited_attendance(db, focal, event, MemberFactory(), None, "x")
