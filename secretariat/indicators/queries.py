"""Read models for indicator pages: the list, the network roll-up per period, member values.

Each member counts once per period: with its latest reported value (submitted or verified)
of that period. Roll-ups are computed in SQL, the median with window functions so that it runs
the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session, contains_eager

from secretariat.indicators.models import (
    Aggregation,
    Direction,
    Indicator,
    Level,
    NetworkValue,
    Target,
)
from secretariat.members.models import Member
from secretariat.pagination import Page, clamp
from secretariat.reporting.models import ReportingCycle, Submission, SubmissionValue
from secretariat.reporting.services import REPORTED

#: Aggregates are shown with at most this many decimals.
PRECISION = Decimal("0.000001")
#: Periods shown side by side in the member values table.
PERIOD_COLUMNS = 6


def indicator_list(
    session: Session, *, include_retired: bool = False, retired_only: bool = False
) -> list[Indicator]:
    """The indicators by code: the active ones, every one, or only the retired ones."""
    stmt = select(Indicator).order_by(Indicator.code)
    if retired_only:
        stmt = stmt.where(Indicator.is_active.is_(False))
    elif not include_retired:
        stmt = stmt.where(Indicator.is_active.is_(True))
    return list(session.scalars(stmt))


def _latest_values(indicator_id: int):  # type: ignore[no-untyped-def]
    """Each member's latest reported value of the indicator per period, as a subquery.

    An answer left empty (a row kept only for its comment or evidence) is no value: it neither
    counts as reporting nor hides the member's value from another cycle of the same period.
    Of several cycles on one period, the submission made last wins.
    """
    ranked = (
        select(
            ReportingCycle.period.label("period"),
            Submission.member_id.label("member_id"),
            SubmissionValue.number_value.label("number"),
            SubmissionValue.bool_value.label("boolean"),
            SubmissionValue.text_value.label("text"),
            func.row_number()
            .over(
                partition_by=(Submission.member_id, ReportingCycle.period),
                order_by=(Submission.submitted_at.desc().nulls_last(), SubmissionValue.id.desc()),
            )
            .label("rank"),
        )
        .join(Submission, Submission.id == SubmissionValue.submission_id)
        .join(ReportingCycle, ReportingCycle.id == Submission.cycle_id)
        .where(
            SubmissionValue.indicator_id == indicator_id,
            Submission.status.in_(REPORTED),
            or_(
                SubmissionValue.number_value.is_not(None),
                SubmissionValue.bool_value.is_not(None),
                SubmissionValue.text_value.is_not(None),
            ),
        )
        .subquery()
    )
    return (
        select(
            ranked.c.period, ranked.c.member_id, ranked.c.number, ranked.c.boolean, ranked.c.text
        )
        .where(ranked.c.rank == 1)
        .subquery()
    )


@dataclass
class PeriodRollup:
    period: str
    #: Members with a value in the period.
    reporting: int
    #: The network aggregate (or the network's own value for a network-level indicator).
    value: Decimal | None
    boolean: bool | None = None
    text: str | None = None
    target: Decimal | None = None
    #: Whether the value reaches the target in the indicator's direction; None: can't say.
    on_target: bool | None = None


def _decimal(value: object) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(PRECISION).normalize()


def aggregates(session: Session, indicator: Indicator) -> dict[str, tuple[int, Decimal | None]]:
    """Per period: how many members reported, and the network aggregate of their values."""
    values = _latest_values(indicator.id)
    aggregation = indicator.aggregation
    if aggregation is Aggregation.SUM:
        measure = func.sum(values.c.number)
    elif aggregation is Aggregation.MEAN:
        measure = func.avg(values.c.number)
    elif aggregation is Aggregation.COUNT_YES:
        measure = func.count(case((values.c.boolean.is_(True), 1)))
    else:
        measure = None
    columns = [values.c.period, func.count(values.c.member_id).label("reporting")]
    if measure is not None:
        columns.append(measure.label("value"))
    rows = session.execute(select(*columns).group_by(values.c.period)).all()
    result = {
        row.period: (row.reporting, _decimal(row.value) if measure is not None else None)
        for row in rows
    }
    if aggregation is Aggregation.MEDIAN:
        for period, median in _medians(session, values).items():
            result[period] = (result[period][0], median)
    return result


def _medians(session: Session, values) -> dict[str, Decimal | None]:  # type: ignore[no-untyped-def]
    ranked = (
        select(
            values.c.period,
            values.c.number,
            func.row_number()
            .over(partition_by=values.c.period, order_by=values.c.number)
            .label("position"),
            func.count().over(partition_by=values.c.period).label("size"),
        )
        .where(values.c.number.is_not(None))
        .subquery()
    )
    # The middle value, or the mean of the two middle values for an even count.
    middle = (ranked.c.position * 2 >= ranked.c.size) & (ranked.c.position * 2 <= ranked.c.size + 2)
    rows = session.execute(
        select(ranked.c.period, func.avg(ranked.c.number)).where(middle).group_by(ranked.c.period)
    ).all()
    return {period: _decimal(median) for period, median in rows}


def meets(indicator: Indicator, value: Decimal | None, target: Decimal | None) -> bool | None:
    """Whether a value reaches a target in the indicator's direction; None when it can't say."""
    if value is None or target is None:
        return None
    if indicator.direction is Direction.HIGHER_IS_BETTER:
        return value >= target
    if indicator.direction is Direction.LOWER_IS_BETTER:
        return value <= target
    return None


def rollup(session: Session, indicator: Indicator) -> list[PeriodRollup]:
    """The network's figure per period, newest first, beside its network target."""
    targets = {
        t.period: t.value
        for t in session.scalars(
            select(Target).where(Target.indicator_id == indicator.id, Target.member_id.is_(None))
        )
    }
    rows: dict[str, PeriodRollup] = {}
    if indicator.level is Level.NETWORK:
        for nv in session.scalars(
            select(NetworkValue).where(NetworkValue.indicator_id == indicator.id)
        ):
            rows[nv.period] = PeriodRollup(
                nv.period, 0, nv.number_value, nv.bool_value, nv.text_value
            )
    else:
        for period, (reporting, value) in aggregates(session, indicator).items():
            rows[period] = PeriodRollup(period, reporting, value)
    for period, target in targets.items():
        rows.setdefault(period, PeriodRollup(period, 0, None)).target = target
    for row in rows.values():
        row.target = targets.get(row.period)
        row.on_target = meets(indicator, row.value, row.target)
    return sorted(rows.values(), key=lambda r: r.period, reverse=True)


