"""The arithmetic of a score: points, shares, measures, the renormalised total, levels and the
conditions outcome (pure functions, no database)."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from secretariat.participation import scoring
from secretariat.participation.models import (
    ConditionResult,
    ConditionsOutcome,
    CriterionKind,
    LeftOut,
    Level,
)
from secretariat.participation.scoring import Counts, Measure

D = Decimal
K = CriterionKind
MET, MISSED, NA = ConditionResult.MET, ConditionResult.MISSED, ConditionResult.NOT_APPLICABLE


# --- points -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("measured", "floor", "target", "expected"),
    [
        ("0", "0", "75", "0.00"),  # at the floor
        ("-5", "0", "75", "0.00"),  # below it
        ("75", "0", "75", "100.00"),  # at the target
        ("250", "0", "75", "100.00"),  # above it
        ("37.5", "0", "75", "50.00"),  # half way: 37.5 * 100 / 75
        ("1", "0", "3", "33.33"),  # 33.333...
        ("2", "0", "3", "66.67"),  # 66.666... rounds up
        ("0.01", "0", "8", "0.13"),  # 0.125: half up, not to even (0.12)
        ("60", "50", "100", "20.00"),  # (60 - 50) * 100 / 50
        ("50", "50", "100", "0.00"),  # a floor above 0 gives nothing at the floor
        ("1.5", "1", "3", "25.00"),  # (1.5 - 1) * 100 / 2
    ],
)
def test_points_are_linear_between_floor_and_target(measured, floor, target, expected):
    result = scoring.points(D(measured), D(floor), D(target))

    assert result == D(expected)
    assert result.as_tuple().exponent == -2  # always two decimal places


def test_points_stay_within_0_and_100_and_never_fall_as_the_measure_rises():
    """A property check over many random rules and measures (seeded, so reproducible)."""
    rng = random.Random(2025)
    for _ in range(300):
        floor = D(rng.randint(0, 10_000)) / 100
        target = floor + D(rng.randint(1, 10_000)) / 100
        measured = sorted(D(rng.randint(-1_000, 25_000)) / 100 for _ in range(25))
        results = [scoring.points(m, floor, target) for m in measured]
        assert all(D(0) <= r <= D(100) for r in results), (floor, target, results)
        assert results == sorted(results), (floor, target, measured, results)
        assert all(r.as_tuple().exponent == -2 for r in results)
        assert scoring.points(floor, floor, target) == 0
        assert scoring.points(target, floor, target) == 100


# --- share --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hits", "items", "expected"),
    [
        (0, 5, "0.0000"),
        (3, 4, "75.0000"),
        (1, 3, "33.3333"),
        (2, 3, "66.6667"),  # 66.66666... rounded half up to four places
        (7, 7, "100.0000"),
        (1, 8, "12.5000"),
    ],
)
def test_share_is_a_percentage_to_four_places(hits, items, expected):
    assert scoring.share(hits, items) == D(expected)


# --- measure ------------------------------------------------------------------------------


def measure(kind, counts, *, floor="0", target="100", bonus=None, gap=None, weight=10):
    return scoring.measure(
        kind, weight, D(floor), D(target), None if bonus is None else D(bonus), counts, gap
    )


def test_a_network_gap_leaves_the_criterion_out_whatever_the_counts():
    result = measure(K.ATTENDANCE, Counts(items=4, hits=4), target="75", gap=LeftOut.NO_EVENTS)

    assert result == Measure(K.ATTENDANCE, 10, Counts(4, 4), None, None, LeftOut.NO_EVENTS)


@pytest.mark.parametrize(
    ("kind", "left_out"),
    [
        (K.ATTENDANCE, LeftOut.NOT_INVITED),
        (K.REPORTING_ON_TIME, LeftOut.NOT_ASKED),
        (K.COMPLETENESS, LeftOut.NOT_ASKED),
        (K.COMMITMENTS, LeftOut.NO_COMMITMENTS),
        (K.FOLLOW_UPS, LeftOut.NO_FOLLOW_UPS),
    ],
)
def test_a_share_criterion_with_nothing_to_measure_is_left_out(kind, left_out):
    result = measure(kind, Counts())

    assert (result.measured, result.points, result.left_out) == (None, None, left_out)


@pytest.mark.parametrize("kind", [K.WORKING_GROUPS, K.EXCHANGES])
def test_a_count_criterion_with_nothing_counts_as_zero(kind):
    """No group or exchange is 0 (and 0 points), not "left out": the network had some."""
    result = measure(kind, Counts(), target="2", bonus="1")

    assert (result.measured, result.points, result.left_out) == (D(0), D(0), None)


def test_attendance_is_the_share_attended():
    # 3 of 4 events: 75 %, which is the default target: 100 points.
    assert measure(K.ATTENDANCE, Counts(items=4, hits=3), target="75").points == D(100)
    # 1 of 2: 50 % -> 50 * 100 / 75 = 66.666... -> 66.67.
    result = measure(K.ATTENDANCE, Counts(items=2, hits=1), target="75")
    assert (result.measured, result.points) == (D(50), D("66.67"))


def test_completeness_uses_indicators_answered_out_of_requested():
    # 2 cycles (items), 1 on time (hits): completeness ignores both and uses 3 of 4 indicators.
    result = measure(K.COMPLETENESS, Counts(items=2, hits=1, extra=2, part=3, whole=4))
    assert (result.measured, result.points) == (D(75), D(75))
    # Asked in a cycle that requests nothing: nothing to measure.
    assert measure(K.COMPLETENESS, Counts(items=1, whole=0)).left_out is LeftOut.NOT_ASKED


@pytest.mark.parametrize(
    ("items", "updated", "progressing", "expected"),
    [
        (4, 1, 2, "37.5"),  # (25 + 50) / 2
        (3, 1, 1, "33.3333"),  # (33.3333 + 33.3333) / 2
        (3, 1, 2, "50"),  # (33.3333 + 66.6667) / 2
        (2, 2, 2, "100"),
        (2, 0, 0, "0"),
    ],
)
def test_commitments_average_the_share_updated_and_the_share_progressing(
    items, updated, progressing, expected
):
    result = measure(K.COMMITMENTS, Counts(items=items, hits=updated, extra=progressing))

    assert result.measured == D(expected)
    assert result.points == scoring.two_places(D(expected))


@pytest.mark.parametrize(
    ("groups", "leads", "bonus", "measured", "points"),
    [
        (1, 1, "1", "2", "100.00"),  # 1 group + 1 lead bonus reaches the target of 2
        (1, 0, "1", "1", "50.00"),
        (2, 2, "1", "4", "100.00"),  # capped at 100
        (1, 1, None, "1", "50.00"),  # no bonus configured
        (1, 1, "0.5", "1.5", "75.00"),
        (0, 0, "1", "0", "0.00"),  # observer only: listed, not counted
    ],
)
def test_working_groups_count_groups_plus_the_lead_bonus(groups, leads, bonus, measured, points):
    counts = Counts(items=groups + 1, hits=groups, extra=leads)  # + an observer row

    result = measure(K.WORKING_GROUPS, counts, target="2", bonus=bonus)

    assert (result.measured, result.points) == (D(measured), D(points))


def test_exchanges_count_every_item():
    # 3 exchanges (given or received) of a target of 4: 75 points.
    result = measure(K.EXCHANGES, Counts(items=3, hits=3, extra=1), target="4")

    assert (result.measured, result.points) == (D(3), D(75))


def test_reporting_and_follow_ups_are_the_share_of_hits():
    assert measure(K.REPORTING_ON_TIME, Counts(items=2, hits=1)).points == D(50)
    # 1 of 3 follow-ups closed on time: 33.3333 % -> 33.33 points.
    assert measure(K.FOLLOW_UPS, Counts(items=3, hits=1)).points == D("33.33")


# --- total --------------------------------------------------------------------------------


def line(kind, weight, points):
    value = None if points is None else D(points)
    left_out = LeftOut.NOT_INVITED if points is None else None
    return Measure(kind, weight, Counts(), value, value, left_out)


def test_total_is_renormalised_over_the_criteria_with_data():
    measures = [
        line(K.ATTENDANCE, 25, "100"),
        line(K.REPORTING_ON_TIME, 20, "50"),
        line(K.COMPLETENESS, 10, None),  # left out: its weight is shared by the others
    ]

    # (100 * 25 + 50 * 20) / (25 + 20) = 3500 / 45 = 77.777... -> 77.78
    assert scoring.total(measures) == (D("77.78"), 45)


def test_total_over_every_criterion_of_the_default_method():
    measures = [
        line(K.ATTENDANCE, 25, "100"),
        line(K.REPORTING_ON_TIME, 20, "50"),
        line(K.COMPLETENESS, 10, "75"),
        line(K.COMMITMENTS, 15, "50"),
        line(K.WORKING_GROUPS, 10, "100"),
        line(K.EXCHANGES, 10, "50"),
        line(K.FOLLOW_UPS, 10, "33.33"),
    ]

    # (2500 + 1000 + 750 + 750 + 1000 + 500 + 333.3) / 100 = 68.333 -> 68.33
    assert scoring.total(measures) == (D("68.33"), 100)


def test_total_rounds_half_up_and_skips_weight_zero():
    measures = [
        line(K.ATTENDANCE, 1, "33.33"),
        line(K.EXCHANGES, 1, "33.34"),
        line(K.FOLLOW_UPS, 0, "100"),  # weight 0: not part of the method
    ]

    # (33.33 + 33.34) / 2 = 33.335 -> 33.34 (half up)
    assert scoring.total(measures) == (D("33.34"), 2)


def test_total_is_none_when_no_criterion_has_data():
    assert scoring.total([line(K.ATTENDANCE, 25, None), line(K.EXCHANGES, 10, None)]) == (
        None,
        0,
    )
    assert scoring.total([]) == (None, 0)


# --- level and outcome --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        ("100", Level.LEADING),
        ("80", Level.LEADING),  # exactly the threshold
        ("79.99", Level.ACTIVE),
        ("60", Level.ACTIVE),
        ("59.99", Level.ENGAGED),
        ("40.00", Level.ENGAGED),
        ("39.99", Level.AT_RISK),
        ("0", Level.AT_RISK),
    ],
)
def test_level_boundaries(score, expected):
    assert scoring.level(D(score), 80, 60, 40) is expected


def test_level_follows_the_year_thresholds_and_none_without_a_score():
    assert scoring.level(D("85"), 90, 70, 50) is Level.ACTIVE
    assert scoring.level(D("50"), 90, 70, 50) is Level.ENGAGED
    assert scoring.level(None, 80, 60, 40) is None


@pytest.mark.parametrize(
    ("results", "expected"),
    [
        ([], (ConditionsOutcome.MEETS, 0)),
        ([MET, MET, NA, MET], (ConditionsOutcome.MEETS, 0)),
        ([NA, NA], (ConditionsOutcome.MEETS, 0)),
        ([MET, MISSED, NA, MET], (ConditionsOutcome.WARNING, 1)),
        ([MISSED, MISSED, MET, NA], (ConditionsOutcome.NOT_MET, 2)),
        ([MISSED, MISSED, MISSED, MISSED], (ConditionsOutcome.NOT_MET, 4)),
    ],
)
def test_outcome_counts_missed_conditions(results, expected):
    assert scoring.outcome(results) == expected
    assert scoring.outcome(iter(results)) == expected  # any iterable, read once
