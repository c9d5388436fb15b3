"""The funding pages as staff use them, through real form posts; and who may reach them."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask_babel import format_date
from sqlalchemy import func, select

from secretariat.accounts.models import Role, User
from secretariat.clock import network_today
from secretariat.funding import services
from secretariat.funding.models import (
    Coverage,
    Frequency,
    Funder,
    FunderKind,
    Grant,
    GrantReport,
    Programme,
    ProgrammeIndicator,
    ProgrammeMember,
)
from secretariat.members.models import MemberStatus
from tests.factories import (
    FunderFactory,
    GroupMembershipFactory,
    IndicatorFactory,
    MemberFactory,
    UserFactory,
    WorkingGroupFactory,
)
from tests.funding.factories import (
    GrantFactory,
    GrantReportFactory,
    ProgrammeFactory,
    ProgrammeIndicatorFactory,
    ProgrammeMemberFactory,
)
from tests.groups.conftest import field_error, rows, section, text
from tests.pages import without_tokens

DATE = "Enter a date, e.g. 2027-03-15."


@pytest.fixture
def staff(db, auth):
    user = UserFactory(name="Sofia Staff")
    auth.login(user)
    return user


@pytest.fixture
def today(app):
    return network_today()


def counts(db) -> tuple[int, ...]:
    """How many rows each funding table holds, to check that nothing was written."""
    return tuple(
        db.scalar(select(func.count()).select_from(model))
        for model in (Funder, Programme, ProgrammeMember, ProgrammeIndicator, Grant, GrantReport)
    )


def fresh(db, row):
    db.expire_all()
    return db.get(type(row), row.id)


def funder_users(db, funder) -> list[User]:
    db.expire_all()
    return list(db.scalars(select(User).where(User.funder_id == funder.id).order_by(User.id)))


def make_grant(db, funder, programme, **changes) -> Grant:
    """A grant made as staff make it, so that it owes its reports."""
    values = {
        "funder_id": funder.id,
        "programme_id": programme.id,
        "amount": "250000.00",
        "currency": "EUR",
        "starts_on": date(2025, 1, 1),
        "ends_on": date(2026, 12, 31),
        "frequency": Frequency.ANNUAL,
    }
    values.update(changes)
    return services.create_grant(db, None, services.GrantData(**values))


def funder_form(**overrides) -> dict[str, str]:
    data = {
        "name": "Blue Horizon",
        "kind": "philanthropy",
        "country": "",
        "website": "",
        "notes": "",
    }
    data.update(overrides)
    return data


def programme_form(**overrides) -> dict:
    data = {
        "name": "Clean air for cities",
        "description": "",
        "starts_on": "2026-01-01",
        "ends_on": "2028-12-31",
        "coverage": "all",
        "group_id": "",
        "lead_id": "",
        "indicators-0-indicator_id": "",
        "indicators-0-target": "",
    }
    data.update(overrides)
    return data


def grant_form(funder, programme, **overrides) -> dict[str, str]:
    data = {
        "funder_id": str(funder.id),
        "programme_id": str(programme.id),
        "reference": "",
        "amount": "250000",
        "currency": "EUR",
        "starts_on": "2026-03-01",
        "ends_on": "2028-02-29",
        "frequency": "annual",
    }
    data.update(overrides)
    return data


# -- the overview ---------------------------------------------------------------------------


def test_overview(db, client, staff, today):
    blue = FunderFactory(name="Blue Horizon", kind=FunderKind.PHILANTHROPY, country="CH")
    FunderFactory(name="Acme Trust", kind=FunderKind.CORPORATE)
    lead = UserFactory(name="Lena Lead")
    MemberFactory(), MemberFactory(), MemberFactory(status=MemberStatus.LAPSED)
    group = WorkingGroupFactory(name="Air quality")
    GroupMembershipFactory(group=group)
    air = ProgrammeFactory(
        name="Clean air",
        starts_on=date(2026, 1, 1),
        ends_on=date(2028, 12, 31),
        coverage=Coverage.GROUP,
        group=group,
        lead=lead,
    )
    all_members = ProgrammeFactory(
        name="Everyone", starts_on=date(2025, 1, 1), ends_on=date(2025, 12, 31)
    )
    GrantFactory(funder=blue, programme=air, amount=Decimal("1000.50"), currency="EUR")
    GrantFactory(funder=blue, programme=all_members, amount=Decimal("2000"), currency="EUR")
    grant = GrantFactory(funder=blue, programme=air, amount=Decimal("300"), currency="USD")
    GrantReportFactory(
        grant=grant,
        period_start=today - timedelta(days=400),
        period_end=today - timedelta(days=70),
        due_on=today - timedelta(days=10),
    )
    GrantReportFactory(
        grant=grant,
        period_start=today - timedelta(days=69),
        period_end=today - timedelta(days=60),
        due_on=today,
    )
    GrantReportFactory(
        grant=grant,
        period_start=today - timedelta(days=59),
        period_end=today + timedelta(days=5),
        due_on=today + timedelta(days=65),
    )
    GrantReportFactory(
        grant=grant,
        period_start=date(2020, 1, 1),
        period_end=date(2020, 12, 31),
        due_on=date(2021, 3, 1),
        sent_on=date(2021, 2, 1),
    )
    response = client.get("/funding/")
    assert response.status_code == 200
    page = text(response)
    assert page.count("<h1") == 1 and "<h1>Funding</h1>" in page
    for href in ("/funding/funders/new", "/funding/programmes/new", "/funding/grants/new"):
        assert f'href="{href}"' in page
    assert rows(section(page, "funders-title")) == [
        ["Acme Trust", "Corporate", "—", "0", "—"],
        ["Blue Horizon", "Philanthropy", "Switzerland", "2", "€3,000.50 $300.00"],
    ]
    assert f'<a href="/funding/funders/{blue.id}">Blue Horizon</a>' in page
    assert rows(section(page, "programmes-title")) == [
        [
            "Clean air",
            "Jan 1, 2026 – Dec 31, 2028",
            "The current members of a working group: Air quality",
            "1",
            "Lena Lead",
            "Blue Horizon",
        ],
        ["Everyone", "Jan 1, 2025 – Dec 31, 2025", "All active members", "3", "—", "Blue Horizon"],
    ]
    reports = section(page, "reports-title")
    assert [r[1] for r in rows(reports)] == ["Overdue 10 days late", "Due today", "Due in 65 days"]
    assert [r[0] for r in rows(reports)] == [
        format_date(today - timedelta(days=10)),
        format_date(today),
        format_date(today + timedelta(days=65)),
    ]
    assert rows(reports)[0][2:4] == ["Clean air", "Blue Horizon"]
    assert '<strong class="status status-overdue">Overdue</strong>' in reports
    assert "3 reports not sent yet" in reports


def test_overview_when_empty(client, staff):
    page = text(client.get("/funding/"))
    assert rows(section(page, "funders-title")) == [["No funders yet."]]
    assert rows(section(page, "programmes-title")) == [["No programmes yet."]]
    assert rows(section(page, "reports-title")) == [["Every report is sent."]]


def test_overview_pages_the_reports_due(db, client, staff, app):
    grant = GrantFactory()
    for n in range(30):
        GrantReportFactory(
            grant=grant,
            period_start=date(2000 + n, 1, 1),
            period_end=date(2000 + n, 12, 31),
            due_on=date(2001 + n, 3, 1),
        )
    assert app.config["MEMBERS_PER_PAGE"] == 25
    client.get("/funding/")  # the sign-in message is shown there, once
    first = text(client.get("/funding/"))
    assert len(rows(section(first, "reports-title"))) == 25
    assert 'href="/funding/?page=2" rel="next"' in first
    second = text(client.get("/funding/?page=2"))
    assert [r[0] for r in rows(section(second, "reports-title"))] == [
        format_date(date(2026 + n, 3, 1)) for n in range(5)
    ]
    assert without_tokens(text(client.get("/funding/?page=abc"))) == without_tokens(first)


# -- funders --------------------------------------------------------------------------------


def test_create_a_funder(db, client, staff):
    form = text(client.get("/funding/funders/new"))
    assert "<h1>Add a funder</h1>" in form
    assert '<label for="name">Name <span class="required"' in form
    assert '<option value="multilateral">Multilateral</option>' in form
    assert '<option value="CH">Switzerland</option>' in form
    response = client.post(
        "/funding/funders/new",
        data=funder_form(
            name=" Blue  Horizon ", country="CH", website="https://bluehorizon.example"
        ),
    )
    funder = db.scalar(select(Funder))
    assert response.status_code == 302
    assert response.location == f"/funding/funders/{funder.id}"
    assert (funder.name, funder.kind, funder.country, funder.website) == (
        "Blue Horizon",
        FunderKind.PHILANTHROPY,
        "CH",
        "https://bluehorizon.example",
    )
    page = text(client.get(response.location))
    assert "Blue Horizon is added." in page
    assert "<p>Philanthropy · Switzerland</p>" in page


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": "  "}, "name", "Enter the funder's name."),
        ({"name": "x" * 256}, "name", "Use at most 255 characters."),
        ({"kind": ""}, "kind", "Choose the kind of funder."),
        ({"kind": "pirates"}, "kind", "Choose the kind of funder."),
        ({"country": "XX"}, "country", "“XX” is not a two-letter ISO 3166 country code."),
        ({"website": "ftp://x.example"}, "website", "Enter a web address starting with https://."),
    ],
)
def test_create_funder_refuses_bad_input_and_writes_nothing(
    db, client, staff, overrides, field, message
):
    response = client.post("/funding/funders/new", data=funder_form(**overrides))
    assert response.status_code == 200
    page = text(response)
    assert field_error(page, field) == message
    assert 'class="error-summary"' in page and f'<a href="#{field}">' in page
    assert counts(db) == (0, 0, 0, 0, 0, 0)


def test_edit_a_funder(db, client, staff):
    funder = FunderFactory(name="Blue", kind=FunderKind.PUBLIC, country="FR", notes="Old")
    url = f"/funding/funders/{funder.id}/edit"
    form = text(client.get(url))
    assert "<h1>Edit Blue</h1>" in form
    assert '<option selected value="public">Public funder</option>' in form
    assert '<option selected value="FR">France</option>' in form
    page = text(client.post(url, data=funder_form(name="", website="nowhere")))
    assert field_error(page, "name") == "Enter the funder's name."
    assert field_error(page, "website") == "Enter a web address starting with https://."
    assert fresh(db, funder).name == "Blue"
    response = client.post(url, data=funder_form(name="Blue Horizon", kind="multilateral"))
    assert response.location == f"/funding/funders/{funder.id}"
    saved = fresh(db, funder)
    assert (saved.name, saved.kind, saved.country, saved.notes) == (
        "Blue Horizon",
        FunderKind.MULTILATERAL,
        None,
        None,
    )


def test_funder_page(db, client, staff, today):
    funder = FunderFactory(
        name="Blue Horizon", website="https://blue.example", notes="Met in Lisbon."
    )
    air = ProgrammeFactory(name="Clean air")
    older = ProgrammeFactory(name="Older")
    grant = make_grant(db, funder, air, reference="BH-7", starts_on=today - timedelta(days=400))
    grant.reports[0].sent_on = today
    done = make_grant(
        db,
        funder,
        older,
        amount="1000",
        currency="USD",
        starts_on=date(2020, 1, 1),
        ends_on=date(2020, 12, 31),
        frequency=Frequency.SEMI_ANNUAL,
    )
    for report in done.reports:
        report.sent_on = date(2021, 3, 1)
    make_grant(db, FunderFactory(), air, reference="NOT-OURS")
    UserFactory(
        role=Role.FUNDER,
        funder=funder,
        name="Zoe Active",
        email="zoe@blue.example",
        password_hash=None,
    )
    UserFactory(role=Role.FUNDER, funder=funder, name="Ann Gone", is_active=False)
    UserFactory(funder_user=True, name="Someone Elsewhere")
    db.flush()
    response = client.get(f"/funding/funders/{funder.id}")
    assert response.status_code == 200
    page = text(response)
    assert page.count("<h1") == 1 and "<h1>Blue Horizon</h1>" in page
    assert '<p class="notes">Met in Lisbon.</p>' in page
    assert f'href="/funding/grants/new?funder={funder.id}"' in page
    assert f'href="/funding/funders/{funder.id}/edit"' in page
    grants = section(page, "grants-title")
    next_due = grant.reports[1].due_on
    assert [r[:6] for r in rows(grants)] == [
        [
            "Clean air",
            "BH-7",
            "€250,000.00",
            f"{format_date(grant.starts_on)} – {format_date(grant.ends_on)}",
            "Every year",
            format_date(next_due) + (" Overdue" if today > next_due else ""),
        ],
        ["Older", "—", "$1,000.00", "Jan 1, 2020 – Dec 31, 2020", "Every six months", "All sent"],
    ]
    assert f'href="/funding/grants/{grant.id}/edit"' in grants
    assert "NOT-OURS" not in page
    contacts = section(page, "contacts-title")
    assert [r[:3] for r in rows(contacts)] == [
        ["Zoe Active", "zoe@blue.example", "Invited, not signed in yet"],
        ["Ann Gone", rows(contacts)[1][1], "Deactivated"],
    ]
    assert contacts.count("/deactivate") == 1
    assert "Someone Elsewhere" not in page
    assert '<label for="name">Name' in contacts and '<label for="email">E-mail address' in contacts


def test_invite_a_contact(db, client, staff, mailbox):
    funder = FunderFactory(name="Blue Horizon")
    response = client.post(
        f"/funding/funders/{funder.id}/contacts",
        data={"name": " Maya  Chen ", "email": "Maya@Blue.example"},
        follow_redirects=True,
    )
    assert response.request.path == f"/funding/funders/{funder.id}"
    page = text(response)
    assert "Maya Chen is invited: an e-mail went to maya@blue.example." in page
    [user] = funder_users(db, funder)
    assert (user.name, user.email, user.role, user.is_active) == (
        "Maya Chen",
        "maya@blue.example",
        Role.FUNDER,
        True,
    )
    assert [r[0] for r in rows(section(page, "contacts-title"))] == ["Maya Chen"]
    [message] = mailbox.to("maya@blue.example")
    assert "Sofia Staff invites you" in message.get_payload(decode=True).decode()
    assert mailbox.last_link("maya@blue.example", "/invitation")


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "", "email": "maya@blue.example"}, "name", "Enter the person's name."),
        ({"name": "Maya", "email": ""}, "email", "Enter the person's e-mail address."),
        ({"name": "Maya", "email": "maya"}, "email", "“maya” is not an e-mail address."),
        (
            {"name": "Maya", "email": "TAKEN@example.org"},
            "email",
            "A user with this e-mail address already exists.",
        ),
    ],
)
def test_invite_refuses_bad_input(db, client, staff, mailbox, data, field, message):
    UserFactory(email="taken@example.org")
    funder = FunderFactory(name="Blue Horizon")
    response = client.post(f"/funding/funders/{funder.id}/contacts", data=data)
    assert response.status_code == 200
    page = text(response)
    assert "<h1>Blue Horizon</h1>" in page
    assert field_error(page, field) == message
    assert 'class="error-summary"' in page and f'<a href="#{field}">' in page
    assert f'value="{data["name"]}"' in page
    assert funder_users(db, funder) == []
    assert mailbox.messages == []


def test_invite_when_the_mail_server_is_down_keeps_nothing(db, app, client, staff, mailbox):
    funder = FunderFactory(name="Blue Horizon")
    app.config["SMTP_URL"] = "smtp://127.0.0.1:9"
    response = client.post(
        f"/funding/funders/{funder.id}/contacts", data={"name": "Maya", "email": "m@blue.example"}
    )
    assert response.status_code == 503
    assert "The e-mail could not be sent." in text(response)
    assert funder_users(db, funder) == []


def test_deactivate_a_contact(db, client, staff):
    funder = FunderFactory()
    contact = UserFactory(role=Role.FUNDER, funder=funder, name="Maya Chen")
    token = contact.session_token
    url = f"/funding/funders/{funder.id}/contacts/{contact.id}/deactivate"
    assert client.get(url).status_code == 405
    response = client.post(url, follow_redirects=True)
    assert response.request.path == f"/funding/funders/{funder.id}"
    assert "Maya Chen is deactivated and signed out everywhere." in text(response)
    saved = fresh(db, contact)
    assert (saved.is_active, saved.session_token != token) == (False, True)
    again = text(client.post(url, follow_redirects=True))
    assert "Maya Chen is already deactivated." in again


def test_only_the_funders_own_contacts_can_be_deactivated(db, client, staff):
    funder = FunderFactory()
    others = [UserFactory(funder_user=True), UserFactory(), UserFactory(focal_point=True), staff]
    for user in others:
        url = f"/funding/funders/{funder.id}/contacts/{user.id}/deactivate"
        assert client.post(url).status_code == 404
        assert fresh(db, user).is_active
    assert client.post(f"/funding/funders/{funder.id}/contacts/999999/deactivate").status_code == (
        404
    )


# -- programmes -----------------------------------------------------------------------------


@pytest.fixture
def choices(db):
    """What the programme form offers: members, a group, staff and indicators."""
    return {
        "members": [
            MemberFactory(name="Aveiro", search_name="aveiro"),
            MemberFactory(name="Bergen", search_name="bergen", status=MemberStatus.LAPSED),
            MemberFactory(name="Cluj", search_name="cluj"),
        ],
        "group": WorkingGroupFactory(name="Air quality"),
        "lead": UserFactory(name="Lena Lead"),
        "retired_lead": UserFactory(name="Old Lead", is_active=False),
        "indicators": [
            IndicatorFactory(code="GHG-1", name="Emissions"),
            IndicatorFactory(code="AIR-2", name="PM2.5"),
            IndicatorFactory(code="OLD-9", name="Retired", is_active=False),
        ],
    }


def test_new_programme_form(db, client, staff, choices):
    page = text(client.get("/funding/programmes/new"))
    assert "<h1>Add a programme</h1>" in page
    for label in ("Name", "Starts on", "Ends on"):
        assert f'>{label} <span class="required"' in page
    assert '<legend>Members covered <span class="required"' in page
    assert '<input checked id="coverage-0" name="coverage" type="radio" value="all">' in page
    assert "The current members of a working group" in page
    assert f'<option value="{choices["group"].id}">Air quality</option>' in page
    aveiro, bergen, _cluj = choices["members"]
    assert f'<label for="member-{aveiro.id}"><input type="checkbox"' in page
    assert 'Bergen <span class="muted">(Portugal, Lapsed)</span>' in page
    assert f'<option value="{choices["lead"].id}">Lena Lead</option>' in page
    assert "Old Lead" not in page
    assert f'<option value="{choices["indicators"][0].id}">GHG-1 · Emissions</option>' in page
    assert "OLD-9" not in page
    assert page.count('name="indicators-') == 6
    assert '<label for="indicators-2-target" class="visually-hidden">Target, row 3</label>' in page


def test_create_a_programme(db, client, staff, choices):
    aveiro, bergen, _cluj = choices["members"]
    ghg, air, _old = choices["indicators"]
    response = client.post(
        "/funding/programmes/new",
        data=programme_form(
            description="Cleaner air in ten cities.",
            coverage="chosen",
            member_ids=[str(bergen.id), str(aveiro.id)],
            lead_id=str(choices["lead"].id),
            **{
                "indicators-0-indicator_id": str(air.id),
                "indicators-0-target": "1,250.5",
                "indicators-1-indicator_id": "",
                "indicators-1-target": "",
                "indicators-2-indicator_id": str(ghg.id),
                "indicators-2-target": "",
            },
        ),
    )
    programme = db.scalar(select(Programme))
    assert response.status_code == 302
    assert response.location == f"/funding/programmes/{programme.id}"
    assert (programme.name, programme.slug, programme.coverage, programme.lead_id) == (
        "Clean air for cities",
        "clean-air-for-cities",
        Coverage.CHOSEN,
        choices["lead"].id,
    )
    assert (programme.starts_on, programme.ends_on) == (date(2026, 1, 1), date(2028, 12, 31))
    assert sorted(pm.member_id for pm in programme.chosen_members) == sorted([aveiro.id, bergen.id])
    assert [(pi.indicator_id, pi.target) for pi in programme.indicators] == [
        (air.id, Decimal("1250.5")),
        (ghg.id, None),
    ]
    page = text(client.get(response.location))
    assert "Clean air for cities is added." in page
    assert "2 members are covered today." in page


def test_create_a_programme_for_a_group(db, client, staff, choices):
    group = choices["group"]
    GroupMembershipFactory(group=group, member=choices["members"][0])
    response = client.post(
        "/funding/programmes/new",
        data=programme_form(coverage="group", group_id=str(group.id), member_ids=["999999"]),
    )
    assert response.status_code == 302
    programme = db.scalar(select(Programme))
    assert (programme.coverage, programme.group_id, programme.chosen_members) == (
        Coverage.GROUP,
        group.id,
        [],
    )


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "Enter the programme's name."),
        ({"starts_on": ""}, "starts_on", "Enter the day the programme starts."),
        ({"starts_on": "31/12/2026"}, "starts_on", DATE),
        ({"ends_on": "2025-12-31"}, "ends_on", "The programme cannot end before it starts."),
        ({"ends_on": "soon"}, "ends_on", DATE),
        ({"coverage": "everybody"}, "coverage", "Choose which members the programme covers."),
        (
            {"coverage": "group"},
            "group_id",
            "Choose the working group whose members it covers.",
        ),
        (
            {"coverage": "group", "group_id": "abc"},
            "group_id",
            "Choose the working group whose members it covers.",
        ),
        ({"coverage": "chosen"}, "member_ids", "Choose at least one member."),
        (
            {"coverage": "chosen", "member_ids": ["999999"]},
            "member_ids",
            "Some of the chosen members do not exist.",
        ),
        ({"lead_id": "LEAD"}, "lead_id", "The lead must be an active member of staff."),
        (
            {"indicators-0-indicator_id": "IND", "indicators-0-target": "3"},
            "indicators",
            "Some of the chosen indicators do not exist.",
        ),
        (
            {"indicators-0-indicator_id": "", "indicators-0-target": "3"},
            "indicators",
            "Choose the indicator of each target.",
        ),
        (
            {"indicators-0-indicator_id": "INDICATOR", "indicators-0-target": "lots"},
            "indicators",
            "Targets must be numbers (use a point for decimals).",
        ),
        (
            {
                "indicators-0-indicator_id": "INDICATOR",
                "indicators-1-indicator_id": "INDICATOR",
            },
            "indicators",
            "Each indicator can be listed once.",
        ),
    ],
)
def test_create_programme_refuses_bad_input_and_writes_nothing(
    db, client, staff, choices, overrides, field, message
):
    indicator = choices["indicators"][0]
    overrides = {
        key: str(indicator.id) if value == "INDICATOR" else value
        for key, value in overrides.items()
    }
    response = client.post("/funding/programmes/new", data=programme_form(**overrides))
    assert response.status_code == 200
    page = text(response)
    assert field_error(page, field) == message, page
    assert 'class="error-summary"' in page and f'<a href="#{field}">' in page
    assert counts(db) == (0, 0, 0, 0, 0, 0)


def test_a_refused_programme_form_keeps_what_was_typed(db, client, staff, choices):
    aveiro = choices["members"][0]
    indicator = choices["indicators"][0]
    page = text(
        client.post(
            "/funding/programmes/new",
            data=programme_form(
                name="",
                coverage="chosen",
                member_ids=[str(aveiro.id)],
                starts_on="garbled",
                **{"indicators-0-indicator_id": str(indicator.id), "indicators-0-target": "7"},
            ),
        )
    )
    assert field_error(page, "name") == "Enter the programme's name."
    assert field_error(page, "starts_on") == DATE
    assert 'value="garbled"' in page
    assert '<input checked id="coverage-2" name="coverage" type="radio" value="chosen">' in page
    assert f'value="{aveiro.id}" checked' in page
    assert f'<option selected value="{indicator.id}">' in page
    assert 'name="indicators-0-target" type="text" value="7"' in page


def test_edit_a_programme(db, client, staff, choices):
    aveiro, bergen, cluj = choices["members"]
    ghg, air, old = choices["indicators"]
    programme = ProgrammeFactory(
        name="Clean air",
        coverage=Coverage.CHOSEN,
        lead=choices["retired_lead"],
        description="First text",
    )
    ProgrammeMemberFactory(programme=programme, member=bergen)
    ProgrammeIndicatorFactory(
        programme=programme, indicator=old, target=Decimal("12.50"), position=1
    )
    ProgrammeIndicatorFactory(programme=programme, indicator=ghg, target=None, position=2)
    url = f"/funding/programmes/{programme.id}/edit"
    form = text(client.get(url))
    assert "<h1>Edit Clean air</h1>" in form
    assert '<input checked id="coverage-2" name="coverage" type="radio" value="chosen">' in form
    assert f'value="{bergen.id}" checked' in form
    assert f'value="{aveiro.id}" checked' not in form
    assert (
        f'<option selected value="{choices["retired_lead"].id}">Old Lead (deactivated)</option>'
        in form
    )
    assert f'<option selected value="{old.id}">OLD-9 · Retired (retired)</option>' in form
    assert 'name="indicators-0-target" type="text" value="12.5"' in form
    assert f'<option selected value="{ghg.id}">GHG-1 · Emissions</option>' in form
    assert form.count('name="indicators-') == 10
    # The deactivated lead is refused; nothing changes.
    page = text(
        client.post(
            url, data=programme_form(name="Renamed", lead_id=str(choices["retired_lead"].id))
        )
    )
    assert field_error(page, "lead_id") == "The lead must be an active member of staff."
    assert fresh(db, programme).name == "Clean air"
    response = client.post(
        url,
        data=programme_form(
            name="Clean air",
            coverage="chosen",
            member_ids=[str(cluj.id), str(bergen.id)],
            lead_id=str(choices["lead"].id),
            **{
                "indicators-0-indicator_id": str(ghg.id),
                "indicators-0-target": "3",
                "indicators-1-indicator_id": "",
                "indicators-1-target": "",
                "indicators-2-indicator_id": str(air.id),
                "indicators-2-target": "",
            },
        ),
    )
    assert response.location == f"/funding/programmes/{programme.id}"
    saved = fresh(db, programme)
    assert saved.lead_id == choices["lead"].id
    assert sorted(pm.member_id for pm in saved.chosen_members) == sorted([cluj.id, bergen.id])
    assert [(pi.indicator_id, pi.target) for pi in saved.indicators] == [
        (ghg.id, Decimal("3")),
        (air.id, None),
    ]


def test_programme_page(db, client, staff, today):
    group = WorkingGroupFactory(name="Air quality")
    members = [
        MemberFactory(name=f"City {n:02d}", search_name=f"city {n:02d}", country="PT")
        for n in range(27)
    ]
    for member in members:
        GroupMembershipFactory(group=group, member=member)
    programme = ProgrammeFactory(
        name="Clean air",
        slug="clean-air",
        description="Cleaner air\nin ten cities.",
        starts_on=date(2024, 1, 1),
        ends_on=date(2027, 12, 31),
        coverage=Coverage.GROUP,
        group=group,
        lead=UserFactory(name="Lena Lead"),
    )
    ProgrammeIndicatorFactory(
        programme=programme,
        indicator=IndicatorFactory(code="GHG-1", name="Emissions", unit="t CO2e"),
        target=Decimal("1250.5"),
    )
    ProgrammeIndicatorFactory(
        programme=programme,
        indicator=IndicatorFactory(code="AIR-2", name="PM2.5", unit=None),
        target=None,
    )
    blue = FunderFactory(name="Blue Horizon")
    grant = make_grant(
        db,
        blue,
        programme,
        reference="BH-7",
        starts_on=today - timedelta(days=500),
        ends_on=today + timedelta(days=200),
    )
    first, second = grant.reports
    first.sent_on = first.period_end
    make_grant(db, FunderFactory(), ProgrammeFactory(), reference="NOT-OURS")
    db.flush()
    response = client.get(f"/funding/programmes/{programme.id}")
    assert response.status_code == 200
    page = text(response)
    assert page.count("<h1") == 1 and "<h1>Clean air</h1>" in page
    assert '<p class="notes">Cleaner air\nin ten cities.</p>' in page
    assert "<dt>Coverage</dt><dd>The current members of a working group: Air quality</dd>" in page
    assert "<dt>Lead</dt><dd>Lena Lead</dd>" in page
    assert 'href="/impact/?programme=clean-air"' in page
    assert f'href="/funding/grants/new?programme={programme.id}"' in page
    assert f'href="/funding/programmes/{programme.id}/edit"' in page
    assert rows(section(page, "indicators-title")) == [
        ["GHG-1 · Emissions", "1,250.5", "t CO2e"],
        ["AIR-2 · PM2.5", "No target", "—"],
    ]
    grants = rows(section(page, "grants-title"))
    assert [g[:5] for g in grants] == [
        [
            "Blue Horizon",
            "BH-7",
            "€250,000.00",
            f"{format_date(grant.starts_on)} – {format_date(grant.ends_on)}",
            "Every year",
        ]
    ]
    assert "NOT-OURS" not in page
    reports = section(page, "reports-title")
    assert [r[:3] for r in rows(reports)] == [
        [
            format_date(r.due_on),
            "Blue Horizon",
            f"{format_date(r.period_start)} – {format_date(r.period_end)}",
        ]
        for r in grant.reports
    ]
    assert f"Sent on {format_date(first.sent_on)}" in rows(reports)[0][3]
    assert f'action="/funding/programmes/{programme.id}/reports/{first.id}/unsent"' in reports
    assert f'action="/funding/programmes/{programme.id}/reports/{second.id}/sent"' not in reports
    assert "Period not over yet" in rows(reports)[1][4]
    members_section = section(page, "members-title")
    assert "27 members are covered today." in members_section
    assert [r[0] for r in rows(members_section)] == [f"City {n:02d}" for n in range(25)]
    assert rows(members_section)[0][1:] == ["Portugal", "Active"]
    assert f'href="/funding/programmes/{programme.id}?page=2" rel="next"' in members_section
    page_two = section(
        text(client.get(f"/funding/programmes/{programme.id}?page=2")), "members-title"
    )
    assert [r[0] for r in rows(page_two)] == ["City 25", "City 26"]


def test_programme_page_without_grants_or_members(db, client, staff):
    programme = ProgrammeFactory(coverage=Coverage.CHOSEN)
    page = text(client.get(f"/funding/programmes/{programme.id}"))
    assert "0 members are covered today." in page
    assert rows(section(page, "grants-title")) == [["No grants yet."]]
    assert rows(section(page, "reports-title")) == [
        ["No reports are owed: the programme has no grants yet."]
    ]
    assert rows(section(page, "indicators-title")) == [["No indicators chosen yet."]]


# -- grant reports --------------------------------------------------------------------------


@pytest.fixture
def owed(db, today):
    """A programme with a report whose period ended a month ago."""
    programme = ProgrammeFactory(name="Clean air")
    grant = GrantFactory(programme=programme, funder=FunderFactory(name="Blue Horizon"))
    report = GrantReportFactory(
        grant=grant,
        period_start=today - timedelta(days=395),
        period_end=today - timedelta(days=30),
        due_on=today + timedelta(days=30),
    )
    return report


def report_url(report, action: str = "sent") -> str:
    return f"/funding/programmes/{report.grant.programme_id}/reports/{report.id}/{action}"


def test_mark_a_report_sent_and_undo(db, client, staff, owed, today):
    page = text(client.get(f"/funding/programmes/{owed.grant.programme_id}"))
    assert f'action="{report_url(owed)}"' in page
    assert (
        f'<input type="date" id="sent-on-{owed.id}" name="sent_on" value="{today.isoformat()}"'
        in page
    )
    assert f'<label for="sent-on-{owed.id}">Sent on' in page
    response = client.post(report_url(owed), data={"sent_on": owed.period_end.isoformat()})
    assert response.status_code == 302
    assert response.location == f"/funding/programmes/{owed.grant.programme_id}#reports-title"
    assert fresh(db, owed).sent_on == owed.period_end
    page = text(client.get(response.location))
    assert "The report is marked as sent." in page
    assert f"Sent on {format_date(owed.period_end)}" in page
    assert f'action="{report_url(owed, "unsent")}"' in page
    # Overview: it is no longer due.
    assert rows(section(text(client.get("/funding/")), "reports-title")) == [
        ["Every report is sent."]
    ]
    response = client.post(report_url(owed, "unsent"), follow_redirects=True)
    assert "The report is marked as not sent: it is owed again." in text(response)
    assert fresh(db, owed).sent_on is None
    response = client.post(report_url(owed, "unsent"), follow_redirects=True)
    assert "This report is not marked as sent." in text(response)


@pytest.mark.parametrize(
    ("sent_on", "message"),
    [
        ("", "Enter the day the report was sent."),
        ("yesterday", DATE),
        ("FUTURE", "The day the report was sent cannot be in the future."),
        ("EARLY", "A report cannot be sent before the end of the period it covers (%s)."),
    ],
)
def test_mark_sent_refuses_bad_dates(db, client, staff, owed, today, sent_on, message):
    sent_on = {
        "FUTURE": (today + timedelta(days=1)).isoformat(),
        "EARLY": (owed.period_end - timedelta(days=1)).isoformat(),
    }.get(sent_on, sent_on)
    if "%s" in message:
        message %= format_date(owed.period_end)
    response = client.post(report_url(owed), data={"sent_on": sent_on})
    assert response.status_code == 200
    page = text(response)
    assert "<h1>Clean air</h1>" in page
    assert f'<small id="sent-on-{owed.id}-error" class="field-error">{message}</small>' in page
    assert f'<a href="#sent-on-{owed.id}">Sent on: {message}</a>' in page
    assert f'value="{sent_on}"' in page
    assert fresh(db, owed).sent_on is None


def test_a_report_of_another_programme_is_404(db, client, staff, owed):
    other = ProgrammeFactory()
    for action in ("sent", "unsent"):
        url = f"/funding/programmes/{other.id}/reports/{owed.id}/{action}"
        assert client.post(url, data={"sent_on": owed.period_end.isoformat()}).status_code == 404
    assert client.get(report_url(owed)).status_code == 405
    assert fresh(db, owed).sent_on is None


# -- grants ---------------------------------------------------------------------------------


def test_create_a_grant_from_a_programme_page(db, client, staff):
    funder = FunderFactory(name="Blue Horizon")
    programme = ProgrammeFactory(name="Clean air")
    form = text(client.get(f"/funding/grants/new?programme={programme.id}"))
    assert "<h1>Add a grant</h1>" in form
    assert f'<option selected value="{programme.id}">Clean air</option>' in form
    assert f'<option value="{funder.id}">Blue Horizon</option>' in form
    assert '<option value="EUR">EUR – Euro</option>' in form
    assert '<option selected value="annual">Every year</option>' in form
    assert f'<a href="/funding/programmes/{programme.id}">Cancel</a>' in form
    response = client.post(
        f"/funding/grants/new?programme={programme.id}",
        data=grant_form(
            funder, programme, reference=" BH-7 ", amount="250000.50", frequency="semi_annual"
        ),
    )
    assert response.status_code == 302
    assert response.location == f"/funding/programmes/{programme.id}"
    grant = db.scalar(select(Grant))
    assert (grant.reference, grant.amount, grant.currency, grant.frequency) == (
        "BH-7",
        Decimal("250000.50"),
        "EUR",
        Frequency.SEMI_ANNUAL,
    )
    assert len(grant.reports) == 4
    page = text(client.get(response.location))
    assert "The grant is added; its reports are due as listed." in page
    assert len(rows(section(page, "reports-title"))) == 4


def test_a_grant_form_opened_from_a_funder_page(db, client, staff):
    funder = FunderFactory(name="Blue Horizon")
    form = text(client.get(f"/funding/grants/new?funder={funder.id}"))
    assert f'<option selected value="{funder.id}">Blue Horizon</option>' in form
    assert f'<a href="/funding/funders/{funder.id}">Cancel</a>' in form
    form = text(client.get("/funding/grants/new?funder=abc&programme=99999999999"))
    assert re.findall(r"<option selected value=\"\d+\">", form) == []
    assert '<a href="/funding/">Cancel</a>' in form


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"funder_id": ""}, "funder_id", "Choose the funder."),
        ({"funder_id": "999999"}, "funder_id", "Choose the funder."),
        ({"programme_id": "x"}, "programme_id", "Choose the programme it funds."),
        ({"amount": ""}, "amount", "Enter the amount."),
        ({"amount": "lots"}, "amount", "Enter the amount as a number (use a point for decimals)."),
        ({"amount": "-5"}, "amount", "Enter a positive amount with at most two decimals."),
        ({"currency": ""}, "currency", "Enter a three-letter ISO 4217 currency code, e.g. EUR."),
        ({"currency": "XYZ"}, "currency", "Enter a three-letter ISO 4217 currency code, e.g. EUR."),
        ({"starts_on": "1st March"}, "starts_on", DATE),
        ({"ends_on": "2020-01-01"}, "ends_on", "The grant cannot end before it starts."),
        ({"frequency": "monthly"}, "frequency", "Choose how often the funder receives a report."),
        ({"reference": "R" * 101}, "reference", "Use at most 100 characters."),
    ],
)
def test_create_grant_refuses_bad_input_and_writes_nothing(
    db, client, staff, overrides, field, message
):
    funder, programme = FunderFactory(), ProgrammeFactory()
    before = counts(db)
    response = client.post("/funding/grants/new", data=grant_form(funder, programme, **overrides))
    assert response.status_code == 200
    page = text(response)
    assert field_error(page, field) == message
    assert 'class="error-summary"' in page and f'<a href="#{field}">' in page
    assert counts(db) == before


def test_edit_a_grant(db, client, staff):
    funder, programme = FunderFactory(name="Blue"), ProgrammeFactory(name="Clean air")
    grant = make_grant(db, funder, programme, reference="BH-7", amount="1000.50", currency="USD")
    grant.reports[0].sent_on = date(2026, 1, 15)
    db.flush()
    url = f"/funding/grants/{grant.id}/edit"
    form = text(client.get(url))
    assert "<h1>Edit the grant</h1>" in form
    assert f'<option selected value="{funder.id}">Blue</option>' in form
    assert f'<option selected value="{programme.id}">Clean air</option>' in form
    assert 'value="1000.5"' in form and 'value="BH-7"' in form
    assert '<option selected value="USD">' in form
    assert 'value="2025-01-01"' in form
    page = text(client.post(url, data=grant_form(funder, programme, amount="0")))
    assert field_error(page, "amount") == "Enter a positive amount with at most two decimals."
    assert fresh(db, grant).amount == Decimal("1000.50")
    other = ProgrammeFactory()
    response = client.post(
        url,
        data=grant_form(
            funder,
            other,
            starts_on="2025-01-01",
            ends_on="2026-12-31",
            frequency="semi_annual",
            currency="EUR",
        ),
    )
    assert response.location == f"/funding/programmes/{other.id}"
    saved = fresh(db, grant)
    assert (saved.programme_id, saved.currency, saved.frequency) == (
        other.id,
        "EUR",
        Frequency.SEMI_ANNUAL,
    )
    assert [(r.period_end, r.sent_on) for r in saved.reports] == [
        (date(2025, 6, 30), None),
        (date(2025, 12, 31), date(2026, 1, 15)),
        (date(2026, 6, 30), None),
        (date(2026, 12, 31), None),
    ]


# -- unknown rows ---------------------------------------------------------------------------


def test_unknown_rows_are_404(db, client, staff):
    for url in (
        "/funding/funders/999999",
        "/funding/funders/999999/edit",
        "/funding/programmes/999999",
        "/funding/programmes/999999/edit",
        "/funding/grants/999999/edit",
        "/funding/funders/99999999999",
        "/funding/programmes/99999999999999999999",
    ):
        assert client.get(url).status_code == 404, url
    for url in (
        "/funding/funders/999999/edit",
        "/funding/funders/999999/contacts",
        "/funding/funders/999999/contacts/1/deactivate",
        "/funding/programmes/999999/edit",
        "/funding/programmes/999999/reports/1/sent",
        "/funding/programmes/999999/reports/1/unsent",
        "/funding/grants/999999/edit",
    ):
        assert client.post(url, data={"name": "x"}).status_code == 404, url


def test_user_content_is_escaped(db, client, staff):
    funder = FunderFactory(name="<script>alert(1)</script>", notes="<b>bold</b>")
    programme = ProgrammeFactory(name="<i>air</i>", description="<img src=x>")
    GrantFactory(funder=funder, programme=programme, reference="<u>R</u>")
    for url in (
        "/funding/",
        f"/funding/funders/{funder.id}",
        f"/funding/programmes/{programme.id}",
    ):
        body = client.get(url).get_data(as_text=True)
        assert "<script>" not in body and "<i>air" not in body and "<u>R" not in body, url
        assert "<b>bold" not in body and "<img src=x>" not in body


# -- who may reach the pages ----------------------------------------------------------------


@pytest.fixture
def world(db, today):
    funder = FunderFactory(name="Blue Horizon")
    programme = ProgrammeFactory(name="Clean air")
    indicator = IndicatorFactory()
    grant = GrantFactory(funder=funder, programme=programme)
    report = GrantReportFactory(
        grant=grant,
        period_start=today - timedelta(days=395),
        period_end=today - timedelta(days=30),
        due_on=today + timedelta(days=30),
    )
    sent = GrantReportFactory(
        grant=grant,
        period_start=today - timedelta(days=760),
        period_end=today - timedelta(days=396),
        due_on=today - timedelta(days=336),
        sent_on=today - timedelta(days=340),
    )
    contact = UserFactory(role=Role.FUNDER, funder=funder, name="Maya Chen")
    return {
        "funder": funder,
        "programme": programme,
        "indicator": indicator,
        # Edited by the requests below; its reports would follow its new dates.
        "grant": GrantFactory(funder=funder, programme=programme),
        "report": report,
        "sent": sent,
        "contact": contact,
    }


def every_request(world) -> list[tuple[str, str, dict]]:
    """Every funding route, with a valid form as staff would post it."""
    f, p, g = world["funder"], world["programme"], world["grant"]
    r, s, c = world["report"].id, world["sent"].id, world["contact"].id
    programme = programme_form(
        name="Renamed programme",
        **{"indicators-0-indicator_id": str(world["indicator"].id), "indicators-0-target": "5"},
    )
    return [
        ("GET", "/funding/", {}),
        ("GET", "/funding/funders/new", {}),
        ("POST", "/funding/funders/new", funder_form(name="Newcomer")),
        ("GET", f"/funding/funders/{f.id}", {}),
        ("GET", f"/funding/funders/{f.id}/edit", {}),
        ("POST", f"/funding/funders/{f.id}/edit", funder_form(name="Renamed funder")),
        ("POST", f"/funding/funders/{f.id}/contacts", {"name": "Bea", "email": "bea@x.example"}),
        ("POST", f"/funding/funders/{f.id}/contacts/{c}/deactivate", {}),
        ("GET", "/funding/programmes/new", {}),
        ("POST", "/funding/programmes/new", programme_form(name="New programme")),
        ("GET", f"/funding/programmes/{p.id}", {}),
        ("GET", f"/funding/programmes/{p.id}/edit", {}),
        ("POST", f"/funding/programmes/{p.id}/edit", programme),
        (
            "POST",
            f"/funding/programmes/{p.id}/reports/{r}/sent",
            {"sent_on": world["report"].period_end.isoformat()},
        ),
        ("POST", f"/funding/programmes/{p.id}/reports/{s}/unsent", {}),
        ("GET", "/funding/grants/new", {}),
        ("GET", f"/funding/grants/new?funder={f.id}&programme={p.id}", {}),
        ("POST", "/funding/grants/new", grant_form(f, p, reference="NEW")),
        ("GET", f"/funding/grants/{g.id}/edit", {}),
        ("POST", f"/funding/grants/{g.id}/edit", grant_form(f, p, reference="EDITED")),
    ]


def snapshot(db, world) -> tuple:
    db.expire_all()
    funder = db.get(Funder, world["funder"].id)
    programme = db.get(Programme, world["programme"].id)
    grant = db.get(Grant, world["grant"].id)
    return (
        counts(db),
        db.scalar(select(func.count()).select_from(User)),
        funder.name,
        (programme.name, [pi.indicator_id for pi in programme.indicators]),
        grant.reference,
        db.get(GrantReport, world["report"].id).sent_on,
        db.get(GrantReport, world["sent"].id).sent_on,
        db.get(User, world["contact"].id).is_active,
    )


@pytest.mark.parametrize("trait", ["focal_point", "funder_user"])
def test_others_get_404_on_every_funding_route(db, client, auth, world, mailbox, trait):
    auth.login(UserFactory(**{trait: True}))
    before = snapshot(db, world)
    for method, url, data in every_request(world):
        response = client.open(url, method=method, data=data)
        assert response.status_code == 404, (method, url)
        assert "Page not found" in text(response)
    assert snapshot(db, world) == before
    assert mailbox.messages == []
    assert 'href="/funding/"' not in text(client.get("/"))


def test_the_funders_own_users_get_404_too(db, client, auth, world):
    auth.login(world["contact"])
    before = snapshot(db, world)
    for method, url, data in every_request(world):
        assert client.open(url, method=method, data=data).status_code == 404, (method, url)
    assert snapshot(db, world) == before


def test_anonymous_is_sent_to_sign_in(db, client, world):
    before = snapshot(db, world)
    for method, url, data in every_request(world):
        response = client.open(url, method=method, data=data)
        assert response.status_code == 302, (method, url)
        assert response.location.startswith("/sign-in"), (method, url)
    assert snapshot(db, world) == before


@pytest.mark.parametrize("admin", [False, True])
def test_staff_and_admins_can_make_the_same_requests(db, client, auth, world, mailbox, admin):
    """The requests above are valid: refusing them to the others is about the role."""
    auth.login(UserFactory(admin=admin))
    statuses = [
        (method, url, client.open(url, method=method, data=data).status_code)
        for method, url, data in every_request(world)
    ]
    assert [s for s in statuses if s[0] == "GET" and s[2] != 200] == []
    assert [s for s in statuses if s[0] == "POST" and s[2] != 302] == []
    after = snapshot(db, world)
    assert after[2:] == (
        "Renamed funder",
        ("Renamed programme", [world["indicator"].id]),
        "EDITED",
        world["report"].period_end,
        None,
        False,
    )
    assert db.scalar(select(Funder.id).where(Funder.name == "Newcomer"))
    assert db.scalar(select(Programme.id).where(Programme.name == "New programme"))
    assert db.scalar(select(Grant.id).where(Grant.reference == "NEW"))
    assert [m["To"] for m in mailbox.messages] == ["bea@x.example"]


def test_posts_need_the_csrf_token(db, app, client, staff, world):
    app.config["WTF_CSRF_ENABLED"] = True
    before = snapshot(db, world)
    for method, url, data in every_request(world):
        if method == "POST":
            assert client.post(url, data=data).status_code == 400, url
    assert snapshot(db, world) == before
    page = client.get(f"/funding/programmes/{world['programme'].id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    response = client.post(
        report_url(world["report"]),
        data={"csrf_token": token, "sent_on": world["report"].period_end.isoformat()},
    )
    assert response.status_code == 302
    assert fresh(db, world["report"]).sent_on == world["report"].period_end


# -- a bounded number of queries ------------------------------------------------------------


def statements(count_queries, client, url: str) -> list[str]:
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200, url
    return counter.statements


def owed_report(grant, today, i: int) -> None:
    GrantReportFactory(
        grant=grant,
        period_start=today - timedelta(days=400 + i),
        period_end=today - timedelta(days=30 + i),
        due_on=today + timedelta(days=30 - i),
    )


def populate(page: str, today, funder, programme, n: int) -> None:
    """``n`` more rows of what the page lists: funders and programmes of every coverage
    (overview), grants and contacts (funder), members, indicators and grants (programme)."""
    for i in range(n):
        currency = ["EUR", "USD", "CHF"][i % 3]
        if page == "index":
            other = ProgrammeFactory(
                lead=UserFactory(),
                coverage=[Coverage.ALL, Coverage.GROUP, Coverage.CHOSEN][i % 3],
                group=WorkingGroupFactory() if i % 3 == 1 else None,
            )
            grant = GrantFactory(programme=other, currency=currency)
            GrantFactory(funder=grant.funder, programme=programme, currency=currency)
        elif page == "funder":
            grant = GrantFactory(funder=funder, currency=currency)
            UserFactory(role=Role.FUNDER, funder=funder)
        else:
            ProgrammeMemberFactory(programme=programme)
            ProgrammeIndicatorFactory(programme=programme)
            grant = GrantFactory(programme=programme, currency=currency)
        owed_report(grant, today, i)


@pytest.mark.parametrize("page", ["index", "funder", "programme"])
def test_pages_run_the_same_queries_for_10_and_200_rows(
    db, client, staff, today, count_queries, page
):
    funder = FunderFactory()
    programme = ProgrammeFactory(coverage=Coverage.CHOSEN, lead=UserFactory())
    url = {
        "index": "/funding/",
        "funder": f"/funding/funders/{funder.id}",
        "programme": f"/funding/programmes/{programme.id}",
    }[page]
    populate(page, today, funder, programme, 10)
    small = statements(count_queries, client, url)
    populate(page, today, funder, programme, 190)
    large = statements(count_queries, client, url)
    assert len(small) == len(large), "\n\n".join(large)
    assert len(large) <= 10, "\n\n".join(large)
