"""Read models of the partner pages, and bounded query counts on the list and partner page."""

from __future__ import annotations

import pytest

from secretariat.agreements.models import Agreement, AgreementKind, AgreementParty, AgreementStatus
from secretariat.db import utcnow
from secretariat.partners import queries
from secretariat.partners.models import PartnerKind
from tests.factories import MemberFactory, UserFactory
from tests.partners.factories import PartnerContactFactory, PartnerFactory


def agreement(db, owner, *partners, member=None) -> Agreement:
    """An agreement between the secretariat, the partners and optionally a member."""
    parties = [AgreementParty(is_secretariat=True, position=0)]
    parties += [AgreementParty(partner=p, position=i + 1) for i, p in enumerate(partners)]
    if member is not None:
        parties.append(AgreementParty(member=member, position=len(parties)))
    row = Agreement(
        kind=AgreementKind.MOU,
        title=f"MoU {len(partners)}",
        status=AgreementStatus.SIGNED,
        owner=owner,
        parties=parties,
    )
    db.add(row)
    db.flush()
    return row


@pytest.fixture
def owner(db):
    return UserFactory()


@pytest.fixture
def listed(db, owner):
    """Four partners: two with contacts and agreements, one with nothing, one archived."""
    agora = PartnerFactory(name="Fundação Ágora", kind=PartnerKind.NGO, country="BR")
    bank = PartnerFactory(name="Andes Development Bank", kind=PartnerKind.DEVELOPMENT_BANK)
    PartnerFactory(name="Zeta Labs", kind=PartnerKind.COMPANY, country=None)
    old = PartnerFactory(name="Old Partner", kind=PartnerKind.NGO, archived_at=utcnow())
    for _ in range(3):
        PartnerContactFactory(partner=agora)
    PartnerContactFactory(partner=bank)
    PartnerContactFactory(partner=old)
    agreement(db, owner, agora, bank, member=MemberFactory())
    agreement(db, owner, agora)
    agreement(db, owner, old)
    agreement(db, owner, member=MemberFactory())  # no partner at all
    return {"agora": agora, "bank": bank, "old": old}


def summary(page) -> list[tuple[str, int, int]]:
    return [(r.partner.name, r.contacts, r.agreements) for r in page.rows]


def test_partner_rows_count_contacts_and_agreements(db, listed):
    page = queries.partner_rows(db)
    assert summary(page) == [
        ("Andes Development Bank", 1, 1),
        ("Fundação Ágora", 3, 2),
        ("Zeta Labs", 0, 0),
    ]
    assert (page.total, page.page, page.pages) == (3, 1, 1)


def test_partner_rows_archived_and_all(db, listed):
    assert summary(queries.partner_rows(db, archived=True)) == [("Old Partner", 1, 1)]
    assert [r.partner.name for r in queries.partner_rows(db, archived=None).rows] == [
        "Andes Development Bank",
        "Fundação Ágora",
        "Old Partner",
        "Zeta Labs",
    ]


def test_partner_rows_by_kind(db, listed):
    ngos = queries.partner_rows(db, kind=PartnerKind.NGO, archived=None)
    assert [r.partner.name for r in ngos.rows] == ["Fundação Ágora", "Old Partner"]
    assert ngos.total == 2
    assert queries.partner_rows(db, kind=PartnerKind.FOUNDATION).rows == []


@pytest.mark.parametrize(
    ("search", "found"),
    [
        ("agora", ["Fundação Ágora"]),
        ("FUNDAÇÃO", ["Fundação Ágora"]),
        ("  ág ", ["Fundação Ágora"]),
        ("bank", ["Andes Development Bank"]),
        ("a", ["Andes Development Bank", "Fundação Ágora", "Zeta Labs"]),
        ("%", []),
        ("_", []),
        ("old", []),  # archived
        ("", ["Andes Development Bank", "Fundação Ágora", "Zeta Labs"]),
    ],
)
def test_partner_rows_search_folded_names(db, listed, search, found):
    assert [r.partner.name for r in queries.partner_rows(db, search=search).rows] == found


def test_partner_rows_search_takes_wildcards_literally(db):
    PartnerFactory(name="100% Cities")
    PartnerFactory(name="1000 Cities")
    PartnerFactory(name="Snake_case Ltd")
    PartnerFactory(name="Snakes Ltd")
    assert [r.partner.name for r in queries.partner_rows(db, search="100%").rows] == ["100% Cities"]
    assert [r.partner.name for r in queries.partner_rows(db, search="e_c").rows] == [
        "Snake_case Ltd"
    ]


