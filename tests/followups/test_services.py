"""Follow-up services: validation, status moves and recurring series."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from secretariat.followups import services
from secretariat.followups.models import FollowUp, FollowUpStatus, Priority, Recurrence
from secretariat.followups.services import FollowUpData
from secretariat.members.services import ValidationFailed
from secretariat.permissions import OutOfScope
from tests.factories import EventFactory, MemberFactory, UserFactory, WorkingGroupFactory
from tests.followups.factories import (
    AgreementFactory,
    FollowUpFactory,
    days,
    focal_point,
    follow_up_count,
    fresh,
    today,
)


@pytest.fixture
def staff(db):
    return UserFactory(name="Sofia Staff")


def data(owner, **overrides) -> FollowUpData:
    values = {"title": "Send the minutes", "owner_id": owner.id, "due_on": days(10)}
    values.update(overrides)
    return FollowUpData(**values)


def refused(db, staff, follow_up_data: FollowUpData) -> dict[str, str]:
    """The errors of a create that must fail; checks that nothing was written."""
    before = follow_up_count(db)
    with pytest.raises(ValidationFailed) as caught:
        services.create_follow_up(db, staff, follow_up_data)
    assert follow_up_count(db) == before
    return caught.value.errors


# -- creating ---------------------------------------------------------------------------------


def test_create_a_follow_up(db, staff):
    member = MemberFactory()
    follow_up = services.create_follow_up(
        db,
        staff,
        data(
            staff,
            title="  Send   the minutes ",
            description="First line\r\nsecond line\n",
            member_id=member.id,
            priority=Priority.HIGH,
        ),
    )
    stored = fresh(db, follow_up)
    assert stored.title == "Send the minutes"
    assert stored.description == "First line\nsecond line"
    assert stored.status is FollowUpStatus.OPEN
    assert stored.owner_id == staff.id
    assert stored.member_id == member.id
    assert stored.priority is Priority.HIGH
    assert stored.series_start == stored.due_on == days(10)
    assert stored.occurrence == 1
    assert stored.created_by_id == staff.id


@pytest.mark.parametrize("title", ["", "   ", "\n\t"])
def test_empty_title_is_refused(db, staff, title):
    assert refused(db, staff, data(staff, title=title)) == {"title": "Say what is to be done."}


@pytest.mark.parametrize("title", ["Send\x00 the minutes", "Send the \u202eminutes"])
def test_control_characters_in_the_title_are_refused(db, staff, title):
    errors = refused(db, staff, data(staff, title=title))
    assert errors == {"title": "Remove the invisible control characters from the title."}


def test_too_long_title_is_refused(db, staff):
    assert "300 characters" in refused(db, staff, data(staff, title="x" * 301))["title"]


def test_owner_is_required(db, staff):
    assert refused(db, staff, data(staff, owner_id=None)) == {"owner_id": "Choose who will do it."}


@pytest.mark.parametrize(
    "owner_kwargs", [{"funder_user": True}, {"is_active": False}], ids=["funder", "deactivated"]
)
def test_owner_must_be_active_staff_or_focal_point(db, staff, owner_kwargs):
    owner = UserFactory(**owner_kwargs)
    errors = refused(db, staff, data(owner))
    assert errors == {"owner_id": "Choose an active member of staff or a focal point as the owner."}


def test_unknown_owner_and_member_are_refused(db, staff):
    errors = refused(db, staff, data(staff, owner_id=999_999, member_id=999_999))
    assert set(errors) == {"owner_id", "member_id"}


def test_focal_point_owns_only_their_own_members_follow_ups(db, staff):
    focal = focal_point()
    other = MemberFactory()
    errors = refused(db, staff, data(focal, member_id=other.id))
    assert set(errors) == {"member_id"}
    assert "focal point of another member" in errors["member_id"]

    follow_up = services.create_follow_up(db, staff, data(focal))
    assert follow_up.member_id == focal.member_id


def test_one_source_at_most(db, staff):
    event = EventFactory()
    group = WorkingGroupFactory()
    errors = refused(db, staff, data(staff, event_id=event.id, group_id=group.id))
    assert errors == {"source": "Choose one source at most: an event, an agreement or a group."}


def test_each_source_kind(db, staff):
    event, group, agreement = EventFactory(), WorkingGroupFactory(), AgreementFactory()
    for source in ({"event_id": event.id}, {"group_id": group.id}, {"agreement_id": agreement.id}):
        follow_up = services.create_follow_up(db, staff, data(staff, due_on=days(30), **source))
        assert follow_up.source_kind.value == next(iter(source)).removesuffix("_id")
    assert refused(db, staff, data(staff, group_id=999_999)) == {
        "group_id": "Choose a working group from the list."
    }


def test_due_date_and_series_end(db, staff):
    assert refused(db, staff, data(staff, due_on=None)) == {"due_on": "Enter the day it is due."}
    errors = refused(
        db,
        staff,
        data(staff, recurrence=Recurrence.MONTHLY, due_on=days(10), repeat_until=days(9)),
    )
    assert errors == {"repeat_until": "The series cannot end before the first due day."}
    follow_up = services.create_follow_up(db, staff, data(staff, repeat_until=days(1)))
    assert follow_up.repeat_until is None  # it does not repeat, so no end


def test_unreadable_fields_are_reported_with_the_others(db, staff):
    errors = refused(
        db, staff, data(staff, title="", due_on=None, unreadable={"due_on": "Enter a date."})
    )
    assert errors == {"due_on": "Enter a date.", "title": "Say what is to be done."}


def test_only_staff_create(db):
    focal = focal_point()
    with pytest.raises(OutOfScope):
        services.create_follow_up(db, focal, data(focal))
    assert follow_up_count(db) == 0


# -- the event's day, in the network's or the event's zone ----------------------------------

#: 20:00 UTC on 10 March is already 10:00 on 11 March at Kiritimati (UTC+14).
LATE_EVENING_UTC = datetime(2027, 3, 10, 20, 0, tzinfo=UTC)


@pytest.mark.parametrize("app_overrides", [{"TIMEZONE": "Pacific/Kiritimati"}])
def test_due_before_the_event_day_in_the_networks_zone_is_refused(db, staff):
    event = EventFactory(starts_at=LATE_EVENING_UTC, timezone=None)
    errors = refused(db, staff, data(staff, event_id=event.id, due_on=date(2027, 3, 10)))
    assert errors == {
        "due_on": "The event takes place on Mar 11, 2027; a follow-up is due on that day or later."
    }
    follow_up = services.create_follow_up(
        db, staff, data(staff, event_id=event.id, due_on=date(2027, 3, 11))
    )
    assert follow_up.event_id == event.id


def test_due_before_the_event_day_in_the_events_own_zone_is_refused(db, staff):
    utc_event = EventFactory(starts_at=LATE_EVENING_UTC, timezone=None)
    services.create_follow_up(
        db, staff, data(staff, event_id=utc_event.id, due_on=date(2027, 3, 10))
    )
    far_event = EventFactory(starts_at=LATE_EVENING_UTC, timezone="Pacific/Kiritimati")
    errors = refused(db, staff, data(staff, event_id=far_event.id, due_on=date(2027, 3, 10)))
    assert set(errors) == {"due_on"}
    assert services.event_day(far_event) == date(2027, 3, 11)


# -- several at once ------------------------------------------------------------------------


def test_create_several_at_once(db, staff):
    event = EventFactory()
    rows = [
        data(staff, title="Share the slides", event_id=event.id, due_on=days(20)),
        data(staff, title="Draft the report", event_id=event.id, due_on=days(21)),
    ]
    created = services.create_follow_ups(db, staff, rows)
    assert [f.title for f in created] == ["Share the slides", "Draft the report"]
    assert follow_up_count(db) == 2


def test_one_bad_row_blocks_all(db, staff):
    event = EventFactory()
    rows = [
        data(staff, title="Share the slides", event_id=event.id, due_on=days(20)),
        data(staff, title="", event_id=event.id, due_on=days(21)),
        data(staff, title="Draft the report", event_id=event.id, due_on=days(1)),
    ]
    with pytest.raises(ValidationFailed) as caught:
        services.create_follow_ups(db, staff, rows)
    assert set(caught.value.errors) == {"1.title", "2.due_on"}
    assert follow_up_count(db) == 0


def test_no_rows_is_refused(db, staff):
    with pytest.raises(ValidationFailed) as caught:
        services.create_follow_ups(db, staff, [])
    assert caught.value.errors == {"rows": "Fill in at least one row."}


# -- editing ----------------------------------------------------------------------------------


def test_edit_keeps_a_deactivated_owner_but_cannot_give_it_to_one(db, staff):
    owner = UserFactory()
    follow_up = services.create_follow_up(db, staff, data(owner))
    owner.is_active = False
    db.flush()
    services.update_follow_up(db, staff, follow_up, data(owner, title="Send the final minutes"))
    assert fresh(db, follow_up).title == "Send the final minutes"

    other = services.create_follow_up(db, staff, data(staff))
    with pytest.raises(ValidationFailed) as caught:
        services.update_follow_up(db, staff, other, data(owner))
    assert set(caught.value.errors) == {"owner_id"}


def test_a_new_due_day_restarts_the_series(db, staff):
    follow_up = FollowUpFactory(
        recurrence=Recurrence.MONTHLY,
        due_on=date(2027, 3, 31),
        series_start=date(2027, 1, 31),
        occurrence=3,
        owner=staff,
    )
    services.update_follow_up(
        db, staff, follow_up, data(staff, due_on=date(2027, 4, 5), recurrence=Recurrence.MONTHLY)
    )
    assert (follow_up.due_on, follow_up.series_start, follow_up.occurrence) == (
        date(2027, 4, 5),
        date(2027, 4, 5),
        1,
    )


# -- status moves -----------------------------------------------------------------------------


def test_start(db, staff):
    follow_up = FollowUpFactory(owner=staff)
    services.start(db, staff, follow_up)
    assert fresh(db, follow_up).status is FollowUpStatus.IN_PROGRESS
    with pytest.raises(ValidationFailed) as caught:
        services.start(db, staff, follow_up)
    assert caught.value.errors == {"status": "Only an open follow-up can be started."}


def test_complete(db, staff):
    follow_up = FollowUpFactory(owner=staff, status=FollowUpStatus.IN_PROGRESS)
    assert services.complete(db, staff, follow_up, today(), "  Minutes sent.  ") is None
    stored = fresh(db, follow_up)
    assert stored.status is FollowUpStatus.DONE
    assert stored.completed_on == today()
    assert stored.completion_note == "Minutes sent."
    assert follow_up_count(db) == 1


def test_complete_in_advance_or_without_a_day_is_refused(db, staff):
    follow_up = FollowUpFactory(owner=staff)
    for day, message in (
        (today() + timedelta(days=1), "Record it on the day it happens, not in advance."),
        (None, "Enter the day."),
    ):
        with pytest.raises(ValidationFailed) as caught:
            services.complete(db, staff, follow_up, day, None)
        assert caught.value.errors == {"completed_on": message}
        assert fresh(db, follow_up).status is FollowUpStatus.OPEN


def test_closed_follow_up_cannot_be_closed_again(db, staff):
    follow_up = FollowUpFactory(owner=staff, status=FollowUpStatus.DONE, completed_on=today())
    with pytest.raises(ValidationFailed) as caught:
        services.complete(db, staff, follow_up, today(), None)
    assert set(caught.value.errors) == {"status"}
    with pytest.raises(ValidationFailed):
        services.cancel(db, staff, follow_up, today(), "No longer needed.")


def test_cancel_needs_a_note(db, staff):
    follow_up = FollowUpFactory(owner=staff)
    for note in (None, "   "):
        with pytest.raises(ValidationFailed) as caught:
            services.cancel(db, staff, follow_up, today(), note)
        assert caught.value.errors == {"note": "Say why it is cancelled."}
    assert fresh(db, follow_up).status is FollowUpStatus.OPEN

    services.cancel(db, staff, follow_up, today(), "The partner withdrew.")
    stored = fresh(db, follow_up)
    assert stored.status is FollowUpStatus.CANCELLED
    assert stored.completion_note == "The partner withdrew."
    assert stored.completed_on == today()


def test_reopen(db, staff):
    follow_up = FollowUpFactory(
        owner=staff, status=FollowUpStatus.DONE, completed_on=today(), completion_note="Sent."
    )
    services.reopen(db, staff, follow_up)
    stored = fresh(db, follow_up)
    assert (stored.status, stored.completed_on, stored.completion_note) == (
        FollowUpStatus.OPEN,
        None,
        None,
    )
    with pytest.raises(ValidationFailed) as caught:
        services.reopen(db, staff, follow_up)
    assert caught.value.errors == {"status": "This follow-up is still open."}


def test_focal_points_move_their_own_and_their_members_follow_ups_only(db, staff):
    focal = focal_point()
    own = FollowUpFactory(owner=focal, member=focal.member)
    about_member = FollowUpFactory(owner=staff, member=focal.member)
    elsewhere = FollowUpFactory(owner=staff, member=MemberFactory())
    services.start(db, focal, own)
    services.complete(db, focal, about_member, today(), None)
    for move in (
        lambda: services.start(db, focal, elsewhere),
        lambda: services.complete(db, focal, elsewhere, today(), None),
        lambda: services.cancel(db, focal, elsewhere, today(), "No."),
        lambda: services.visible_follow_up(db, focal, elsewhere.id),
    ):
        with pytest.raises(OutOfScope):
            move()
    assert fresh(db, elsewhere).status is FollowUpStatus.OPEN
    with pytest.raises(OutOfScope):
        services.visible_follow_up(db, staff, 999_999)


def test_funders_move_nothing(db, staff):
    funder = UserFactory(funder_user=True)
    follow_up = FollowUpFactory(owner=staff)
    with pytest.raises(OutOfScope):
        services.visible_follow_up(db, funder, follow_up.id)
    with pytest.raises(OutOfScope):
        services.start(db, funder, follow_up)


# -- recurring series -------------------------------------------------------------------------


def recurring(staff, recurrence: Recurrence, due_on: date, **kwargs) -> FollowUp:
    return FollowUpFactory(
        owner=staff,
        recurrence=recurrence,
        due_on=due_on,
        series_start=due_on,
        **kwargs,
    )


@pytest.mark.parametrize(
    ("recurrence", "expected"),
    [
        (Recurrence.WEEKLY, date(2027, 1, 22)),
        (Recurrence.MONTHLY, date(2027, 2, 15)),
        (Recurrence.QUARTERLY, date(2027, 4, 15)),
        (Recurrence.YEARLY, date(2028, 1, 15)),
    ],
)
def test_next_occurrence_due_dates(db, staff, recurrence, expected):
    member, group = MemberFactory(), WorkingGroupFactory()
    first = recurring(
        staff, recurrence, date(2027, 1, 15), member=member, group=group, priority=Priority.HIGH
    )
    following = services.complete(db, staff, first, today(), None)
    assert following is not None
    assert following.due_on == expected
    assert (following.status, following.occurrence, following.previous_id) == (
        FollowUpStatus.OPEN,
        2,
        first.id,
    )
    assert (following.title, following.owner_id, following.member_id, following.group_id) == (
        first.title,
        staff.id,
        member.id,
        group.id,
    )
    assert following.priority is Priority.HIGH
    assert following.series_start == date(2027, 1, 15)


def complete_series(db, staff, first: FollowUp, times: int) -> list[date]:
    """Complete the series ``times`` times; the due days of its occurrences."""
    dues = [first.due_on]
    current = first
    for _ in range(times):
        current = services.complete(db, staff, current, today(), None)
        if current is None:
            break
        dues.append(current.due_on)
    return dues


def test_monthly_from_the_end_of_january_stays_at_month_ends(db, staff):
    first = recurring(staff, Recurrence.MONTHLY, date(2027, 1, 31))
    assert complete_series(db, staff, first, 4) == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
        date(2027, 5, 31),
    ]
    leap = recurring(staff, Recurrence.MONTHLY, date(2028, 1, 31))
    assert complete_series(db, staff, leap, 2) == [
        date(2028, 1, 31),
        date(2028, 2, 29),
        date(2028, 3, 31),
    ]


def test_quarterly_from_the_end_of_november(db, staff):
    first = recurring(staff, Recurrence.QUARTERLY, date(2027, 11, 30))
    assert complete_series(db, staff, first, 2) == [
        date(2027, 11, 30),
        date(2028, 2, 29),
        date(2028, 5, 30),
    ]


def test_repeat_until_stops_the_series(db, staff):
    first = recurring(staff, Recurrence.MONTHLY, date(2027, 1, 31), repeat_until=date(2027, 3, 15))
    assert complete_series(db, staff, first, 5) == [date(2027, 1, 31), date(2027, 2, 28)]
    assert follow_up_count(db) == 2
    last = recurring(staff, Recurrence.WEEKLY, date(2027, 1, 1), repeat_until=date(2027, 1, 8))
    assert complete_series(db, staff, last, 3) == [date(2027, 1, 1), date(2027, 1, 8)]


def test_complete_reopen_complete_creates_one_next_occurrence(db, staff):
    first = recurring(staff, Recurrence.WEEKLY, date(2027, 1, 1))
    following = services.complete(db, staff, first, today(), None)
    assert following is not None
    services.reopen(db, staff, first)
    assert services.complete(db, staff, first, today(), "Done again.") is None
    followers = db.scalar(
        select(func.count()).select_from(FollowUp).where(FollowUp.previous_id == first.id)
    )
    assert followers == 1
    assert follow_up_count(db) == 2


def test_cancelling_stops_the_series(db, staff):
    first = recurring(staff, Recurrence.MONTHLY, date(2027, 1, 31))
    services.cancel(db, staff, first, today(), "The programme ended.")
    assert follow_up_count(db) == 1


def test_a_one_off_has_no_next(db, staff):
    follow_up = FollowUpFactory(owner=staff)
    assert services.next_due(follow_up) is None
    assert services.complete(db, staff, follow_up, today(), None) is None
