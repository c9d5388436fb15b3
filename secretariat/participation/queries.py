"""Read models of participation pages: the years, a year's overview, the list of scores,
regional recognition, members at risk and one member's scorecard. Aggregates run in SQL."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from sqlalchemy import Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from secretariat.members.models import Contact, Member
from secretariat.members.services import fold
from secretariat.pagination import Page, clamp
from secretariat.participation.models import (
    ConditionsOutcome,
    CriterionKind,
    Level,
    ParticipationScore,
    ScoreCondition,
    ScoreCriterion,
    ScoreEvidence,
    ScoringScheme,
)
from secretariat.participation.services import LEADERSHIP_MONTHS, SCORE_DROP
from secretariat.vocabularies.models import Term

#: Levels from the highest down; "not scored" (None) comes last wherever levels are listed.
LEVELS = (Level.LEADING, Level.ACTIVE, Level.ENGAGED, Level.AT_RISK)
_LEVEL_RANK = {level: rank for rank, level in enumerate(reversed(LEVELS), start=1)}
#: Order of conditions outcomes in ties: members meeting the conditions first.
_OUTCOME_ORDER = case(
    (ParticipationScore.conditions_outcome == ConditionsOutcome.MEETS, 0),
    (ParticipationScore.conditions_outcome == ConditionsOutcome.WARNING, 1),
    else_=2,
)


_HALF_CENT = Decimal("0.005")
_NOT_MET = ParticipationScore.conditions_outcome == ConditionsOutcome.NOT_MET


def previous_scheme(session: Session, scheme: ScoringScheme) -> ScoringScheme | None:
    return session.scalar(select(ScoringScheme).where(ScoringScheme.year == scheme.year - 1))


# --- Years --------------------------------------------------------------------------------


@dataclass
class YearRow:
    scheme: ScoringScheme
    members: int
    average: Decimal | None
    at_risk: int
    not_meeting: int


def year_list(session: Session) -> list[YearRow]:
    """Every year with a scheme, newest first, with its headline figures."""
    return year_list_query(session)


def year_list_query(session: Session, limit: int | None = None) -> list[YearRow]:
    figures = (
        select(
            ParticipationScore.scheme_id,
            func.count(ParticipationScore.id).label("members"),
            func.avg(ParticipationScore.total).label("average"),
            func.sum(case((ParticipationScore.level == Level.AT_RISK, 1), else_=0)).label(
                "at_risk"
            ),
            func.sum(
                case(
                    (ParticipationScore.conditions_outcome == ConditionsOutcome.NOT_MET, 1), else_=0
                )
            ).label("not_meeting"),
        )
        .group_by(ParticipationScore.scheme_id)
        .subquery()
    )
    query = (
        select(ScoringScheme, figures)
        .outerjoin(figures, figures.c.scheme_id == ScoringScheme.id)
        .order_by(ScoringScheme.year.desc())
    )
    rows = session.execute(query.limit(limit) if limit else query).all()
    return [
        YearRow(
            scheme=row.ScoringScheme,
            members=row.members or 0,
            average=_two(row.average),
            at_risk=row.at_risk or 0,
            not_meeting=row.not_meeting or 0,
        )
        for row in rows
    ]


def _two(value) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.01"))


# --- Overview -----------------------------------------------------------------------------


@dataclass
class Distribution:
    """Members per level (None: not scored) and the average total."""

    counts: dict[Level | None, int] = field(default_factory=dict)
    average: Decimal | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def share(self, level: Level | None) -> float:
        return self.counts.get(level, 0) / self.total if self.total else 0.0


@dataclass
class RegionRow:
    region: str | None
    distribution: Distribution


@dataclass
class Movement:
    compared: int = 0
    up: int = 0
    down: int = 0
    same: int = 0
    average_change: Decimal | None = None


@dataclass
class CriterionSummary:
    kind: CriterionKind
    weight: int
    average_points: Decimal | None
    measured_members: int
    left_out_members: int


@dataclass
class Overview:
    distribution: Distribution
    previous: Distribution | None
    regions: list[RegionRow]
    outcomes: dict[ConditionsOutcome, int]
    movement: Movement | None
    criteria: list[CriterionSummary]


def _distribution(session: Session, scheme_id: int) -> Distribution:
    rows = session.execute(
        select(
            ParticipationScore.level,
            func.count(ParticipationScore.id),
            func.sum(ParticipationScore.total),
            func.count(ParticipationScore.total),
        )
        .where(ParticipationScore.scheme_id == scheme_id)
        .group_by(ParticipationScore.level)
    ).all()
    result = Distribution()
    sums = Decimal(0)
    scored = 0
    for level, count, summed, with_total in rows:
        result.counts[level] = count
        if summed is not None:
            sums += Decimal(str(summed))
            scored += with_total
    result.average = (sums / scored).quantize(Decimal("0.01")) if scored else None
    return result


def overview(session: Session, scheme: ScoringScheme) -> Overview:
    """The year at a glance: levels, regions, conditions, change from last year, criteria."""
    previous = previous_scheme(session, scheme)
    distribution = _distribution(session, scheme.id)

    region_rows = session.execute(
        select(
            Term.label,
            Term.position,
            ParticipationScore.level,
            func.count(ParticipationScore.id),
            func.avg(ParticipationScore.total),
        )
        .outerjoin(Term, Term.id == ParticipationScore.region_id)
        .where(ParticipationScore.scheme_id == scheme.id)
        .group_by(Term.id, Term.label, Term.position, ParticipationScore.level)
    ).all()
    by_region: dict[tuple, Distribution] = defaultdict(Distribution)
    sums: dict[tuple, list] = defaultdict(lambda: [Decimal(0), 0])
    for label, position, level, count, average in region_rows:
        key = (label is None, position or 0, label)
        by_region[key].counts[level] = count
        if average is not None:
            sums[key][0] += Decimal(str(average)) * count
            sums[key][1] += count
    regions = []
    for key in sorted(by_region, key=lambda k: (k[0], k[1], k[2] or "")):
        summed, count = sums[key]
        by_region[key].average = (summed / count).quantize(Decimal("0.01")) if count else None
        regions.append(RegionRow(key[2], by_region[key]))

    outcomes = dict(
        session.execute(
            select(ParticipationScore.conditions_outcome, func.count(ParticipationScore.id))
            .where(ParticipationScore.scheme_id == scheme.id)
            .group_by(ParticipationScore.conditions_outcome)
        ).all()
    )

    movement = None
    previous_distribution = None
    if previous is not None:
        previous_distribution = _distribution(session, previous.id)
        movement = _movement(session, scheme.id, previous.id)

    criteria_rows = session.execute(
        select(
            ScoreCriterion.kind,
            func.max(ScoreCriterion.weight),
            func.avg(ScoreCriterion.points),
            func.count(ScoreCriterion.points),
            func.sum(case((ScoreCriterion.left_out.is_not(None), 1), else_=0)),
        )
        .where(ScoreCriterion.scheme_id == scheme.id)
        .group_by(ScoreCriterion.kind)
    ).all()
    found = {row[0]: row for row in criteria_rows}
    criteria = [
        CriterionSummary(
            kind=criterion.kind,
            weight=criterion.weight,
            average_points=_two(found[criterion.kind][2]) if criterion.kind in found else None,
            measured_members=found[criterion.kind][3] if criterion.kind in found else 0,
            left_out_members=int(found[criterion.kind][4] or 0) if criterion.kind in found else 0,
        )
        for criterion in scheme.criteria
        if criterion.weight > 0
    ]
    return Overview(distribution, previous_distribution, regions, outcomes, movement, criteria)


def _level_rank(column):
    return case(*((column == level, rank) for level, rank in _LEVEL_RANK.items()), else_=0)


def _movement(session: Session, scheme_id: int, previous_id: int) -> Movement:
    now = aliased(ParticipationScore)
    before = aliased(ParticipationScore)
    change = _level_rank(now.level) - _level_rank(before.level)
    row = session.execute(
        select(
            func.count(now.id),
            func.sum(case((change > 0, 1), else_=0)),
            func.sum(case((change < 0, 1), else_=0)),
            func.avg(now.total - before.total),
        )
        .join(before, and_(before.member_id == now.member_id, before.scheme_id == previous_id))
        .where(now.scheme_id == scheme_id, now.total.is_not(None), before.total.is_not(None))
    ).one()
    compared = row[0] or 0
    up, down = int(row[1] or 0), int(row[2] or 0)
    return Movement(compared, up, down, compared - up - down, _two(row[3]))


# --- The list of scores -------------------------------------------------------------------


@dataclass
class ScoreRow:
    member_id: int
    name: str
    slug: str
    region: str | None
    total: Decimal | None
    level: Level | None
    outcome: ConditionsOutcome
    previous_total: Decimal | None

    @property
    def change(self) -> Decimal | None:
        if self.total is None or self.previous_total is None:
            return None
        return self.total - self.previous_total


@dataclass
class ScoreFilters:
    level: str = ""
    region_id: int | None = None
    outcome: str = ""
    query: str = ""
    #: "total" (highest first), "name", or "change" (largest drop first).
    order: str = "total"


def _scores_base(scheme: ScoringScheme, previous: ScoringScheme | None) -> tuple[Select, object]:
    before = aliased(ParticipationScore)
    query = (
        select(
            ParticipationScore.member_id,
            Member.name,
            Member.slug,
            Term.label.label("region"),
            ParticipationScore.total,
            ParticipationScore.level,
            ParticipationScore.conditions_outcome,
            before.total.label("previous_total"),
        )
        .join(Member, Member.id == ParticipationScore.member_id)
        .outerjoin(Term, Term.id == ParticipationScore.region_id)
        .outerjoin(
            before,
            and_(
                before.member_id == ParticipationScore.member_id,
                before.scheme_id == (previous.id if previous else -1),
            ),
        )
        .where(ParticipationScore.scheme_id == scheme.id)
    )
    return query, before


def score_page(
    session: Session, scheme: ScoringScheme, filters: ScoreFilters, page: int, per_page: int
) -> Page:
    previous = previous_scheme(session, scheme)
    query, before = _scores_base(scheme, previous)
    if filters.level == "none":
        query = query.where(ParticipationScore.level.is_(None))
    elif filters.level in {level.value for level in Level}:
        query = query.where(ParticipationScore.level == Level(filters.level))
    if filters.region_id is not None:
        query = query.where(ParticipationScore.region_id == filters.region_id)
    if filters.outcome in {outcome.value for outcome in ConditionsOutcome}:
        query = query.where(
            ParticipationScore.conditions_outcome == ConditionsOutcome(filters.outcome)
        )
    if filters.query:
        query = query.where(Member.search_name.contains(fold(filters.query), autoescape=True))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = clamp(page, total, per_page)
    if filters.order == "name":
        query = query.order_by(Member.search_name, Member.id)
    elif filters.order == "change":
        change = ParticipationScore.total - before.total  # type: ignore[attr-defined]
        query = query.order_by(change.is_(None), change, Member.search_name, Member.id)
    else:
        query = query.order_by(
            ParticipationScore.total.is_(None),
            ParticipationScore.total.desc(),
            Member.search_name,
            Member.id,
        )
    rows = session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    return Page([ScoreRow(*row) for row in rows], total, page, per_page)


def export_rows(session: Session, scheme: ScoringScheme) -> tuple[list[str], list[list]]:
    """Every member's score and breakdown, one row per member, for CSV and XLSX."""
    previous = previous_scheme(session, scheme)
    query, _before = _scores_base(scheme, previous)
    rows = session.execute(query.order_by(Member.search_name, Member.id)).all()
    kinds = [criterion.kind for criterion in scheme.criteria if criterion.weight > 0]
    points = defaultdict(dict)
    for member_id, kind, value in session.execute(
        select(ScoreCriterion.member_id, ScoreCriterion.kind, ScoreCriterion.points).where(
            ScoreCriterion.scheme_id == scheme.id
        )
    ):
        points[member_id][kind] = value
    headers = [
        "year",
        "member",
        "region",
        "total",
        "level",
        "conditions",
        "previous_total",
        *[f"points_{kind.value}" for kind in kinds],
    ]
    data = [
        [
            scheme.year,
            row.name,
            row.region or "",
            row.total,
            row.level.value if row.level else "",
            row.conditions_outcome.value,
            row.previous_total,
            *[points[row.member_id].get(kind) for kind in kinds],
        ]
        for row in rows
    ]
    return headers, data


