"""Partner services: validation, archiving and restoring, contacts."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from secretariat.db import utcnow
from secretariat.partners import services
from secretariat.partners.models import Partner, PartnerContact, PartnerKind
from secretariat.partners.services import PartnerContactData, PartnerData, ValidationFailed
from secretariat.permissions import OutOfScope
from tests.factories import UserFactory
from tests.partners.factories import PartnerContactFactory, PartnerFactory

CONTROL = "Remove the invisible control characters from the %s."


@pytest.fixture
def staff(db):
    return UserFactory(name="Sofia Staff")


def partner_data(**overrides) -> PartnerData:
    values = {"name": "Urban Futures Foundation", "kind": PartnerKind.FOUNDATION}
    values.update(overrides)
    return PartnerData(**values)


def contact_data(**overrides) -> PartnerContactData:
    values = {"name": "Ana Lima", "email": "ana@futures.example", "role": "Programme lead"}
    values.update(overrides)
    return PartnerContactData(**values)


def refused(call, *args) -> dict[str, str]:
    """Run a service that must refuse; return its errors by field."""
    with pytest.raises(ValidationFailed) as caught:
        call(*args)
    return caught.value.errors


def counts(db) -> tuple[int, int]:
    """How many partners and partner contacts there are, to check that nothing was written."""
    return (
        db.scalar(select(func.count()).select_from(Partner)),
        db.scalar(select(func.count()).select_from(PartnerContact)),
    )


def fresh(db, row):
    db.expire_all()
    return db.get(type(row), row.id)


# -- create and update ---------------------------------------------------------------------


def test_create_partner_with_every_field(db, staff):
    data = partner_data(
        name="  Fundação   Ágora ",
        kind=PartnerKind.NGO,
        country=" br ",
        website=" https://agora.example.org/en ",
        notes="Met at the summit.\r\nFollow up in May.\r\n",
    )
    partner = services.create_partner(db, staff, data)
    saved = fresh(db, partner)
    assert saved.name == "Fundação Ágora"
    assert saved.search_name == "fundacao agora"
    assert saved.kind is PartnerKind.NGO
    assert saved.country == "BR"
    assert saved.website == "https://agora.example.org/en"
    assert saved.notes == "Met at the summit.\nFollow up in May."
    assert saved.archived_at is None
    assert saved.is_archived is False


def test_create_partner_with_only_name_and_kind(db, staff):
    partner = services.create_partner(
        db, staff, partner_data(country="  ", website="", notes=" \n ")
    )
    assert (partner.country, partner.website, partner.notes) == (None, None, None)


@pytest.mark.parametrize("name", ["", "   ", "\t\n"])
def test_name_is_required(db, staff, name):
    errors = refused(services.create_partner, db, staff, partner_data(name=name))
    assert errors == {"name": "Enter the partner's name."}
    assert counts(db) == (0, 0)


def test_name_has_at_most_255_characters(db, staff):
    errors = refused(services.create_partner, db, staff, partner_data(name="x" * 256))
    assert errors == {"name": "Use at most 255 characters."}
    assert services.create_partner(db, staff, partner_data(name="x" * 255)).name == "x" * 255


@pytest.mark.parametrize(
    "name", ["fundação ágora", "FUNDACAO AGORA", "  Fundacao   Agora ", "FUNDAÇÃO ÁGORA"]
)
def test_name_is_unique_whatever_the_case_and_accents(db, staff, name):
    PartnerFactory(name="Fundação Ágora")
    errors = refused(services.create_partner, db, staff, partner_data(name=name))
    assert errors == {"name": "Another partner is already called “Fundação Ágora”."}
    assert counts(db) == (1, 0)


def test_an_archived_partner_with_the_name_is_pointed_out(db, staff):
    PartnerFactory(name="World Bank", archived_at=utcnow())
    errors = refused(services.create_partner, db, staff, partner_data(name="world bank"))
    assert errors == {
        "name": "An archived partner is already called “World Bank”; restore it instead."
    }
    assert counts(db) == (1, 0)


@pytest.mark.parametrize(
    "name",
    [
        "Acme\x00 Corp",
        "Acme \u202eprOC",  # right-to-left override
        "\u200bAcme",  # zero-width space
        "Acme\x07",
    ],
)
def test_control_characters_in_the_name_are_refused(db, staff, name):
    errors = refused(services.create_partner, db, staff, partner_data(name=name))
    assert errors == {"name": "Remove the invisible control characters from the name."}
    assert counts(db) == (0, 0)


def test_kind_is_required(db, staff):
    for kind in (None, "ngo"):
        errors = refused(services.create_partner, db, staff, partner_data(kind=kind))
        assert errors == {"kind": "Choose the kind of organisation."}


@pytest.mark.parametrize("country", ["XX", "Portugal", "P", "PRT", "zz"])
def test_country_must_be_a_country_code(db, staff, country):
    errors = refused(services.create_partner, db, staff, partner_data(country=country))
    assert errors == {"country": "Choose a country from the list."}
    assert counts(db) == (0, 0)


@pytest.mark.parametrize(
    "website",
    [
        "agora.example.org",
        "ftp://agora.example.org",
        "javascript:alert(1)",
        "https://",
        "https://agora example.org",
        "https://example.org/" + "a" * 500,
    ],
)
def test_website_must_be_a_web_address(db, staff, website):
    errors = refused(services.create_partner, db, staff, partner_data(website=website))
    assert errors == {"website": "Enter a web address starting with https:// or http://."}
    assert counts(db) == (0, 0)


def test_notes_keep_line_breaks_but_not_control_characters(db, staff):
    errors = refused(
        services.create_partner, db, staff, partner_data(notes="Fine\n\tline\u202eevil")
    )
    assert errors == {"notes": "Remove the invisible control characters from the notes."}
    partner = services.create_partner(db, staff, partner_data(notes="One\n\tTwo"))
    assert partner.notes == "One\n\tTwo"


def test_every_problem_is_reported_at_once(db, staff):
    data = PartnerData(name=" ", kind=None, country="XX", website="nowhere", notes="\x00")
    errors = refused(services.create_partner, db, staff, data)
    assert set(errors) == {"name", "kind", "country", "website", "notes"}
    assert counts(db) == (0, 0)


def test_update_partner(db, staff):
    partner = PartnerFactory(name="Acme", kind=PartnerKind.COMPANY, country="DE")
    services.update_partner(
        db,
        staff,
        partner,
        partner_data(name="Acme Group", kind=PartnerKind.OTHER, country="", website=None),
    )
    saved = fresh(db, partner)
    assert (saved.name, saved.search_name, saved.kind, saved.country) == (
        "Acme Group",
        "acme group",
        PartnerKind.OTHER,
        None,
    )


def test_a_partner_may_change_the_case_of_its_own_name(db, staff):
    partner = PartnerFactory(name="Urban lab")
    services.update_partner(db, staff, partner, partner_data(name="Urban Lab"))
    assert fresh(db, partner).name == "Urban Lab"


def test_update_refuses_another_partners_name_and_changes_nothing(db, staff):
    PartnerFactory(name="Cities Alliance")
    partner = PartnerFactory(name="Urban Lab", kind=PartnerKind.UNIVERSITY)
    data = partner_data(name="cities alliance", kind=PartnerKind.NGO)
    errors = refused(services.update_partner, db, staff, partner, data)
    assert errors == {"name": "Another partner is already called “Cities Alliance”."}
    saved = fresh(db, partner)
    assert (saved.name, saved.kind) == ("Urban Lab", PartnerKind.UNIVERSITY)


# -- archive and restore -------------------------------------------------------------------


def test_archive_and_restore(db, staff):
    partner = PartnerFactory(name="Acme")
    services.archive_partner(db, staff, partner)
    saved = fresh(db, partner)
    assert saved.is_archived and saved.archived_at is not None
    errors = refused(services.archive_partner, db, staff, saved)
    assert errors == {"partner": "Acme is already archived."}
    services.restore_partner(db, staff, saved)
    saved = fresh(db, partner)
    assert saved.archived_at is None
    errors = refused(services.restore_partner, db, staff, saved)
    assert errors == {"partner": "Acme is not archived."}


def test_archiving_keeps_the_contacts(db, staff):
    contact = PartnerContactFactory()
    services.archive_partner(db, staff, contact.partner)
    assert counts(db) == (1, 1)


# -- contacts ------------------------------------------------------------------------------


def test_add_contact_cleans_the_input(db, staff):
    partner = PartnerFactory()
    data = contact_data(name="  Ana   Lima ", email=" Ana.Lima@Futures.EXAMPLE ", role="  ")
    contact = services.add_contact(db, staff, partner, data)
    saved = fresh(db, contact)
    assert (saved.partner_id, saved.name, saved.email, saved.role) == (
        partner.id,
        "Ana Lima",
        "ana.lima@futures.example",
        None,
    )


def test_a_contact_needs_only_a_name(db, staff):
    contact = services.add_contact(db, staff, PartnerFactory(), contact_data(email="", role=None))
    assert (contact.email, contact.role) == (None, None)


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        ({"name": "  "}, {"name": "Enter the person's name."}),
        ({"name": "x" * 256}, {"name": "Use at most 255 characters."}),
        ({"name": "Ana\x00"}, {"name": CONTROL % "name"}),
        ({"email": "ana-at-futures"}, {"email": "“ana-at-futures” is not an e-mail address."}),
        ({"email": "ana@"}, {"email": "“ana@” is not an e-mail address."}),
        (
            {"role": "Lead\u202e"},
            {"role": "Remove the invisible control characters from the role."},
        ),
        ({"role": "r" * 256}, {"role": "Use at most 255 characters."}),
    ],
)
def test_contact_validation(db, staff, overrides, errors):
    partner = PartnerFactory()
    assert refused(services.add_contact, db, staff, partner, contact_data(**overrides)) == errors
    assert counts(db) == (1, 0)


def test_update_contact(db, staff):
    contact = PartnerContactFactory(name="Ana", email="ana@old.example", role="Officer")
    services.update_contact(
        db, staff, contact, contact_data(name="Ana Lima", email="ANA@new.example", role="Head")
    )
    saved = fresh(db, contact)
    assert (saved.name, saved.email, saved.role) == ("Ana Lima", "ana@new.example", "Head")


def test_update_contact_refuses_bad_input_and_changes_nothing(db, staff):
    contact = PartnerContactFactory(name="Ana", email="ana@old.example")
    errors = refused(
        services.update_contact, db, staff, contact, contact_data(name="", email="nope")
    )
    assert errors == {
        "name": "Enter the person's name.",
        "email": "“nope” is not an e-mail address.",
    }
    saved = fresh(db, contact)
    assert (saved.name, saved.email) == ("Ana", "ana@old.example")


def test_remove_contact(db, staff):
    partner = PartnerFactory()
    kept = PartnerContactFactory(partner=partner, name="Kept")
    gone = PartnerContactFactory(partner=partner, name="Gone")
    services.remove_contact(db, staff, gone)
    db.expire_all()
    assert [c.name for c in db.get(Partner, partner.id).contacts] == ["Kept"]
    assert db.get(PartnerContact, gone.id) is None
    assert db.get(PartnerContact, kept.id) is not None


# -- permission ----------------------------------------------------------------------------


@pytest.mark.parametrize("trait", ["focal_point", "funder_user"])
def test_only_staff_may_change_partners(db, trait):
    outsider = UserFactory(**{trait: True})
    partner = PartnerFactory(name="Acme")
    archived = PartnerFactory(name="Old", archived_at=utcnow())
    contact = PartnerContactFactory(partner=partner, name="Ana")
    calls = [
        (services.create_partner, partner_data()),
        (services.update_partner, partner, partner_data(name="Renamed")),
        (services.archive_partner, partner),
        (services.restore_partner, archived),
        (services.add_contact, partner, contact_data()),
        (services.update_contact, contact, contact_data(name="Renamed")),
        (services.remove_contact, contact),
    ]
    for call, *args in calls:
        with pytest.raises(OutOfScope):
            call(db, outsider, *args)
    db.expire_all()
    assert counts(db) == (2, 1)
    assert (fresh(db, partner).name, fresh(db, partner).archived_at) == ("Acme", None)
    assert fresh(db, archived).is_archived
    assert fresh(db, contact).name == "Ana"


def test_admin_may_change_partners(db):
    admin = UserFactory(admin=True)
    partner = services.create_partner(db, admin, partner_data())
    services.add_contact(db, admin, partner, contact_data())
    assert counts(db) == (1, 1)