def test_partner_rows_pages(db):
    for n in range(7):
        PartnerFactory(name=f"Partner {n}")
    first = queries.partner_rows(db, per_page=3)
    assert [r.partner.name for r in first.rows] == ["Partner 0", "Partner 1", "Partner 2"]
    assert (first.total, first.pages, first.has_prev, first.has_next) == (7, 3, False, True)
    last = queries.partner_rows(db, page=3, per_page=3)
    assert [r.partner.name for r in last.rows] == ["Partner 6"]
    assert (last.has_prev, last.has_next) == (True, False)
    # Out of range pages show the nearest page.
    assert queries.partner_rows(db, page=99, per_page=3).page == 3
    assert queries.partner_rows(db, page=-1, per_page=3).page == 1
    empty = queries.partner_rows(db, kind=PartnerKind.FOUNDATION, per_page=3)
    assert (empty.rows, empty.total, empty.page, empty.pages) == ([], 0, 1, 1)


def test_partner_rows_in_two_queries(db, listed, count_queries):
    db.expire_all()
    with count_queries() as counter:
        page = queries.partner_rows(db, archived=None)
        shown = [(r.partner.name, r.partner.kind, r.partner.country) for r in page.rows]
    assert counter.count == 2
    assert len(shown) == 4


def test_partner_detail_loads_contacts_by_name(db, count_queries):
    partner = PartnerFactory()
    for name in ("Zoe", "Ana", "Marta"):
        PartnerContactFactory(partner=partner, name=name)
    PartnerContactFactory(name="Elsewhere")
    partner_id = partner.id
    db.expire_all()
    with count_queries() as counter:
        loaded = queries.partner_detail(db, partner_id)
        names = [c.name for c in loaded.contacts]
    assert names == ["Ana", "Marta", "Zoe"]
    assert counter.count == 2
    assert queries.partner_detail(db, 999_999) is None


# -- query counts on the pages -------------------------------------------------------------


def statements(count_queries, client, url: str) -> list[str]:
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200, url
    return counter.statements


def assert_same_count(small: list[str], large: list[str]) -> None:
    assert len(small) == len(large), "\n\n".join(large)


def populate(db, owner, number: int) -> list:
    """Add partners of every kind, some archived, with contacts and agreements."""
    kinds = list(PartnerKind)
    partners = []
    for i in range(number):
        partner = PartnerFactory(
            kind=kinds[i % len(kinds)],
            country=None if i % 4 == 0 else "FR",
            archived_at=utcnow() if i % 7 == 0 else None,
        )
        for _ in range(i % 3):
            PartnerContactFactory(partner=partner)
        partners.append(partner)
    for i in range(0, number - 1, 2):
        agreement(db, owner, partners[i], partners[i + 1])
    db.flush()
    return partners


@pytest.mark.parametrize("role", ["staff", "admin"])
@pytest.mark.parametrize(
    "url", ["/partners/", "/partners/?show=all", "/partners/?show=archived&kind=ngo&q=partner"]
)
def test_partner_list_queries(db, app, client, auth, count_queries, owner, role, url):
    auth.login(UserFactory(admin=role == "admin"))
    populate(db, owner, 10)
    small = statements(count_queries, client, url)
    populate(db, owner, 190)
    large = statements(count_queries, client, url)
    assert_same_count(small, large)
    assert len(large) <= 4
    # Every row on one page: the count does not grow with the rows shown either.
    app.config["MEMBERS_PER_PAGE"] = 1000
    assert_same_count(small, statements(count_queries, client, url))


def test_partner_page_queries(db, client, auth, count_queries, owner):
    auth.login(UserFactory())
    partner = PartnerFactory()
    others = populate(db, owner, 10)
    for i in range(10):
        PartnerContactFactory(partner=partner)
        agreement(db, owner, partner, others[i])
    small = statements(count_queries, client, f"/partners/{partner.id}")
    others = populate(db, owner, 190)
    for i in range(190):
        PartnerContactFactory(partner=partner)
        agreement(db, owner, partner, others[i])
    db.flush()
    large = statements(count_queries, client, f"/partners/{partner.id}")
    assert_same_count(small, large)
    # The user, the partner, its contacts, its agreements and their parties.
    assert len(large) <= 5
