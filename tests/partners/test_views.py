"""The partner pages as staff use them, through real form posts; and who may reach them."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from secretariat.db import utcnow
from secretariat.partners.models import Partner, PartnerContact, PartnerKind
from tests.factories import UserFactory
from tests.groups.conftest import field_error, rows, section, text
from tests.partners.factories import PartnerContactFactory, PartnerFactory

KIND_LABELS = [
    "Company",
    "NGO",
    "University or research",
    "Development bank",
    "National or regional government agency",
    "Foundation",
    "International organisation",
    "Other",
]

CONTROL = "Remove the invisible control characters from the %s."
WEB_ADDRESS = "Enter a web address starting with https:// or http://."


@pytest.fixture
def staff(db, auth):
    user = UserFactory(name="Sofia Staff")
    auth.login(user)
    return user


@pytest.fixture
def agora(db):
    return PartnerFactory(
        name="Fundação Ágora",
        kind=PartnerKind.NGO,
        country="BR",
        website="https://agora.example.org",
        notes="Met at the summit.\nFollow up in May.",
    )


def partner_form(**overrides) -> dict[str, str]:
    data = {
        "name": "Urban Futures",
        "kind": "foundation",
        "country": "",
        "website": "",
        "notes": "",
    }
    data.update(overrides)
    return data


def counts(db) -> tuple[int, int]:
    return (
        db.scalar(select(func.count()).select_from(Partner)),
        db.scalar(select(func.count()).select_from(PartnerContact)),
    )


def fresh(db, row):
    db.expire_all()
    return db.get(type(row), row.id)


def listed(response) -> list[str]:
    """The partner names in the list, in order."""
    return [row[0] for row in rows(text(response)) if len(row) > 1]


# -- the list ------------------------------------------------------------------------------


@pytest.fixture
def several(db, agora):
    PartnerFactory(name="Andes Development Bank", kind=PartnerKind.DEVELOPMENT_BANK, country=None)
    PartnerFactory(name="Old Partner", kind=PartnerKind.COMPANY, archived_at=utcnow())
    PartnerContactFactory(partner=agora)
    PartnerContactFactory(partner=agora)


def test_list_shows_current_partners_with_their_counts(client, staff, several, agora):
    response = client.get("/partners/")
    assert response.status_code == 200
    page = text(response)
    assert "<h1>Partners</h1>" in page
    assert rows(page) == [
        ["Andes Development Bank", "Development bank", "—", "0", "0"],
        ["Fundação Ágora", "NGO", "Brazil", "2", "0"],
    ]
    assert f'<a href="/partners/{agora.id}">Fundação Ágora</a>' in page
    assert "2 partners" in page
    assert 'href="/partners/new"' in page
    for label in KIND_LABELS:
        assert f">{label}</option>" in page


def test_list_filters(client, staff, several):
    assert listed(client.get("/partners/?show=archived")) == ["Old Partner (archived)"]
    assert listed(client.get("/partners/?show=all")) == [
        "Andes Development Bank",
        "Fundação Ágora",
        "Old Partner (archived)",
    ]
    assert listed(client.get("/partners/?kind=ngo")) == ["Fundação Ágora"]
    assert listed(client.get("/partners/?q=FUNDACAO")) == ["Fundação Ágora"]
    assert listed(client.get("/partners/?q=ágora&kind=ngo")) == ["Fundação Ágora"]
    assert listed(client.get("/partners/?q=partner&show=all")) == ["Old Partner (archived)"]
    page = text(client.get("/partners/?q=nothing"))
    assert rows(page) == [["No partner matches these filters."]]
    assert '<option value="archived" selected>' in text(client.get("/partners/?show=archived"))


def test_unknown_filter_values_are_ignored(client, staff, several):
    response = client.get("/partners/?kind=pirates&show=deleted&page=abc")
    assert listed(response) == ["Andes Development Bank", "Fundação Ágora"]


def test_pagination_keeps_the_filters(db, app, client, staff):
    assert app.config["MEMBERS_PER_PAGE"] == 25
    for n in range(30):
        PartnerFactory(name=f"Partner {n:02d}", kind=PartnerKind.COMPANY)
    PartnerFactory(name="Partner elsewhere", kind=PartnerKind.NGO)
    first = client.get("/partners/?kind=company")
    assert listed(first) == [f"Partner {n:02d}" for n in range(25)]
    assert "30 partners" in text(first) and "Page 1 of 2" in text(first)
    next_link = re.search(r'href="([^"]+)" rel="next"', text(first))[1]
    assert "kind=company" in next_link and "page=2" in next_link
    second = client.get(next_link)
    assert listed(second) == [f"Partner {n:02d}" for n in range(25, 30)]
    assert 'rel="prev"' in text(second) and 'rel="next"' not in text(second)
    assert listed(client.get("/partners/?kind=company&page=9")) == listed(second)


def test_list_when_empty(client, staff):
    assert rows(text(client.get("/partners/"))) == [["No partner matches these filters."]]


# -- create and edit -----------------------------------------------------------------------


def test_new_partner_form(client, staff):
    page = text(client.get("/partners/new"))
    assert "<h1>Add a partner</h1>" in page
    assert '<label for="kind">Kind of organisation <span class="required"' in page
    assert '<option value="">— choose —</option>' in page
    for label in KIND_LABELS:
        assert f">{label}</option>" in page
    assert '<option value="">No country / international</option>' in page
    assert '<option value="BR">Brazil</option>' in page
    assert '<label for="name">Name <span class="required"' in page


def test_create_a_partner(db, client, staff):
    response = client.post(
        "/partners/new",
        data=partner_form(
            name="  Urban   Futures ",
            kind="university",
            country="PT",
            website="https://futures.example.org",
            notes="First line\r\nSecond line",
        ),
    )
    partner = db.scalar(select(Partner))
    assert response.status_code == 302
    assert response.location == f"/partners/{partner.id}"
    assert (partner.name, partner.kind, partner.country, partner.website, partner.notes) == (
        "Urban Futures",
        PartnerKind.UNIVERSITY,
        "PT",
        "https://futures.example.org",
        "First line\nSecond line",
    )
    page = text(client.get(response.location))
    assert "Urban Futures is added." in page
    assert "<h1>Urban Futures</h1>" in page
    assert "University or research · Portugal" in page


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "Enter the partner's name."),
        ({"name": "   "}, "name", "Enter the partner's name."),
        ({"name": "Acme\x00"}, "name", CONTROL % "name"),
        ({"name": "Acme \u202eprOC"}, "name", CONTROL % "name"),
        ({"name": "FUNDACAO AGORA"}, "name", "Another partner is already called “Fundação Ágora”."),
        (
            {"name": "old partner"},
            "name",
            "An archived partner is already called “Old Partner”; restore it instead.",
        ),
        ({"kind": ""}, "kind", "Choose the kind of organisation."),
        ({"kind": "pirates"}, "kind", "Choose the kind of organisation."),
        ({"country": "XX"}, "country", "Choose a country from the list."),
        ({"website": "agora.example.org"}, "website", WEB_ADDRESS),
        ({"website": "javascript:alert(1)"}, "website", WEB_ADDRESS),
        ({"notes": "Hidden \u202e text"}, "notes", CONTROL % "notes"),
    ],
)
def test_create_refuses_bad_input_and_saves_nothing(
    db, client, staff, agora, overrides, field, message
):
    PartnerFactory(name="Old Partner", archived_at=utcnow())
    response = client.post("/partners/new", data=partner_form(**overrides))
    assert response.status_code == 200
    page = text(response)
    assert field_error(page, field) == message
    assert 'class="error-summary"' in page
    assert f'<a href="#{field}">' in page
    assert counts(db) == (2, 0)


def test_create_keeps_what_was_typed(db, client, staff):
    response = client.post(
        "/partners/new",
        data=partner_form(name="Urban Futures", kind="ngo", country="FR", website="nowhere"),
    )
    page = text(response)
    assert 'value="Urban Futures"' in page
    assert '<option selected value="ngo">NGO</option>' in page
    assert '<option selected value="FR">France</option>' in page
    assert 'value="nowhere"' in page
    assert counts(db) == (0, 0)


def test_edit_a_partner(db, client, staff, agora):
    url = f"/partners/{agora.id}/edit"
    form = text(client.get(url))
    assert "<h1>Edit Fundação Ágora</h1>" in form
    assert '<option selected value="ngo">NGO</option>' in form
    assert '<option selected value="BR">Brazil</option>' in form
    assert 'value="https://agora.example.org"' in form
    response = client.post(
        url,
        data=partner_form(name="Ágora Institute", kind="international_organisation", country=""),
        follow_redirects=True,
    )
    assert response.request.path == f"/partners/{agora.id}"
    assert "Ágora Institute is saved." in text(response)
    saved = fresh(db, agora)
    assert (saved.name, saved.search_name, saved.kind, saved.country, saved.website) == (
        "Ágora Institute",
        "agora institute",
        PartnerKind.INTERNATIONAL_ORGANISATION,
        None,
        None,
    )


def test_edit_refuses_bad_input_and_changes_nothing(db, client, staff, agora):
    PartnerFactory(name="Cities Alliance")
    url = f"/partners/{agora.id}/edit"
    page = text(client.post(url, data=partner_form(name="cities alliance", website="ftp://x")))
    assert field_error(page, "name") == "Another partner is already called “Cities Alliance”."
    assert field_error(page, "website") == WEB_ADDRESS
    saved = fresh(db, agora)
    assert (saved.name, saved.kind, saved.website) == (
        "Fundação Ágora",
        PartnerKind.NGO,
        "https://agora.example.org",
    )


def test_a_partner_keeps_its_own_name(db, client, staff, agora):
    response = client.post(
        f"/partners/{agora.id}/edit", data=partner_form(name="FUNDAÇÃO ÁGORA", kind="ngo")
    )
    assert response.status_code == 302
    assert fresh(db, agora).name == "FUNDAÇÃO ÁGORA"


# -- the partner page ----------------------------------------------------------------------


def test_partner_page(db, client, staff, agora):
    PartnerContactFactory(partner=agora, name="Zoe Costa", email="zoe@agora.example", role=None)
    ana = PartnerContactFactory(partner=agora, name="Ana Lima", role="Director")
    PartnerContactFactory(name="Someone Else")
    response = client.get(f"/partners/{agora.id}")
    assert response.status_code == 200
    page = text(response)
    assert page.count("<h1") == 1
    assert "<h1>Fundação Ágora</h1>" in page
    assert "<p>NGO · Brazil</p>" in page
    assert (
        '<a href="https://agora.example.org" rel="noopener noreferrer">https://agora.example.org</a>'
        in page
    )
    assert '<p class="notes">Met at the summit.\nFollow up in May.</p>' in page
    contacts = section(page, "contacts-title")
    assert [r[:3] for r in rows(contacts)] == [
        ["Ana Lima", "Director", ana.email],
        ["Zoe Costa", "", "zoe@agora.example"],
    ]
    assert '<a href="mailto:zoe@agora.example">' in contacts
    assert f'href="/partners/{agora.id}/contacts/{ana.id}/edit"' in contacts
    assert f'action="/partners/{agora.id}/contacts/{ana.id}/remove"' in contacts
    assert "Someone Else" not in page
    assert f'href="/partners/{agora.id}/edit"' in page
    assert f'action="/partners/{agora.id}/archive"' in page
    assert "/restore" not in page
    assert 'name="csrf_token"' in page


def test_partner_page_without_country_contacts_or_website(db, client, staff):
    partner = PartnerFactory(name="UN-Habitat", kind=PartnerKind.INTERNATIONAL_ORGANISATION)
    partner.country = None
    db.flush()
    page = text(client.get(f"/partners/{partner.id}"))
    assert "<p>International organisation · No country / international</p>" in page
    assert "<dt>Website</dt><dd>—</dd>" in page
    assert 'class="notes"' not in page
    assert rows(section(page, "contacts-title")) == [["No contacts yet."]]


def test_user_content_is_escaped(db, client, staff):
    partner = PartnerFactory(
        name="<script>alert(1)</script>", notes="<b>bold</b>", website="https://x.example/?a=<i>"
    )
    body = client.get(f"/partners/{partner.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body and "&lt;b&gt;bold" in body


def test_unknown_partner_is_404(client, staff):
    for url in ("/partners/999999", "/partners/999999/edit", "/partners/999999/contacts/new"):
        assert client.get(url).status_code == 404
    assert client.post("/partners/999999/archive").status_code == 404


# -- archive and restore -------------------------------------------------------------------


def test_archive_and_restore_a_partner(db, client, staff, agora):
    response = client.post(f"/partners/{agora.id}/archive", follow_redirects=True)
    assert response.request.path == f"/partners/{agora.id}"
    page = text(response)
    assert "Fundação Ágora is archived: it is left out of lists and choices" in page
    assert "<p>NGO · Brazil · Archived</p>" in page
    assert "Archived on " in page
    assert f'action="/partners/{agora.id}/restore"' in page
    assert f'action="/partners/{agora.id}/archive"' not in page
    assert fresh(db, agora).is_archived
    assert listed(client.get("/partners/")) == []
    assert listed(client.get("/partners/?show=archived")) == ["Fundação Ágora (archived)"]

    # Archiving twice is refused with a message.
    page = text(client.post(f"/partners/{agora.id}/archive", follow_redirects=True))
    assert "Fundação Ágora is already archived." in page

    response = client.post(f"/partners/{agora.id}/restore", follow_redirects=True)
    page = text(response)
    assert "Fundação Ágora is restored." in page
    assert f'action="/partners/{agora.id}/archive"' in page
    assert fresh(db, agora).archived_at is None
    assert listed(client.get("/partners/")) == ["Fundação Ágora"]
    page = text(client.post(f"/partners/{agora.id}/restore", follow_redirects=True))
    assert "Fundação Ágora is not archived." in page


def test_archive_and_restore_take_no_get(db, client, staff, agora):
    for action in ("archive", "restore"):
        assert client.get(f"/partners/{agora.id}/{action}").status_code == 405
    assert fresh(db, agora).archived_at is None


def test_posts_need_the_csrf_token(db, app, client, staff, agora):
    contact = PartnerContactFactory(partner=agora, name="Ana Lima")
    app.config["WTF_CSRF_ENABLED"] = True
    posts = [
        (f"/partners/{agora.id}/archive", {}),
        (f"/partners/{agora.id}/contacts/{contact.id}/remove", {}),
        ("/partners/new", partner_form()),
        (f"/partners/{agora.id}/edit", partner_form()),
        (f"/partners/{agora.id}/contacts/new", {"name": "Bea"}),
        (f"/partners/{agora.id}/contacts/{contact.id}/edit", {"name": "Bea"}),
    ]
    for url, data in posts:
        assert client.post(url, data=data).status_code == 400, url
    assert counts(db) == (1, 1)
    saved = fresh(db, agora)
    assert (saved.name, saved.archived_at) == ("Fundação Ágora", None)
    # With the token from the page, the button works.
    page = client.get(f"/partners/{agora.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    response = client.post(f"/partners/{agora.id}/archive", data={"csrf_token": token})
    assert response.status_code == 302
    assert fresh(db, agora).is_archived


# -- contacts ------------------------------------------------------------------------------


def test_add_a_contact(db, client, staff, agora):
    url = f"/partners/{agora.id}/contacts/new"
    form = text(client.get(url))
    assert "<h1>Add a contact to Fundação Ágora</h1>" in form
    for label in ("Name", "E-mail address", "Role"):
        assert f">{label}" in form
    response = client.post(
        url,
        data={"name": " Ana  Lima ", "email": "Ana@Agora.Example", "role": "Director"},
        follow_redirects=True,
    )
    assert response.request.path == f"/partners/{agora.id}"
    page = text(response)
    assert "Ana Lima is added to Fundação Ágora." in page
    assert [r[:3] for r in rows(section(page, "contacts-title"))] == [
        ["Ana Lima", "Director", "ana@agora.example"]
    ]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": ""}, "name", "Enter the person's name."),
        ({"name": "  "}, "name", "Enter the person's name."),
        ({"name": "Ana\x00"}, "name", CONTROL % "name"),
        (
            {"name": "Ana", "email": "ana-at-agora"},
            "email",
            "“ana-at-agora” is not an e-mail address.",
        ),
        ({"name": "Ana", "role": "Head\u202e"}, "role", CONTROL % "role"),
    ],
)
def test_add_contact_refuses_bad_input(db, client, staff, agora, data, field, message):
    response = client.post(f"/partners/{agora.id}/contacts/new", data=data)
    assert response.status_code == 200
    page = text(response)
    assert field_error(page, field) == message
    assert 'class="error-summary"' in page
    assert counts(db) == (1, 0)


def test_edit_a_contact(db, client, staff, agora):
    contact = PartnerContactFactory(partner=agora, name="Ana", email="ana@old.example", role="")
    url = f"/partners/{agora.id}/contacts/{contact.id}/edit"
    form = text(client.get(url))
    assert "<h1>Edit Ana</h1>" in form
    assert 'value="ana@old.example"' in form
    page = text(client.post(url, data={"name": "Ana", "email": "not an address"}))
    assert field_error(page, "email") == "“not an address” is not an e-mail address."
    assert fresh(db, contact).email == "ana@old.example"
    response = client.post(
        url, data={"name": "Ana Lima", "email": "", "role": "Head"}, follow_redirects=True
    )
    assert response.request.path == f"/partners/{agora.id}"
    assert "Ana Lima is saved." in text(response)
    saved = fresh(db, contact)
    assert (saved.name, saved.email, saved.role) == ("Ana Lima", None, "Head")


def test_remove_a_contact(db, client, staff, agora):
    kept = PartnerContactFactory(partner=agora, name="Bea")
    gone = PartnerContactFactory(partner=agora, name="Ana")
    response = client.post(f"/partners/{agora.id}/contacts/{gone.id}/remove", follow_redirects=True)
    assert response.request.path == f"/partners/{agora.id}"
    page = text(response)
    assert "Ana is removed from Fundação Ágora." in page
    assert [r[0] for r in rows(section(page, "contacts-title"))] == ["Bea"]
    gone_id, kept_id = gone.id, kept.id
    db.expire_all()
    assert db.get(PartnerContact, gone_id) is None
    assert db.get(PartnerContact, kept_id) is not None
    assert client.get(f"/partners/{agora.id}/contacts/{kept_id}/remove").status_code == 405


def test_contact_of_another_partner_is_404(db, client, staff, agora):
    elsewhere = PartnerContactFactory(name="Elsewhere", email="else@where.example")
    base = f"/partners/{agora.id}/contacts/{elsewhere.id}"
    assert client.get(f"{base}/edit").status_code == 404
    assert client.post(f"{base}/edit", data={"name": "Hijacked"}).status_code == 404
    assert client.post(f"{base}/remove").status_code == 404
    assert client.get(f"/partners/{agora.id}/contacts/999999/edit").status_code == 404
    saved = fresh(db, elsewhere)
    assert (saved.name, saved.partner_id) == ("Elsewhere", elsewhere.partner_id)


# -- who may reach the pages ---------------------------------------------------------------


@pytest.fixture
def world(db):
    partner = PartnerFactory(name="Acme", kind=PartnerKind.COMPANY)
    archived = PartnerFactory(name="Old", archived_at=utcnow())
    contact = PartnerContactFactory(partner=partner, name="Ana")
    return {"partner": partner, "archived": archived, "contact": contact}


def every_request(world) -> list[tuple[str, str, dict]]:
    """Every partner route, with a valid form as staff would post it."""
    p, old, c = world["partner"].id, world["archived"].id, world["contact"].id
    return [
        ("GET", "/partners/", {}),
        ("GET", "/partners/?show=all", {}),
        ("GET", "/partners/new", {}),
        ("POST", "/partners/new", partner_form(name="Newcomer")),
        ("GET", f"/partners/{p}", {}),
        ("GET", f"/partners/{p}/edit", {}),
        ("POST", f"/partners/{p}/edit", partner_form(name="Renamed", kind="company")),
        ("POST", f"/partners/{p}/archive", {}),
        ("POST", f"/partners/{old}/restore", {}),
        ("GET", f"/partners/{p}/contacts/new", {}),
        ("POST", f"/partners/{p}/contacts/new", {"name": "Bea"}),
        ("GET", f"/partners/{p}/contacts/{c}/edit", {}),
        ("POST", f"/partners/{p}/contacts/{c}/edit", {"name": "Renamed"}),
        ("POST", f"/partners/{p}/contacts/{c}/remove", {}),
    ]


def snapshot(db, world) -> tuple:
    db.expire_all()
    partner, archived = db.get(Partner, world["partner"].id), db.get(Partner, world["archived"].id)
    contact = db.get(PartnerContact, world["contact"].id)
    return (
        counts(db),
        (partner.name, partner.kind, partner.archived_at),
        archived.archived_at,
        contact and contact.name,
    )


@pytest.mark.parametrize("trait", ["focal_point", "funder_user"])
def test_others_get_404_on_every_partner_route(db, client, auth, world, trait):
    auth.login(UserFactory(**{trait: True}))
    before = snapshot(db, world)
    for method, url, data in every_request(world):
        response = client.open(url, method=method, data=data)
        assert response.status_code == 404, (method, url)
        assert "Page not found" in text(response)
    assert snapshot(db, world) == before
    assert 'href="/partners/"' not in text(client.get("/"))


def test_anonymous_is_sent_to_sign_in(db, client, world):
    before = snapshot(db, world)
    for method, url, data in every_request(world):
        response = client.open(url, method=method, data=data)
        assert response.status_code == 302, (method, url)
        assert response.location.startswith("/sign-in"), (method, url)
    assert snapshot(db, world) == before


@pytest.mark.parametrize("admin", [False, True])
def test_staff_and_admins_can_make_the_same_requests(db, client, auth, world, admin):
    """The requests above are valid: refusing them to the others is about the role."""
    auth.login(UserFactory(admin=admin))
    statuses = [
        (method, client.open(url, method=method, data=data).status_code)
        for method, url, data in every_request(world)
    ]
    assert {code for method, code in statuses if method == "GET"} == {200}
    assert {code for method, code in statuses if method == "POST"} == {302}
    db.expire_all()
    partner, archived = db.get(Partner, world["partner"].id), db.get(Partner, world["archived"].id)
    assert (partner.name, partner.is_archived, archived.is_archived) == ("Renamed", True, False)
    assert db.scalar(select(Partner.kind).where(Partner.name == "Newcomer")) is (
        PartnerKind.FOUNDATION
    )
    assert [c.name for c in partner.contacts] == ["Bea"]
    assert 'href="/partners/"' in text(client.get("/"))
