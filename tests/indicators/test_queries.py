"""Indicator read models: roll-ups on hand-built data with known results, targets, the member
values table and the list."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from secretariat.indicators import queries
from secretariat.indicators.models import Aggregation, Direction, Level, ValueType
from secretariat.indicators.services import record_network_value, set_target
from secretariat.reporting import services as reporting
from secretariat.reporting.models import CycleIndicator, SubmissionStatus
from secretariat.reporting.services import SubmissionInput, ValueInput
from tests.factories import IndicatorFactory, MemberFactory, ReportingCycleFactory, UserFactory
from tests.indicators.data import later, open_cycle, report, report_many


@pytest.fixture
def staff(db):
    return UserFactory()


def by_period(db, indicator) -> dict[str, tuple[int, Decimal | None]]:
    return queries.aggregates(db, indicator)


# -- aggregations ---------------------------------------------------------------------------


def test_sum(db):
    indicator = IndicatorFactory(aggregation=Aggregation.SUM)
    report_many(db, indicator, [1, 2, 4])
    assert by_period(db, indicator) == {"2025": (3, Decimal("7"))}


def test_sum_of_decimals_and_negatives(db):
    indicator = IndicatorFactory(aggregation=Aggregation.SUM)
    report_many(db, indicator, ["1250.5", "-0.25", "0.000001"])
    assert by_period(db, indicator) == {"2025": (3, Decimal("1250.250001"))}


def test_mean(db):
    indicator = IndicatorFactory(aggregation=Aggregation.MEAN)
    report_many(db, indicator, [1, 2, 4])
    assert by_period(db, indicator) == {"2025": (3, Decimal("2.333333"))}


def test_mean_of_percentages(db):
    indicator = IndicatorFactory(value_type=ValueType.PERCENTAGE, aggregation=Aggregation.MEAN)
    report_many(db, indicator, ["12.5", "50", "100", "0"])
    assert by_period(db, indicator) == {"2025": (4, Decimal("40.625"))}


def test_median_of_an_odd_count(db):
    indicator = IndicatorFactory(aggregation=Aggregation.MEDIAN)
    report_many(db, indicator, [10, 1, 4])
    assert by_period(db, indicator) == {"2025": (3, Decimal("4"))}


def test_median_of_an_even_count_is_the_mean_of_the_middle_two(db):
    indicator = IndicatorFactory(aggregation=Aggregation.MEDIAN)
    report_many(db, indicator, [10, 1, 4, 2])
    assert by_period(db, indicator) == {"2025": (4, Decimal("3"))}


def test_median_of_one_and_of_two_values(db):
    indicator = IndicatorFactory(aggregation=Aggregation.MEDIAN)
    report_many(db, indicator, [7], period="2024")
    report_many(db, indicator, [1, 2], period="2025")
    assert by_period(db, indicator) == {"2024": (1, Decimal("7")), "2025": (2, Decimal("1.5"))}


def test_median_with_equal_values(db):
    indicator = IndicatorFactory(aggregation=Aggregation.MEDIAN)
    report_many(db, indicator, [5, 5, 5, 9, 1])
    assert by_period(db, indicator) == {"2025": (5, Decimal("5"))}


def test_count_of_yes(db):
    indicator = IndicatorFactory(value_type=ValueType.YES_NO, aggregation=Aggregation.COUNT_YES)
    report_many(db, indicator, [True, True, False, True, False])
    assert by_period(db, indicator) == {"2025": (5, Decimal("3"))}


def test_count_of_yes_when_everybody_says_no(db):
    indicator = IndicatorFactory(value_type=ValueType.YES_NO, aggregation=Aggregation.COUNT_YES)
    report_many(db, indicator, [False, False])
    assert by_period(db, indicator) == {"2025": (2, Decimal("0"))}


def test_no_roll_up_still_counts_the_members_reporting(db):
    indicator = IndicatorFactory(
        value_type=ValueType.CHOICE, aggregation=Aggregation.NONE, choices=["A", "B"]
    )
    report_many(db, indicator, ["A", "B", "A"])
    assert by_period(db, indicator) == {"2025": (3, None)}


def test_each_period_is_rolled_up_on_its_own(db):
    indicator = IndicatorFactory(aggregation=Aggregation.SUM)
    members = [MemberFactory() for _i in range(3)]
    report_many(db, indicator, [1, 2, 3], period="2024", members=members)
    report_many(db, indicator, [10, 20], period="2025", members=members[:2])
    report_many(db, indicator, [5], period="2025-H1", members=members[2:])
    assert by_period(db, indicator) == {
        "2024": (3, Decimal("6")),
        "2025": (2, Decimal("30")),
        "2025-H1": (1, Decimal("5")),
    }


def test_other_indicators_do_not_mix_in(db):
    indicator, other = IndicatorFactory(), IndicatorFactory()
    cycle = open_cycle()
    member = MemberFactory()
    report(db, cycle, member, indicator, 3)
    report(db, cycle, member, other, 1000)
    assert by_period(db, indicator) == {"2025": (1, Decimal("3"))}


def test_only_submitted_and_verified_submissions_count(db):
    indicator = IndicatorFactory(aggregation=Aggregation.SUM)
    cycle = open_cycle()
    report(db, cycle, MemberFactory(), indicator, 1, status=SubmissionStatus.SUBMITTED)
    report(db, cycle, MemberFactory(), indicator, 2, status=SubmissionStatus.VERIFIED)
    report(db, cycle, MemberFactory(), indicator, 100, status=SubmissionStatus.DRAFT)
    report(db, cycle, MemberFactory(), indicator, 1000, status=SubmissionStatus.RETURNED)
    assert by_period(db, indicator) == {"2025": (2, Decimal("3"))}


def test_a_period_with_only_drafts_has_no_roll_up(db):
    indicator = IndicatorFactory(aggregation=Aggregation.SUM)
    report(db, open_cycle(), MemberFactory(), indicator, 5, status=SubmissionStatus.DRAFT)
    assert by_period(db, indicator) == {}
    assert queries.rollup(db, indicator) == []


def test_a_member_counts_once_per_period_with_its_latest_value(db):
    indicator = IndicatorFactory(aggregation=Aggregation.SUM)
    twice, once = MemberFactory(), MemberFactory()
    # Two cycles on the same period; the one created first is submitted last.
    correction = open_cycle("2025", name="Annual report 2025, corrections")
    first = open_cycle("2025", name="Annual report 2025")
    # The later submission's row is written first: the time of submission decides, not the row.
    report(db, correction, twice, indicator, 30, submitted_at=later(60))
    report(db, first, twice, indicator, 10, submitted_at=later(0))
    report(db, first, once, indicator, 5, submitted_at=later(5))
    # Another period is counted on its own.
    report(db, open_cycle("2024"), twice, indicator, 1000)
    assert by_period(db, indicator) == {"2025": (2, Decimal("35")), "2024": (1, Decimal("1000"))}


def test_the_latest_submission_wins_even_when_it_is_a_verified_one(db):
    indicator = IndicatorFactory(aggregation=Aggregation.MEAN)
    member = MemberFactory()
    report(
        db,
        open_cycle(),
        member,
        indicator,
        8,
        status=SubmissionStatus.VERIFIED,
        submitted_at=later(90),
    )
    report(db, open_cycle(), member, indicator, 2, submitted_at=later(10))
    # A later draft in a third cycle does not count.
    report(db, open_cycle(), member, indicator, 50, status=SubmissionStatus.DRAFT)
    assert by_period(db, indicator) == {"2025": (1, Decimal("8"))}


def test_an_empty_answer_neither_counts_nor_hides_an_earlier_value(db):
    indicator = IndicatorFactory(aggregation=Aggregation.MEAN)
    member, silent = MemberFactory(), MemberFactory()
    report(db, open_cycle(), member, indicator, 6, submitted_at=later(0))
    # Later, in another cycle on the same period, only a comment (the value left empty).
    report(
        db, open_cycle(), member, indicator, None, comment="Same as before", submitted_at=later(60)
    )
    report(db, open_cycle(), silent, indicator, None, comment="Not measured")
    assert by_period(db, indicator) == {"2025": (1, Decimal("6"))}
    periods, page = queries.member_values(db, indicator, 1, 10)
    assert [row.member.id for row in page.items] == [member.id]


def test_values_submitted_through_the_reporting_services(db, staff):
    indicator = IndicatorFactory(aggregation=Aggregation.MEAN)
    focal_a = UserFactory(focal_point=True)
    focal_b = UserFactory(focal_point=True)
    focal_c = UserFactory(focal_point=True)
    cycle = ReportingCycleFactory(period="2025")
    cycle.indicators = [CycleIndicator(indicator=indicator)]
    reporting.open_cycle(db, staff, cycle)
    now = datetime(2026, 4, 1, 10, 0, tzinfo=UTC)

    def save(focal, raw, submit):
        return reporting.save_submission(
            db,
            focal,
            cycle,
            focal.member,
            SubmissionInput({indicator.id: ValueInput(raw)}),
            submit=submit,
            now=now,
        )

    reporting.verify_submission(db, staff, save(focal_a, "1", submit=True))
    save(focal_b, "1,000", submit=False)  # a draft: not counted
    save(focal_c, "4", submit=True)
    assert by_period(db, indicator) == {"2025": (2, Decimal("2.5"))}


# -- the roll-up against targets ------------------------------------------------------------


def test_rollup_against_network_targets_higher_is_better(db, staff):
    indicator = IndicatorFactory(aggregation=Aggregation.SUM, direction=Direction.HIGHER_IS_BETTER)
    members = [MemberFactory() for _i in range(3)]
    report_many(db, indicator, [1, 2, 4], period="2023", members=members)
    report_many(db, indicator, [3, 4], period="2024", members=members[:2])
    report_many(db, indicator, [5], period="2025", members=members[:1])
    set_target(db, staff, indicator, period="2023", value="7")  # reached exactly
    set_target(db, staff, indicator, period="2024", value="8")  # missed by 1
    set_target(db, staff, indicator, period="2026", value="10")  # nothing reported yet
    # A member's target is not the network's.
    set_target(db, staff, indicator, period="2025", value="1", member_id=members[0].id)
    rows = queries.rollup(db, indicator)
    assert [(r.period, r.reporting, r.value, r.target, r.on_target) for r in rows] == [
        ("2026", 0, None, Decimal("10"), None),
        ("2025", 1, Decimal("5"), None, None),
        ("2024", 2, Decimal("7"), Decimal("8"), False),
        ("2023", 3, Decimal("7"), Decimal("7"), True),
    ]


def test_rollup_against_network_targets_lower_is_better(db, staff):
    indicator = IndicatorFactory(aggregation=Aggregation.MEAN, direction=Direction.LOWER_IS_BETTER)
    report_many(db, indicator, [1, 2, 4], period="2024")
    report_many(db, indicator, [2, 2], period="2025")
    set_target(db, staff, indicator, period="2024", value="2.3")  # 2.333333 is above
    set_target(db, staff, indicator, period="2025", value="2")  # reached exactly
    rows = {r.period: (r.value, r.on_target) for r in queries.rollup(db, indicator)}
    assert rows == {"2024": (Decimal("2.333333"), False), "2025": (Decimal("2"), True)}


def test_rollup_cannot_judge_without_a_direction(db, staff):
    indicator = IndicatorFactory(aggregation=Aggregation.SUM, direction=Direction.NONE)
    report_many(db, indicator, [4])
    set_target(db, staff, indicator, period="2025", value="4")
    (row,) = queries.rollup(db, indicator)
    assert (row.value, row.target, row.on_target) == (Decimal("4"), Decimal("4"), None)


def test_rollup_of_a_count_of_yes_against_its_target(db, staff):
    indicator = IndicatorFactory(
        value_type=ValueType.YES_NO,
        aggregation=Aggregation.COUNT_YES,
        direction=Direction.HIGHER_IS_BETTER,
    )
    report_many(db, indicator, [True, True, False])
    set_target(db, staff, indicator, period="2025", value="3")
    (row,) = queries.rollup(db, indicator)
    assert (row.reporting, row.value, row.target, row.on_target) == (
        3,
        Decimal("2"),
        Decimal("3"),
        False,
    )


def test_rollup_of_a_network_level_indicator_uses_its_recorded_values(db, staff):
    indicator = IndicatorFactory(
        level=Level.NETWORK, aggregation=Aggregation.NONE, direction=Direction.HIGHER_IS_BETTER
    )
    record_network_value(db, staff, indicator, period="2024", value="12")
    record_network_value(db, staff, indicator, period="2025", value="15")
    set_target(db, staff, indicator, period="2025", value="14")
    set_target(db, staff, indicator, period="2024", value="14")
    rows = [(r.period, r.reporting, r.value, r.on_target) for r in queries.rollup(db, indicator)]
    assert rows == [("2025", 0, Decimal("15"), True), ("2024", 0, Decimal("12"), False)]


def test_rollup_of_a_yes_no_network_value(db, staff):
    indicator = IndicatorFactory(
        level=Level.NETWORK, value_type=ValueType.YES_NO, aggregation=Aggregation.NONE
    )
    record_network_value(db, staff, indicator, period="2025", value="yes")
    (row,) = queries.rollup(db, indicator)
    assert (row.value, row.boolean, row.text, row.on_target) == (None, True, None, None)


@pytest.mark.parametrize(
    ("direction", "value", "target", "expected"),
    [
        (Direction.HIGHER_IS_BETTER, "5", "5", True),
        (Direction.HIGHER_IS_BETTER, "5.1", "5", True),
        (Direction.HIGHER_IS_BETTER, "4.9", "5", False),
        (Direction.LOWER_IS_BETTER, "5", "5", True),
        (Direction.LOWER_IS_BETTER, "4.9", "5", True),
        (Direction.LOWER_IS_BETTER, "5.1", "5", False),
        (Direction.NONE, "5", "5", None),
        (Direction.HIGHER_IS_BETTER, None, "5", None),
        (Direction.HIGHER_IS_BETTER, "5", None, None),
    ],
)
def test_meets(db, direction, value, target, expected):
    indicator = IndicatorFactory(direction=direction)
    as_decimal = lambda raw: None if raw is None else Decimal(raw)  # noqa: E731
    assert queries.meets(indicator, as_decimal(value), as_decimal(target)) is expected


# -- the member values table ----------------------------------------------------------------


def test_member_values_pivot_by_period_with_member_targets(db, staff):
    indicator = IndicatorFactory(aggregation=Aggregation.SUM)
    porto = MemberFactory(name="Porto", search_name="porto")
    lisbon = MemberFactory(name="Lisbon", search_name="lisbon")
    braga = MemberFactory(name="Braga", search_name="braga")
    report_many(db, indicator, [10, 20], period="2024", members=[porto, lisbon])
    report_many(db, indicator, [11, 3], period="2025", members=[porto, braga])
    report(db, open_cycle("2025"), lisbon, indicator, 7, status=SubmissionStatus.DRAFT)
    set_target(db, staff, indicator, period="2025", value="9", member_id=porto.id)
    set_target(db, staff, indicator, period="2025", value="100")  # the network's: not shown here

    periods, page = queries.member_values(db, indicator, 1, 10)
    assert periods == ["2024", "2025"]
    assert (page.total, page.page, page.pages) == (3, 1, 1)
    table = {
        row.member.name: ({p: v[0] for p, v in row.values.items()}, row.targets)
        for row in page.items
    }
    assert [row.member.name for row in page.items] == ["Braga", "Lisbon", "Porto"]
    assert table == {
        "Braga": ({"2025": Decimal("3")}, {}),
        "Lisbon": ({"2024": Decimal("20")}, {}),
        "Porto": ({"2024": Decimal("10"), "2025": Decimal("11")}, {"2025": Decimal("9")}),
    }


def test_member_values_keep_the_type_of_each_value(db):
    yes_no = IndicatorFactory(value_type=ValueType.YES_NO, aggregation=Aggregation.COUNT_YES)
    choice = IndicatorFactory(
        value_type=ValueType.CHOICE, aggregation=Aggregation.NONE, choices=["Adopted", "None"]
    )
    member = MemberFactory()
    cycle = open_cycle()
    report(db, cycle, member, yes_no, False)
    report(db, cycle, member, choice, "Adopted")
    (row,) = queries.member_values(db, yes_no, 1, 10)[1].items
    assert row.values == {"2025": (None, False, None)}
    (row,) = queries.member_values(db, choice, 1, 10)[1].items
    assert row.values == {"2025": (None, None, "Adopted")}


def test_member_values_show_the_latest_six_periods(db):
    indicator = IndicatorFactory()
    member = MemberFactory()
    old_only = MemberFactory()
    report(db, open_cycle("2018"), old_only, indicator, 1)
    for year in range(2018, 2026):
        report(db, open_cycle(str(year)), member, indicator, year)
    periods, page = queries.member_values(db, indicator, 1, 10)
    assert periods == ["2020", "2021", "2022", "2023", "2024", "2025"]
    # A member whose values are all older than the periods shown is not listed.
    assert [row.member.id for row in page.items] == [member.id]
    assert set(page.items[0].values) == set(periods)


def test_member_values_are_paginated_by_member_name(db):
    indicator = IndicatorFactory()
    members = [MemberFactory(name=f"City {n:02d}", search_name=f"city {n:02d}") for n in range(25)]
    report_many(db, indicator, list(range(25)), members=list(reversed(members)))
    periods, first = queries.member_values(db, indicator, 1, 10)
    _periods, third = queries.member_values(db, indicator, 3, 10)
    assert (first.total, first.pages, first.has_next, first.has_prev) == (25, 3, True, False)
    assert [row.member.name for row in first.items] == [f"City {n:02d}" for n in range(10)]
    assert [row.member.name for row in third.items] == [f"City {n:02d}" for n in range(20, 25)]
    assert third.items[0].values == {"2025": (Decimal(4), None, None)}
    # Beyond the last page: the last page; below the first: the first.
    _periods, beyond = queries.member_values(db, indicator, 99, 10)
    assert (beyond.page, len(beyond.items)) == (3, 5)
    _periods, below = queries.member_values(db, indicator, 0, 10)
    assert below.page == 1


def test_member_values_without_any_value(db):
    indicator = IndicatorFactory()
    report(db, open_cycle(), MemberFactory(), indicator, 5, status=SubmissionStatus.DRAFT)
    periods, page = queries.member_values(db, indicator, 1, 10)
    assert periods == []
    assert (page.items, page.total, page.page) == ([], 0, 1)


# -- the list and the targets ---------------------------------------------------------------


def test_indicator_list_filters(db):
    IndicatorFactory(code="B-ACTIVE")
    IndicatorFactory(code="A-ACTIVE")
    IndicatorFactory(code="C-RETIRED", is_active=False)

    def codes(**kwargs):
        return [i.code for i in queries.indicator_list(db, **kwargs)]

    assert codes() == ["A-ACTIVE", "B-ACTIVE"]
    assert codes(include_retired=True) == ["A-ACTIVE", "B-ACTIVE", "C-RETIRED"]
    assert codes(retired_only=True) == ["C-RETIRED"]


def test_targets_of_lists_network_targets_first(db, staff):
    indicator = IndicatorFactory()
    other = IndicatorFactory()
    porto = MemberFactory(name="Porto", search_name="porto")
    braga = MemberFactory(name="Braga", search_name="braga")
    set_target(db, staff, indicator, period="2024", value="1", member_id=porto.id)
    set_target(db, staff, indicator, period="2025", value="2", member_id=porto.id)
    set_target(db, staff, indicator, period="2025", value="3", member_id=braga.id)
    set_target(db, staff, indicator, period="2024", value="4")
    set_target(db, staff, indicator, period="2025", value="5")
    set_target(db, staff, other, period="2025", value="6")
    listed = [
        (t.period, t.member.name if t.member else None, t.value)
        for t in queries.targets_of(db, indicator)
    ]
    assert listed == [
        ("2025", None, Decimal("5")),
        ("2024", None, Decimal("4")),
        ("2025", "Braga", Decimal("3")),
        ("2025", "Porto", Decimal("2")),
        ("2024", "Porto", Decimal("1")),
    ]
