"""The read models of the funding pages: what they load, and that the database does the sums."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from secretariat.accounts.models import Role
from secretariat.funding import queries, services
from secretariat.funding.models import Coverage
from secretariat.members.models import MemberStatus
from tests.factories import (
    FunderFactory,
    GroupMembershipFactory,
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


def test_funder_rows_count_programmes_and_sum_grants_per_currency(db, count_queries):
    blue = FunderFactory(name="Blue Horizon")
    FunderFactory(name="Acme Trust")
    first, second = ProgrammeFactory(), ProgrammeFactory()
    GrantFactory(funder=blue, programme=first, amount=Decimal("1000.50"), currency="EUR")
    GrantFactory(funder=blue, programme=first, amount=Decimal("2000.25"), currency="EUR")
    GrantFactory(funder=blue, programme=second, amount=Decimal("300.00"), currency="USD")
    with count_queries() as counter:
        rows = queries.funder_rows(db)
        seen = [
            (r.funder.name, r.programmes, [(t.currency, t.amount, t.grants) for t in r.totals])
            for r in rows
        ]
    assert seen == [
        ("Acme Trust", 0, []),
        (
            "Blue Horizon",
            2,
            [("EUR", Decimal("3000.75"), 2), ("USD", Decimal("300.00"), 1)],
        ),
    ]
    assert isinstance(rows[1].totals[0].amount, Decimal)
    assert counter.count == 2


def test_programme_rows_count_covered_members_as_the_service_does(db, count_queries):
    active = [MemberFactory() for _n in range(3)]
    lapsed = MemberFactory(status=MemberStatus.LAPSED)
    group = WorkingGroupFactory(name="Clean air")
    GroupMembershipFactory(group=group, member=active[0])
    GroupMembershipFactory(group=group, member=lapsed)
    GroupMembershipFactory(group=group, member=active[1], left_on=date(2024, 1, 1))
    lead = UserFactory(name="Lena Lead", role=Role.STAFF)
    everyone = ProgrammeFactory(name="Everyone", starts_on=date(2025, 1, 1), lead=lead)
    grouped = ProgrammeFactory(
        name="Grouped", starts_on=date(2026, 1, 1), coverage=Coverage.GROUP, group=group
    )
    chosen = ProgrammeFactory(name="Chosen", starts_on=date(2024, 1, 1), coverage=Coverage.CHOSEN)
    ProgrammeMemberFactory(programme=chosen, member=active[2])
    ProgrammeMemberFactory(programme=chosen, member=lapsed)
    empty = ProgrammeFactory(
        name="Nobody yet", starts_on=date(2023, 1, 1), coverage=Coverage.CHOSEN
    )
    GrantFactory(programme=grouped, funder=FunderFactory(name="Zeta"))
    GrantFactory(programme=grouped, funder=FunderFactory(name="Alpha"))
    alpha_again = GrantFactory(programme=everyone, funder=FunderFactory(name="Beta"))
    GrantFactory(programme=everyone, funder=alpha_again.funder)
    with count_queries() as counter:
        rows = queries.programme_rows(db)
        seen = [
            (
                r.programme.name,
                r.covered,
                r.programme.lead and r.programme.lead.name,
                r.programme.group and r.programme.group.name,
                [f.name for f in r.funders],
            )
            for r in rows
        ]
    assert seen == [
        ("Grouped", 2, None, "Clean air", ["Alpha", "Zeta"]),
        ("Everyone", 3, "Lena Lead", None, ["Beta"]),
        ("Chosen", 2, None, None, []),
        ("Nobody yet", 0, None, None, []),
    ]
    assert counter.count == 2
    for row in rows:
        assert row.covered == len(services.covered_member_ids(db, row.programme))
    assert empty in [r.programme for r in rows]


def test_reports_due_are_the_unsent_ones_by_due_day(db, count_queries):
    grant = GrantFactory()
    later = GrantReportFactory(grant=grant, period_end=date(2026, 12, 31), due_on=date(2027, 3, 1))
    sooner = GrantReportFactory(grant=grant, period_end=date(2025, 12, 31), due_on=date(2026, 3, 1))
    GrantReportFactory(
        grant=grant,
        period_start=date(2024, 1, 1),
        period_end=date(2024, 12, 31),
        due_on=date(2025, 3, 1),
        sent_on=date(2025, 2, 1),
    )
    with count_queries() as counter:
        page = queries.reports_due(db, page=1, per_page=25)
        seen = [(r.due_on, r.grant.funder.name, r.grant.programme.name) for r in page.items]
    assert [r.id for r in page.items] == [sooner.id, later.id]
    assert seen[0] == (date(2026, 3, 1), grant.funder.name, grant.programme.name)
    assert page.total == 2
    assert counter.count == 2
    second = queries.reports_due(db, page=2, per_page=1)
    assert [r.id for r in second.items] == [later.id]
    assert queries.reports_due(db, page=9, per_page=1).page == 2


def test_funder_grants_give_the_next_report_not_sent(db, count_queries):
    funder = FunderFactory()
    old = GrantFactory(funder=funder, starts_on=date(2024, 1, 1), ends_on=date(2024, 12, 31))
    GrantReportFactory(
        grant=old,
        period_start=date(2024, 1, 1),
        period_end=date(2024, 12, 31),
        due_on=date(2025, 3, 1),
        sent_on=date(2025, 1, 10),
    )
    current = GrantFactory(funder=funder, starts_on=date(2025, 1, 1))
    GrantReportFactory(grant=current, period_end=date(2025, 12, 31), due_on=date(2026, 3, 1))
    GrantReportFactory(
        grant=current,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
        due_on=date(2027, 3, 1),
    )
    GrantFactory()
    with count_queries() as counter:
        rows = queries.funder_grants(db, funder.id)
        seen = [(r.grant.id, r.grant.programme.name, r.next_due) for r in rows]
    assert seen == [
        (current.id, current.programme.name, date(2026, 3, 1)),
        (old.id, old.programme.name, None),
    ]
    assert counter.count == 1


def test_funder_contacts_are_its_users_active_first(db):
    funder = FunderFactory()
    gone = UserFactory(role=Role.FUNDER, funder=funder, name="Aaron", is_active=False)
    bea = UserFactory(role=Role.FUNDER, funder=funder, name="Bea")
    UserFactory(funder_user=True, name="Elsewhere")
    UserFactory(name="Staff")
    assert queries.funder_contacts(db, funder.id) == [bea, gone]


def test_programme_detail_loads_what_the_page_shows(db, count_queries):
    programme = ProgrammeFactory(
        lead=UserFactory(), coverage=Coverage.GROUP, group=WorkingGroupFactory()
    )
    for _n in range(3):
        ProgrammeIndicatorFactory(programme=programme)
        GrantFactory(programme=programme)
    programme_id = programme.id
    db.expire_all()
    with count_queries() as counter:
        found = queries.programme_detail(db, programme_id)
        assert found.lead.name and found.group.name
        assert [pi.indicator.code for pi in found.indicators]
        assert [g.funder.name for g in found.grants]
    assert counter.count == 3, "\n\n".join(counter.statements)
    assert queries.programme_detail(db, 999999) is None


def test_programme_reports_are_those_of_its_grants(db):
    programme = ProgrammeFactory()
    mine = GrantReportFactory(grant=GrantFactory(programme=programme))
    GrantReportFactory()
    assert queries.programme_reports(db, programme.id) == [mine]


def test_covered_members_are_paged_by_name(db, count_queries):
    members = [MemberFactory(name=f"City {n:02d}", search_name=f"city {n:02d}") for n in range(30)]
    programme = ProgrammeFactory(coverage=Coverage.CHOSEN)
    for member in reversed(members[:27]):
        ProgrammeMemberFactory(programme=programme, member=member)
    with count_queries() as counter:
        first = queries.covered_members(db, programme, page=1, per_page=25)
    assert counter.count == 2
    assert (first.total, first.pages) == (27, 2)
    assert [m.name for m in first.items] == [f"City {n:02d}" for n in range(25)]
    last = queries.covered_members(db, programme, page=5, per_page=25)
    assert (last.page, [m.name for m in last.items]) == (2, ["City 25", "City 26"])
    everyone = ProgrammeFactory()
    assert queries.covered_members(db, everyone, per_page=100).total == 30


def test_nothing_to_show(db, count_queries):
    with count_queries() as counter:
        assert queries.funder_rows(db) == []
        assert queries.programme_rows(db) == []
        assert queries.reports_due(db).items == []
    # No sums or funders are asked for when there is nothing to add them to.
    assert counter.count == 4
