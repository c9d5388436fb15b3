"""The arithmetic of a score: points per criterion, the renormalised total, level, outcome.

Pure functions on Decimals, so that the method is exact and reads like the README explains it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from secretariat.participation.models import (
    ConditionResult,
    ConditionsOutcome,
    CriterionKind,
    LeftOut,
    Level,
)

HUNDRED = Decimal(100)
_CENTS = Decimal("0.01")
_MEASURE = Decimal("0.0001")


def two_places(value: Decimal) -> Decimal:
    return value.quantize(_CENTS, rounding=ROUND_HALF_UP)


def share(hits: int, items: int) -> Decimal:
    """``hits`` out of ``items`` as a percentage (``items`` must be positive)."""
    return (Decimal(hits) * HUNDRED / Decimal(items)).quantize(_MEASURE, rounding=ROUND_HALF_UP)


def points(measured: Decimal, floor: Decimal, target: Decimal) -> Decimal:
    """0 at or below the floor, 100 at or above the target, linear in between."""
    if measured <= floor:
        return Decimal(0).quantize(_CENTS)
    if measured >= target:
        return HUNDRED.quantize(_CENTS)
    return two_places((measured - floor) * HUNDRED / (target - floor))


@dataclass(frozen=True)
class Counts:
    """What the evidence of one member and criterion adds up to."""

    items: int = 0
    hits: int = 0
    extra: int = 0
    part: int = 0
    whole: int = 0


@dataclass(frozen=True)
class Measure:
    kind: CriterionKind
    weight: int
    counts: Counts
    measured: Decimal | None
    points: Decimal | None
    left_out: LeftOut | None


#: Why a share criterion is left out when a member has nothing to measure.
_NOTHING_FOR_MEMBER = {
    CriterionKind.ATTENDANCE: LeftOut.NOT_INVITED,
    CriterionKind.REPORTING_ON_TIME: LeftOut.NOT_ASKED,
    CriterionKind.COMPLETENESS: LeftOut.NOT_ASKED,
    CriterionKind.COMMITMENTS: LeftOut.NO_COMMITMENTS,
    CriterionKind.FOLLOW_UPS: LeftOut.NO_FOLLOW_UPS,
}


def measure(
    kind: CriterionKind,
    weight: int,
    floor: Decimal,
    target: Decimal,
    bonus: Decimal | None,
    counts: Counts,
    network_gap: LeftOut | None,
) -> Measure:
    """Measure one criterion for one member; ``network_gap`` says the year had no such data."""
    if network_gap is not None:
        return Measure(kind, weight, counts, None, None, network_gap)
    value: Decimal | None
    if kind is CriterionKind.COMPLETENESS:
        value = share(counts.part, counts.whole) if counts.whole else None
    elif kind is CriterionKind.COMMITMENTS:
        # Half for keeping commitments updated during the year, half for their progress.
        value = (
            ((share(counts.hits, counts.items) + share(counts.extra, counts.items)) / 2).quantize(
                _MEASURE, rounding=ROUND_HALF_UP
            )
            if counts.items
            else None
        )
    elif kind is CriterionKind.WORKING_GROUPS:
        value = Decimal(counts.hits) + (bonus or Decimal(0)) * counts.extra
    elif kind is CriterionKind.EXCHANGES:
        value = Decimal(counts.items)
    else:
        value = share(counts.hits, counts.items) if counts.items else None
    if value is None:
        return Measure(kind, weight, counts, None, None, _NOTHING_FOR_MEMBER[kind])
    return Measure(kind, weight, counts, value, points(value, floor, target), None)


def total(measures: Iterable[Measure]) -> tuple[Decimal | None, int]:
    """The weighted mean of the points of the criteria with data, and the weight it used."""
    weighted = Decimal(0)
    used = 0
    for item in measures:
        if item.points is None or item.weight == 0:
            continue
        weighted += item.points * item.weight
        used += item.weight
    if used == 0:
        return None, 0
    return two_places(weighted / used), used


def level(score: Decimal | None, leading_from: int, active_from: int, engaged_from: int):
    if score is None:
        return None
    if score >= leading_from:
        return Level.LEADING
    if score >= active_from:
        return Level.ACTIVE
    if score >= engaged_from:
        return Level.ENGAGED
    return Level.AT_RISK


def outcome(results: Iterable[ConditionResult]) -> tuple[ConditionsOutcome, int]:
    """Meets when nothing is missed, a warning for one missed condition, not met beyond."""
    missed = sum(1 for result in results if result is ConditionResult.MISSED)
    if missed == 0:
        return ConditionsOutcome.MEETS, 0
    if missed == 1:
        return ConditionsOutcome.WARNING, 1
    return ConditionsOutcome.NOT_MET, missed
