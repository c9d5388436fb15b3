"""Read models of the commitment pages: the network view's filters and counts, and the pages'
query counts at 10 and 200 rows."""

from __future__ import annotations

import re

import pytest

from secretariat.commitments import queries
from secretariat.commitments.models import CommitmentStatus, CommitmentUpdate
from secretariat.commitments.queries import CommitmentFilters
from secretariat.db import utcnow
from tests.commitments.conftest import ago, days, today
from tests.factories import CommitmentFactory, MemberFactory, TermFactory, UserFactory

S = CommitmentStatus


def titles(db, filters: CommitmentFilters, per_page: int = 100) -> list[str]:
    page = queries.commitment_page(db, filters, today(), utcnow(), 1, per_page)
    return sorted(c.title for c in page.items)


@pytest.fixture
def network(db, mitigation, health):
    """Commitments of two regions, in several categories, statuses and states of evidence."""
    europe, africa = TermFactory(label="Europe"), TermFactory(label="Africa")
    lisbon = MemberFactory(name="Lisbon", region=europe)
    accra = MemberFactory(name="Accra", region=africa)
    CommitmentFactory(
        member=lisbon,
        category=mitigation,
        title="Lisbon plan",
        status=S.IN_PROGRESS,
        evidence_url="https://x.example/plan",
        evidence_on=days(-900),
        freshness_months=24,
        evidence_stale_on=days(-170),
        created_at=ago(1000),
        last_update_at=ago(10),
    )
    CommitmentFactory(
        member=lisbon,
        category=health,
        title="Lisbon smoke-free",
        status=S.ACHIEVED,
        created_at=ago(400),
        last_update_at=ago(200),
    )
    CommitmentFactory(
        member=accra,
        category=mitigation,
        title="Accra inventory",
        status=S.PLANNED,
        freshness_months=24,
        # No evidence under a rule: stale from the day it was entered.
        evidence_stale_on=days(-100),
        created_at=ago(100),
    )
    CommitmentFactory(
        member=accra,
        category=health,
        title="Accra clean air",
        status=S.IN_PROGRESS,
        evidence_url="https://x.example/air",
        evidence_on=days(-30),
        freshness_months=12,
        evidence_stale_on=days(335),
        created_at=ago(30),
    )
    return {"europe": europe, "africa": africa, "lisbon": lisbon, "accra": accra}


ALL = ["Accra clean air", "Accra inventory", "Lisbon plan", "Lisbon smoke-free"]


def test_no_filter_lists_everything_by_member_then_title(db, network):
    page = queries.commitment_page(db, CommitmentFilters(), today(), utcnow(), 1, 10)
    assert [c.title for c in page.items] == ALL
    assert page.total == 4


def test_filter_by_category(db, network, mitigation, health):
    assert titles(db, CommitmentFilters(category_id=mitigation.id)) == [
        "Accra inventory",
        "Lisbon plan",
    ]
    assert titles(db, CommitmentFilters(category_id=health.id)) == [
        "Accra clean air",
        "Lisbon smoke-free",
    ]


def test_filter_by_status(db, network):
    assert titles(db, CommitmentFilters(status=S.IN_PROGRESS)) == [
        "Accra clean air",
        "Lisbon plan",
    ]
    assert titles(db, CommitmentFilters(status=S.DROPPED)) == []


def test_filter_stale_evidence_includes_missing_evidence_under_a_rule(db, network):
    assert titles(db, CommitmentFilters(stale=True)) == ["Accra inventory", "Lisbon plan"]


def test_stale_on_the_first_stale_day_and_not_before(db, mitigation):
    CommitmentFactory(category=mitigation, title="Due today", evidence_stale_on=today())
    CommitmentFactory(category=mitigation, title="Due tomorrow", evidence_stale_on=days(1))
    assert titles(db, CommitmentFilters(stale=True)) == ["Due today"]


def test_filter_not_updated_for_n_days(db, network):
    # Never updated: counted from when it was entered.
    assert titles(db, CommitmentFilters(not_updated_days=90)) == [
        "Accra inventory",
        "Lisbon smoke-free",
    ]
    assert titles(db, CommitmentFilters(not_updated_days=180)) == ["Lisbon smoke-free"]
    assert titles(db, CommitmentFilters(not_updated_days=365)) == []
    assert titles(db, CommitmentFilters(not_updated_days=5)) == ALL


def test_filter_by_region_and_member(db, network):
    assert titles(db, CommitmentFilters(region_id=network["africa"].id)) == [
        "Accra clean air",
        "Accra inventory",
    ]
    assert titles(db, CommitmentFilters(member_id=network["lisbon"].id)) == [
        "Lisbon plan",
        "Lisbon smoke-free",
    ]


def test_filters_combine(db, network, mitigation):
    filters = CommitmentFilters(
        category_id=mitigation.id, stale=True, region_id=network["europe"].id
    )
    assert titles(db, filters) == ["Lisbon plan"]


def test_status_counts_follow_the_other_filters_but_not_the_status(db, network):
    counts = queries.status_counts(db, CommitmentFilters(status=S.ACHIEVED), today(), utcnow())
    assert counts == {S.IN_PROGRESS: 2, S.ACHIEVED: 1, S.PLANNED: 1}
    africa = queries.status_counts(
        db, CommitmentFilters(region_id=network["africa"].id), today(), utcnow()
    )
    assert africa == {S.IN_PROGRESS: 1, S.PLANNED: 1}


