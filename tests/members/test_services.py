"""Member and contact services: validation, status history, contacts and text folding."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from secretariat.db import utcnow
from secretariat.members import services
from secretariat.members.models import (
    Contact,
    ContactRole,
    Member,
    MemberKind,
    MemberStatus,
    MemberStatusChange,
)
from secretariat.members.services import (
    SLUG_PATTERN,
    ContactData,
    MemberData,
    ValidationFailed,
    fold,
    slugify,
)
from secretariat.permissions import OutOfScope
from tests.factories import ContactFactory, MemberFactory, TermFactory, UserFactory


def member_data(**overrides) -> MemberData:
    values = {"name": "Lisbon", "slug": "lisbon", "kind": MemberKind.CITY, "country": "PT"}
    values.update(overrides)
    return MemberData(**values)


def contact_data(**overrides) -> ContactData:
    values = {
        "name": "Ana Silva",
        "role": ContactRole.FOCAL_POINT,
        "email": "ana.silva@lisboa.example",
        "active_from": date(2022, 1, 1),
    }
    values.update(overrides)
    return ContactData(**values)


def counts(db) -> tuple[int, int, int]:
    return (
        db.scalar(select(func.count()).select_from(Member)),
        db.scalar(select(func.count()).select_from(MemberStatusChange)),
        db.scalar(select(func.count()).select_from(Contact)),
    )


@pytest.fixture
def staff(db):
    return UserFactory()


# -- text helpers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("São Paulo", "sao paulo"),
        ("Москва", "москва"),
        ("ZÜRICH", "zurich"),
        ("Kraków", "krakow"),
        ("北京", "北京"),
        ("  Saint-Étienne   Métropole ", "saint-etienne metropole"),
        ("Straße", "strasse"),
    ],
)
def test_fold(text, folded):
    assert fold(text) == folded


def test_fold_is_the_same_for_every_spelling_of_a_name():
    composed = "S\u00e3o Paulo"
    decomposed = "Sa\u0303o Paulo"
    assert fold(composed) == fold(decomposed) == fold("SAO PAULO")


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("São Paulo", "sao-paulo"),
        ("Kraków", "krakow"),
        ("Zürich", "zurich"),
        ("  Saint-Étienne Métropole!! ", "saint-etienne-metropole"),
        ("Greater Manchester (Combined Authority)", "greater-manchester-combined-authority"),
        ("Москва", ""),
        ("北京", ""),
    ],
)
def test_slugify(text, slug):
    assert slugify(text) == slug


def test_slugify_of_a_long_name_is_a_valid_slug():
    # Cut at 100 characters, the slug must not end on a hyphen, or the form refuses
    # the slug it made itself from a long name.
    slug = slugify("a" * 99 + " b")
    assert len(slug) <= 100
    assert SLUG_PATTERN.match(slug), slug


# -- members -------------------------------------------------------------------------------


def test_create_member_records_the_initial_status(db, staff):
    region = TermFactory(label="Europe")
    member = services.create_member(
        db, staff, member_data(name="  Kraków  ", slug="krakow", region_id=region.id)
    )
    assert member.id is not None
    assert member.name == "Kraków"
    assert member.search_name == "krakow"
    assert member.status is MemberStatus.APPLICANT
    assert member.region is region
    changes = db.scalars(
        select(MemberStatusChange).where(MemberStatusChange.member_id == member.id)
    ).all()
    assert len(changes) == 1
    (change,) = changes
    assert change.from_status is None
    assert change.to_status is MemberStatus.APPLICANT
    assert change.changed_by_id == staff.id
    assert change.reason


def test_create_member_with_a_status_and_reason(db, staff):
    member = services.create_member(
        db, staff, member_data(), status=MemberStatus.ACTIVE, reason="Founding member."
    )
    (change,) = member.status_changes
    assert change.to_status is MemberStatus.ACTIVE
    assert change.reason == "Founding member."


def test_create_member_normalises_codes(db, staff):
    member = services.create_member(
        db,
        staff,
        member_data(
            slug=" Lisbon ",
            country="pt",
            annual_fee=Decimal("2500.00"),
            fee_currency="eur",
            website=" https://www.lisboa.pt ",
        ),
    )
    assert member.slug == "lisbon"
    assert member.country == "PT"
    assert member.fee_currency == "EUR"
    assert member.website == "https://www.lisboa.pt"


def test_create_member_reports_every_error_and_writes_nothing(db, staff):
    before = counts(db)
    with pytest.raises(ValidationFailed) as caught:
        services.create_member(
            db,
            staff,
            member_data(
                name="   ",
                slug="Not a slug!",
                country="XX",
                population=-1,
                annual_fee=Decimal("100"),
                fee_currency=None,
                website="ftp://example.org",
            ),
        )
    errors = caught.value.errors
    assert set(errors) == {"name", "slug", "country", "population", "fee_currency", "website"}
    assert "XX" in errors["country"]
    assert "negative" in errors["population"]
    assert counts(db) == before


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "Enter the member's name."),
        ({"name": "x" * 256}, "name", "at most 255"),
        ({"slug": ""}, "slug", "Enter a short name"),
        ({"slug": "sao paulo"}, "slug", "Use lower-case letters"),
        ({"slug": "sao--paulo"}, "slug", "Use lower-case letters"),
        ({"slug": "-sao"}, "slug", "Use lower-case letters"),
        ({"slug": "são-paulo"}, "slug", "Use lower-case letters"),
        ({"country": "XX"}, "country", "not an ISO 3166 country code"),
        ({"country": ""}, "country", "not an ISO 3166 country code"),
        ({"country": "PRT"}, "country", "not an ISO 3166 country code"),
        ({"population": -1}, "population", "cannot be negative"),
        ({"annual_fee": Decimal("100")}, "fee_currency", "Give the currency"),
        ({"fee_currency": "EUR"}, "annual_fee", "Give the fee amount"),
        (
            {"annual_fee": Decimal("100"), "fee_currency": "ZZZ"},
            "fee_currency",
            "not an ISO 4217 currency code",
        ),
        ({"annual_fee": Decimal("-1"), "fee_currency": "EUR"}, "annual_fee", "negative"),
        ({"annual_fee": Decimal("1.005"), "fee_currency": "EUR"}, "annual_fee", "two decimal"),
        ({"website": "ftp://example.org"}, "website", "https://"),
        ({"website": "www.example.org"}, "website", "https://"),
        ({"website": "javascript:alert(1)"}, "website", "https://"),
        ({"kind": "town"}, "kind", "Choose a kind"),
    ],
)
def test_create_member_refuses(db, staff, overrides, field, message):
    before = counts(db)
    with pytest.raises(ValidationFailed) as caught:
        services.create_member(db, staff, member_data(**overrides))
    assert field in caught.value.errors, caught.value.errors
    assert message in caught.value.errors[field]
    assert counts(db) == before


def test_create_member_refuses_a_duplicate_slug(db, staff):
    MemberFactory(slug="lisbon", name="Lisbon")
    before = counts(db)
    with pytest.raises(ValidationFailed) as caught:
        services.create_member(db, staff, member_data(name="Lisboa", slug="LISBON"))
    assert caught.value.errors == {"slug": "Another member already uses “lisbon”."}
    assert counts(db) == before


def test_create_member_refuses_a_term_of_the_wrong_list(db, staff):
    tier = TermFactory(vocabulary="tier", label="Full")
    with pytest.raises(ValidationFailed) as caught:
        services.create_member(db, staff, member_data(region_id=tier.id, tier_id=999_999))
    assert set(caught.value.errors) == {"region_id", "tier_id"}


def test_create_member_accepts_valid_fee_and_website(db, staff):
    member = services.create_member(
        db,
        staff,
        member_data(annual_fee=Decimal("0"), fee_currency="CHF", website="http://example.org"),
    )
    assert member.annual_fee == Decimal("0")
    assert member.fee_currency == "CHF"


def test_create_member_needs_manage_permission(db):
    focal = UserFactory(focal_point=True)
    with pytest.raises(OutOfScope):
        services.create_member(db, focal, member_data())


def test_update_member_keeps_its_own_slug_and_refreshes_search_name(db, staff):
    member = MemberFactory(name="Sao Paulo", slug="sao-paulo")
    data = MemberData.from_member(member)
    data.name = "São Paulo"
    services.update_member(db, staff, member, data)
    assert member.name == "São Paulo"
    assert member.search_name == "sao paulo"


def test_update_member_refuses_another_members_slug(db, staff):
    MemberFactory(slug="lisbon")
    member = MemberFactory(slug="porto", name="Porto")
    data = MemberData.from_member(member)
    data.slug = "lisbon"
    data.name = "Oporto"
    with pytest.raises(ValidationFailed) as caught:
        services.update_member(db, staff, member, data)
    assert set(caught.value.errors) == {"slug"}
    db.expire_all()
    assert db.get(Member, member.id).slug == "porto"
    assert db.get(Member, member.id).name == "Porto"


# -- status --------------------------------------------------------------------------------


def test_change_status_records_who_when_and_why(db, staff):
    member = services.create_member(db, staff, member_data())
    before = utcnow()
    change = services.change_status(
        db, staff, member, MemberStatus.ACTIVE, "  Approved by the board.  "
    )
    after = utcnow()
    assert member.status is MemberStatus.ACTIVE
    assert change.from_status is MemberStatus.APPLICANT
    assert change.to_status is MemberStatus.ACTIVE
    assert change.reason == "Approved by the board."
    assert change.changed_by_id == staff.id
    assert before - timedelta(seconds=1) <= change.changed_at <= after + timedelta(seconds=1)
    db.expire_all()
    history = db.get(Member, member.id).status_changes
    assert [(c.from_status, c.to_status) for c in history] == [
        (MemberStatus.APPLICANT, MemberStatus.ACTIVE),
        (None, MemberStatus.APPLICANT),
    ]
    assert history[0].changed_by.id == staff.id
    assert history[0].changed_at.tzinfo is not None


def test_activating_sets_joined_on_when_missing(db, staff):
    member = services.create_member(db, staff, member_data())
    assert member.joined_on is None
    services.change_status(db, staff, member, MemberStatus.ACTIVE, "Approved.")
    assert member.joined_on == datetime.now(UTC).date()


def test_change_status_keeps_an_existing_joined_on(db, staff):
    member = MemberFactory(status=MemberStatus.SUSPENDED, joined_on=date(2015, 3, 2))
    services.change_status(db, staff, member, MemberStatus.ACTIVE, "Fees paid.")
    assert member.joined_on == date(2015, 3, 2)


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_change_status_requires_a_reason(db, staff, reason):
    member = MemberFactory(status=MemberStatus.ACTIVE)
    before = counts(db)
    with pytest.raises(ValidationFailed) as caught:
        services.change_status(db, staff, member, MemberStatus.SUSPENDED, reason)
    assert set(caught.value.errors) == {"reason"}
    assert member.status is MemberStatus.ACTIVE
    assert counts(db) == before


def test_change_status_requires_a_different_status(db, staff):
    member = MemberFactory(status=MemberStatus.ACTIVE)
    before = counts(db)
    with pytest.raises(ValidationFailed) as caught:
        services.change_status(db, staff, member, MemberStatus.ACTIVE, "Again.")
    assert set(caught.value.errors) == {"status"}
    with pytest.raises(ValidationFailed) as caught:
        services.change_status(db, staff, member, MemberStatus.ACTIVE, "")
    assert set(caught.value.errors) == {"status", "reason"}
    assert counts(db) == before


def test_change_status_needs_manage_permission(db):
    focal = UserFactory(focal_point=True)
    with pytest.raises(OutOfScope):
        services.change_status(db, focal, focal.member, MemberStatus.EXITED, "Leaving.")


# -- contacts ------------------------------------------------------------------------------


def primaries(db, member) -> list[str]:
    return list(
        db.scalars(select(Contact.name).where(Contact.member_id == member.id, Contact.is_primary))
    )


def test_add_contact(db, staff):
    member = MemberFactory()
    contact = services.add_contact(
        db,
        staff,
        member,
        contact_data(
            name="  Ana   Silva ",
            email=" Ana.Silva@Lisboa.Example ",
            phone="+351 21 000 0000",
            language="PT",
            job_title="Adviser",
        ),
    )
    db.expire_all()
    contact = db.get(Contact, contact.id)
    assert contact.member_id == member.id
    assert contact.name == "Ana Silva"
    assert contact.email == "ana.silva@lisboa.example"
    assert contact.phone == "+351 21 000 0000"
    assert contact.language == "pt"
    assert contact.is_primary is False
    assert contact.active_to is None


def test_add_contact_starts_today_by_default(db, staff):
    contact = services.add_contact(db, staff, MemberFactory(), contact_data(active_from=None))
    assert contact.active_from == utcnow().date()


def test_a_second_primary_replaces_the_first(db, staff):
    member = MemberFactory()
    other_member = MemberFactory()
    other = services.add_contact(
        db, staff, other_member, contact_data(name="Other", email=None, is_primary=True)
    )
    first = services.add_contact(db, staff, member, contact_data(name="First", is_primary=True))
    assert primaries(db, member) == ["First"]
    second = services.add_contact(
        db, staff, member, contact_data(name="Second", email="second@x.example", is_primary=True)
    )
    assert primaries(db, member) == ["Second"]
    assert first.is_primary is False  # the loaded object is kept in step
    assert second.is_primary is True
    assert primaries(db, other_member) == ["Other"]
    assert other.is_primary is True
    # Making the first primary again through an update swaps back.
    services.update_contact(db, staff, first, contact_data(name="First", is_primary=True))
    assert primaries(db, member) == ["First"]
    db.expire_all()
    assert db.get(Contact, second.id).is_primary is False


@pytest.mark.parametrize("role", [r for r in ContactRole if r is not ContactRole.FOCAL_POINT])
def test_only_a_focal_point_can_be_primary(db, staff, role):
    member = MemberFactory()
    before = counts(db)
    with pytest.raises(ValidationFailed) as caught:
        services.add_contact(db, staff, member, contact_data(role=role, is_primary=True))
    assert set(caught.value.errors) == {"is_primary"}
    assert counts(db) == before


def test_a_contact_who_left_cannot_be_primary(db, staff):
    with pytest.raises(ValidationFailed) as caught:
        services.add_contact(
            db, staff, MemberFactory(), contact_data(is_primary=True, active_to=date(2023, 1, 1))
        )
    assert set(caught.value.errors) == {"is_primary"}


def test_refusing_a_new_primary_keeps_the_current_one(db, staff):
    member = MemberFactory()
    services.add_contact(db, staff, member, contact_data(name="First", is_primary=True))
    with pytest.raises(ValidationFailed):
        services.add_contact(
            db, staff, member, contact_data(name="Second", email="bad", is_primary=True)
        )
    assert primaries(db, member) == ["First"]


def test_end_contact_keeps_the_row_and_clears_primary(db, staff):
    member = MemberFactory()
    contact = services.add_contact(db, staff, member, contact_data(is_primary=True))
    services.end_contact(db, staff, contact, date(2024, 6, 30))
    db.expire_all()
    contact = db.get(Contact, contact.id)
    assert contact is not None
    assert contact.active_to == date(2024, 6, 30)
    assert contact.is_primary is False
    assert contact.is_current(date(2024, 6, 30))
    assert not contact.is_current(date(2024, 7, 1))
    assert primaries(db, member) == []
    assert len(db.get(Member, member.id).contacts) == 1


def test_end_contact_defaults_to_today(db, staff):
    contact = ContactFactory(active_from=date(2020, 1, 1))
    services.end_contact(db, staff, contact)
    assert contact.active_to == utcnow().date()


def test_end_contact_refuses_a_date_before_the_start_or_a_second_end(db, staff):
    contact = ContactFactory(active_from=date(2022, 1, 1))
    with pytest.raises(ValidationFailed) as caught:
        services.end_contact(db, staff, contact, date(2021, 12, 31))
    assert set(caught.value.errors) == {"active_to"}
    assert contact.active_to is None
    services.end_contact(db, staff, contact, date(2023, 1, 1))
    with pytest.raises(ValidationFailed):
        services.end_contact(db, staff, contact, date(2023, 6, 1))
    assert contact.active_to == date(2023, 1, 1)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": "  "}, "name"),
        ({"email": "not-an-address"}, "email"),
        ({"email": "ana@"}, "email"),
        ({"email": "ana silva@example.org"}, "email"),
        ({"language": "xx"}, "language"),
        ({"language": "por"}, "language"),
        ({"language": "portuguese"}, "language"),
        ({"phone": "call me"}, "phone"),
        ({"phone": "+351 21 000 0000 ext. 5"}, "phone"),
        ({"phone": "1" * 51}, "phone"),
        ({"active_from": date(2024, 5, 1), "active_to": date(2024, 4, 30)}, "active_to"),
        ({"role": "mayor"}, "role"),
    ],
)
def test_add_contact_refuses(db, staff, overrides, field):
    member = MemberFactory()
    before = counts(db)
    with pytest.raises(ValidationFailed) as caught:
        services.add_contact(db, staff, member, contact_data(**overrides))
    assert set(caught.value.errors) == {field}
    assert counts(db) == before


def test_add_contact_reports_every_error_at_once(db, staff):
    with pytest.raises(ValidationFailed) as caught:
        services.add_contact(
            db,
            staff,
            MemberFactory(),
            contact_data(
                email="nope",
                phone="phone",
                language="zz",
                active_from=date(2024, 5, 1),
                active_to=date(2024, 1, 1),
                role=ContactRole.LEADER,
                is_primary=True,
            ),
        )
    assert set(caught.value.errors) == {"email", "phone", "language", "active_to", "is_primary"}


def test_update_contact_refuses_invalid_data_and_keeps_the_row(db, staff):
    contact = ContactFactory(email="kept@city.example", active_from=date(2022, 1, 1))
    data = ContactData.from_contact(contact)
    data.email = "broken"
    data.active_to = date(2021, 1, 1)
    with pytest.raises(ValidationFailed) as caught:
        services.update_contact(db, staff, contact, data)
    assert set(caught.value.errors) == {"email", "active_to"}
    db.expire_all()
    assert db.get(Contact, contact.id).email == "kept@city.example"


def test_focal_point_user_edits_only_own_members_contacts(db):
    focal = UserFactory(focal_point=True)
    own = services.add_contact(db, focal, focal.member, contact_data())
    assert own.member_id == focal.member_id
    with pytest.raises(OutOfScope):
        services.add_contact(db, focal, MemberFactory(), contact_data())
