"""The registry pages as staff use them: directory, forms, status, contacts, dashboard."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from secretariat.db import utcnow
from secretariat.members.models import (
    Contact,
    ContactRole,
    Member,
    MemberKind,
    MemberStatus,
    MemberStatusChange,
)
from secretariat.vocabularies.models import Vocabulary
from tests.factories import ContactFactory, MemberFactory, TermFactory, UserFactory

ROW_LINK = re.compile(r'<td><a href="/members/([^"/?]+)">([^<]*)</a></td>')


def listed(response) -> list[str]:
    """Names of the members in the directory table, in order."""
    assert response.status_code == 200, response.status_code
    return [html.unescape(name) for _slug, name in ROW_LINK.findall(response.get_data(True))]


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def counts(db) -> tuple[int, int, int]:
    return (
        db.scalar(select(func.count()).select_from(Member)),
        db.scalar(select(func.count()).select_from(MemberStatusChange)),
        db.scalar(select(func.count()).select_from(Contact)),
    )


def member_form(**overrides) -> dict[str, str]:
    data = {
        "name": "Lisbon",
        "slug": "",
        "kind": "city",
        "country": "PT",
        "region_id": "",
        "population": "",
        "joined_on": "",
        "tier_id": "",
        "annual_fee": "",
        "fee_currency": "",
        "next_election_on": "",
        "leader_term_ends_on": "",
        "website": "",
        "notes": "",
        "status": "applicant",
    }
    data.update(overrides)
    return data


def contact_form(**overrides) -> dict[str, str]:
    data = {
        "name": "Ana Silva",
        "role": "focal_point",
        "job_title": "International relations",
        "email": "ana.silva@lisboa.example",
        "phone": "+351 21 000 0000",
        "language": "pt",
        "active_from": "2023-01-01",
        "active_to": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def staff(db, auth):
    user = UserFactory(name="Tomás Lindqvist")
    auth.login(user)
    return user


# -- directory -----------------------------------------------------------------------------


@pytest.fixture
def world(db):
    europe = TermFactory(label="Europe")
    asia = TermFactory(label="East Asia")
    latam = TermFactory(label="Latin America")
    full = TermFactory(vocabulary=Vocabulary.TIER, label="Full")
    observer = TermFactory(vocabulary=Vocabulary.TIER, label="Observer")
    members = {
        "sao-paulo": MemberFactory(
            name="São Paulo",
            slug="sao-paulo",
            country="BR",
            region=latam,
            tier=full,
            population=11_450_000,
        ),
        "zurich": MemberFactory(
            name="Zürich",
            slug="zurich",
            country="CH",
            region=europe,
            tier=observer,
            population=421_000,
            status=MemberStatus.SUSPENDED,
        ),
        "moskva": MemberFactory(
            name="Москва",
            slug="moskva",
            country="RU",
            region=europe,
            tier=None,
            population=13_000_000,
            status=MemberStatus.EXITED,
        ),
        "beijing": MemberFactory(
            name="北京",
            slug="beijing",
            country="CN",
            region=asia,
            tier=full,
            population=None,
            kind=MemberKind.METROPOLITAN_AUTHORITY,
        ),
        "krakow": MemberFactory(
            name="Kraków",
            slug="krakow",
            country="PL",
            region=europe,
            tier=full,
            population=800_000,
            kind=MemberKind.RURAL_AREA,
            status=MemberStatus.APPLICANT,
        ),
        "lisbon": MemberFactory(
            name="Lisbon",
            slug="lisbon",
            country="PT",
            region=europe,
            tier=observer,
            population=545_000,
        ),
    }
    return {
        "members": members,
        "europe": europe,
        "asia": asia,
        "full": full,
        "observer": observer,
    }


def test_directory_lists_members_by_name(client, staff, world):
    names = listed(client.get("/members/"))
    assert names == ["Kraków", "Lisbon", "São Paulo", "Zürich", "Москва", "北京"]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("sao", ["São Paulo"]),
        ("SÃO PAULO", ["São Paulo"]),
        ("paulo", ["São Paulo"]),
        ("ZÜRICH", ["Zürich"]),
        ("zurich", ["Zürich"]),
        ("москва", ["Москва"]),
        ("МОСКВА", ["Москва"]),
        ("北京", ["北京"]),
        ("krakow", ["Kraków"]),
        ("KRAKÓW", ["Kraków"]),
        ("beijing", ["北京"]),  # the slug matches too
        ("  lisbon  ", ["Lisbon"]),
        ("%", []),
        ("_", []),
        ("nowhere", []),
    ],
)
def test_search_ignores_case_and_accents(client, staff, world, q, expected):
    response = client.get("/members/", query_string={"q": q})
    assert listed(response) == expected
    if not expected:
        assert "No member matches these filters." in text(response)


def test_filter_by_region(client, staff, world):
    response = client.get("/members/", query_string={"region": world["europe"].id})
    assert listed(response) == ["Kraków", "Lisbon", "Zürich", "Москва"]
    assert f'<option value="{world["europe"].id}" selected>Europe</option>' in text(response)


def test_filter_by_country(client, staff, world):
    assert listed(client.get("/members/?country=br")) == ["São Paulo"]
    assert listed(client.get("/members/?country=CN")) == ["北京"]


def test_filter_by_status(client, staff, world):
    assert listed(client.get("/members/?status=suspended")) == ["Zürich"]
    assert listed(client.get("/members/?status=applicant")) == ["Kraków"]
    assert listed(client.get("/members/?status=active")) == ["Lisbon", "São Paulo", "北京"]


def test_filter_by_kind(client, staff, world):
    assert listed(client.get("/members/?kind=rural_area")) == ["Kraków"]
    assert listed(client.get("/members/?kind=metropolitan_authority")) == ["北京"]


def test_filter_by_tier(client, staff, world):
    assert listed(client.get(f"/members/?tier={world['observer'].id}")) == ["Lisbon", "Zürich"]
    assert listed(client.get(f"/members/?tier={world['full'].id}")) == [
        "Kraków",
        "São Paulo",
        "北京",
    ]


def test_filters_combine_with_search(client, staff, world):
    url = f"/members/?region={world['europe'].id}&status=active&q=lis"
    assert listed(client.get(url)) == ["Lisbon"]
    url = f"/members/?region={world['europe'].id}&q=sao"
    assert listed(client.get(url)) == []


def test_unknown_filter_values_are_ignored(client, staff, world):
    response = client.get("/members/?status=bogus&kind=town&country=XX&region=abc&sort=evil")
    assert len(listed(response)) == 6


def test_sort_by_population_descending(client, staff, world):
    response = client.get("/members/?sort=population&dir=desc")
    # Unknown populations come last.
    assert listed(response) == ["Москва", "São Paulo", "Kraków", "Lisbon", "Zürich", "北京"]
    ascending = listed(client.get("/members/?sort=population&dir=asc"))
    assert ascending == ["Zürich", "Lisbon", "Kraków", "São Paulo", "Москва", "北京"]


def test_pagination(db, client, staff, app):
    assert app.config["MEMBERS_PER_PAGE"] == 25
    for n in range(30):
        MemberFactory(name=f"Member {n:02d}", slug=f"member-{n:02d}")
    first = client.get("/members/")
    assert listed(first) == [f"Member {n:02d}" for n in range(25)]
    assert "30 members" in text(first)
    assert "Page 1 of 2" in text(first)
    assert 'rel="next"' in text(first)
    second = client.get("/members/?page=2")
    assert listed(second) == [f"Member {n:02d}" for n in range(25, 30)]
    assert "Page 2 of 2" in text(second)
    assert 'rel="prev"' in text(second)
    assert 'rel="next"' not in text(second)
    # A page past the end shows the last page.
    assert listed(client.get("/members/?page=9")) == listed(second)


def test_pagination_keeps_the_filters(db, client, staff):
    region = TermFactory(label="Europe")
    for n in range(30):
        MemberFactory(name=f"Member {n:02d}", slug=f"member-{n:02d}", region=region)
    MemberFactory(name="Member elsewhere", slug="elsewhere")
    response = client.get(f"/members/?region={region.id}&sort=name&dir=desc")
    names = listed(response)
    assert names[0] == "Member 29"
    assert f"region={region.id}" in re.search(r'href="([^"]+)" rel="next"', text(response))[1]
    second = client.get(f"/members/?region={region.id}&sort=name&dir=desc&page=2")
    assert listed(second) == [f"Member {n:02d}" for n in range(4, -1, -1)]


def test_directory_needs_sign_in(client, db):
    response = client.get("/members/")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


# -- creating and editing members ---------------------------------------------------------


def test_create_member_with_a_unicode_name_and_automatic_slug(db, client, staff):
    region = TermFactory(label="Latin America")
    tier = TermFactory(vocabulary=Vocabulary.TIER, label="Full")
    response = client.post(
        "/members/new",
        data=member_form(
            name="São Paulo",
            country="BR",
            region_id=str(region.id),
            tier_id=str(tier.id),
            population="11451245",
            joined_on="2019-05-01",
            annual_fee="2500.00",
            fee_currency="EUR",
            website="https://www.prefeitura.sp.gov.br",
            status="active",
        ),
    )
    assert response.status_code == 302, text(response)
    assert response.headers["Location"].endswith("/members/sao-paulo")
    db.expire_all()
    member = db.scalar(select(Member).where(Member.slug == "sao-paulo"))
    assert member.name == "São Paulo"
    assert member.search_name == "sao paulo"
    assert member.country == "BR"
    assert member.region_id == region.id
    assert member.tier_id == tier.id
    assert member.population == 11_451_245
    assert member.joined_on == date(2019, 5, 1)
    assert str(member.annual_fee) == "2500.00"
    assert member.fee_currency == "EUR"
    assert member.status is MemberStatus.ACTIVE
    (change,) = member.status_changes
    assert change.to_status is MemberStatus.ACTIVE
    assert change.changed_by_id == staff.id
    page = text(client.get("/members/sao-paulo"))
    assert "São Paulo is added." in page
    assert "<h1>São Paulo</h1>" in page
    assert "Tomás Lindqvist" in page


def test_create_member_with_a_non_latin_name_needs_a_slug(db, client, staff):
    before = counts(db)
    response = client.post("/members/new", data=member_form(name="Москва", country="RU"))
    assert response.status_code == 200
    assert 'id="slug-error"' in text(response)
    assert counts(db) == before
    response = client.post(
        "/members/new", data=member_form(name="Москва", slug="moskva", country="RU")
    )
    assert response.status_code == 302
    db.expire_all()
    member = db.scalar(select(Member).where(Member.slug == "moskva"))
    assert member.name == "Москва"
    assert member.search_name == "москва"
    assert member.status is MemberStatus.APPLICANT


def test_create_member_with_a_long_name_and_automatic_slug(db, client, staff):
    # The slug made from this name is cut at 100 characters, right after a hyphen.
    name = (
        "Metropolitan Authority of the Autonomous Region of Greater Example "
        "and the Surrounding Valley Towns of the North"
    )
    response = client.post("/members/new", data=member_form(name=name))
    errors = re.findall(r'class="field-error">([^<]*)<', text(response))
    assert response.status_code == 302, errors
    db.expire_all()
    member = db.scalar(select(Member).where(Member.name == name))
    assert member.slug == (
        "metropolitan-authority-of-the-autonomous-region-of-greater-example-and-the-"
        "surrounding-valley-towns"
    )


def test_create_member_errors_render_and_write_nothing(db, client, staff):
    MemberFactory(slug="lisbon")
    before = counts(db)
    response = client.post(
        "/members/new",
        data=member_form(
            name="Lisboa",
            slug="lisbon",
            website="ftp://lisboa.pt",
            annual_fee="100",
            fee_currency="",
        ),
    )
    assert response.status_code == 200
    page = text(response)
    assert 'class="error-summary"' in page
    assert "Please correct the following" in page
    assert "Another member already uses “lisbon”." in page
    assert "Enter a full web address starting with https:// or http://." in page
    assert "Give the currency of the fee." in page
    # Each message is next to its field and linked from the summary.
    assert re.search(r'id="slug-error" class="field-error">Another member already uses', page)
    assert '<a href="#website">Website: Enter a full web address' in page
    assert 'aria-invalid="true"' in page
    assert counts(db) == before


def test_create_member_form_level_errors(db, client, staff):
    before = counts(db)
    response = client.post(
        "/members/new",
        data=member_form(name="", country="XX", population="-5"),
    )
    assert response.status_code == 200
    page = text(response)
    assert 'class="error-summary"' in page
    assert 'id="name-error"' in page
    assert 'id="country-error"' in page
    assert 'id="population-error"' in page
    assert counts(db) == before


def test_edit_member(db, client, staff):
    region = TermFactory(label="Europe")
    member = MemberFactory(name="Krakow", slug="krakow", country="PL", region=region)
    response = client.get("/members/krakow/edit")
    assert response.status_code == 200
    assert 'value="Krakow"' in text(response)
    response = client.post(
        "/members/krakow/edit",
        data=member_form(
            name="Kraków",
            slug="krakow",
            country="PL",
            region_id=str(region.id),
            population="804237",
            next_election_on="2029-04-07",
            notes="Hosts the 2026 assembly.",
        ),
    )
    assert response.status_code == 302, text(response)
    db.expire_all()
    member = db.get(Member, member.id)
    assert member.name == "Kraków"
    assert member.search_name == "krakow"
    assert member.population == 804_237
    assert member.next_election_on == date(2029, 4, 7)
    assert member.notes == "Hosts the 2026 assembly."
    assert listed(client.get("/members/?q=KRAKÓW")) == ["Kraków"]


def test_edit_member_errors_write_nothing(db, client, staff):
    MemberFactory(slug="porto", name="Porto")
    member = MemberFactory(name="Lisbon", slug="lisbon")
    response = client.post(
        "/members/lisbon/edit",
        data=member_form(name="Lisboa", slug="porto", website="lisboa.pt"),
    )
    assert response.status_code == 200
    page = text(response)
    assert "Another member already uses “porto”." in page
    assert 'class="error-summary"' in page
    db.expire_all()
    assert db.get(Member, member.id).name == "Lisbon"
    assert db.get(Member, member.id).slug == "lisbon"


def test_unknown_member_is_404(client, staff):
    assert client.get("/members/nowhere").status_code == 404
    assert client.get("/members/nowhere/edit").status_code == 404


# -- status --------------------------------------------------------------------------------


def test_change_status_with_a_reason_shows_in_history(db, client, staff):
    member = MemberFactory(name="Lagos State", slug="lagos-state", status=MemberStatus.ACTIVE)
    response = client.get("/members/lagos-state/status")
    assert response.status_code == 200
    response = client.post(
        "/members/lagos-state/status",
        data={"status": "suspended", "reason": "Fees overdue since 2024."},
    )
    assert response.status_code == 302
    db.expire_all()
    member = db.get(Member, member.id)
    assert member.status is MemberStatus.SUSPENDED
    (change,) = member.status_changes
    assert change.reason == "Fees overdue since 2024."
    assert change.changed_by_id == staff.id
    page = text(client.get("/members/lagos-state"))
    assert "Lagos State is now Suspended." in page
    history = page.split('id="history-title"')[1]
    assert "Active → Suspended" in history
    assert "Fees overdue since 2024." in history
    assert "Tomás Lindqvist" in history


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"status": "suspended", "reason": ""}, 'id="reason-error"'),
        ({"status": "suspended", "reason": "   "}, 'id="reason-error"'),
        ({"status": "active", "reason": "No change."}, "The member already has this status."),
    ],
)
def test_change_status_errors(db, client, staff, data, message):
    member = MemberFactory(slug="accra", status=MemberStatus.ACTIVE)
    before = counts(db)
    response = client.post("/members/accra/status", data=data)
    assert response.status_code == 200
    page = text(response)
    assert message in page
    assert 'class="error-summary"' in page
    assert counts(db) == before
    db.expire_all()
    assert db.get(Member, member.id).status is MemberStatus.ACTIVE


# -- contacts ------------------------------------------------------------------------------


def test_add_contact_through_the_form(db, client, staff):
    member = MemberFactory(name="Lisbon", slug="lisbon")
    assert client.get("/members/lisbon/contacts/new").status_code == 200
    response = client.post(
        "/members/lisbon/contacts/new", data=contact_form(name="Inês Carvalho", is_primary="y")
    )
    assert response.status_code == 302, text(response)
    db.expire_all()
    (contact,) = db.get(Member, member.id).contacts
    assert contact.name == "Inês Carvalho"
    assert contact.is_primary is True
    assert contact.role is ContactRole.FOCAL_POINT
    assert contact.language == "pt"
    page = text(client.get("/members/lisbon"))
    assert "Inês Carvalho <strong>(primary focal point)</strong>" in page
    assert "no current primary focal point" not in page


def test_a_second_primary_through_the_form_replaces_the_first(db, client, staff):
    member = MemberFactory(slug="lisbon")
    first = ContactFactory(member=member, name="First", is_primary=True)
    response = client.post(
        "/members/lisbon/contacts/new",
        data=contact_form(name="Second", email="second@lisboa.example", is_primary="y"),
    )
    assert response.status_code == 302
    db.expire_all()
    primaries = db.scalars(
        select(Contact.name).where(Contact.member_id == member.id, Contact.is_primary)
    ).all()
    assert primaries == ["Second"]
    assert db.get(Contact, first.id).is_primary is False


def test_edit_contact_through_the_form(db, client, staff):
    member = MemberFactory(slug="lisbon")
    contact = ContactFactory(member=member, name="Ana Silva", email="ana@lisboa.example")
    url = f"/members/lisbon/contacts/{contact.id}/edit"
    response = client.get(url)
    assert response.status_code == 200
    assert 'value="ana@lisboa.example"' in text(response)
    response = client.post(
        url,
        data=contact_form(
            name="Ana Silva", email="Ana.Silva@Lisboa.example", job_title="Head of Office"
        ),
    )
    assert response.status_code == 302, text(response)
    db.expire_all()
    contact = db.get(Contact, contact.id)
    assert contact.email == "ana.silva@lisboa.example"
    assert contact.job_title == "Head of Office"


def test_end_contact_through_the_form(db, client, staff):
    member = MemberFactory(slug="lisbon", status=MemberStatus.ACTIVE)
    contact = ContactFactory(
        member=member, name="Ana Silva", is_primary=True, active_from=date(2021, 1, 1)
    )
    url = f"/members/lisbon/contacts/{contact.id}/end"
    page = text(client.get(url))
    assert "no primary focal point until you choose one" in page
    yesterday = utcnow().date() - timedelta(days=1)
    response = client.post(url, data={"active_to": yesterday.isoformat()})
    assert response.status_code == 302, text(response)
    db.expire_all()
    contact = db.get(Contact, contact.id)
    assert contact.active_to == yesterday
    assert contact.is_primary is False
    page = text(client.get("/members/lisbon"))
    assert "This member has no current primary focal point." in page
    assert "1 former or future contact" in page
    assert "No current contacts." in page


def test_end_contact_refuses_a_date_before_the_start(db, client, staff):
    member = MemberFactory(slug="lisbon")
    contact = ContactFactory(member=member, active_from=date(2022, 1, 1))
    response = client.post(
        f"/members/lisbon/contacts/{contact.id}/end", data={"active_to": "2021-06-01"}
    )
    assert response.status_code == 200
    assert "The end date is before the start date." in text(response)
    db.expire_all()
    assert db.get(Contact, contact.id).active_to is None


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"email": "not-an-address"}, "email", "is not an e-mail address"),
        ({"phone": "call me maybe"}, "phone", "Use digits, spaces"),
        ({"language": "xx"}, "language", ""),
        (
            {"active_from": "2024-05-01", "active_to": "2024-04-01"},
            "active_to",
            "The end date is before the start date.",
        ),
        (
            {"role": "leader", "is_primary": "y"},
            "is_primary",
            "Only a focal point can be the primary focal point.",
        ),
        ({"name": ""}, "name", ""),
    ],
)
def test_contact_form_errors_write_nothing(db, client, staff, overrides, field, message):
    MemberFactory(slug="lisbon")
    before = counts(db)
    response = client.post("/members/lisbon/contacts/new", data=contact_form(**overrides))
    assert response.status_code == 200
    page = text(response)
    assert 'class="error-summary"' in page
    assert f'id="{field}-error"' in page
    assert message in page
    assert counts(db) == before


def test_contact_of_another_member_is_404(db, client, staff):
    MemberFactory(slug="lisbon")
    other = ContactFactory()
    assert client.get(f"/members/lisbon/contacts/{other.id}/edit").status_code == 404
    assert (
        client.post(
            f"/members/lisbon/contacts/{other.id}/end", data={"active_to": "2024-01-01"}
        ).status_code
        == 404
    )


# -- dashboard -----------------------------------------------------------------------------


def figure(page: str, label: str) -> int:
    found = re.search(r'<span class="figure">([\d,]+)</span>' + label + "</a>", page)
    assert found, label
    return int(found[1].replace(",", ""))


def test_staff_dashboard_counts_and_members_without_focal_point(db, client, staff):
    europe = TermFactory(label="Europe")
    africa = TermFactory(label="Africa")
    covered = MemberFactory(name="Lisbon", region=europe)
    ContactFactory(member=covered, is_primary=True)
    MemberFactory(name="Accra", slug="accra", region=africa)  # no contact at all
    uncovered = MemberFactory(name="Nairobi", slug="nairobi", region=africa)
    ContactFactory(member=uncovered, role=ContactRole.FOCAL_POINT, is_primary=False)
    future = MemberFactory(name="Zürich", slug="zurich", region=europe)
    ContactFactory(member=future, is_primary=True, active_from=date.today() + timedelta(days=30))
    MemberFactory(name="Lagos State", slug="lagos-state", status=MemberStatus.SUSPENDED)
    MemberFactory(name="Kraków", status=MemberStatus.APPLICANT, region=europe)
    MemberFactory(name="Москва", status=MemberStatus.EXITED, region=europe)
    response = client.get("/")
    assert response.status_code == 200
    page = text(response)
    assert figure(page, "Active") == 4
    assert figure(page, "Suspended") == 1
    assert figure(page, "Applicant") == 1
    assert figure(page, "Exited") == 1
    assert figure(page, "Lapsed") == 0
    assert re.search(
        r'<th scope="row">Europe</th>(<td class="number">\d+</td>){5}<td class="number">4</td>',
        page,
    )
    section = page.split('id="nofocal-title"')[1]
    names = re.findall(r'<li><a href="/members/[^"]+">([^<]+)</a>', section)
    assert names == ["Accra", "Lagos State", "Nairobi", "Zürich"]
