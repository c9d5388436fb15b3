"""Reporting read models on hand-built data with known results."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from secretariat.indicators.models import ValueType
from secretariat.reporting import queries
from secretariat.reporting.models import CycleState, SubmissionStatus
from tests.factories import ContactFactory, IndicatorFactory, MemberFactory, TermFactory
from tests.reporting.conftest import days, hand_submission, past_cycle, today


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture
def regions(db):
    # Regions are shown in their configured order, not alphabetically.
    return {
        "south": TermFactory(label="South", position=1),
        "north": TermFactory(label="North", position=2),
    }


@pytest.fixture
def five(db, regions):
    """Five members asked: 3 reported (2 on time, one of them verified; 1 late and returned),
    one draft, one with nothing at all. Also another cycle, to show it is left out."""
    indicator = IndicatorFactory()
    north, south = regions["north"], regions["south"]
    members = {
        "aarhus": MemberFactory(name="Aarhus", region=north),
        "bilbao": MemberFactory(name="Bilbao", region=north),
        "cork": MemberFactory(name="Cork", region=north),
        "dublin": MemberFactory(name="Dublin", region=south),
        "evora": MemberFactory(name="Évora", region=None),
    }
    cycle = past_cycle(
        db,
        [indicator],
        members.values(),
        period="2025",
        state=CycleState.OPEN,
        opens_on=date(2026, 3, 1),
        due_on=date(2026, 5, 31),
    )
    hand_submission(db, cycle, members["aarhus"], {indicator: 1}, submitted_at=at(date(2026, 5, 2)))
    hand_submission(
        db,
        cycle,
        members["bilbao"],
        {indicator: 2},
        status=SubmissionStatus.VERIFIED,
        submitted_at=at(date(2026, 4, 2)),
    )
    hand_submission(
        db,
        cycle,
        members["cork"],
        {indicator: 3},
        status=SubmissionStatus.RETURNED,
        submitted_at=at(date(2026, 6, 2)),
        is_late=True,
    )
    hand_submission(db, cycle, members["dublin"], {indicator: 4}, status=SubmissionStatus.DRAFT)
    other = past_cycle(db, [indicator], [members["evora"]], period="2024")
    hand_submission(db, other, members["evora"], {indicator: 9})
    return cycle, members


# -- rates ----------------------------------------------------------------------------------------


def test_cycle_rates(db, five):
    cycle, _members = five
    rates = queries.cycle_rates(db, cycle.id)
    assert rates == queries.Rates(
        asked=5, reported=3, on_time=2, verified=1, to_verify=1, returned=1, drafts=1
    )
    assert rates.reporting_rate == pytest.approx(0.6)
    assert rates.on_time_rate == pytest.approx(0.4)


def test_rates_of_a_cycle_nobody_was_asked_in(db):
    cycle = past_cycle(db, [IndicatorFactory()], state=CycleState.DRAFT)
    rates = queries.cycle_rates(db, cycle.id)
    assert (rates.asked, rates.reported, rates.on_time) == (0, 0, 0)
    assert rates.reporting_rate is None
    assert rates.on_time_rate is None


def test_cycle_list(db, five, count_queries):
    cycle, members = five
    indicator = cycle.indicators[0].indicator
    older = past_cycle(db, [indicator], [members["aarhus"], members["bilbao"]], period="2023")
    hand_submission(db, older, members["aarhus"], {indicator: 1}, is_late=True)
    draft = past_cycle(db, [indicator], period="2026", state=CycleState.DRAFT)
    with count_queries() as counter:
        rows = queries.cycle_list(db)
    assert counter.count == 2
    by_cycle = {row.cycle.id: row.rates for row in rows}
    # Newest period first; the 2024 cycle from the fixture sits between.
    assert [row.cycle.period for row in rows] == ["2026", "2025", "2024", "2023"]
    assert by_cycle[draft.id] == queries.Rates(0, 0, 0)
    assert by_cycle[cycle.id] == queries.cycle_rates(db, cycle.id)
    assert (by_cycle[older.id].asked, by_cycle[older.id].reported) == (2, 1)
    assert by_cycle[older.id].on_time == 0
    assert by_cycle[older.id].reporting_rate == pytest.approx(0.5)
    assert by_cycle[older.id].on_time_rate == 0


def test_rates_by_region(db, five):
    cycle, _members = five
    rows = queries.rates_by_region(db, cycle.id)
    assert [(r.region, r.rates.asked, r.rates.reported, r.rates.on_time) for r in rows] == [
        ("South", 1, 0, 0),
        ("North", 3, 3, 2),
        (None, 1, 0, 0),
    ]
    north = rows[1].rates
    assert north.reporting_rate == pytest.approx(1.0)
    assert north.on_time_rate == pytest.approx(2 / 3)
    assert (north.verified, north.to_verify, north.returned) == (1, 1, 1)
    assert rows[0].rates.drafts == 1


# -- who has not reported -------------------------------------------------------------------------


def test_not_submitted_lists_none_drafts_and_returned(db, five):
    cycle, members = five
    ContactFactory(member=members["cork"], name="Cora", email="cora@cork.example", is_primary=True)
    # Dublin's primary contact left yesterday (still flagged): ignored, as is a current
    # contact who is not the primary one.
    ContactFactory(
        member=members["dublin"],
        name="Gone",
        email="gone@dublin.example",
        is_primary=True,
        active_to=days(-1),
    )
    ContactFactory(member=members["dublin"], email="deputy@dublin.example", is_primary=False)
    # Aarhus reported: its contact is not listed.
    ContactFactory(member=members["aarhus"], email="a@aarhus.example", is_primary=True)
    page = queries.not_submitted(db, cycle.id, today(), page=1, per_page=10)
    assert page.total == 3
    assert [
        (m.member.name, m.status, m.focal_point_name, m.focal_point_email) for m in page.items
    ] == [
        ("Cork", SubmissionStatus.RETURNED, "Cora", "cora@cork.example"),
        ("Dublin", SubmissionStatus.DRAFT, None, None),
        ("Évora", None, None, None),
    ]
    assert page.items[0].submission_id is not None
    assert page.items[2].submission_id is None


def test_a_primary_contact_ending_today_is_still_current(db, five):
    cycle, members = five
    ContactFactory(
        member=members["evora"], email="last-day@evora.example", is_primary=True, active_to=today()
    )
    page = queries.not_submitted(db, cycle.id, today(), page=1, per_page=10)
    assert page.items[-1].focal_point_email == "last-day@evora.example"
    assert queries.missing_emails(db, cycle.id, today()) == ["last-day@evora.example"]
    # Judged on another day, the contact has ended.
    tomorrow = today() + timedelta(days=1)
    assert queries.missing_emails(db, cycle.id, tomorrow) == []


def test_not_submitted_pages(db):
    indicator = IndicatorFactory()
    members = [MemberFactory(name=f"City {n:02d}") for n in range(25)]
    cycle = past_cycle(db, [indicator], members, state=CycleState.OPEN)
    for member in members:
        ContactFactory(member=member, email=f"{member.slug}@example.org", is_primary=True)
    hand_submission(db, cycle, members[0], {indicator: 1})
    first = queries.not_submitted(db, cycle.id, today(), page=1, per_page=10)
    assert (first.total, first.pages, len(first.items)) == (24, 3, 10)
    assert [m.member.name for m in first.items][:2] == ["City 01", "City 02"]
    last = queries.not_submitted(db, cycle.id, today(), page=3, per_page=10)
    assert [m.member.name for m in last.items] == [f"City {n}" for n in range(21, 25)]
    beyond = queries.not_submitted(db, cycle.id, today(), page=99, per_page=10)
    assert beyond.page == 3
    assert [m.member.id for m in beyond.items] == [m.member.id for m in last.items]
    seen = {
        m.member.id
        for p in (1, 2, 3)
        for m in queries.not_submitted(db, cycle.id, today(), page=p, per_page=10).items
    }
    assert seen == {m.id for m in members[1:]}


def test_not_submitted_of_a_cycle_where_everyone_reported(db):
    indicator = IndicatorFactory()
    member = MemberFactory()
    cycle = past_cycle(db, [indicator], [member], state=CycleState.OPEN)
    hand_submission(db, cycle, member, {indicator: 1}, status=SubmissionStatus.VERIFIED)
    page = queries.not_submitted(db, cycle.id, today(), page=1, per_page=10)
    assert (page.total, page.items, page.page) == (0, [], 1)
    assert queries.missing_emails(db, cycle.id, today()) == []


def test_missing_emails(db, five):
    cycle, members = five
    ContactFactory(member=members["cork"], email="shared@example.org", is_primary=True)
    ContactFactory(member=members["dublin"], email="shared@example.org", is_primary=True)
    ContactFactory(member=members["dublin"], email="not-primary@example.org")
    ContactFactory(member=members["evora"], email=None, is_primary=True)
    ContactFactory(member=members["bilbao"], email="reported@example.org", is_primary=True)
    ContactFactory(member=MemberFactory(), email="not-asked@example.org", is_primary=True)
    assert queries.missing_emails(db, cycle.id, today()) == ["shared@example.org"]
    ContactFactory(
        member=members["evora"], email="ended@example.org", is_primary=False, active_to=days(-3)
    )
    assert queries.missing_emails(db, cycle.id, today()) == ["shared@example.org"]


# -- review queue, member view --------------------------------------------------------------------


def test_submissions_with_status(db, five):
    cycle, members = five
    indicator = cycle.indicators[0].indicator
    extra = MemberFactory(name="Zagreb")
    hand_submission(db, cycle, extra, {indicator: 5}, submitted_at=at(date(2026, 4, 1)))
    page = queries.submissions_with_status(db, cycle.id, SubmissionStatus.SUBMITTED, 1, 10)
    # Oldest submission first.
    assert [s.member.name for s in page.items] == ["Zagreb", "Aarhus"]
    assert page.total == 2
    first = queries.submissions_with_status(db, cycle.id, SubmissionStatus.SUBMITTED, 1, 1)
    second = queries.submissions_with_status(db, cycle.id, SubmissionStatus.SUBMITTED, 2, 1)
    assert [s.member.name for s in first.items + second.items] == ["Zagreb", "Aarhus"]
    drafts = queries.submissions_with_status(db, cycle.id, SubmissionStatus.DRAFT, 1, 10)
    assert [s.member.name for s in drafts.items] == ["Dublin"]
    verified = queries.submissions_with_status(db, cycle.id, SubmissionStatus.VERIFIED, 1, 10)
    assert [s.member.name for s in verified.items] == ["Bilbao"]


def test_member_cycles(db):
    indicator = IndicatorFactory()
    member, other = MemberFactory(), MemberFactory()
    closed = past_cycle(db, [indicator], [member], period="2024", due_on=date(2025, 5, 31))
    reported = hand_submission(db, closed, member, {indicator: 1})
    current = past_cycle(
        db,
        [indicator],
        [member],
        period="2025",
        state=CycleState.OPEN,
        opens_on=date(2026, 3, 1),
        due_on=date(2026, 5, 31),
    )
    past_cycle(db, [indicator], [member], period="2026", state=CycleState.DRAFT)
    past_cycle(db, [indicator], [other], period="2025", state=CycleState.OPEN)
    rows = queries.member_cycles(db, member.id)
    assert [(r.cycle.id, r.submission) for r in rows] == [(current.id, None), (closed.id, reported)]
    assert [r.cycle.id for r in queries.member_cycles(db, member.id, open_only=True)] == [
        current.id
    ]
    assert queries.member_cycles(db, MemberFactory().id) == []


def test_cycle_and_submission_details_load_what_pages_show(db, five, count_queries):
    cycle, members = five
    db.expunge_all()
    loaded = queries.cycle_detail(db, cycle.id)
    with count_queries() as counter:
        codes = [ci.indicator.code for ci in loaded.indicators]
        assert loaded.group is None
    assert counter.count == 0
    assert len(codes) == 1
    assert queries.cycle_detail(db, cycle.id + 1000) is None

    submission_id = (
        queries.submissions_with_status(db, cycle.id, SubmissionStatus.RETURNED, 1, 10).items[0].id
    )
    db.expunge_all()
    detail = queries.submission_detail(db, submission_id)
    with count_queries() as counter:
        assert detail.member.name == "Cork"
        assert [ci.indicator.code for ci in detail.cycle.indicators] == codes
        assert [v.number_value for v in detail.values] == [Decimal(3)]
        assert list(detail.history) == []
        assert detail.submitted_by is None
    assert counter.count == 0


# -- export ---------------------------------------------------------------------------------------


def test_export_rows_in_long_format(db, regions):
    number = IndicatorFactory(code="GHG", name="Emissions", unit="t CO2e")
    plan = IndicatorFactory(code="PLAN", name="Plan", unit=None, value_type=ValueType.YES_NO)
    stage = IndicatorFactory(
        code="STAGE", name="Stage", unit=None, value_type=ValueType.CHOICE, choices=["A", "B"]
    )
    note = IndicatorFactory(code="NOTE", name="Note", unit=None, value_type=ValueType.TEXT)
    bilbao = MemberFactory(name="Bilbao", country="ES", region=regions["south"])
    aarhus = MemberFactory(name="Aarhus", country="DK", region=None)
    cork = MemberFactory(name="Cork", country="IE", region=regions["north"])
    # The form's order (positions), not the order of creation.
    cycle = past_cycle(db, [number, plan, stage, note], period="2025", state=CycleState.OPEN)
    moment = datetime(2026, 5, 2, 8, 30, 15, tzinfo=UTC)
    hand_submission(
        db,
        cycle,
        bilbao,
        {number: Decimal("12.5"), plan: True, stage: "B", note: "Council vote"},
        submitted_at=moment,
        comments={number: "From the inventory"},
    )
    hand_submission(
        db,
        cycle,
        aarhus,
        {number: Decimal("1000"), plan: False, stage: None},
        status=SubmissionStatus.VERIFIED,
        submitted_at=moment,
        is_late=True,
        comments={stage: "Not decided yet"},
    )
    hand_submission(db, cycle, cork, {note: "Work in progress"}, status=SubmissionStatus.DRAFT)
    other = past_cycle(db, [number], period="2024")
    hand_submission(db, other, bilbao, {number: 77})

    rows = list(queries.export_rows(db, cycle))
    assert all(len(row) == len(queries.EXPORT_HEADERS) for row in rows)
    assert [(row[0], row[3], row[7]) for row in rows] == [
        ("Aarhus", "GHG", Decimal("1000")),
        ("Aarhus", "PLAN", "no"),
        ("Bilbao", "GHG", Decimal("12.5")),
        ("Bilbao", "PLAN", "yes"),
        ("Bilbao", "STAGE", "B"),
        ("Bilbao", "NOTE", "Council vote"),
        ("Cork", "NOTE", "Work in progress"),
    ]
    assert rows[2] == [
        "Bilbao",
        "ES",
        "South",
        "GHG",
        "Emissions",
        "t CO2e",
        "2025",
        Decimal("12.5"),
        "From the inventory",
        "submitted",
        "2026-05-02T08:30:15+00:00",
        "no",
    ]
    assert rows[0][2] is None
    assert (rows[0][9], rows[0][11]) == ("verified", "yes")
    # A number is written without the stored trailing zeros.
    assert [str(row[7]) for row in rows[:3]] == ["1000", "no", "12.5"]
    assert rows[-1][9:] == ["draft", "", ""]
