"""Funders, programmes and grants: validation, coverage and the grants' reporting dates."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask_babel import format_date
from sqlalchemy import select

from secretariat.accounts.models import Role, User
from secretariat.clock import network_today
from secretariat.funding import services
from secretariat.funding.models import (
    Coverage,
    Frequency,
    FunderKind,
    GrantReport,
    ProgrammeMember,
)
from secretariat.members.models import MemberStatus
from secretariat.permissions import OutOfScope
from tests.factories import (
    FunderFactory,
    GroupMembershipFactory,
    IndicatorFactory,
    MemberFactory,
    UserFactory,
    WorkingGroupFactory,
)


@pytest.fixture
def staff(db):
    return UserFactory(role=Role.STAFF)


def programme_data(**changes) -> services.ProgrammeData:
    values = {
        "name": "Clean air for cities",
        "starts_on": date(2026, 1, 1),
        "ends_on": date(2028, 12, 31),
        "coverage": Coverage.ALL,
    }
    values.update(changes)
    return services.ProgrammeData(**values)


def grant_data(funder, programme, **changes) -> services.GrantData:
    values = {
        "funder_id": funder.id,
        "programme_id": programme.id,
        "amount": "250000.00",
        "currency": "eur",
        "starts_on": date(2026, 3, 1),
        "ends_on": date(2028, 2, 29),
        "frequency": Frequency.ANNUAL,
    }
    values.update(changes)
    return services.GrantData(**values)


def test_a_funder_is_validated_then_created_with_a_unique_slug(db, staff):
    with pytest.raises(services.FundingError) as refused:
        services.create_funder(
            db,
            staff,
            services.FunderData(name=" ", kind="bank", country="XX", website="ftp://x"),
        )
    assert set(refused.value.errors) == {"name", "kind", "country", "website"}
    first = services.create_funder(
        db,
        staff,
        services.FunderData(
            name="Blue  Horizon Foundation",
            kind=FunderKind.PHILANTHROPY,
            country="ch",
            website="https://bluehorizon.example",
        ),
    )
    second = services.create_funder(db, staff, services.FunderData(name="Blue Horizon Foundation"))
    assert (first.name, first.slug, first.country) == (
        "Blue Horizon Foundation",
        "blue-horizon-foundation",
        "CH",
    )
    assert second.slug == "blue-horizon-foundation-2"
    assert second.kind is FunderKind.OTHER


def test_only_staff_manage_funding(db):
    focal = UserFactory(focal_point=True)
    with pytest.raises(OutOfScope):
        services.create_funder(db, focal, services.FunderData(name="X"))


def test_programme_validation_names_every_problem(db, staff):
    indicator = IndicatorFactory()
    data = programme_data(
        name="",
        starts_on=date(2027, 1, 1),
        ends_on=date(2026, 1, 1),
        coverage=Coverage.CHOSEN,
        member_ids=[],
        lead_id=UserFactory(focal_point=True).id,
        indicators=[(indicator.id, "lots"), (indicator.id, "3")],
    )
    with pytest.raises(services.FundingError) as refused:
        services.create_programme(db, staff, data)
    assert set(refused.value.errors) == {"name", "ends_on", "member_ids", "lead_id", "indicators"}
    with pytest.raises(services.FundingError) as refused:
        services.create_programme(db, staff, programme_data(coverage=Coverage.GROUP))
    assert "group_id" in refused.value.errors


def test_programme_coverage_all_group_and_chosen(db, staff):
    active, lapsed = MemberFactory(), MemberFactory(status=MemberStatus.LAPSED)
    group = WorkingGroupFactory()
    GroupMembershipFactory(group=group, member=active)
    GroupMembershipFactory(group=group, member=lapsed, left_on=date(2025, 1, 1))
    everyone = services.create_programme(db, staff, programme_data())
    assert services.covered_member_ids(db, everyone) == [active.id]
    grouped = services.create_programme(
        db, staff, programme_data(name="Group", coverage=Coverage.GROUP, group_id=group.id)
    )
    assert services.covered_member_ids(db, grouped) == [active.id]
    chosen = services.create_programme(
        db,
        staff,
        programme_data(name="Chosen", coverage=Coverage.CHOSEN, member_ids=[lapsed.id, lapsed.id]),
    )
    assert services.covered_member_ids(db, chosen) == [lapsed.id]
    # Moving to "all" forgets the chosen members.
    services.update_programme(db, staff, chosen, programme_data(name="Chosen"))
    assert db.scalars(select(ProgrammeMember)).all() == []


def test_programme_indicators_keep_order_and_targets(db, staff):
    first, second = IndicatorFactory(), IndicatorFactory()
    programme = services.create_programme(
        db,
        staff,
        programme_data(indicators=[(second.id, "1,250.5"), (first.id, "")], lead_id=staff.id),
    )
    assert [(pi.indicator_id, pi.target) for pi in programme.indicators] == [
        (second.id, Decimal("1250.5")),
        (first.id, None),
    ]
    assert programme.lead_id == staff.id
    services.update_programme(db, staff, programme, programme_data(indicators=[(first.id, "7")]))
    assert [(pi.indicator_id, pi.target) for pi in programme.indicators] == [
        (first.id, Decimal("7"))
    ]


@pytest.mark.parametrize(
    ("frequency", "start", "end", "expected"),
    [
        (
            Frequency.ANNUAL,
            date(2026, 3, 1),
            date(2028, 2, 29),
            [
                (date(2026, 3, 1), date(2027, 2, 28), date(2027, 4, 29)),
                (date(2027, 3, 1), date(2028, 2, 29), date(2028, 4, 29)),
            ],
        ),
        (
            Frequency.SEMI_ANNUAL,
            date(2026, 8, 31),
            date(2027, 9, 15),
            [
                (date(2026, 8, 31), date(2027, 2, 27), date(2027, 4, 28)),
                (date(2027, 2, 28), date(2027, 8, 30), date(2027, 10, 29)),
                (date(2027, 8, 31), date(2027, 9, 15), date(2027, 11, 14)),
            ],
        ),
        (
            Frequency.ANNUAL,
            date(2026, 1, 1),
            date(2026, 1, 1),
            [(date(2026, 1, 1), date(2026, 1, 1), date(2026, 3, 2))],
        ),
    ],
)
def test_report_schedule(frequency, start, end, expected):
    assert services.report_schedule(start, end, frequency) == expected


def test_a_grant_owes_its_reports_and_keeps_the_sent_ones_when_its_dates_change(db, staff):
    funder = services.create_funder(db, staff, services.FunderData(name="Blue Horizon"))
    programme = services.create_programme(db, staff, programme_data())
    grant = services.create_grant(db, staff, grant_data(funder, programme))
    assert (grant.amount, grant.currency) == (Decimal("250000.00"), "EUR")
    assert [r.period_end for r in grant.reports] == [date(2027, 2, 28), date(2028, 2, 29)]
    grant.reports[0].sent_on = date(2027, 4, 1)
    db.flush()
    services.update_grant(
        db,
        staff,
        grant,
        grant_data(funder, programme, frequency=Frequency.SEMI_ANNUAL, ends_on=date(2028, 8, 31)),
    )
    db.expire_all()
    ends = [
        (r.period_end, r.sent_on)
        for r in db.scalars(
            select(GrantReport)
            .where(GrantReport.grant_id == grant.id)
            .order_by(GrantReport.period_end)
        )
    ]
    assert ends == [
        (date(2026, 8, 31), None),
        (date(2027, 2, 28), date(2027, 4, 1)),
        (date(2027, 8, 31), None),
        (date(2028, 2, 29), None),
        (date(2028, 8, 31), None),
    ]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", "abc"),
        ("amount", "0"),
        ("amount", "-5"),
        ("amount", "10.123"),
        ("amount", "1e20"),
        ("amount", ""),
        ("currency", "EURO"),
        ("currency", "XYZ"),
        ("ends_on", date(2020, 1, 1)),
        ("frequency", "monthly"),
        ("funder_id", 999999),
        ("programme_id", None),
    ],
)
def test_grant_validation(db, staff, field, value):
    funder = services.create_funder(db, staff, services.FunderData(name="Blue Horizon"))
    programme = services.create_programme(db, staff, programme_data())
    with pytest.raises(services.FundingError) as refused:
        services.create_grant(db, staff, grant_data(funder, programme, **{field: value}))
    assert field in refused.value.errors
    assert funder.grants == []


def test_a_programme_can_have_several_funders(db, staff):
    programme = services.create_programme(db, staff, programme_data())
    for name, currency in (("Blue Horizon", "EUR"), ("City Fund", "USD")):
        funder = services.create_funder(db, staff, services.FunderData(name=name))
        services.create_grant(db, staff, grant_data(funder, programme, currency=currency))
    db.refresh(programme)
    assert sorted((g.funder.name, g.currency) for g in programme.grants) == [
        ("Blue Horizon", "EUR"),
        ("City Fund", "USD"),
    ]


# -- grant reports --------------------------------------------------------------------------


@pytest.fixture
def owed(db):
    """A report whose period ended a month ago, due in a month."""
    from tests.funding.factories import GrantReportFactory

    today = network_today()
    return GrantReportFactory(
        period_start=today - timedelta(days=395),
        period_end=today - timedelta(days=30),
        due_on=today + timedelta(days=30),
    )


def test_a_report_is_marked_sent_and_unsent(db, staff, owed):
    today = network_today()
    services.mark_report_sent(db, staff, owed, owed.period_end)
    assert owed.sent_on == owed.period_end
    with pytest.raises(services.FundingError) as refused:
        services.mark_report_sent(db, staff, owed, today)
    assert refused.value.errors == {
        "sent_on": f"This report is already marked as sent on {format_date(owed.period_end)}."
    }
    assert owed.sent_on == owed.period_end
    services.mark_report_unsent(db, staff, owed)
    assert owed.sent_on is None
    with pytest.raises(services.FundingError) as refused:
        services.mark_report_unsent(db, staff, owed)
    assert refused.value.errors == {"sent_on": "This report is not marked as sent."}
    services.mark_report_sent(db, staff, owed, today)
    db.expire_all()
    assert db.get(GrantReport, owed.id).sent_on == today


@pytest.mark.parametrize(
    ("days", "message"),
    [
        (None, "Enter the day the report was sent."),
        (1, "The day the report was sent cannot be in the future."),
        (-31, "A report cannot be sent before the end of the period it covers (%s)."),
    ],
)
def test_a_report_cannot_be_sent_in_the_future_or_before_its_period_ends(
    db, staff, owed, days, message
):
    sent_on = None if days is None else network_today() + timedelta(days=days)
    with pytest.raises(services.FundingError) as refused:
        services.mark_report_sent(db, staff, owed, sent_on)
    if "%s" in message:
        message %= format_date(owed.period_end)
    assert refused.value.errors == {"sent_on": message}
    db.expire_all()
    assert db.get(GrantReport, owed.id).sent_on is None


def test_only_staff_mark_reports(db, owed):
    for user in (UserFactory(focal_point=True), UserFactory(funder_user=True)):
        with pytest.raises(OutOfScope):
            services.mark_report_sent(db, user, owed, network_today())
        with pytest.raises(OutOfScope):
            services.mark_report_unsent(db, user, owed)
    assert owed.sent_on is None


# -- funder contacts ------------------------------------------------------------------------


def test_inviting_a_funder_contact_creates_the_user_and_mails_the_invitation(db, staff, mailbox):
    funder = FunderFactory(name="Blue Horizon")
    user = services.invite_funder_contact(
        db, staff, funder, "  Maya   Chen ", " Maya.Chen@BlueHorizon.example "
    )
    assert (user.name, user.email, user.role, user.funder_id, user.is_active) == (
        "Maya Chen",
        "maya.chen@bluehorizon.example",
        Role.FUNDER,
        funder.id,
        True,
    )
    assert user.password_hash is None
    [message] = mailbox.to("maya.chen@bluehorizon.example")
    assert message["Subject"].startswith("You are invited to")
    assert mailbox.last_link("maya.chen@bluehorizon.example", "/invitation")


@pytest.mark.parametrize(
    ("name", "email", "errors"),
    [
        (
            "",
            "",
            {"name": "Enter the person's name.", "email": "Enter the person's e-mail address."},
        ),
        ("Maya", "maya-at-example", {"email": "“maya-at-example” is not an e-mail address."}),
        ("x" * 256, "maya@example.org", {"name": "Use at most 255 characters."}),
        ("Maya", "TAKEN@example.org", {"email": "A user with this e-mail address already exists."}),
    ],
)
def test_a_funder_contact_is_validated_first(db, staff, mailbox, name, email, errors):
    UserFactory(email="taken@example.org")
    funder = FunderFactory()
    with pytest.raises(services.FundingError) as refused:
        services.invite_funder_contact(db, staff, funder, name, email)
    assert refused.value.errors == errors
    assert db.scalars(select(User).where(User.funder_id == funder.id)).all() == []
    assert mailbox.messages == []


def test_deactivating_reaches_only_the_funders_own_users(db, staff):
    funder = FunderFactory()
    contact = UserFactory(role=Role.FUNDER, funder=funder)
    elsewhere = UserFactory(funder_user=True)
    colleague = UserFactory()
    for user in (elsewhere, colleague):
        with pytest.raises(OutOfScope):
            services.deactivate_funder_contact(db, staff, funder, user)
        assert user.is_active
    token = contact.session_token
    services.deactivate_funder_contact(db, staff, funder, contact)
    assert not contact.is_active
    assert contact.session_token != token
    with pytest.raises(services.FundingError) as refused:
        services.deactivate_funder_contact(db, staff, funder, contact)
    assert refused.value.errors == {"user": f"{contact.name} is already deactivated."}
    with pytest.raises(OutOfScope):
        services.deactivate_funder_contact(db, UserFactory(focal_point=True), funder, contact)


def test_covered_member_select_is_what_covered_member_ids_reads(db, staff):
    members = [MemberFactory() for _n in range(3)]
    programme = services.create_programme(
        db,
        staff,
        programme_data(coverage=Coverage.CHOSEN, member_ids=[m.id for m in members[:2]]),
    )
    ids = sorted(db.scalars(services.covered_member_select(programme)))
    assert ids == services.covered_member_ids(db, programme) == sorted(m.id for m in members[:2])
