"""The follow-up pages, through real requests: my follow-ups, the list, the overview, the
forms and the status moves, who may see what, and how many queries the lists cost."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from babel.dates import format_date
from sqlalchemy import select

from secretariat.followups.models import FollowUp, FollowUpStatus, Priority, Recurrence
from tests.factories import EventFactory, MemberFactory, UserFactory, WorkingGroupFactory
from tests.followups.factories import (
    AgreementFactory,
    FollowUpFactory,
    days,
    field_error,
    focal_point,
    follow_up_count,
    fresh,
    rows,
    section,
    text,
    titles,
    today,
)


def shown(day: date) -> str:
    return format_date(day, "medium", locale="en")


@pytest.fixture
def staff(db):
    return UserFactory(name="Sofia Staff")


@pytest.fixture
def signed_in_staff(staff, auth):
    auth.login(staff)
    return staff


def form_data(**overrides) -> dict[str, str]:
    data = {
        "title": "Send the minutes",
        "description": "",
        "owner_id": "",
        "member_id": "",
        "source": "",
        "due_on": days(10).isoformat(),
        "priority": "normal",
        "recurrence": "none",
        "repeat_until": "",
    }
    data.update(overrides)
    return data


def flashes(client, response) -> str:
    """The text of the page a redirect leads to (where its flashed messages are shown)."""
    assert response.status_code == 302, response.get_data(as_text=True)
    return text(client.get(response.headers["Location"]))


def only(db) -> FollowUp:
    (follow_up,) = db.scalars(select(FollowUp)).all()
    return follow_up


# -- my follow-ups --------------------------------------------------------------------------


def test_my_follow_ups_for_staff(db, client, signed_in_staff):
    staff = signed_in_staff
    FollowUpFactory(title="Later one", owner=staff, due_on=days(20))
    FollowUpFactory(title="Soon one", owner=staff, due_on=days(3))
    FollowUpFactory(title="Late one", owner=staff, due_on=days(-2), priority=Priority.HIGH)
    FollowUpFactory(
        title="Closed one", owner=staff, status=FollowUpStatus.DONE, completed_on=today()
    )
    FollowUpFactory(title="Not mine", owner=UserFactory(), due_on=days(-5))

    page = text(client.get("/follow-ups/"))
    assert "<h1>My follow-ups</h1>" in page
    assert page.count("<h1") == 1
    assert titles(section(page, "overdue-title")) == ["Late one"]
    assert titles(section(page, "due-soon-title")) == ["Soon one"]
    assert titles(section(page, "later-title")) == ["Later one"]
    assert titles(section(page, "closed-title")) == ["Closed one"]
    assert "Not mine" not in page
    # Overdue and high priority are said in words, not only in colour.
    overdue_row = rows(section(page, "overdue-title"))[0]
    assert overdue_row[0] == "Late one High priority"
    assert overdue_row[-2] == f"{shown(days(-2))} Overdue"
    assert overdue_row[-1] == "Open"
    assert "Overdue" not in " ".join(rows(section(page, "due-soon-title"))[0])
    # The sections come in this order.
    positions = [
        page.index(f'id="{name}-title"') for name in ("overdue", "due-soon", "later", "closed")
    ]
    assert positions == sorted(positions)
    assert 'href="/follow-ups/new"' in page


def test_my_follow_ups_for_a_focal_point(db, client, auth, staff):
    focal = focal_point()
    FollowUpFactory(title="Own", owner=focal, member=focal.member, due_on=days(30))
    FollowUpFactory(
        title="Staff's about my city", owner=staff, member=focal.member, due_on=days(-1)
    )
    FollowUpFactory(
        title="Staff's about another city", owner=staff, member=MemberFactory(), due_on=days(-1)
    )
    auth.login(focal)
    page = text(client.get("/follow-ups/"))
    assert titles(section(page, "overdue-title")) == ["Staff's about my city"]
    assert titles(section(page, "later-title")) == ["Own"]
    assert "another city" not in page
    assert 'href="/follow-ups/new"' not in page
    assert 'href="/follow-ups/all"' in page


def test_my_follow_ups_of_a_funder_are_empty(db, client, auth, staff):
    FollowUpFactory(owner=staff, due_on=days(-1))
    auth.login(UserFactory(funder_user=True))
    response = client.get("/follow-ups/")
    assert response.status_code == 200
    page = text(response)
    assert "You have no follow-ups." in page
    assert "<table" not in page
    assert 'href="/follow-ups/all"' not in page


def test_my_follow_ups_empty_for_staff(db, client, signed_in_staff):
    page = text(client.get("/follow-ups/"))
    assert "You have no follow-ups at present" in page


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/follow-ups/")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


# -- the list -------------------------------------------------------------------------------


def test_list_filters_and_links(db, client, signed_in_staff):
    staff = signed_in_staff
    other = UserFactory(name="Other Staff")
    member = MemberFactory(name="Lisbon", slug="lisbon")
    event = EventFactory(title="Heat forum")
    group = WorkingGroupFactory(name="Transport", slug="transport")
    FollowUpFactory(
        title="From the forum", owner=staff, member=member, event=event, due_on=days(20)
    )
    FollowUpFactory(title="From the group", owner=other, group=group, due_on=days(-1))
    FollowUpFactory(title="Finished", owner=staff, status=FollowUpStatus.DONE, completed_on=today())

    page = text(client.get("/follow-ups/all"))
    assert titles(page) == ["From the group", "From the forum"]
    assert f'<a href="/events/{event.id}">Heat forum</a>' in page
    assert '<a href="/groups/transport">Transport</a>' in page
    assert '<a href="/members/lisbon">Lisbon</a>' in page
    assert '<select id="owner" name="owner">' in page

    assert titles(text(client.get(f"/follow-ups/all?owner={other.id}"))) == ["From the group"]
    assert titles(text(client.get(f"/follow-ups/all?member={member.id}"))) == ["From the forum"]
    assert titles(text(client.get("/follow-ups/all?show=overdue"))) == ["From the group"]
    assert titles(text(client.get("/follow-ups/all?show=done"))) == ["Finished"]
    assert titles(text(client.get("/follow-ups/all?source=event"))) == ["From the forum"]
    assert len(titles(text(client.get("/follow-ups/all?show=all")))) == 3
    # Nonsense filters fall back to the defaults.
    assert titles(text(client.get("/follow-ups/all?show=x&source=y&owner=z"))) == [
        "From the group",
        "From the forum",
    ]


def test_list_pages(db, client, app, signed_in_staff):
    per_page = app.config["MEMBERS_PER_PAGE"]
    for i in range(per_page + 3):
        FollowUpFactory(title=f"Item {i:03d}", owner=signed_in_staff, due_on=days(i))
    first = text(client.get("/follow-ups/all?show=pending"))
    assert len(titles(first)) == per_page
    assert 'href="/follow-ups/all?show=pending&page=2"' in first.replace("&amp;", "&")
    second = text(client.get("/follow-ups/all?show=pending&page=2"))
    assert titles(second) == [f"Item {i:03d}" for i in range(per_page, per_page + 3)]


def test_list_of_a_focal_point_is_scoped_without_owner_filters(db, client, auth, staff):
    focal = focal_point()
    other_member = MemberFactory()
    FollowUpFactory(title="About my city", owner=staff, member=focal.member)
    FollowUpFactory(title="About another city", owner=staff, member=other_member)
    auth.login(focal)
    page = text(client.get(f"/follow-ups/all?member={other_member.id}&owner={staff.id}"))
    assert titles(page) == ["About my city"]
    assert 'name="owner"' not in page
    assert 'name="member"' not in page


def test_agreement_sources_link_to_the_agreement(db, client, signed_in_staff):
    agreement = AgreementFactory(title="Mobility MoU")
    follow_up = FollowUpFactory(owner=signed_in_staff, agreement=agreement)
    page = text(client.get("/follow-ups/all"))
    assert f'Agreement: <a href="/agreements/{agreement.id}">Mobility MoU</a>' in page
    detail = text(client.get(f"/follow-ups/{follow_up.id}"))
    assert f'<a href="/agreements/{agreement.id}">Mobility MoU</a>' in detail


# -- the overview ---------------------------------------------------------------------------


def test_overview_counts_and_links(db, client, signed_in_staff):
    staff = signed_in_staff
    busy = UserFactory(name="Busy Staff")
    for due in (-3, -2, 1, 40):
        FollowUpFactory(owner=busy, due_on=days(due))
    for due in (-1, 2, 5):
        FollowUpFactory(owner=staff, due_on=days(due))
    FollowUpFactory(owner=staff, status=FollowUpStatus.DONE, completed_on=today(), due_on=days(-9))

    page = text(client.get("/follow-ups/overview"))
    assert rows(page) == [
        ["Busy Staff", "2 overdue, Busy Staff", "1", "4"],
        ["Sofia Staff", "1 overdue, Sofia Staff", "2", "3"],
        ["Total", "3", "3", "7"],
    ]
    assert f'<a href="/follow-ups/all?owner={busy.id}">Busy Staff</a>' in page
    assert f'href="/follow-ups/all?owner={busy.id}&show=overdue"' in page.replace("&amp;", "&")
    assert '<th scope="row">' in page


def test_overview_when_nothing_is_pending(db, client, signed_in_staff):
    assert rows(text(client.get("/follow-ups/overview"))) == [["Nobody has a follow-up to do."]]


# -- creating and editing -------------------------------------------------------------------


def test_new_follow_up_form_preselects_member_and_source(db, client, signed_in_staff):
    member = MemberFactory(name="Porto")
    event = EventFactory(title="Heat forum", starts_at=datetime(2027, 5, 4, 9, 0, tzinfo=UTC))
    page = text(client.get(f"/follow-ups/new?member={member.id}&event={event.id}"))
    assert f'<option selected value="{member.id}">Porto</option>' in page
    assert (
        f'<option selected value="event:{event.id}">Event: Heat forum (May 4, 2027)</option>'
        in page
    )
    assert f'<option selected value="{signed_in_staff.id}">Sofia Staff</option>' in page
    assert '<optgroup label="Events">' in page
    assert '<label for="title">What is to be done' in page

    group = WorkingGroupFactory(name="Transport")
    page = text(client.get(f"/follow-ups/new?group={group.id}"))
    assert f'<option selected value="group:{group.id}">Working group: Transport</option>' in page
    agreement = AgreementFactory(title="Mobility MoU")
    page = text(client.get(f"/follow-ups/new?agreement={agreement.id}"))
    option = f'<option selected value="agreement:{agreement.id}">Agreement: Mobility MoU</option>'
    assert option in page


def test_owner_choices_name_the_focal_points_member(db, client, signed_in_staff):
    focal = focal_point(MemberFactory(name="Braga"))
    UserFactory(name="Gone Staff", is_active=False)
    UserFactory(name="Some Funder", funder_user=True)
    page = text(client.get("/follow-ups/new"))
    assert f'<option value="{focal.id}">{focal.name} (Braga)</option>' in page
    assert "Gone Staff" not in page
    assert "Some Funder" not in page


def test_create_a_follow_up(db, client, signed_in_staff):
    member = MemberFactory()
    group = WorkingGroupFactory()
    response = client.post(
        "/follow-ups/new",
        data=form_data(
            owner_id=str(signed_in_staff.id),
            member_id=str(member.id),
            source=f"group:{group.id}",
            priority="high",
            recurrence="monthly",
            repeat_until=days(100).isoformat(),
        ),
    )
    follow_up = only(db)
    assert response.headers["Location"] == f"/follow-ups/{follow_up.id}"
    assert (follow_up.member_id, follow_up.group_id, follow_up.priority, follow_up.recurrence) == (
        member.id,
        group.id,
        Priority.HIGH,
        Recurrence.MONTHLY,
    )
    assert "The follow-up “Send the minutes” is created." in flashes(client, response)


def test_create_shows_every_problem_next_to_its_field(db, client, signed_in_staff):
    funder = UserFactory(funder_user=True)
    event = EventFactory(starts_at=datetime(2027, 5, 4, 9, 0, tzinfo=UTC))
    response = client.post(
        "/follow-ups/new",
        data=form_data(
            title="Bad\u202etitle",
            owner_id=str(funder.id),
            source=f"event:{event.id}",
            due_on="2027-05-03",
        ),
    )
    assert response.status_code == 200
    page = text(response)
    assert follow_up_count(db) == 0
    assert 'class="error-summary"' in page
    assert field_error(page, "title") == "Remove the invisible control characters from the title."
    assert field_error(page, "owner_id") == (
        "Choose an active member of staff or a focal point as the owner."
    )
    assert field_error(page, "due_on") == (
        "The event takes place on May 4, 2027; a follow-up is due on that day or later."
    )
    assert '<a href="#title">What is to be done: Remove the invisible' in page


def test_garbled_date_and_source_are_reported(db, client, signed_in_staff):
    response = client.post(
        "/follow-ups/new",
        data=form_data(
            title="", owner_id=str(signed_in_staff.id), source="event:abc", due_on="31/02/2027"
        ),
    )
    page = text(response)
    assert follow_up_count(db) == 0
    assert field_error(page, "due_on") == "Enter a date, e.g. 2027-03-15."
    assert field_error(page, "source") == "Choose the source from the list."
    assert field_error(page, "title") == "Say what is to be done."


def test_focal_point_owner_of_another_member_is_refused(db, client, signed_in_staff):
    focal = focal_point()
    other = MemberFactory()
    page = text(
        client.post(
            "/follow-ups/new", data=form_data(owner_id=str(focal.id), member_id=str(other.id))
        )
    )
    assert "focal point of another member" in field_error(page, "member_id")
    assert follow_up_count(db) == 0


def test_edit_a_follow_up(db, client, signed_in_staff):
    event = EventFactory()
    follow_up = FollowUpFactory(
        title="Old title",
        owner=signed_in_staff,
        event=event,
        due_on=days(30),
        priority=Priority.LOW,
    )
    page = text(client.get(f"/follow-ups/{follow_up.id}/edit"))
    assert 'value="Old title"' in page
    assert f'<option selected value="event:{event.id}">' in page
    assert '<option selected value="low">Low</option>' in page

    response = client.post(
        f"/follow-ups/{follow_up.id}/edit",
        data=form_data(
            title="New title",
            owner_id=str(signed_in_staff.id),
            source=f"event:{event.id}",
            due_on=days(31).isoformat(),
        ),
    )
    assert response.headers["Location"] == f"/follow-ups/{follow_up.id}"
    stored = fresh(db, follow_up)
    assert (stored.title, stored.due_on, stored.priority) == (
        "New title",
        days(31),
        Priority.NORMAL,
    )
    assert "The follow-up “New title” is saved." in flashes(client, response)


def test_edit_keeps_a_deactivated_owner_in_the_choices(db, client, signed_in_staff):
    owner = UserFactory(name="Retired Staff", is_active=False)
    follow_up = FollowUpFactory(owner=owner)
    page = text(client.get(f"/follow-ups/{follow_up.id}/edit"))
    assert f'<option selected value="{owner.id}">Retired Staff</option>' in page
    response = client.post(
        f"/follow-ups/{follow_up.id}/edit",
        data=form_data(title="Still theirs", owner_id=str(owner.id)),
    )
    assert response.status_code == 302
    assert fresh(db, follow_up).owner_id == owner.id


# -- the follow-up page and its moves -------------------------------------------------------


def test_detail_page(db, client, signed_in_staff):
    member = MemberFactory(name="Lisbon", slug="lisbon")
    group = WorkingGroupFactory(name="Transport", slug="transport")
    first = FollowUpFactory(
        owner=signed_in_staff,
        recurrence=Recurrence.MONTHLY,
        due_on=date(2027, 1, 31),
        series_start=date(2027, 1, 31),
        status=FollowUpStatus.DONE,
        completed_on=date(2026, 1, 2),
    )
    follow_up = FollowUpFactory(
        title="Report to the board",
        description="Use the new template.",
        owner=signed_in_staff,
        member=member,
        group=group,
        due_on=days(-3),
        priority=Priority.HIGH,
        recurrence=Recurrence.MONTHLY,
        series_start=date(2027, 1, 31),
        occurrence=3,
        repeat_until=date(2030, 12, 31),
        previous=first,
    )
    page = text(client.get(f"/follow-ups/{follow_up.id}"))
    assert page.count("<h1") == 1
    assert "<h1>Report to the board</h1>" in page
    assert 'Status: <strong class="status status-open">Open</strong>' in page
    assert '<strong class="status status-overdue">Overdue</strong>' in page
    assert '<a href="/members/lisbon">Lisbon</a>' in page
    assert 'Working group: <a href="/groups/transport">Transport</a>' in page
    assert "Monthly, occurrence 3; until Dec 31, 2030" in page
    assert f'<a href="/follow-ups/{first.id}">Due on Jan 31, 2027</a> (Done)' in page
    assert "<dd>High</dd>" in page
    assert "Use the new template." in page
    assert f'action="/follow-ups/{follow_up.id}/start"' in page
    assert f'href="/follow-ups/{follow_up.id}/complete"' in page
    assert f'href="/follow-ups/{follow_up.id}/cancel"' in page
    assert f'href="/follow-ups/{follow_up.id}/edit"' in page
    assert f'action="/follow-ups/{follow_up.id}/reopen"' not in page

    first_page = text(client.get(f"/follow-ups/{first.id}"))
    assert f'<a href="/follow-ups/{follow_up.id}">Due on {shown(days(-3))}</a> (Open)' in first_page
    assert f'action="/follow-ups/{first.id}/reopen"' in first_page
    assert "Overdue" not in first_page


def test_start(db, client, signed_in_staff):
    follow_up = FollowUpFactory(title="Call Porto", owner=signed_in_staff)
    response = client.post(f"/follow-ups/{follow_up.id}/start")
    assert response.headers["Location"] == f"/follow-ups/{follow_up.id}"
    assert "“Call Porto” is in progress." in flashes(client, response)
    assert fresh(db, follow_up).status is FollowUpStatus.IN_PROGRESS
    again = client.post(f"/follow-ups/{follow_up.id}/start")
    assert "Only an open follow-up can be started." in flashes(client, again)


def test_start_is_post_only(db, client, signed_in_staff):
    follow_up = FollowUpFactory(owner=signed_in_staff)
    assert client.get(f"/follow-ups/{follow_up.id}/start").status_code == 405
    assert client.get(f"/follow-ups/{follow_up.id}/reopen").status_code == 405


def test_complete(db, client, signed_in_staff):
    follow_up = FollowUpFactory(title="Call Porto", owner=signed_in_staff)
    page = text(client.get(f"/follow-ups/{follow_up.id}/complete"))
    assert f'value="{today().isoformat()}"' in page
    assert '<label for="completed_on">Done on' in page
    response = client.post(
        f"/follow-ups/{follow_up.id}/complete",
        data={"completed_on": today().isoformat(), "note": "They agreed."},
    )
    assert response.headers["Location"] == f"/follow-ups/{follow_up.id}"
    assert "“Call Porto” is done." in flashes(client, response)
    stored = fresh(db, follow_up)
    assert (stored.status, stored.completion_note) == (FollowUpStatus.DONE, "They agreed.")


def test_complete_in_advance_is_refused_next_to_the_field(db, client, signed_in_staff):
    follow_up = FollowUpFactory(owner=signed_in_staff)
    for day, message in (
        (
            (today() + timedelta(days=1)).isoformat(),
            "Record it on the day it happens, not in advance.",
        ),
        ("soon", "Enter a date, e.g. 2027-03-15."),
    ):
        page = text(
            client.post(
                f"/follow-ups/{follow_up.id}/complete", data={"completed_on": day, "note": ""}
            )
        )
        assert field_error(page, "completed_on") == message
        assert 'class="error-summary"' in page
    assert fresh(db, follow_up).status is FollowUpStatus.OPEN


def test_completing_a_recurring_one_links_to_the_next(db, client, signed_in_staff):
    follow_up = FollowUpFactory(
        title="Monthly report",
        owner=signed_in_staff,
        recurrence=Recurrence.MONTHLY,
        due_on=date(2027, 1, 31),
        series_start=date(2027, 1, 31),
    )
    response = client.post(
        f"/follow-ups/{follow_up.id}/complete", data={"completed_on": today().isoformat()}
    )
    following = db.scalar(select(FollowUp).where(FollowUp.previous_id == follow_up.id))
    assert following.due_on == date(2027, 2, 28)
    page = flashes(client, response)
    assert (
        "The next occurrence, due Feb 28, 2027, is created: "
        f'<a href="/follow-ups/{following.id}">Monthly report</a>.'
    ) in page
    assert f'<a href="/follow-ups/{following.id}">Due on Feb 28, 2027</a> (Open)' in page


def test_next_occurrence_message_escapes_the_title(db, client, signed_in_staff):
    follow_up = FollowUpFactory(
        title="<script>x</script>", owner=signed_in_staff, recurrence=Recurrence.WEEKLY
    )
    response = client.post(
        f"/follow-ups/{follow_up.id}/complete", data={"completed_on": today().isoformat()}
    )
    body = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<script>x</script>" not in body
    assert "&lt;script&gt;x&lt;/script&gt;" in body


def test_cancel_needs_a_reason(db, client, signed_in_staff):
    follow_up = FollowUpFactory(title="Call Porto", owner=signed_in_staff)
    page = text(
        client.post(
            f"/follow-ups/{follow_up.id}/cancel",
            data={"cancelled_on": today().isoformat(), "note": ""},
        )
    )
    assert field_error(page, "note") == "Say why it is cancelled."
    assert fresh(db, follow_up).status is FollowUpStatus.OPEN
    future = text(
        client.post(
            f"/follow-ups/{follow_up.id}/cancel",
            data={"cancelled_on": days(2).isoformat(), "note": "No need."},
        )
    )
    assert field_error(future, "cancelled_on") == "Record it on the day it happens, not in advance."

    response = client.post(
        f"/follow-ups/{follow_up.id}/cancel",
        data={"cancelled_on": today().isoformat(), "note": "Porto left the project."},
    )
    assert response.headers["Location"] == f"/follow-ups/{follow_up.id}"
    page = flashes(client, response)
    assert "“Call Porto” is cancelled." in page
    assert "Porto left the project." in page
    assert fresh(db, follow_up).status is FollowUpStatus.CANCELLED


def test_reopen(db, client, signed_in_staff):
    follow_up = FollowUpFactory(
        title="Call Porto", owner=signed_in_staff, status=FollowUpStatus.DONE, completed_on=today()
    )
    response = client.post(f"/follow-ups/{follow_up.id}/reopen")
    assert "“Call Porto” is open again." in flashes(client, response)
    assert fresh(db, follow_up).status is FollowUpStatus.OPEN
    again = client.post(f"/follow-ups/{follow_up.id}/reopen")
    assert "This follow-up is still open." in flashes(client, again)


def test_a_focal_point_moves_a_follow_up_about_their_member(db, client, auth, staff):
    focal = focal_point()
    follow_up = FollowUpFactory(owner=staff, member=focal.member)
    auth.login(focal)
    page = text(client.get(f"/follow-ups/{follow_up.id}"))
    assert f'href="/follow-ups/{follow_up.id}/edit"' not in page
    assert client.post(f"/follow-ups/{follow_up.id}/start").status_code == 302
    response = client.post(
        f"/follow-ups/{follow_up.id}/complete", data={"completed_on": today().isoformat()}
    )
    assert response.status_code == 302
    assert fresh(db, follow_up).status is FollowUpStatus.DONE


# -- who may see what -----------------------------------------------------------------------


def test_a_focal_point_of_another_member_gets_404(db, client, auth, staff):
    own_member_focal = focal_point()
    follow_up = FollowUpFactory(owner=staff, member=own_member_focal.member)
    stranger = focal_point()
    auth.login(stranger)
    for method, path in (
        ("get", ""),
        ("post", "/start"),
        ("get", "/complete"),
        ("post", "/complete"),
        ("get", "/cancel"),
        ("post", "/cancel"),
        ("post", "/reopen"),
    ):
        response = getattr(client, method)(
            f"/follow-ups/{follow_up.id}{path}",
            data={
                "completed_on": today().isoformat(),
                "cancelled_on": today().isoformat(),
                "note": "x",
            },
        )
        assert response.status_code == 404, (method, path)
    # The same answer as for a follow-up that does not exist.
    assert client.get("/follow-ups/999999").status_code == 404
    assert fresh(db, follow_up).status is FollowUpStatus.OPEN
    assert "Follow-up" not in " ".join(titles(text(client.get("/follow-ups/all"))))


@pytest.mark.parametrize("role", ["focal_point", "funder"])
def test_staff_pages_are_404_for_others(db, client, auth, staff, role):
    user = UserFactory(focal_point=True) if role == "focal_point" else UserFactory(funder_user=True)
    follow_up = FollowUpFactory(owner=user if role == "focal_point" else staff)
    event = EventFactory()
    auth.login(user)
    for method, path in (
        ("get", "/follow-ups/new"),
        ("post", "/follow-ups/new"),
        ("get", f"/follow-ups/{follow_up.id}/edit"),
        ("post", f"/follow-ups/{follow_up.id}/edit"),
        ("get", "/follow-ups/overview"),
        ("get", f"/follow-ups/from-event/{event.id}"),
        ("post", f"/follow-ups/from-event/{event.id}"),
    ):
        assert getattr(client, method)(path, data=form_data()).status_code == 404, path
    assert follow_up_count(db) == 1


def test_funders_get_404_on_the_list_and_the_pages(db, client, auth, staff):
    follow_up = FollowUpFactory(owner=staff)
    auth.login(UserFactory(funder_user=True))
    assert client.get("/follow-ups/all").status_code == 404
    assert client.get(f"/follow-ups/{follow_up.id}").status_code == 404
    assert client.post(f"/follow-ups/{follow_up.id}/start").status_code == 404


# -- several at once, after an event --------------------------------------------------------


def bulk_data(rows_: list[dict[str, str]], total: int = 5) -> dict[str, str]:
    data = {}
    for index in range(total):
        row = rows_[index] if index < len(rows_) else {}
        for name in ("title", "owner_id", "member_id", "due_on"):
            data[f"rows-{index}-{name}"] = row.get(name, "")
        data[f"rows-{index}-priority"] = row.get("priority", "normal")
    return data


def test_bulk_form_rows(db, client, signed_in_staff):
    event = EventFactory(title="Heat forum")
    page = text(client.get(f"/follow-ups/from-event/{event.id}"))
    assert "<h1>Add follow-ups after Heat forum</h1>" in page
    assert page.count('name="rows-') == 5 * 5
    assert (
        '<label for="rows-1-title" class="visually-hidden">What is to be done, row 2</label>'
        in page
    )
    assert '<label for="rows-4-due_on" class="visually-hidden">Due on, row 5</label>' in page
    assert f'href="/follow-ups/from-event/{event.id}?rows=10"' in page
    assert '<th scope="row">5</th>' in page

    more = text(client.get(f"/follow-ups/from-event/{event.id}?rows=12"))
    assert more.count('name="rows-') == 12 * 5
    most = text(client.get(f"/follow-ups/from-event/{event.id}?rows=500"))
    assert most.count('name="rows-') == 30 * 5
    assert "?rows=" not in most


def test_bulk_create_ignores_blank_rows(db, client, signed_in_staff):
    staff = signed_in_staff
    focal = focal_point(MemberFactory(name="Braga"))
    event = EventFactory(title="Heat forum")
    due = (event.starts_at.date() + timedelta(days=7)).isoformat()
    response = client.post(
        f"/follow-ups/from-event/{event.id}",
        data=bulk_data(
            [
                {
                    "title": "Share the slides",
                    "owner_id": str(staff.id),
                    "due_on": due,
                    "priority": "high",
                },
                {},
                {"title": "Send the city's data", "owner_id": str(focal.id), "due_on": due},
            ]
        ),
    )
    assert response.headers["Location"] == f"/events/{event.id}"
    created = db.scalars(select(FollowUp).order_by(FollowUp.id)).all()
    assert [(f.title, f.owner_id, f.event_id, f.priority) for f in created] == [
        ("Share the slides", staff.id, event.id, Priority.HIGH),
        ("Send the city's data", focal.id, event.id, Priority.NORMAL),
    ]
    assert created[1].member_id == focal.member_id
    assert "2 follow-ups added after Heat forum." in flashes(client, response)


def test_bulk_create_one_bad_row_blocks_all(db, client, signed_in_staff):
    staff = signed_in_staff
    event = EventFactory(title="Heat forum")
    good_due = (event.starts_at.date() + timedelta(days=7)).isoformat()
    early = (event.starts_at.date() - timedelta(days=3)).isoformat()
    response = client.post(
        f"/follow-ups/from-event/{event.id}",
        data=bulk_data(
            [
                {"title": "Share the slides", "owner_id": str(staff.id), "due_on": good_due},
                {},
                {"title": "Too early", "owner_id": str(staff.id), "due_on": early},
                {"title": "", "owner_id": str(staff.id), "due_on": good_due},
            ]
        ),
    )
    assert response.status_code == 200
    page = text(response)
    assert follow_up_count(db) == 0
    assert "The event takes place on" in field_error(page, "rows-2-due_on")
    assert field_error(page, "rows-3-title") == "Say what is to be done."
    assert field_error(page, "rows-0-title") == ""
    assert 'class="error-summary"' in page
    assert '<a href="#rows-3-title">Row 4, What is to be done: Say what is to be done.</a>' in page
    assert 'aria-invalid="true"' in page
    # What was typed is kept.
    assert 'value="Share the slides"' in page


def test_bulk_create_with_nothing_filled_in(db, client, signed_in_staff):
    event = EventFactory()
    page = text(client.post(f"/follow-ups/from-event/{event.id}", data=bulk_data([])))
    assert "Fill in at least one row." in page
    assert follow_up_count(db) == 0


def test_bulk_create_for_an_unknown_event(db, client, signed_in_staff):
    assert client.get("/follow-ups/from-event/999999").status_code == 404


# -- queries per page -----------------------------------------------------------------------


def populate(db, owners, members, event, group, agreement, number: int) -> None:
    """Follow-ups of several owners, members, sources and statuses."""
    statuses = [FollowUpStatus.OPEN, FollowUpStatus.IN_PROGRESS, FollowUpStatus.DONE]
    sources = [{"event": event}, {"group": group}, {"agreement": agreement}, {}]
    for i in range(number):
        status = statuses[i % len(statuses)]
        FollowUpFactory(
            owner=owners[i % len(owners)],
            member=members[i % len(members)],
            due_on=days(i % 20 - 10),
            status=status,
            completed_on=today() if status is FollowUpStatus.DONE else None,
            priority=Priority.HIGH if i % 4 == 0 else Priority.NORMAL,
            **sources[i % len(sources)],
        )


def statements(count_queries, client, url: str) -> list[str]:
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200, url
    return counter.statements


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("staff", "/follow-ups/"),
        ("staff", "/follow-ups/all"),
        ("staff", "/follow-ups/all?show=all"),
        ("staff", "/follow-ups/overview"),
        ("focal", "/follow-ups/"),
        ("focal", "/follow-ups/all?show=all"),
    ],
)
def test_pages_run_the_same_queries_for_10_and_200_follow_ups(
    db, client, auth, count_queries, staff, who, url
):
    focal = focal_point()
    members = [focal.member, MemberFactory(), MemberFactory()]
    owners = [staff, UserFactory(), focal]
    event, group, agreement = EventFactory(), WorkingGroupFactory(), AgreementFactory()
    auth.login(staff if who == "staff" else focal)
    populate(db, owners, members, event, group, agreement, 10)
    small = statements(count_queries, client, url)
    populate(db, owners, members, event, group, agreement, 190)
    large = statements(count_queries, client, url)
    assert len(small) == len(large), "\n\n".join(large)
    assert len(large) <= 8
    # The pages really show the follow-ups.
    page = text(client.get(url))
    assert "Follow-up" in page or "Overdue" in page


def test_overview_and_mine_contents_at_scale_match_the_counts(
    db, client, auth, staff, count_queries
):
    populate(
        db,
        [staff],
        [MemberFactory()],
        EventFactory(),
        WorkingGroupFactory(),
        AgreementFactory(),
        60,
    )
    auth.login(staff)
    page = text(client.get("/follow-ups/overview"))
    (owner_row, total_row) = rows(page)
    pending = sum(1 for i in range(60) if i % 3 != 2)
    assert owner_row[0] == "Sofia Staff"
    assert owner_row[-1] == str(pending)
    mine = text(client.get("/follow-ups/"))
    shown_pending = sum(
        len(titles(section(mine, name)))
        for name in ("overdue-title", "due-soon-title", "later-title")
    )
    assert shown_pending == pending
    assert re.search(rf"{pending} follow-ups to do\.", mine)