# --- Recognition --------------------------------------------------------------------------


@dataclass
class Recognised:
    rank: int
    member_id: int
    name: str
    total: Decimal
    level: Level | None


@dataclass
class RegionRecognition:
    region: str | None
    members: list[Recognised]


def recognition(session: Session, scheme: ScoringScheme) -> list[RegionRecognition]:
    """The most active members of each region, best first.

    Only scored members that do not fail the conditions are eligible. Ties are broken, in
    order, by: meeting every condition before a warning; the larger share of the method that
    had data (more evidence); the member's name.
    """
    rank = (
        func.row_number()
        .over(
            partition_by=ParticipationScore.region_id,
            order_by=(
                ParticipationScore.total.desc(),
                _OUTCOME_ORDER,
                ParticipationScore.weight_used.desc(),
                Member.search_name,
                Member.id,
            ),
        )
        .label("rank")
    )
    ranked = (
        select(
            ParticipationScore.region_id,
            ParticipationScore.member_id,
            Member.name,
            ParticipationScore.total,
            ParticipationScore.level,
            rank,
        )
        .join(Member, Member.id == ParticipationScore.member_id)
        .where(
            ParticipationScore.scheme_id == scheme.id,
            ParticipationScore.total.is_not(None),
            ParticipationScore.conditions_outcome != ConditionsOutcome.NOT_MET,
        )
        .subquery()
    )
    rows = session.execute(
        select(ranked, Term.label, Term.position)
        .outerjoin(Term, Term.id == ranked.c.region_id)
        .where(ranked.c.rank <= scheme.recognition_size)
        .order_by(Term.id.is_(None), Term.position, Term.label, ranked.c.rank)
    ).all()
    regions: dict[int | None, RegionRecognition] = {}
    for row in rows:
        entry = regions.setdefault(row.region_id, RegionRecognition(row.label, []))
        entry.members.append(Recognised(row.rank, row.member_id, row.name, row.total, row.level))
    return list(regions.values())


