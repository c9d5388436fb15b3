"""Read models of the agreement pages: filters that agree with ``status_on``, renewals due,
and bounded query counts on the list and the agreement page."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from secretariat.agreements import queries, services
from secretariat.agreements.models import (
    Agreement,
    AgreementKind,
    AgreementParty,
    AgreementStatus,
    PartyKind,
)
from secretariat.agreements.queries import AgreementFilters
from secretariat.agreements.services import ObligationData, PartyRef
from tests.agreements.conftest import days
from tests.agreements.factories import (
    SECRETARIAT,
    AgreementChangeFactory,
    AgreementDocumentFactory,
    AgreementFactory,
)
from tests.factories import MemberFactory, UserFactory, WorkingGroupFactory
from tests.partners.factories import PartnerFactory

S = AgreementStatus
DAY = date(2027, 5, 10)


def titles(db, *conditions) -> list[str]:
    """The titles of the agreements that meet the conditions, sorted in Python (collations
    differ between databases)."""
    return sorted(db.scalars(select(Agreement.title).where(*conditions)))


@pytest.fixture
def spread(db):
    """Agreements in every stored status, around DAY: expiring before, on and after it."""
    made = [
        AgreementFactory(title="draft", status=S.DRAFT, expires_on=DAY - timedelta(days=3)),
        AgreementFactory(title="negotiating", status=S.NEGOTIATING),
        AgreementFactory(title="signed, expiry passed", signed=True, expires_on=DAY - timedelta(1)),
        AgreementFactory(
            title="signed, expires in 20", signed=True, expires_on=DAY + timedelta(20)
        ),
        AgreementFactory(title="active, open-ended", active=True),
        AgreementFactory(
            title="active, expired yesterday", active=True, expires_on=DAY - timedelta(1)
        ),
        AgreementFactory(title="active, last day today", active=True, expires_on=DAY),
        AgreementFactory(
            title="active, expires in 30", active=True, expires_on=DAY + timedelta(30)
        ),
        AgreementFactory(
            title="active, expires in 31", active=True, expires_on=DAY + timedelta(31)
        ),
        AgreementFactory(
            title="active, expires in 90", active=True, expires_on=DAY + timedelta(90)
        ),
        AgreementFactory(
            title="active, expires in 91", active=True, expires_on=DAY + timedelta(91)
        ),
        AgreementFactory(
            title="expired",
            status=S.EXPIRED,
            signed_on=date(2020, 1, 1),
            expires_on=date(2021, 1, 1),
        ),
        AgreementFactory(title="terminated", status=S.TERMINATED, expires_on=DAY + timedelta(5)),
        AgreementFactory(title="renewed", status=S.RENEWED, expires_on=DAY + timedelta(5)),
    ]
    return made


@pytest.mark.parametrize("offset", [-400, -2, -1, 0, 1, 30, 400])
@pytest.mark.parametrize("status", list(S), ids=lambda s: s.value)
def test_status_filter_agrees_with_status_on(db, spread, status, offset):
    day = DAY + timedelta(days=offset)
    expected = sorted(a.title for a in spread if a.status_on(day) is status)
    assert titles(db, queries.status_filter(status, day)) == expected


def test_every_agreement_has_exactly_one_shown_status(db, spread):
    found = []
    for status in S:
        found += titles(db, queries.status_filter(status, DAY))
    assert sorted(found) == sorted(a.title for a in spread)


def test_status_filter_on_day(db, spread):
    assert titles(db, queries.status_filter(S.EXPIRED, DAY)) == [
        "active, expired yesterday",
        "expired",
    ]
    assert "active, last day today" in titles(db, queries.status_filter(S.ACTIVE, DAY))


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        (30, ["active, expires in 30", "active, last day today", "signed, expires in 20"]),
        (
            90,
            [
                "active, expires in 30",
                "active, expires in 31",
                "active, expires in 90",
                "active, last day today",
                "signed, expires in 20",
            ],
        ),
    ],
)
def test_expiring_filter(db, spread, window, expected):
    assert titles(db, queries.expiring_filter(DAY, window)) == expected


def test_expiring_agreements_are_all_in_force_or_signed_today(db, spread):
    for title in titles(db, queries.expiring_filter(DAY, 90)):
        agreement = next(a for a in spread if a.title == title)
        assert agreement.status_on(DAY) in (S.ACTIVE, S.SIGNED)


def test_filters_combine(db, spread, staff):
    spread[7].kind = AgreementKind.GRANT
    db.flush()
    filters = AgreementFilters(kind=AgreementKind.GRANT, status=S.ACTIVE, expiring_within=30)
    page = queries.agreement_page(db, staff, filters, DAY, 1, 25)
    assert [a.title for a in page.items] == ["active, expires in 30"]
    assert page.total == 1


def test_search_treats_wildcards_literally(db, staff):
    AgreementFactory(title="Cut emissions 50% by 2030")
    AgreementFactory(title="Cut emissions by half")
    AgreementFactory(title="snake_case")
    AgreementFactory(title="snakeXcase")

    def found(search):
        page = queries.agreement_page(db, staff, AgreementFilters(search=search), DAY, 1, 25)
        return sorted(a.title for a in page.items)

    assert found("50%") == ["Cut emissions 50% by 2030"]
    assert found("CUT EMISSIONS") == ["Cut emissions 50% by 2030", "Cut emissions by half"]
    assert found("snake_") == ["snake_case"]


def test_party_filter(db, staff):
    lisbon, porto = MemberFactory(), MemberFactory()
    bank = PartnerFactory()
    AgreementFactory(title="A", parties=[SECRETARIAT, lisbon])
    AgreementFactory(title="B", parties=[lisbon, bank])
    AgreementFactory(title="C", parties=[porto, bank, SECRETARIAT])
    assert titles(db, queries.party_filter(PartyRef(PartyKind.MEMBER, lisbon.id))) == ["A", "B"]
    assert titles(db, queries.party_filter(PartyRef(PartyKind.PARTNER, bank.id))) == ["B", "C"]
    assert titles(db, queries.party_filter(PartyRef(PartyKind.SECRETARIAT))) == ["A", "C"]


def test_focal_point_list_holds_only_their_members_agreements(db, focal):
    AgreementFactory(title="Theirs", parties=[SECRETARIAT, focal.member])
    AgreementFactory(title="Cohort", parties=[MemberFactory(), focal.member, MemberFactory()])
    AgreementFactory(title="Other")
    page = queries.agreement_page(db, focal, AgreementFilters(), DAY, 1, 25)
    assert sorted(a.title for a in page.items) == ["Cohort", "Theirs"]
    assert page.total == 2
    assert [a.title for a in queries.agreements_of(db, focal, member_id=focal.member_id)] == [
        "Cohort",
        "Theirs",
    ]


def test_agreements_of_a_partner(db, staff):
    bank = PartnerFactory()
    AgreementFactory(title="First", parties=[SECRETARIAT, bank])
    AgreementFactory(title="Other")
    assert [a.title for a in queries.agreements_of(db, staff, partner_id=bank.id)] == ["First"]


# -- renewals due --------------------------------------------------------------------------


def test_renewals_due(db, staff):
    def make(title, expires_in, notice, **kwargs):
        return AgreementFactory(
            active=True,
            title=title,
            expires_on=DAY + timedelta(days=expires_in) if expires_in is not None else None,
            renewal_notice_days=notice,
            **kwargs,
        )

    make("notice began today", 30, 30)
    make("notice begins tomorrow", 31, 30)
    make("last day today", 0, 30)
    make("notice of zero days, last day", 0, 0)
    make("notice of zero days, tomorrow", 1, 0)
    make("expired yesterday", -1, 30)
    make("no notice", 5, None)
    make("no expiry", None, 30)
    make("signed only", 5, 30, status=S.SIGNED)
    under_way = make("renewal under way", 10, 30)
    AgreementFactory(title="successor", renews=under_way)
    failed = make("renewal failed", 12, 30)
    AgreementFactory(title="failed successor", renews=failed, status=S.TERMINATED)

    due = queries.renewals_due(db, DAY)

    assert [a.title for a in due] == [
        "last day today",
        "notice of zero days, last day",
        "renewal failed",
        "notice began today",
    ]
    assert [a.title for a in queries.renewals_due(db, DAY, limit=2)] == [
        "last day today",
        "notice of zero days, last day",
    ]
    for agreement in due:
        assert agreement.renewal_notice_on() is None or agreement.renewal_notice_on() <= DAY


def test_renewals_due_load_their_owner(db, count_queries):
    for _ in range(3):
        AgreementFactory(active=True, expires_on=DAY, renewal_notice_days=5)
    db.expire_all()
    with count_queries() as counter:
        owners = [a.owner.name for a in queries.renewals_due(db, DAY)]
    assert len(owners) == 3
    assert counter.count == 1


# -- query counts --------------------------------------------------------------------------


def populate(count: int, staff_pool: list, group) -> None:
    """``count`` agreements between the secretariat, two members and a partner."""
    for n in range(count):
        AgreementFactory(
            active=True,
            expires_on=days(10 + n),
            owner=staff_pool[n % len(staff_pool)],
            group=group,
            parties=[SECRETARIAT, MemberFactory(), MemberFactory(), PartnerFactory()],
        )


def statements(db, count_queries, client, url: str, expected: str) -> list[str]:
    db.expire_all()
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200, url
    assert expected in response.get_data(as_text=True)
    return counter.statements


def assert_same_count(small: list[str], large: list[str]) -> None:
    assert len(small) == len(large), "\n\n".join(large)


@pytest.mark.parametrize(
    ("url", "small_total", "large_total"),
    [
        ("/agreements/", 10, 200),
        ("/agreements/?status=active&expiring=90", 10, 91),
        ("/agreements/?kind=mou&party=secretariat", 10, 200),
    ],
)
def test_list_query_count_does_not_grow(
    db, client, auth, staff, count_queries, url, small_total, large_total
):
    pool = [UserFactory() for _ in range(5)]
    group = WorkingGroupFactory()
    auth.login(staff)
    populate(10, pool, group)
    small = statements(db, count_queries, client, url, f"{small_total} agreements")
    populate(190, pool, group)
    large = statements(db, count_queries, client, url, f"{large_total} agreements")
    assert_same_count(small, large)
    assert len(large) <= 6


def test_focal_point_list_query_count_does_not_grow(db, client, auth, focal, count_queries):
    auth.login(focal)

    def add(count):
        for _ in range(count):
            AgreementFactory(parties=[SECRETARIAT, focal.member, MemberFactory(), PartnerFactory()])
            AgreementFactory()  # not theirs

    add(10)
    small = statements(db, count_queries, client, "/agreements/", "10 agreements")
    add(190)
    large = statements(db, count_queries, client, "/agreements/", "200 agreements")
    assert_same_count(small, large)


def grow(db, agreement, staff, count: int) -> None:
    """Add ``count`` parties, obligations with follow-ups, documents and history lines."""
    for _ in range(count):
        agreement.parties.append(
            AgreementParty(member=MemberFactory(), position=len(agreement.parties))
        )
    db.flush()
    start = len(agreement.obligations)
    for n in range(start, start + count):
        party = agreement.parties[n % len(agreement.parties)]
        services.add_obligation(
            db, staff, agreement, ObligationData(f"Duty {n}", party.id, days(5 + n))
        )
        AgreementDocumentFactory(agreement=agreement, uploaded_by=UserFactory())
        AgreementChangeFactory(agreement=agreement, actor=UserFactory())


@pytest.mark.parametrize("viewer", ["staff", "focal point"])
def test_detail_query_count_does_not_grow(db, client, auth, staff, focal, count_queries, viewer):
    old = AgreementFactory(active=True, expires_on=days(-1))
    agreement = AgreementFactory(
        signed=True,
        signed_on=days(-3),
        owner=UserFactory(),
        group=WorkingGroupFactory(),
        renews=old,
        parties=[SECRETARIAT, focal.member, PartnerFactory()],
    )
    AgreementFactory(renews=agreement)
    auth.login(staff if viewer == "staff" else focal)
    url = f"/agreements/{agreement.id}"
    grow(db, agreement, staff, 10)
    small = statements(db, count_queries, client, url, "Duty 9")
    grow(db, agreement, staff, 190)
    large = statements(db, count_queries, client, url, "Duty 199")
    assert_same_count(small, large)
    assert len(large) <= 14


def test_member_page_query_count_does_not_grow(db, client, auth, staff, count_queries):
    member = MemberFactory(slug="lisbon")
    auth.login(staff)

    def add(count):
        for _ in range(count):
            AgreementFactory(parties=[SECRETARIAT, member, MemberFactory(), PartnerFactory()])

    add(10)
    small = statements(db, count_queries, client, "/members/lisbon", "agreements-title")
    add(190)
    large = statements(db, count_queries, client, "/members/lisbon", "agreements-title")
    assert_same_count(small, large)