def test_pages(db, mitigation):
    for n in range(7):
        CommitmentFactory(category=mitigation, title=f"C{n}", member=MemberFactory(name=f"M{n}"))
    second = queries.commitment_page(db, CommitmentFilters(), today(), utcnow(), 2, 5)
    assert [c.title for c in second.items] == ["C5", "C6"]
    assert (second.total, second.pages) == (7, 2)
    beyond = queries.commitment_page(db, CommitmentFilters(), today(), utcnow(), 9, 5)
    assert beyond.page == 2


def test_member_commitments_ongoing_first(db, mitigation):
    member = MemberFactory()
    CommitmentFactory(member=member, category=mitigation, title="A done", status=S.ACHIEVED)
    CommitmentFactory(member=member, category=mitigation, title="B later", target_on=days(300))
    CommitmentFactory(member=member, category=mitigation, title="C soon", target_on=days(30))
    CommitmentFactory(category=mitigation, title="Not theirs")
    assert [c.title for c in queries.member_commitments(db, member.id)] == [
        "C soon",
        "B later",
        "A done",
    ]


def test_member_choices_by_name(db):
    MemberFactory(name="Zagreb")
    MemberFactory(name="Aarhus")
    names = [name for _id, name in queries.member_choices(db)]
    assert names.index("Aarhus") < names.index("Zagreb")


# -- query counts --------------------------------------------------------------------------


def populate(db, member, category, author, count: int) -> None:
    """``count`` commitments of the member, each with evidence and one verified update."""
    for n in range(count):
        commitment = CommitmentFactory(
            member=member,
            category=category,
            status=S.IN_PROGRESS,
            percent_complete=n % 100,
            evidence_url=f"https://x.example/{n}",
            evidence_on=days(-n),
            freshness_months=12,
            evidence_stale_on=days(365 - n),
            last_update_at=ago(n),
        )
        db.add(
            CommitmentUpdate(
                commitment=commitment,
                status=S.IN_PROGRESS,
                narrative="Going well.",
                author=author,
                is_verified=True,
                verified_by=author,
                verified_at=utcnow(),
            )
        )


def statements(db, count_queries, client, url: str, expected: str) -> list[str]:
    db.flush()
    db.expire_all()
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200, url
    assert expected in response.get_data(as_text=True)
    return counter.statements


def assert_same_count(small: list[str], large: list[str], bound: int) -> None:
    assert len(small) == len(large), "\n\n".join(large)
    assert len(large) <= bound, "\n\n".join(large)


def test_network_view_query_count_does_not_grow(db, client, auth, staff, mitigation, count_queries):
    auth.login(staff)
    members = [MemberFactory(region=TermFactory()) for _ in range(5)]

    def add(count: int) -> None:
        for n in range(count):
            populate(db, members[n % 5], mitigation, staff, 1)

    add(10)
    small = statements(db, count_queries, client, "/commitments/", "10 commitments")
    add(190)
    large = statements(db, count_queries, client, "/commitments/", "200 commitments")
    assert_same_count(small, large, bound=8)
    filtered = f"/commitments/?stale=1&not_updated=1&category={mitigation.id}&status=in_progress"
    assert len(statements(db, count_queries, client, filtered, "commitments")) == len(large)


def test_member_page_query_count_does_not_grow(
    db, client, auth, focal, lisbon, mitigation, count_queries
):
    auth.login(focal)
    populate(db, lisbon, mitigation, focal, 10)
    url = f"/commitments/member/{lisbon.id}"
    small = statements(db, count_queries, client, url, "10 commitments")
    populate(db, lisbon, mitigation, focal, 190)
    large = statements(db, count_queries, client, url, "200 commitments")
    assert_same_count(small, large, bound=5)


def test_detail_page_query_count_does_not_grow(
    db, client, auth, staff, lisbon, mitigation, count_queries
):
    auth.login(staff)
    commitment = CommitmentFactory(member=lisbon, category=mitigation)
    authors = [UserFactory(focal_point=True, member=lisbon) for _ in range(5)]

    def add(first: int, last: int) -> None:
        for n in range(first, last):
            db.add(
                CommitmentUpdate(
                    commitment=commitment,
                    status=S.IN_PROGRESS,
                    narrative=f"Step {n}",
                    author=authors[n % 5],
                    evidence_url=f"https://x.example/{n}",
                    evidence_on=days(-1),
                    is_verified=n % 2 == 0,
                    verified_by=staff if n % 2 == 0 else None,
                    verified_at=utcnow() if n % 2 == 0 else None,
                )
            )

    url = f"/commitments/{commitment.id}"
    add(0, 10)
    small = statements(db, count_queries, client, url, "Step 9")
    add(10, 200)
    large = statements(db, count_queries, client, url, "Step 199")
    assert_same_count(small, large, bound=5)
    page = client.get(url).get_data(as_text=True)
    assert len(re.findall(r'<tr id="update-\d+">', page)) == 200
    assert "with its 200 progress updates" in page