# --- At risk ------------------------------------------------------------------------------


@dataclass
class AtRiskRow:
    member_id: int
    name: str
    slug: str
    region: str | None
    total: Decimal | None
    previous_total: Decimal | None
    level: Level | None
    outcome: ConditionsOutcome
    dropped: bool
    no_focal_point: bool
    leadership_on: date | None
    low_level: bool

    @property
    def conditions_failed(self) -> bool:
        return self.outcome is not ConditionsOutcome.MEETS


def at_risk(session: Session, scheme: ScoringScheme, today: date, page: int, per_page: int) -> Page:
    """Members of the year who need attention, with every reason that applies.

    A total 15+ points below last year's; no primary focal point in office today; a leader's
    term ending or an election within six months; conditions not met (or a warning); or the
    at-risk level.
    """
    previous = previous_scheme(session, scheme)
    query, before = _scores_base(scheme, previous)
    horizon = today + relativedelta(months=LEADERSHIP_MONTHS)
    has_focal_point = exists().where(
        Contact.member_id == ParticipationScore.member_id,
        Contact.is_primary.is_(True),
        or_(Contact.active_from.is_(None), Contact.active_from <= today),
        or_(Contact.active_to.is_(None), Contact.active_to >= today),
    )
    dropped = and_(
        before.total.is_not(None),  # type: ignore[attr-defined]
        ParticipationScore.total.is_not(None),
        # Scores have two decimals; the half-cent margin absorbs SQLite's floating point
        # (65.10 - 50.10 = 14.999999999999993 there).
        before.total - ParticipationScore.total >= SCORE_DROP - _HALF_CENT,  # type: ignore[attr-defined]
    )

    def within(column):
        return and_(column.is_not(None), column >= today, column <= horizon)

    leadership = case(
        (
            and_(
                within(Member.next_election_on),
                or_(
                    ~within(Member.leader_term_ends_on),
                    Member.next_election_on <= Member.leader_term_ends_on,
                ),
            ),
            Member.next_election_on,
        ),
        (within(Member.leader_term_ends_on), Member.leader_term_ends_on),
        else_=None,
    )
    low = ParticipationScore.level == Level.AT_RISK
    failing = ParticipationScore.conditions_outcome != ConditionsOutcome.MEETS
    query = query.add_columns(
        dropped.label("dropped"),
        (~has_focal_point).label("no_focal_point"),
        leadership.label("leadership_on"),
        low.label("low_level"),
    ).where(or_(dropped, ~has_focal_point, leadership.is_not(None), low, failing))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = clamp(page, total, per_page)
    rows = session.execute(
        query.order_by(
            ParticipationScore.total.is_(None), ParticipationScore.total, Member.search_name
        )
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    items = [
        AtRiskRow(
            member_id=row.member_id,
            name=row.name,
            slug=row.slug,
            region=row.region,
            total=row.total,
            previous_total=row.previous_total,
            level=row.level,
            outcome=row.conditions_outcome,
            dropped=bool(row.dropped),
            no_focal_point=bool(row.no_focal_point),
            leadership_on=row.leadership_on,
            low_level=bool(row.low_level),
        )
        for row in rows
    ]
    return Page(items, total, page, per_page)


# --- Scorecard ----------------------------------------------------------------------------


@dataclass
class TrendPoint:
    year: int
    total: Decimal | None
    level: Level | None
    is_final: bool


@dataclass
class Scorecard:
    scheme: ScoringScheme
    member: Member
    score: ParticipationScore | None
    criteria: list[ScoreCriterion]
    conditions: list[ScoreCondition]
    evidence: dict[CriterionKind, list[ScoreEvidence]]
    trend: list[TrendPoint]
    region: str | None
    rank_in_region: int | None


def scorecard(session: Session, scheme: ScoringScheme, member: Member) -> Scorecard:
    """One member's year: total, level, conditions, breakdown with evidence, and trend."""
    score = session.scalar(
        select(ParticipationScore).where(
            ParticipationScore.scheme_id == scheme.id,
            ParticipationScore.member_id == member.id,
        )
    )
    order = {kind: position for position, kind in enumerate(CriterionKind)}
    criteria = sorted(
        session.scalars(
            select(ScoreCriterion).where(
                ScoreCriterion.scheme_id == scheme.id, ScoreCriterion.member_id == member.id
            )
        ).all(),
        key=lambda line: order[line.kind],
    )
    conditions = list(
        session.scalars(
            select(ScoreCondition)
            .where(ScoreCondition.scheme_id == scheme.id, ScoreCondition.member_id == member.id)
            .order_by(ScoreCondition.id)
        ).all()
    )
    evidence: dict[CriterionKind, list[ScoreEvidence]] = defaultdict(list)
    for item in session.scalars(
        select(ScoreEvidence)
        .where(ScoreEvidence.scheme_id == scheme.id, ScoreEvidence.member_id == member.id)
        .order_by(ScoreEvidence.at, ScoreEvidence.on_date, ScoreEvidence.title, ScoreEvidence.id)
    ):
        evidence[item.criterion].append(item)
    trend = [
        TrendPoint(year, total, level, state == "final")
        for year, total, level, state in session.execute(
            select(
                ScoringScheme.year,
                ParticipationScore.total,
                ParticipationScore.level,
                ScoringScheme.state,
            )
            .join(ParticipationScore, ParticipationScore.scheme_id == ScoringScheme.id)
            .where(ParticipationScore.member_id == member.id)
            .order_by(ScoringScheme.year)
        )
    ]
    region = None
    rank = None
    if score is not None:
        region = (
            session.scalar(select(Term.label).where(Term.id == score.region_id))
            if score.region_id is not None
            else None
        )
        # The position among the members eligible for recognition, equal scores sharing one.
        if score.total is not None and score.conditions_outcome is not ConditionsOutcome.NOT_MET:
            ahead = session.scalar(
                select(func.count(ParticipationScore.id)).where(
                    ParticipationScore.scheme_id == scheme.id,
                    ParticipationScore.total > score.total + _HALF_CENT,
                    ~_NOT_MET,
                    ParticipationScore.region_id.is_(None)
                    if score.region_id is None
                    else ParticipationScore.region_id == score.region_id,
                )
            )
            rank = (ahead or 0) + 1
    return Scorecard(
        scheme, member, score, criteria, conditions, dict(evidence), trend, region, rank
    )


# --- Home pages ---------------------------------------------------------------------------


def latest_year(session: Session) -> YearRow | None:
    """The most recent year with a scheme and its headline figures (the staff home)."""
    rows = year_list_query(session, limit=1)
    return rows[0] if rows else None


@dataclass
class MemberStanding:
    year: int
    is_final: bool
    total: Decimal | None
    level: Level | None
    outcome: ConditionsOutcome


def member_standing(session: Session, member_id: int) -> MemberStanding | None:
    """A member's most recent score (the focal point's home)."""
    row = session.execute(
        select(
            ScoringScheme.year,
            ScoringScheme.state,
            ParticipationScore.total,
            ParticipationScore.level,
            ParticipationScore.conditions_outcome,
        )
        .join(ParticipationScore, ParticipationScore.scheme_id == ScoringScheme.id)
        .where(ParticipationScore.member_id == member_id)
        .order_by(ScoringScheme.year.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return MemberStanding(
        row.year, row.state == "final", row.total, row.level, row.conditions_outcome
    )
