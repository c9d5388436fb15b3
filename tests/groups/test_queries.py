"""Read models of the group pages, and bounded query counts on the group list and page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from secretariat.groups import queries
from secretariat.groups.models import GroupRole, GroupStatus
from secretariat.members.models import MemberStatus
from tests.factories import (
    EventFactory,
    GroupMembershipFactory,
    MemberFactory,
    TermFactory,
    UserFactory,
    WorkingGroupFactory,
)

# -- group_rows ----------------------------------------------------------------------------


@pytest.fixture
def groups(db):
    """Three groups: two active (one empty), one closed."""
    transport = WorkingGroupFactory(name="transport", slug="transport")
    air = WorkingGroupFactory(name="Air quality", slug="air-quality", staff_lead=UserFactory())
    WorkingGroupFactory(name="Empty", slug="empty", theme=None)
    closed = WorkingGroupFactory(
        name="Bridges", slug="bridges", status=GroupStatus.CLOSED, closed_on=date(2023, 1, 1)
    )
    for role in (GroupRole.LEAD, GroupRole.LEAD, GroupRole.MEMBER, GroupRole.OBSERVER):
        GroupMembershipFactory(group=transport, role=role)
    # History does not count: a former lead and a former member.
    GroupMembershipFactory(group=transport, role=GroupRole.LEAD, left_on=date(2022, 6, 1))
    GroupMembershipFactory(group=transport, role=GroupRole.MEMBER, left_on=date(2022, 6, 1))
    GroupMembershipFactory(group=air, role=GroupRole.MEMBER)
    GroupMembershipFactory(group=closed, role=GroupRole.LEAD, left_on=date(2023, 1, 1))
    return {"transport": transport, "air": air, "closed": closed}


def summary(rows) -> list[tuple[str, GroupStatus, int, int]]:
    return [(r.group.name, r.group.status, r.members, r.leads) for r in rows]


def test_group_rows_count_current_members_and_leads(db, groups):
    assert summary(queries.group_rows(db)) == [
        ("Air quality", GroupStatus.ACTIVE, 1, 0),
        ("Empty", GroupStatus.ACTIVE, 0, 0),
        ("transport", GroupStatus.ACTIVE, 4, 2),
        ("Bridges", GroupStatus.CLOSED, 0, 0),
    ]


def test_group_rows_by_status(db, groups):
    assert [r.group.name for r in queries.group_rows(db, GroupStatus.ACTIVE)] == [
        "Air quality",
        "Empty",
        "transport",
    ]
    assert [r.group.name for r in queries.group_rows(db, GroupStatus.CLOSED)] == ["Bridges"]


def test_group_rows_load_theme_and_staff_lead(db, groups, count_queries):
    db.expire_all()
    with count_queries() as counter:
        rows = queries.group_rows(db)
        labels = [(r.group.theme and r.group.theme.label, r.group.staff_lead) for r in rows]
    assert counter.count == 1
    assert labels[0][1] is not None


# -- split_memberships and member_groups ---------------------------------------------------


def test_split_memberships_orders_leads_first_then_by_name(db):
    group = WorkingGroupFactory()
    cities = {
        name: MemberFactory(name=name) for name in ("Zürich", "Aachen", "Évora", "Bergen", "Oslo")
    }
    GroupMembershipFactory(group=group, member=cities["Aachen"], role=GroupRole.OBSERVER)
    GroupMembershipFactory(group=group, member=cities["Zürich"], role=GroupRole.LEAD)
    GroupMembershipFactory(group=group, member=cities["Bergen"], role=GroupRole.MEMBER)
    GroupMembershipFactory(group=group, member=cities["Évora"], role=GroupRole.LEAD)
    GroupMembershipFactory(
        group=group,
        member=cities["Oslo"],
        role=GroupRole.LEAD,
        joined_on=date(2022, 1, 1),
        left_on=date(2022, 12, 31),
    )
    GroupMembershipFactory(
        group=group,
        member=cities["Oslo"],
        role=GroupRole.MEMBER,
        joined_on=date(2023, 1, 1),
        left_on=date(2024, 3, 1),
    )
    GroupMembershipFactory(
        group=group,
        member=cities["Bergen"],
        role=GroupRole.OBSERVER,
        joined_on=date(2021, 1, 1),
        left_on=date(2021, 12, 31),
    )
    db.expire_all()
    current, past = queries.split_memberships(queries.group_detail(db, group.slug).memberships)
    assert [(m.member.name, m.role) for m in current] == [
        ("Évora", GroupRole.LEAD),
        ("Zürich", GroupRole.LEAD),
        ("Bergen", GroupRole.MEMBER),
        ("Aachen", GroupRole.OBSERVER),
    ]
    assert [(m.member.name, m.left_on) for m in past] == [
        ("Oslo", date(2024, 3, 1)),
        ("Oslo", date(2022, 12, 31)),
        ("Bergen", date(2021, 12, 31)),
    ]


def test_group_detail_by_slug(db):
    group = WorkingGroupFactory(slug="transport")
    assert queries.group_detail(db, "transport") == group
    assert queries.group_detail(db, "nothing") is None


def test_member_groups_current_first(db):
    member = MemberFactory()
    transport = WorkingGroupFactory(name="Transport")
    air = WorkingGroupFactory(name="Air")
    energy = WorkingGroupFactory(name="Energy")
    GroupMembershipFactory(
        member=member, group=transport, joined_on=date(2021, 1, 1), left_on=date(2022, 1, 1)
    )
    GroupMembershipFactory(member=member, group=air, joined_on=date(2022, 5, 1))
    GroupMembershipFactory(member=member, group=energy, joined_on=date(2023, 5, 1))
    GroupMembershipFactory(
        member=member, group=transport, joined_on=date(2023, 9, 1), left_on=date(2024, 1, 1)
    )
    GroupMembershipFactory(group=transport)  # another member's
    rows = queries.member_groups(db, member.id)
    assert [(m.group.name, m.joined_on) for m in rows] == [
        ("Energy", date(2023, 5, 1)),
        ("Air", date(2022, 5, 1)),
        ("Transport", date(2023, 9, 1)),
        ("Transport", date(2021, 1, 1)),
    ]
    assert queries.member_groups(db, MemberFactory().id) == []


def test_joinable_members(db):
    group = WorkingGroupFactory()
    inside = MemberFactory(name="Inside")
    GroupMembershipFactory(group=group, member=inside)
    former = MemberFactory(name="Former")
    GroupMembershipFactory(group=group, member=former, left_on=date(2023, 1, 1))
    applicant = MemberFactory(name="Applicant", status=MemberStatus.APPLICANT)
    suspended = MemberFactory(name="Suspended", status=MemberStatus.SUSPENDED)
    MemberFactory(name="Lapsed", status=MemberStatus.LAPSED)
    MemberFactory(name="Exited", status=MemberStatus.EXITED)
    other_group = MemberFactory(name="Elsewhere")
    GroupMembershipFactory(member=other_group)
    assert [m.name for m in queries.joinable_members(db, group)] == [
        applicant.name,
        other_group.name,
        former.name,
        suspended.name,
    ]


# -- query counts on the pages -------------------------------------------------------------


def statements(count_queries, client, url: str) -> list[str]:
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200, url
    return counter.statements


def assert_same_count(small: list[str], large: list[str]) -> None:
    assert len(small) == len(large), "\n\n".join(large)


def populate(db, group, regions, number: int) -> None:
    """Add current and past memberships with several roles, and events, to the group."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    roles = list(GroupRole)
    for i in range(number):
        member = MemberFactory(region=regions[i % len(regions)], status=MemberStatus.ACTIVE)
        left_on = date(2023, 6, 30) if i % 5 == 0 else None
        GroupMembershipFactory(
            group=group, member=member, role=roles[i % len(roles)], left_on=left_on
        )
        if left_on is not None and i % 10 == 0:
            GroupMembershipFactory(
                group=group, member=member, role=GroupRole.LEAD, joined_on=date(2023, 7, 1)
            )
    for i in range(max(2, number // 20)):
        EventFactory(group=group, starts_at=now + timedelta(days=i + 1))
        EventFactory(group=group, starts_at=now - timedelta(days=30 + i))
    db.flush()


@pytest.fixture
def regions(db):
    return [TermFactory(label=f"Region {i}") for i in range(4)]


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_group_page_queries(db, client, auth, count_queries, regions, role):
    auth.login(UserFactory(admin=role == "admin"))
    group = WorkingGroupFactory(slug="transport", staff_lead=UserFactory())
    populate(db, group, regions, 10)
    small = statements(count_queries, client, "/groups/transport")
    populate(db, group, regions, 190)
    large = statements(count_queries, client, "/groups/transport")
    assert_same_count(small, large)
    # Plus the group's follow-ups: pending and recently closed.
    assert len(large) <= 10


def test_group_page_queries_for_a_focal_point(db, client, auth, count_queries, regions):
    focal = UserFactory(focal_point=True)
    auth.login(focal)
    group = WorkingGroupFactory(slug="transport")
    GroupMembershipFactory(group=group, member=focal.member)
    populate(db, group, regions, 10)
    small = statements(count_queries, client, "/groups/transport")
    populate(db, group, regions, 190)
    assert_same_count(small, statements(count_queries, client, "/groups/transport"))


@pytest.mark.parametrize("url", ["/groups/", "/groups/?status=closed", "/groups/?status=all"])
def test_group_list_queries(db, client, auth, count_queries, regions, url):
    auth.login(UserFactory())
    groups = [
        WorkingGroupFactory(staff_lead=UserFactory()),
        WorkingGroupFactory(status=GroupStatus.CLOSED, closed_on=date(2024, 1, 1)),
    ]
    for group in groups:
        populate(db, group, regions, 10)
    small = statements(count_queries, client, url)
    for group in groups:
        populate(db, group, regions, 190)
    for _ in range(20):
        WorkingGroupFactory(staff_lead=UserFactory())
        WorkingGroupFactory(status=GroupStatus.CLOSED, closed_on=date(2024, 1, 1))
    large = statements(count_queries, client, url)
    assert_same_count(small, large)
    assert len(large) <= 3
