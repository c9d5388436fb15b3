"""The working-group pages as staff use them, through real form posts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from babel.dates import format_date
from sqlalchemy import select

from secretariat.groups.models import GroupRole, GroupStatus, WorkingGroup
from secretariat.members.models import MemberStatus
from secretariat.vocabularies.models import Vocabulary
from tests.factories import (
    EventFactory,
    GroupMembershipFactory,
    MemberFactory,
    TermFactory,
    UserFactory,
    WorkingGroupFactory,
)
from tests.groups.conftest import (
    field_error,
    memberships_of,
    rows,
    section,
    table_counts,
    text,
    today,
)


def shown(day: date) -> str:
    return format_date(day, "medium", locale="en")


def group_form(**overrides) -> dict[str, str]:
    data = {
        "name": "Clean Transport",
        "slug": "",
        "theme_id": "",
        "staff_lead_id": "",
        "started_on": "",
        "description": "",
    }
    data.update(overrides)
    return data


def fresh(db, row):
    """The row read again from the database."""
    db.expire_all()
    return db.get(type(row), row.id)


@pytest.fixture
def theme(db):
    return TermFactory(vocabulary=Vocabulary.THEME, label="Mobility")


@pytest.fixture
def group(db, theme):
    return WorkingGroupFactory(
        name="Transport", slug="transport", theme=theme, started_on=date(2022, 1, 1)
    )


# -- the list ------------------------------------------------------------------------------


@pytest.fixture
def listed_groups(db, theme):
    lead = UserFactory(name="Ines Staff")
    transport = WorkingGroupFactory(name="Transport", slug="transport", theme=theme)
    transport.staff_lead = lead
    WorkingGroupFactory(name="Air quality", slug="air-quality", theme=None)
    WorkingGroupFactory(
        name="Bridges", slug="bridges", status=GroupStatus.CLOSED, closed_on=date(2023, 1, 1)
    )
    GroupMembershipFactory(group=transport, role=GroupRole.LEAD)
    GroupMembershipFactory(group=transport, role=GroupRole.MEMBER)
    GroupMembershipFactory(group=transport, role=GroupRole.MEMBER, left_on=date(2022, 5, 1))
    db.flush()


def test_group_list_shows_active_groups_by_default(client, signed_in_staff, listed_groups):
    response = client.get("/groups/")
    assert response.status_code == 200
    page = text(response)
    assert rows(page) == [
        ["Air quality", "—", "Active", "0", "0", "—"],
        ["Transport", "Mobility", "Active", "2", "1", "Ines Staff"],
    ]
    assert '<a href="/groups/transport">Transport</a>' in page
    assert '<a href="/groups/" aria-current="page">Active groups</a>' in page
    assert '<a href="/groups/new">Create a group</a>' in page.replace(' role="button"', "")


def test_group_list_filters(client, signed_in_staff, listed_groups):
    closed = text(client.get("/groups/?status=closed"))
    assert [r[0] for r in rows(closed)] == ["Bridges"]
    assert 'aria-current="page">Closed groups</a>' in closed
    every = text(client.get("/groups/?status=all"))
    assert [r[0] for r in rows(every)] == ["Air quality", "Transport", "Bridges"]
    assert 'aria-current="page">All groups</a>' in every
    assert [r[0] for r in rows(text(client.get("/groups/?status=nonsense")))] == [
        "Air quality",
        "Transport",
        "Bridges",
    ]


def test_group_list_when_empty(client, signed_in_staff):
    assert rows(text(client.get("/groups/"))) == [["No groups to show."]]


# -- create and edit -----------------------------------------------------------------------


def test_create_a_group(db, client, signed_in_staff, theme):
    lead = UserFactory(name="Ines Staff", admin=True)
    form = text(client.get("/groups/new"))
    assert "<h1>Create a working group</h1>" in form
    assert f'<option value="{theme.id}">Mobility</option>' in form
    assert f'<option value="{lead.id}">Ines Staff</option>' in form
    response = client.post(
        "/groups/new",
        data=group_form(
            name="Clean Transport",
            theme_id=str(theme.id),
            staff_lead_id=str(lead.id),
            started_on="2023-03-01",
            description="Buses and trams.",
        ),
        follow_redirects=True,
    )
    assert response.request.path == "/groups/clean-transport"
    page = text(response)
    assert "The group Clean Transport is created." in page
    assert "<h1>Clean Transport</h1>" in page
    assert f"Mobility · Active · since {shown(date(2023, 3, 1))}" in page
    group = db.scalar(select(WorkingGroup).where(WorkingGroup.slug == "clean-transport"))
    assert (group.theme_id, group.staff_lead_id, group.description) == (
        theme.id,
        lead.id,
        "Buses and trams.",
    )


def test_the_form_offers_only_active_themes_and_staff(db, client, signed_in_staff, theme):
    retired = TermFactory(vocabulary=Vocabulary.THEME, label="Retired theme", is_active=False)
    region = TermFactory(vocabulary=Vocabulary.REGION, label="Europe")
    gone = UserFactory(name="Gone Staff", is_active=False)
    focal = UserFactory(name="Focal Person", focal_point=True)
    form = text(client.get("/groups/new"))
    assert "Mobility" in form
    for absent in (retired.label, region.label, gone.name, focal.name):
        assert absent not in form
    response = client.post("/groups/new", data=group_form(theme_id=str(retired.id)))
    assert response.status_code == 200
    assert field_error(text(response), "theme_id")
    assert table_counts(db) == (0, 0)


def test_create_form_shows_errors_next_to_fields(db, client, signed_in_staff):
    WorkingGroupFactory(name="Transport", slug="transport")
    tomorrow = today() + timedelta(days=1)
    response = client.post(
        "/groups/new",
        data=group_form(name="TRANSPORT", slug="new", started_on=tomorrow.isoformat()),
    )
    assert response.status_code == 200
    page = text(response)
    assert 'class="error-summary"' in page
    assert field_error(page, "name") == "Another group is already called “Transport”."
    assert field_error(page, "slug") == "“new” is reserved; choose another short name."
    assert field_error(page, "started_on") == "A group's start is a date no later than today."
    assert 'aria-invalid="true"' in page
    assert 'value="TRANSPORT"' in page  # the input is kept
    assert table_counts(db) == (1, 0)


def test_create_form_requires_a_name(db, client, signed_in_staff):
    response = client.post("/groups/new", data=group_form(name=""))
    assert response.status_code == 200
    assert field_error(text(response), "name")
    response = client.post("/groups/new", data=group_form(name="北京", slug=""))
    # No Latin letters in the name: the short name must be given.
    assert field_error(text(response), "slug") == ("Enter a short name made of letters and digits.")
    assert table_counts(db) == (0, 0)


def test_edit_a_group(db, client, signed_in_staff, group):
    form = text(client.get("/groups/transport/edit"))
    assert "<h1>Edit Transport</h1>" in form
    assert 'value="Transport"' in form and 'value="2022-01-01"' in form
    assert f'<option selected value="{group.theme_id}">Mobility</option>' in form
    response = client.post(
        "/groups/transport/edit",
        data=group_form(
            name="Sustainable mobility",
            slug="mobility",
            theme_id="",
            started_on="2021-09-01",
            description="Moving people.",
        ),
        follow_redirects=True,
    )
    assert response.request.path == "/groups/mobility"
    assert "The group Sustainable mobility is saved." in text(response)
    saved = fresh(db, group)
    assert (saved.name, saved.slug, saved.theme_id, saved.started_on) == (
        "Sustainable mobility",
        "mobility",
        None,
        date(2021, 9, 1),
    )
    assert client.get("/groups/transport").status_code == 404


def test_edit_keeps_a_retired_theme_and_a_former_staff_lead(db, client, signed_in_staff):
    theme = TermFactory(vocabulary=Vocabulary.THEME, label="Old theme", is_active=False)
    former = UserFactory(name="Former Lead", is_active=False)
    group = WorkingGroupFactory(name="Heritage", slug="heritage", theme=theme)
    group.staff_lead = former
    db.flush()
    form = text(client.get("/groups/heritage/edit"))
    assert f'<option selected value="{theme.id}">Old theme</option>' in form
    assert f'<option selected value="{former.id}">Former Lead</option>' in form
    response = client.post(
        "/groups/heritage/edit",
        data=group_form(
            name="Heritage",
            slug="heritage",
            theme_id=str(theme.id),
            staff_lead_id=str(former.id),
            started_on="2022-01-01",
            description="Now with a description.",
        ),
        follow_redirects=True,
    )
    assert response.request.path == "/groups/heritage", field_error(text(response), "staff_lead_id")
    saved = fresh(db, group)
    assert (saved.theme_id, saved.staff_lead_id, saved.description) == (
        theme.id,
        former.id,
        "Now with a description.",
    )
    # A former staff lead cannot be given to another group.
    WorkingGroupFactory(name="Other", slug="other")
    response = client.post(
        "/groups/other/edit",
        data=group_form(name="Other", slug="other", staff_lead_id=str(former.id)),
    )
    assert field_error(text(response), "staff_lead_id")


def test_edit_shows_errors_next_to_fields(db, client, signed_in_staff, group):
    WorkingGroupFactory(name="Energy", slug="energy")
    response = client.post(
        "/groups/transport/edit", data=group_form(name="energy", slug="Bad Slug")
    )
    assert response.status_code == 200
    page = text(response)
    assert field_error(page, "name") == "Another group is already called “Energy”."
    assert field_error(page, "slug")
    assert fresh(db, group).name == "Transport"


def test_unknown_group_is_404(client, signed_in_staff):
    for url in ("/groups/nothing", "/groups/nothing/edit", "/groups/nothing/members/add"):
        assert client.get(url).status_code == 404


# -- the group page ------------------------------------------------------------------------


def test_group_page_shows_current_members_and_history(db, client, signed_in_staff, group):
    europe = TermFactory(label="Europe")
    lisbon = MemberFactory(name="Lisbon", slug="lisbon", country="PT", region=europe)
    porto = MemberFactory(name="Porto", slug="porto", country="PT", region=None)
    bergen = MemberFactory(name="Bergen", slug="bergen", country="NO", region=europe)
    oslo = MemberFactory(name="Oslo", slug="oslo", country="NO")
    GroupMembershipFactory(
        group=group,
        member=lisbon,
        role=GroupRole.MEMBER,
        joined_on=date(2022, 1, 1),
        left_on=date(2023, 5, 1),
    )
    GroupMembershipFactory(
        group=group, member=lisbon, role=GroupRole.LEAD, joined_on=date(2023, 5, 1)
    )
    GroupMembershipFactory(
        group=group, member=porto, role=GroupRole.OBSERVER, joined_on=date(2022, 2, 1)
    )
    GroupMembershipFactory(
        group=group, member=bergen, role=GroupRole.MEMBER, joined_on=date(2022, 3, 1)
    )
    GroupMembershipFactory(
        group=group,
        member=oslo,
        role=GroupRole.MEMBER,
        joined_on=date(2022, 1, 1),
        left_on=date(2022, 12, 31),
    )
    page = text(client.get("/groups/transport"))
    members = section(page, "members-title")
    current, history = members.split("<details>")
    assert [r[:5] for r in rows(current)] == [
        ["Lisbon", "Portugal", "Europe", "Lead (co-chair)", shown(date(2023, 5, 1))],
        ["Bergen", "Norway", "Europe", "Member", shown(date(2022, 3, 1))],
        ["Porto", "Portugal", "—", "Observer", shown(date(2022, 2, 1))],
    ]
    assert "<strong>Lead (co-chair)</strong>" in current
    assert '<a href="/members/lisbon">Lisbon</a>' in current
    assert "2 earlier memberships and roles" in history
    assert rows(history) == [
        ["Lisbon", "Member", shown(date(2022, 1, 1)), shown(date(2023, 5, 1))],
        ["Oslo", "Member", shown(date(2022, 1, 1)), shown(date(2022, 12, 31))],
    ]
    assert "<dt>Current members</dt><dd>3</dd>" in page


def test_group_page_without_members(client, signed_in_staff, group):
    page = text(client.get("/groups/transport"))
    members = section(page, "members-title")
    assert rows(members) == [["The group has no members at present."]]
    assert "<details>" not in members


def test_group_page_shows_its_events(db, client, signed_in_staff, group):
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    EventFactory(group=group, title="Bus webinar", starts_at=now + timedelta(days=3))
    EventFactory(group=group, title="Tram visit", starts_at=now + timedelta(days=40))
    EventFactory(group=group, title="Kick-off", starts_at=now - timedelta(days=100))
    EventFactory(group=group, title="Bike workshop", starts_at=now - timedelta(days=10))
    EventFactory(group=WorkingGroupFactory(), title="Other group's event")
    EventFactory(title="Network assembly")
    page = text(client.get("/groups/transport"))
    upcoming = [r[1] for r in rows(section(page, "upcoming-title"))]
    past = [r[1] for r in rows(section(page, "past-title"))]
    assert upcoming == ["Bus webinar", "Tram visit"]
    assert past == ["Bike workshop", "Kick-off"]
    assert "Other group's event" not in page and "Network assembly" not in page


def test_group_page_without_events(client, signed_in_staff, group):
    page = text(client.get("/groups/transport"))
    assert rows(section(page, "upcoming-title")) == [["No upcoming events."]]
    assert rows(section(page, "past-title")) == [["No past events yet."]]


def test_group_page_offers_the_actions_to_staff(client, signed_in_staff, group):
    page = text(client.get("/groups/transport"))
    for url in (
        "/groups/transport/edit",
        "/groups/transport/members/add",
        "/groups/transport/close",
    ):
        assert f'href="{url}"' in page
    assert "/groups/transport/reopen" not in page


# -- add members ---------------------------------------------------------------------------


def test_add_members_through_the_checkbox_list(db, client, signed_in_staff, group):
    lisbon = MemberFactory(name="Lisbon")
    porto = MemberFactory(name="Porto", status=MemberStatus.APPLICANT)
    braga = MemberFactory(name="Braga")
    inside = MemberFactory(name="Coimbra")
    GroupMembershipFactory(group=group, member=inside)
    lapsed = MemberFactory(name="Faro", status=MemberStatus.LAPSED)
    form = text(client.get("/groups/transport/members/add"))
    for member in (lisbon, porto, braga):
        assert f'<input type="checkbox" name="member_ids" value="{member.id}" >' in form
    assert f'value="{inside.id}"' not in form and f'value="{lapsed.id}"' not in form
    assert "Porto <span" in form and "Applicant" in form
    assert f'value="{today().isoformat()}"' in form
    response = client.post(
        "/groups/transport/members/add",
        data={
            "member_ids": [str(lisbon.id), str(porto.id)],
            "role": "lead",
            "joined_on": "2024-02-01",
        },
        follow_redirects=True,
    )
    assert response.request.path == "/groups/transport"
    page = text(response)
    assert "2 members added to Transport as Lead (co-chair)." in page
    current = rows(section(page, "members-title"))
    assert [r[0] for r in current if r[3] == "Lead (co-chair)"] == ["Lisbon", "Porto"]
    assert [(m.role, m.joined_on) for m in memberships_of(db, group, porto)] == [
        (GroupRole.LEAD, date(2024, 2, 1))
    ]
    assert memberships_of(db, group, braga) == []


def test_add_members_shows_errors_and_keeps_the_choice(db, client, signed_in_staff, group):
    lisbon = MemberFactory(name="Lisbon")
    MemberFactory(name="Porto")
    response = client.post(
        "/groups/transport/members/add", data={"role": "member", "joined_on": "2024-02-01"}
    )
    assert response.status_code == 200
    assert field_error(text(response), "member_ids") == "Choose at least one member."
    response = client.post(
        "/groups/transport/members/add",
        data={"member_ids": [str(lisbon.id)], "role": "member", "joined_on": "2021-12-31"},
    )
    page = text(response)
    assert field_error(page, "joined_on").startswith("The group started on")
    assert 'class="error-summary"' in page
    assert f'name="member_ids" value="{lisbon.id}" checked>' in page
    response = client.post(
        "/groups/transport/members/add",
        data={"member_ids": [str(lisbon.id)], "role": "member", "joined_on": ""},
    )
    assert field_error(text(response), "joined_on")
    assert table_counts(db) == (1, 0)


def test_add_members_refuses_members_not_in_the_list(db, client, signed_in_staff, group):
    inside = MemberFactory(name="Coimbra")
    GroupMembershipFactory(group=group, member=inside)
    lapsed = MemberFactory(name="Faro", status=MemberStatus.LAPSED)
    fine = MemberFactory(name="Lisbon")
    for chosen in (inside, lapsed):
        response = client.post(
            "/groups/transport/members/add",
            data={
                "member_ids": [str(fine.id), str(chosen.id)],
                "role": "member",
                "joined_on": "2024-02-01",
            },
        )
        assert response.status_code == 200
        assert field_error(text(response), "member_ids")
    assert table_counts(db) == (1, 1)


def test_add_members_when_everyone_is_in(db, client, signed_in_staff, group):
    GroupMembershipFactory(group=group)
    MemberFactory(status=MemberStatus.EXITED)
    page = text(client.get("/groups/transport/members/add"))
    assert "Every member that can join is already in the group." in page
    assert 'name="member_ids"' not in page


# -- change role and remove ----------------------------------------------------------------


@pytest.fixture
def lisbon_membership(db, group):
    lisbon = MemberFactory(name="Lisbon", slug="lisbon")
    return GroupMembershipFactory(
        group=group, member=lisbon, role=GroupRole.MEMBER, joined_on=date(2022, 3, 1)
    )


def test_change_role(db, client, signed_in_staff, group, lisbon_membership):
    url = f"/groups/transport/members/{lisbon_membership.id}/role"
    form = text(client.get(url))
    assert "<h1>Change the role of Lisbon in Transport</h1>" in form
    assert '<option selected value="member">Member</option>' in form
    response = client.post(
        url, data={"role": "lead", "changed_on": "2024-01-15"}, follow_redirects=True
    )
    assert response.request.path == "/groups/transport"
    page = text(response)
    assert "Lisbon is now Lead (co-chair) of Transport." in page
    members = section(page, "members-title")
    current, history = members.split("<details>")
    assert [r[:5] for r in rows(current)][0][3:] == ["Lead (co-chair)", shown(date(2024, 1, 15))]
    assert rows(history) == [
        ["Lisbon", "Member", shown(date(2022, 3, 1)), shown(date(2024, 1, 15))]
    ]
    member = lisbon_membership.member
    assert [(m.role, m.left_on) for m in memberships_of(db, group, member)] == [
        (GroupRole.MEMBER, date(2024, 1, 15)),
        (GroupRole.LEAD, None),
    ]
    # The closed membership cannot be changed again.
    response = client.post(url, data={"role": "observer", "changed_on": today().isoformat()})
    assert field_error(text(response), "changed_on") == "This membership has already ended."


def test_change_role_on_the_joining_day_leaves_no_history(
    db, client, signed_in_staff, group, lisbon_membership
):
    url = f"/groups/transport/members/{lisbon_membership.id}/role"
    response = client.post(
        url, data={"role": "observer", "changed_on": "2022-03-01"}, follow_redirects=True
    )
    assert "<details>" not in section(text(response), "members-title")
    member = lisbon_membership.member
    assert [(m.id, m.role) for m in memberships_of(db, group, member)] == [
        (lisbon_membership.id, GroupRole.OBSERVER)
    ]


def test_change_role_shows_errors(db, client, signed_in_staff, group, lisbon_membership):
    url = f"/groups/transport/members/{lisbon_membership.id}/role"
    page = text(client.post(url, data={"role": "member", "changed_on": "2024-01-15"}))
    assert field_error(page, "role") == "Lisbon already has this role."
    page = text(client.post(url, data={"role": "lead", "changed_on": "2022-02-01"}))
    assert field_error(page, "changed_on").startswith("Lisbon joined on")
    page = text(client.post(url, data={"role": "boss", "changed_on": "2024-01-15"}))
    assert field_error(page, "role")
    assert table_counts(db) == (1, 1)
    assert fresh(db, lisbon_membership.group).memberships[0].role is GroupRole.MEMBER


def test_remove_member(db, client, signed_in_staff, group, lisbon_membership):
    url = f"/groups/transport/members/{lisbon_membership.id}/remove"
    form = text(client.get(url))
    assert "<h1>Lisbon leaves Transport</h1>" in form
    response = client.post(url, data={"left_on": "2024-06-30"}, follow_redirects=True)
    assert response.request.path == "/groups/transport"
    page = text(response)
    assert "Lisbon has left Transport; the membership stays in the history." in page
    current, history = section(page, "members-title").split("<details>")
    assert rows(current) == [["The group has no members at present."]]
    assert rows(history) == [
        ["Lisbon", "Member", shown(date(2022, 3, 1)), shown(date(2024, 6, 30))]
    ]
    assert table_counts(db) == (1, 1)


def test_remove_member_shows_errors(db, client, signed_in_staff, group, lisbon_membership):
    url = f"/groups/transport/members/{lisbon_membership.id}/remove"
    tomorrow = (today() + timedelta(days=1)).isoformat()
    page = text(client.post(url, data={"left_on": tomorrow}))
    assert field_error(page, "left_on") == (
        "Record the change on the day it happens, not in advance."
    )
    assert field_error(text(client.post(url, data={"left_on": ""})), "left_on")
    assert fresh(db, lisbon_membership).left_on is None


def test_a_member_rejoins_through_the_pages(db, client, signed_in_staff, group, lisbon_membership):
    member = lisbon_membership.member
    client.post(
        f"/groups/transport/members/{lisbon_membership.id}/remove", data={"left_on": "2023-01-31"}
    )
    form = text(client.get("/groups/transport/members/add"))
    assert f'value="{member.id}"' in form
    response = client.post(
        "/groups/transport/members/add",
        data={"member_ids": [str(member.id)], "role": "observer", "joined_on": "2024-01-01"},
        follow_redirects=True,
    )
    current, history = section(text(response), "members-title").split("<details>")
    assert [(r[0], r[3], r[4]) for r in rows(current)] == [
        ("Lisbon", "Observer", shown(date(2024, 1, 1)))
    ]
    assert rows(history) == [
        ["Lisbon", "Member", shown(date(2022, 3, 1)), shown(date(2023, 1, 31))]
    ]


def test_membership_of_another_group_is_404(db, client, signed_in_staff, group):
    elsewhere = GroupMembershipFactory()
    for action in ("role", "remove"):
        url = f"/groups/transport/members/{elsewhere.id}/{action}"
        assert client.get(url).status_code == 404
        assert client.post(url, data={"left_on": today().isoformat()}).status_code == 404
    assert client.get("/groups/transport/members/999999/role").status_code == 404
    assert fresh(db, elsewhere).left_on is None


# -- close and reopen ----------------------------------------------------------------------


def test_close_and_reopen_a_group(db, client, signed_in_staff, group, lisbon_membership):
    form = text(client.get("/groups/transport/close"))
    assert "<h1>Close Transport</h1>" in form
    assert f'value="{today().isoformat()}"' in form
    response = client.post(
        "/groups/transport/close", data={"closed_on": "2024-12-31"}, follow_redirects=True
    )
    assert response.request.path == "/groups/transport"
    page = text(response)
    assert "The group Transport is closed; 1 current memberships ended." in page
    assert f"Closed · since {shown(date(2022, 1, 1))} · closed on {shown(date(2024, 12, 31))}" in (
        page
    )
    current, history = section(page, "members-title").split("<details>")
    assert rows(current) == [["The group has no members at present."]]
    assert rows(history)[0][3] == shown(date(2024, 12, 31))
    assert 'action="/groups/transport/reopen"' in page
    assert 'href="/groups/transport/members/add"' not in page
    assert [r[0] for r in rows(text(client.get("/groups/?status=closed")))] == ["Transport"]
    assert rows(text(client.get("/groups/"))) == [["No groups to show."]]

    response = client.post("/groups/transport/reopen", follow_redirects=True)
    assert response.request.path == "/groups/transport"
    page = text(response)
    assert "The group Transport is active again." in page
    assert "Mobility · Active" in page
    saved = fresh(db, group)
    assert (saved.status, saved.closed_on) == (GroupStatus.ACTIVE, None)
    assert fresh(db, lisbon_membership).left_on == date(2024, 12, 31)


def test_close_shows_errors(db, client, signed_in_staff, group, lisbon_membership):
    page = text(client.post("/groups/transport/close", data={"closed_on": "2021-12-31"}))
    assert field_error(page, "closed_on").startswith("The group started on")
    page = text(client.post("/groups/transport/close", data={"closed_on": "2022-02-01"}))
    assert field_error(page, "closed_on").startswith("A member joined on")
    page = text(client.post("/groups/transport/close", data={"closed_on": ""}))
    assert field_error(page, "closed_on")
    saved = fresh(db, group)
    assert (saved.status, saved.closed_on) == (GroupStatus.ACTIVE, None)
    assert fresh(db, lisbon_membership).left_on is None


def test_reopen_an_active_group_is_refused(db, client, signed_in_staff, group):
    response = client.post("/groups/transport/reopen", follow_redirects=True)
    assert "The group is not closed." in text(response)
    assert client.get("/groups/transport/reopen").status_code == 405


def test_a_closed_group_takes_no_members(db, client, signed_in_staff):
    WorkingGroupFactory(
        name="Bridges", slug="bridges", status=GroupStatus.CLOSED, closed_on=date(2023, 1, 1)
    )
    member = MemberFactory()
    response = client.post(
        "/groups/bridges/members/add",
        data={"member_ids": [str(member.id)], "role": "member", "joined_on": "2022-06-01"},
    )
    assert field_error(text(response), "member_ids") == (
        "The group is closed; reopen it before adding members."
    )
    assert table_counts(db) == (1, 0)
    assert 'class="error-summary"' in text(
        client.post("/groups/bridges/close", data={"closed_on": today().isoformat()})
    )