@dataclass
class MemberValues:
    member: Member
    #: Shown values by period.
    values: dict[str, tuple[Decimal | None, bool | None, str | None]]
    targets: dict[str, Decimal]


def member_values(
    session: Session, indicator: Indicator, page: int, per_page: int
) -> tuple[list[str], Page]:
    """The latest periods, and a page of members with their value in each (four queries)."""
    values = _latest_values(indicator.id)
    periods = list(
        session.scalars(
            select(values.c.period)
            .distinct()
            .order_by(values.c.period.desc())
            .limit(PERIOD_COLUMNS)
        )
    )
    periods.reverse()
    if not periods:
        return [], Page([], 0, 1, per_page)
    in_view = select(values.c.member_id).where(values.c.period.in_(periods)).distinct()
    total = session.scalar(select(func.count()).select_from(in_view.subquery())) or 0
    page = clamp(page, total, per_page)
    members = list(
        session.scalars(
            select(Member)
            .where(Member.id.in_(in_view))
            .order_by(Member.search_name, Member.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    ids = [m.id for m in members]
    by_member: dict[int, dict[str, tuple[Decimal | None, bool | None, str | None]]] = defaultdict(
        dict
    )
    for row in session.execute(
        select(values).where(values.c.member_id.in_(ids), values.c.period.in_(periods))
    ):
        by_member[row.member_id][row.period] = (row.number, row.boolean, row.text)
    targets: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for target in session.scalars(
        select(Target).where(Target.indicator_id == indicator.id, Target.member_id.in_(ids))
    ):
        targets[target.member_id][target.period] = target.value  # type: ignore[index]
    items = [MemberValues(m, by_member[m.id], targets[m.id]) for m in members]
    return periods, Page(items, total, page, per_page)


def targets_of(session: Session, indicator: Indicator) -> list[Target]:
    """Every target of the indicator, network ones first, then by period and member."""
    return list(
        session.scalars(
            select(Target)
            .where(Target.indicator_id == indicator.id)
            .outerjoin(Member, Member.id == Target.member_id)
            .options(contains_eager(Target.member))
            .order_by(Target.member_id.is_not(None), Target.period.desc(), Member.search_name)
        )
    )
