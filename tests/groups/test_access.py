"""Who may see and manage working groups: focal points read, staff manage, others see nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from secretariat.groups.models import GroupRole, GroupStatus
from tests.factories import (
    EventFactory,
    GroupMembershipFactory,
    InvitationFactory,
    MemberFactory,
    UserFactory,
    WorkingGroupFactory,
)
from tests.groups.conftest import memberships_of, rows, section, table_counts, text, today


@pytest.fixture
def world(db):
    """An active group with the focal point's member in it, another member, and a closed group."""
    focal = UserFactory(focal_point=True, member=MemberFactory(name="Lisbon", slug="lisbon"))
    porto = MemberFactory(name="Porto", slug="porto")
    outsider = MemberFactory(name="Braga", slug="braga")
    group = WorkingGroupFactory(name="Transport", slug="transport", started_on=date(2022, 1, 1))
    own = GroupMembershipFactory(group=group, member=focal.member, role=GroupRole.LEAD)
    other = GroupMembershipFactory(group=group, member=porto, role=GroupRole.MEMBER)
    closed = WorkingGroupFactory(
        name="Bridges", slug="bridges", status=GroupStatus.CLOSED, closed_on=date(2023, 1, 1)
    )
    return {
        "focal": focal,
        "group": group,
        "own": own,
        "other": other,
        "outsider": outsider,
        "closed": closed,
    }


def managing_requests(world) -> list[tuple[str, str, dict]]:
    """Every managing route, with a valid form as staff would post it."""
    on = today().isoformat()
    own, other = world["own"].id, world["other"].id
    return [
        ("GET", "/groups/new", {}),
        ("POST", "/groups/new", {"name": "Otters", "slug": "otters"}),
        ("GET", "/groups/transport/edit", {}),
        ("POST", "/groups/transport/edit", {"name": "Renamed", "slug": "transport"}),
        ("GET", "/groups/transport/close", {}),
        ("POST", "/groups/transport/close", {"closed_on": on}),
        ("POST", "/groups/bridges/reopen", {}),
        ("GET", "/groups/transport/members/add", {}),
        (
            "POST",
            "/groups/transport/members/add",
            {"member_ids": [str(world["outsider"].id)], "role": "member", "joined_on": on},
        ),
        ("GET", f"/groups/transport/members/{own}/role", {}),
        ("POST", f"/groups/transport/members/{own}/role", {"role": "member", "changed_on": on}),
        ("POST", f"/groups/transport/members/{other}/role", {"role": "lead", "changed_on": on}),
        ("GET", f"/groups/transport/members/{own}/remove", {}),
        ("POST", f"/groups/transport/members/{own}/remove", {"left_on": on}),
        ("POST", f"/groups/transport/members/{other}/remove", {"left_on": on}),
        # Unknown rows answer the same.
        ("GET", "/groups/nothing/edit", {}),
        ("POST", "/groups/transport/members/999999/remove", {"left_on": on}),
    ]


def snapshot(db, world) -> tuple:
    group, closed = world["group"], world["closed"]
    db.expire_all()
    return (
        table_counts(db),
        (group.name, group.slug, group.status, group.closed_on),
        (closed.status, closed.closed_on),
        [
            (m.role, m.left_on)
            for member in (world["focal"].member, world["other"].member, world["outsider"])
            for m in memberships_of(db, group, member)
        ],
    )


def test_focal_point_views_the_groups(client, auth, world):
    auth.login(world["focal"])
    page = text(client.get("/groups/"))
    assert [r[0] for r in rows(page)] == ["Transport"]
    assert "/groups/new" not in page
    assert [r[0] for r in rows(text(client.get("/groups/?status=all")))] == [
        "Transport",
        "Bridges",
    ]
    response = client.get("/groups/transport")
    assert response.status_code == 200
    page = text(response)
    current = rows(section(page, "members-title"))
    assert [(r[0], r[3]) for r in current] == [("Lisbon", "Lead (co-chair)"), ("Porto", "Member")]
    # Its own member links to its record; the others are names only.
    assert '<a href="/members/lisbon">Lisbon</a>' in page
    assert 'href="/members/porto"' not in page
    for url in ("/edit", "/members/add", "/close", "/reopen", "/role", "/remove"):
        assert url not in page
    assert client.get("/groups/bridges").status_code == 200


def test_focal_point_gets_404_on_every_managing_route(db, client, auth, world):
    auth.login(world["focal"])
    before = snapshot(db, world)
    for method, url, data in managing_requests(world):
        response = client.open(url, method=method, data=data)
        assert response.status_code == 404, (method, url)
        assert "Page not found" in text(response)
    assert snapshot(db, world) == before


def test_staff_can_make_the_same_requests(db, client, auth, world):
    """The requests above are valid: refusing them to focal points is about the role."""
    auth.login(UserFactory())
    requests = managing_requests(world)
    statuses = {
        (method, url): client.open(url, method=method, data=data).status_code
        for method, url, data in requests
        if "nothing" not in url and "999999" not in url
    }
    assert set(statuses.values()) <= {200, 302}
    assert statuses[("POST", "/groups/new")] == 302
    assert statuses[("POST", "/groups/bridges/reopen")] == 302
    assert statuses[("POST", "/groups/transport/edit")] == 302
    assert statuses[("POST", "/groups/transport/close")] == 302


@pytest.mark.parametrize("kind", ["funder", "anonymous"])
def test_others_see_no_groups(db, client, auth, world, kind):
    if kind == "funder":
        auth.login(UserFactory(funder_user=True))
    before = snapshot(db, world)
    for url in ("/groups/", "/groups/transport"):
        response = client.get(url)
        if kind == "funder":
            assert response.status_code == 404
        else:
            assert response.status_code == 302
            assert response.location.startswith("/sign-in")
    for method, url, data in managing_requests(world):
        response = client.open(url, method=method, data=data)
        assert response.status_code == (404 if kind == "funder" else 302), (method, url)
    assert snapshot(db, world) == before


def test_focal_point_sees_only_the_group_events_its_member_is_invited_to(db, client, auth, world):
    focal, group = world["focal"], world["group"]
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    invited_next = EventFactory(group=group, title="Bus webinar", starts_at=now + timedelta(3))
    EventFactory(group=group, title="Leads only", starts_at=now + timedelta(days=5))
    invited_past = EventFactory(group=group, title="Kick-off", starts_at=now - timedelta(30))
    EventFactory(group=group, title="Closed-door review", starts_at=now - timedelta(days=20))
    porto_only = EventFactory(group=group, title="Porto visit", starts_at=now + timedelta(9))
    elsewhere = EventFactory(group=WorkingGroupFactory(), title="Elsewhere")
    for event in (invited_next, invited_past, elsewhere):
        InvitationFactory(event=event, member=focal.member)
    InvitationFactory(event=porto_only, member=world["other"].member)

    auth.login(focal)
    page = text(client.get("/groups/transport"))
    assert [r[1] for r in rows(section(page, "upcoming-title"))] == ["Bus webinar"]
    assert [r[1] for r in rows(section(page, "past-title"))] == ["Kick-off"]
    for hidden in ("Leads only", "Closed-door review", "Porto visit", "Elsewhere"):
        assert hidden not in page

    auth.logout()
    auth.login(UserFactory())
    page = text(client.get("/groups/transport"))
    assert [r[1] for r in rows(section(page, "upcoming-title"))] == [
        "Bus webinar",
        "Leads only",
        "Porto visit",
    ]
    assert [r[1] for r in rows(section(page, "past-title"))] == ["Closed-door review", "Kick-off"]
