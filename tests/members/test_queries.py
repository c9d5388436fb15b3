"""The registry pages issue a fixed number of SQL statements, whatever the amount of data."""

from __future__ import annotations

from datetime import date

import factory
import pytest

from secretariat.members import services
from secretariat.members.models import ContactRole, MemberStatus
from secretariat.vocabularies.models import Vocabulary
from tests.factories import ContactFactory, MemberFactory, TermFactory, UserFactory


@pytest.fixture
def lists(db):
    regions = [TermFactory(label=label) for label in ("Africa", "Europe", "Latin America")]
    tiers = [TermFactory(vocabulary=Vocabulary.TIER, label=label) for label in ("Full", "Observer")]
    return regions, tiers


STATUSES = [MemberStatus.ACTIVE, MemberStatus.SUSPENDED, MemberStatus.APPLICANT]
COUNTRIES = ["PT", "BR", "KE", "CH", "CN"]


def add_members(db, lists, number: int) -> None:
    """Members spread over regions, tiers, statuses and countries, each with two contacts."""
    regions, tiers = lists
    members = MemberFactory.create_batch(
        number,
        region=factory.Iterator(regions),
        tier=factory.Iterator([None, *tiers]),
        status=factory.Iterator(STATUSES),
        country=factory.Iterator(COUNTRIES),
        population=factory.Iterator([None, 250_000, 1_200_000, 8_000_000]),
    )
    # Every other member has a primary focal point; each one also has a leader.
    ContactFactory.create_batch(
        number, member=factory.Iterator(members), is_primary=factory.Iterator([True, False])
    )
    ContactFactory.create_batch(number, member=factory.Iterator(members), role=ContactRole.LEADER)
    db.flush()


def statements(count_queries, client, url: str) -> list[str]:
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200, url
    return counter.statements


def assert_same_count(small: list[str], large: list[str]) -> None:
    assert len(small) == len(large), "\n\n".join(large)


@pytest.fixture
def staff(db, auth):
    user = UserFactory()
    auth.login(user)
    return user


@pytest.mark.parametrize(
    "url",
    [
        "/members/",
        "/members/?page=2",
        "/members/?q=city&sort=population&dir=desc",
        "/members/?status=active&country=PT&sort=joined_on",
    ],
)
def test_member_list(db, client, staff, count_queries, lists, url):
    add_members(db, lists, 10)
    small = statements(count_queries, client, url)
    add_members(db, lists, 190)
    large = statements(count_queries, client, url)
    assert_same_count(small, large)
    assert len(large) <= 10


def test_member_list_with_filters_by_term(db, client, staff, count_queries, lists):
    regions, tiers = lists
    url = f"/members/?region={regions[1].id}&tier={tiers[0].id}"
    add_members(db, lists, 10)
    small = statements(count_queries, client, url)
    add_members(db, lists, 190)
    assert_same_count(small, statements(count_queries, client, url))


def add_contacts(db, member, number: int) -> None:
    for i in range(number):
        ContactFactory(
            member=member,
            role=list(ContactRole)[i % len(ContactRole)],
            active_to=date(2020, 12, 31) if i % 4 == 0 else None,
            active_from=date(2019, 1, 1),
        )
    db.flush()


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_member_detail(db, client, auth, count_queries, lists, role):
    user = UserFactory(admin=role == "admin")
    auth.login(user)
    regions, tiers = lists
    member = MemberFactory(slug="lisbon", region=regions[1], tier=tiers[0])
    ContactFactory(member=member, is_primary=True)
    add_contacts(db, member, 1)
    services.change_status(db, user, member, MemberStatus.SUSPENDED, "Fees overdue.")
    small = statements(count_queries, client, "/members/lisbon")
    add_contacts(db, member, 38)
    for status in (MemberStatus.ACTIVE, MemberStatus.LAPSED, MemberStatus.ACTIVE):
        services.change_status(db, user, member, status, f"Now {status}.")
    other_user = UserFactory(admin=True)
    services.change_status(db, other_user, member, MemberStatus.SUSPENDED, "Again.")
    focal = UserFactory(focal_point=True, member=member)
    assert focal.member_id == member.id
    large = statements(count_queries, client, "/members/lisbon")
    assert_same_count(small, large)
    # Plus its agreements with their parties, and its follow-ups pending and recently closed.
    assert len(large) <= 12


def test_dashboard(db, client, staff, count_queries, lists):
    add_members(db, lists, 10)
    MemberFactory(region=None)  # "No region"
    small = statements(count_queries, client, "/")
    add_members(db, lists, 190)
    large = statements(count_queries, client, "/")
    assert_same_count(small, large)
    # Register figures, upcoming events and what waits for staff (exchange proposals,
    # people to match in attendance files, open reporting cycles with their rates,
    # commitment updates to verify).
    assert len(large) <= 13


@pytest.mark.parametrize("url", ["/members/export/members.csv", "/members/export/contacts.xlsx"])
def test_export(db, client, staff, count_queries, lists, url):
    add_members(db, lists, 10)
    small = statements(count_queries, client, url)
    add_members(db, lists, 190)
    assert_same_count(small, statements(count_queries, client, url))
