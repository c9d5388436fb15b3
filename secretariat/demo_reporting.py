"""The demo network's indicators, reporting cycles and commitments.

Loaded through the same services as the user interface. Last year's cycle is closed with most
members' reports verified; this year's is open, due in a few weeks, with a mix of drafts,
submissions (some late), one returned report, and the first focal point's member not yet
started, so that their home shows the prefilled form. Running it again changes nothing.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from secretariat.accounts.models import User
from secretariat.commitments import services as commitments
from secretariat.commitments.models import Commitment, CommitmentStatus
from secretariat.indicators import services as indicators
from secretariat.indicators.models import (
    Aggregation,
    Direction,
    Indicator,
    Level,
    ValueType,
)
from secretariat.members.models import Member, MemberStatus
from secretariat.reporting import services as reporting
from secretariat.reporting.models import ReportingCycle
from secretariat.vocabularies.models import Term, Vocabulary

N, P, YN, C, T = (
    ValueType.NUMBER,
    ValueType.PERCENTAGE,
    ValueType.YES_NO,
    ValueType.CHOICE,
    ValueType.TEXT,
)
UP, DOWN, NONE = Direction.HIGHER_IS_BETTER, Direction.LOWER_IS_BETTER, Direction.NONE
INVENTORY_CHOICES = ["No inventory", "In preparation", "Published", "Published and verified"]

#: (code, name, unit, type, direction, aggregation, (min, max), definition)
INDICATORS = [
    (
        "GHG-TOTAL",
        "Community greenhouse gas emissions",
        "kt CO2e",
        N,
        DOWN,
        Aggregation.SUM,
        (0, None),
        "Scope 1 and 2 emissions of the whole territory, latest inventory year.",
    ),
    (
        "GHG-PC",
        "Emissions per inhabitant",
        "t CO2e",
        N,
        DOWN,
        Aggregation.MEAN,
        (0, 100),
        "Community emissions divided by the population of the same year.",
    ),
    (
        "RE-SHARE",
        "Renewable share of electricity",
        None,
        P,
        UP,
        Aggregation.MEDIAN,
        (None, None),
        "Share of electricity consumed in the territory that comes from renewable sources.",
    ),
    (
        "CAP",
        "Climate action plan aligned with 1.5°C adopted",
        None,
        YN,
        UP,
        Aggregation.COUNT_YES,
        (None, None),
        "A plan adopted by the council, with interim targets.",
    ),
    (
        "SMOKE-FREE",
        "Smoke-free law for all public venues",
        None,
        YN,
        UP,
        Aggregation.COUNT_YES,
        (None, None),
        "Smoking is banned in every enclosed public place and on public transport.",
    ),
    (
        "PT-SHARE",
        "Public transport share of trips",
        None,
        P,
        UP,
        Aggregation.MEAN,
        (None, None),
        "Share of daily trips made by public transport (latest travel survey).",
    ),
    (
        "PM25",
        "Annual mean PM2.5 concentration",
        "µg/m³",
        N,
        DOWN,
        Aggregation.MEDIAN,
        (0, 500),
        "Population-weighted annual mean of fine particulate matter.",
    ),
    (
        "TREES",
        "Trees planted in the year",
        "trees",
        N,
        UP,
        Aggregation.SUM,
        (0, None),
        "Trees planted on public land during the reporting year.",
    ),
    (
        "EV-CHARGERS",
        "Public charging points",
        "points",
        N,
        UP,
        Aggregation.SUM,
        (0, None),
        "Publicly accessible charging points for electric vehicles at year end.",
    ),
    (
        "GHG-INV",
        "Greenhouse gas inventory status",
        None,
        C,
        NONE,
        Aggregation.NONE,
        (None, None),
        "Where the member's latest emissions inventory stands.",
    ),
    (
        "HEAT-PLAN",
        "Heat action plan in force",
        None,
        YN,
        UP,
        Aggregation.COUNT_YES,
        (None, None),
        "A plan with early warnings and cooling centres for heatwaves.",
    ),
    (
        "CLIMATE-BUDGET",
        "Share of the budget tagged climate",
        None,
        P,
        UP,
        Aggregation.MEAN,
        (None, None),
        "Share of the capital budget tagged as climate mitigation or adaptation.",
    ),
    (
        "FLAGSHIP",
        "Flagship climate project of the year",
        None,
        T,
        NONE,
        Aggregation.NONE,
        (None, None),
        "One project the member is proudest of, in a sentence.",
    ),
]
#: A network-level indicator the secretariat records itself.
NETWORK_INDICATOR = (
    "PEER-EXCHANGES",
    "Peer exchanges completed",
    "exchanges",
    N,
    UP,
    "Study tours, staff exchanges and mentoring completed between members in the year.",
)
#: Network targets: (code, period, value).
TARGETS = [
    ("GHG-PC", "2024", Decimal("5.5")),
    ("GHG-PC", "2025", Decimal("5.0")),
    ("RE-SHARE", "2024", Decimal(40)),
    ("RE-SHARE", "2025", Decimal(45)),
    ("CAP", "2024", Decimal(30)),
    ("CAP", "2025", Decimal(36)),
    ("PEER-EXCHANGES", "2025", Decimal(40)),
]
#: Commitments: (title, category, target, years from now, status, freshness months).
COMMITMENTS = [
    (
        "Publish a climate action plan aligned with 1.5°C",
        "Mitigation",
        "Plan adopted by the council",
        1,
        CommitmentStatus.IN_PROGRESS,
        60,
    ),
    (
        "Complete a greenhouse gas inventory every two years",
        "Mitigation",
        "Inventory published and verified",
        2,
        CommitmentStatus.IN_PROGRESS,
        24,
    ),
    (
        "Ban smoking in all enclosed public venues",
        "Health",
        "Law in force and enforced",
        1,
        CommitmentStatus.PLANNED,
        None,
    ),
    (
        "Electrify the municipal bus fleet",
        "Mobility",
        "100% zero-emission buses",
        4,
        CommitmentStatus.OFF_TRACK,
        None,
    ),
    (
        "Open cooling centres in every district",
        "Adaptation",
        "One centre per district before summer",
        1,
        CommitmentStatus.ACHIEVED,
        None,
    ),
]


def _indicator(session: Session, code: str) -> Indicator | None:
    return session.scalar(select(Indicator).where(Indicator.code == code))


def _ensure_indicators(session: Session, staff: User) -> tuple[list[Indicator], Indicator]:
    result = []
    for code, name, unit, kind, direction, aggregation, (low, high), definition in INDICATORS:
        indicator = _indicator(session, code)
        if indicator is None:
            indicator = indicators.create_indicator(
                session,
                staff,
                indicators.IndicatorData(
                    code=code,
                    name=name,
                    unit=unit,
                    value_type=kind,
                    direction=direction,
                    level=Level.MEMBER,
                    aggregation=aggregation,
                    definition=definition,
                    min_value=None if low is None else Decimal(low),
                    max_value=None if high is None else Decimal(high),
                    choices=INVENTORY_CHOICES if kind is C else [],
                ),
            )
        result.append(indicator)
    code, name, unit, kind, direction, definition = NETWORK_INDICATOR
    network = _indicator(session, code) or indicators.create_indicator(
        session,
        staff,
        indicators.IndicatorData(
            code=code,
            name=name,
            unit=unit,
            value_type=kind,
            direction=direction,
            level=Level.NETWORK,
            aggregation=Aggregation.NONE,
            definition=definition,
        ),
    )
    return result, network


def _value(rng: random.Random, indicator: Indicator, base: dict[str, float], year: int) -> str:
    """A plausible value for a member, drifting a little from one year to the next."""
    code = indicator.code
    if indicator.value_type is YN:
        return "yes" if rng.random() < base.setdefault(code, rng.random()) + 0.1 * year else "no"
    if indicator.value_type is C:
        return INVENTORY_CHOICES[min(3, int(base.setdefault(code, rng.random()) * 3) + year)]
    if indicator.value_type is T:
        return rng.choice(
            [
                "Bus rapid transit line opened",
                "Retrofit of 40 public schools",
                "Solar roofs on municipal buildings",
                "Urban forest corridor",
                "Cycle lane network",
            ]
        )
    start = base.setdefault(code, rng.uniform(0.2, 1.0))
    drift = 1 + rng.uniform(-0.08, 0.05) * (year + 1)
    scale = {
        "GHG-TOTAL": 9000,
        "GHG-PC": 8,
        "RE-SHARE": 70,
        "PT-SHARE": 55,
        "PM25": 40,
        "TREES": 20000,
        "EV-CHARGERS": 900,
        "CLIMATE-BUDGET": 25,
    }[code]
    number = start * scale * drift
    if indicator.value_type is P:
        number = min(99.0, number)
    digits = 0 if code in ("TREES", "EV-CHARGERS", "GHG-TOTAL") else 1
    return f"{number:.{digits}f}"


def _inputs(
    rng: random.Random, chosen: list[Indicator], base: dict[str, float], year: int
) -> reporting.SubmissionInput:
    values = {
        i.id: reporting.ValueInput(raw=_value(rng, i, base, year), confirmed=True) for i in chosen
    }
    return reporting.SubmissionInput(values=values)


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=UTC)


def _cycle(
    session: Session,
    staff: User,
    name: str,
    period: str,
    opens_on: date,
    due_on: date,
    grace_until: date | None,
    chosen: list[Indicator],
) -> ReportingCycle:
    cycle = reporting.create_cycle(
        session,
        staff,
        reporting.CycleData(
            name=name,
            period=period,
            opens_on=opens_on,
            due_on=due_on,
            grace_until=grace_until,
            indicator_ids=[i.id for i in chosen],
            optional_indicator_ids=[i.id for i in chosen if i.code in ("FLAGSHIP", "EV-CHARGERS")],
            instructions=(
                "Report the figures for the calendar year. Where a figure has not changed, "
                "keep last year's value. Add a link to the source document when you have one."
            ),
        ),
    )
    reporting.open_cycle(session, staff, cycle)
    return cycle


def load_reporting(
    session: Session, staff: User, focal_points: list[User], today: date
) -> dict[str, int]:
    """Create the demo indicators, cycles, submissions and commitments not there yet."""
    counts = {"cycles_added": 0, "submissions_added": 0, "commitments_added": 0}
    member_level, network = _ensure_indicators(session, staff)
    for code, period, value in TARGETS:
        indicator = _indicator(session, code)
        assert indicator is not None
        indicators.set_target(session, staff, indicator, period=period, value=str(value))
    for period, value in (("2024", "31"), ("2025", "37")):
        indicators.record_network_value(session, staff, network, period=period, value=value)

    members = list(
        session.scalars(
            select(Member).where(Member.status == MemberStatus.ACTIVE).order_by(Member.slug)
        )
    )
    spared = {fp.member_id for fp in focal_points[:1]}
    year = today.year
    last_name, this_name = f"Annual report {year - 2}", f"Annual report {year - 1}"
    if session.scalar(select(ReportingCycle.id).where(ReportingCycle.name == last_name)) is None:
        opens = date(year - 1, 2, 1)
        last = _cycle(
            session,
            staff,
            last_name,
            str(year - 2),
            opens,
            date(year - 1, 4, 30),
            date(year - 1, 5, 31),
            member_level[:12],
        )
        for member in members:
            rng = random.Random(member.slug)
            if rng.random() < 0.12:
                continue  # did not report that year
            day = opens + timedelta(days=rng.randint(10, 110))
            submission = reporting.save_submission(
                session,
                staff,
                last,
                member,
                _inputs(rng, member_level[:12], {}, 0),
                submit=True,
                now=_at(day, 10),
            )
            reporting.verify_submission(session, staff, submission)
            counts["submissions_added"] += 1
        reporting.close_cycle(session, staff, last)
        counts["cycles_added"] += 1
    if session.scalar(select(ReportingCycle.id).where(ReportingCycle.name == this_name)) is None:
        opens = today - timedelta(days=30)
        current = _cycle(
            session,
            staff,
            this_name,
            str(year - 1),
            opens,
            today + timedelta(days=21),
            today + timedelta(days=35),
            member_level,
        )
        for index, member in enumerate(members):
            if member.id in spared:
                continue
            rng = random.Random(member.slug)
            base: dict[str, float] = {}
            _inputs(rng, member_level[:12], base, 0)  # the same draw as last year
            fate = index % 5
            if fate == 4:
                continue  # not started
            inputs = _inputs(rng, member_level, base, 1)
            submitted = fate in (0, 1, 2)
            moment = _at(opens + timedelta(days=rng.randint(1, 29)), 9)
            submission = reporting.save_submission(
                session, staff, current, member, inputs, submit=submitted, now=moment
            )
            counts["submissions_added"] += 1
            if fate == 0:
                reporting.verify_submission(session, staff, submission)
            elif fate == 2 and index % 3 == 0:
                reporting.return_submission(
                    session,
                    staff,
                    submission,
                    "The emissions per inhabitant look too high for the total and population: "
                    "please check the unit (tonnes, not kilograms).",
                )
        counts["cycles_added"] += 1
    own = {fp.member_id for fp in focal_points}
    pledging = [m for m in members if m.id in own] + [m for m in members if m.id not in own]
    counts["commitments_added"] = _load_commitments(session, staff, pledging[:24], today)
    return counts


def _load_commitments(session: Session, staff: User, members: list[Member], today: date) -> int:
    if session.scalar(select(Commitment.id).limit(1)) is not None:
        return 0
    categories = {
        t.label: t.id
        for t in session.scalars(
            select(Term).where(Term.vocabulary == Vocabulary.COMMITMENT_CATEGORY)
        )
    }
    added = 0
    for index, member in enumerate(members):
        rng = random.Random(f"commitments-{member.slug}")
        for title, category, target, years, status, freshness in rng.sample(COMMITMENTS, 3):
            if category not in categories:
                continue
            evidence_on = today - timedelta(days=rng.randint(60, 1400)) if freshness else None
            commitment = commitments.create_commitment(
                session,
                staff,
                member,
                commitments.CommitmentData(
                    title=title,
                    category_id=categories[category],
                    target=target,
                    target_on=date(today.year + years, 12, 31),
                    freshness_months=freshness,
                    evidence_url=(
                        f"https://{member.slug}.demo.example/climate/{index}"
                        if evidence_on
                        else None
                    ),
                    evidence_on=evidence_on,
                ),
            )
            added += 1
            if status is CommitmentStatus.PLANNED:
                continue
            update = commitments.add_update(
                session,
                staff,
                commitment,
                commitments.UpdateData(
                    status=status,
                    percent_complete=None
                    if status is CommitmentStatus.ACHIEVED
                    else rng.choice([20, 35, 50, 65]),
                    narrative={
                        CommitmentStatus.IN_PROGRESS: "Drafting is under way with the "
                        "environment department; public consultation planned for spring.",
                        CommitmentStatus.OFF_TRACK: "Procurement was delayed by the budget "
                        "freeze; the first batch of buses is now expected next year.",
                        CommitmentStatus.ACHIEVED: "Done: the last centres opened in June.",
                    }[status],
                ),
            )
            if index % 2 == 0:
                commitments.verify_update(session, staff, update)
            if index % 4 == 1:
                # An older update, so that the "not updated lately" filter has something.
                stale = datetime.combine(today - timedelta(days=220), time(9), tzinfo=UTC)
                update.created_at = stale
                commitment.last_update_at = stale
                commitment.created_at = stale - timedelta(days=30)
    session.flush()
    return added
