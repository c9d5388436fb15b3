"""The read models of the participation pages, on scores written directly with known totals:
the years, a year's overview, the list of scores and its export, regional recognition and the
members at risk.

The two years of the ``net`` fixture (default thresholds: leading 80, active 60, engaged 40):

=========  ======  =======  ====================================  ==============
member     region  2024     2025                                  2025 outcome
=========  ======  =======  ====================================  ==============
Ålesund    North   50.00    72.60 active (up from engaged)        meets
Bergen     North   85.00    69.00 active (down from leading; −16)  warning
Cork       South   30.00    30.00 at risk (same)                  not met
Dublin     South   70.00    50.00 engaged (down from active; −20)  meets
Exeter     —       None     45.00 engaged                         meets
Faro       North   —        None (not scored)                     meets
=========  ======  =======  ====================================  ==============
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from secretariat.members.models import Member
from secretariat.participation import queries, scoring, services
from secretariat.participation.models import (
    ConditionsOutcome,
    CriterionKind,
    LeftOut,
    Level,
    ParticipationScore,
    ScoreCriterion,
    ScoringScheme,
)
from secretariat.vocabularies.models import Term
from tests.factories import ContactFactory, MemberFactory, TermFactory

D = Decimal
MEETS, WARNING, NOT_MET = (
    ConditionsOutcome.MEETS,
    ConditionsOutcome.WARNING,
    ConditionsOutcome.NOT_MET,
)
#: The day the at-risk list is drawn up on in these tests.
TODAY = date(2026, 2, 1)
ON_POSTGRESQL = (os.environ.get("SECRETARIAT_TEST_DATABASE_URL") or "").startswith("postgresql")


def score(
    db,
    scheme: ScoringScheme,
    member: Member,
    total: str | None,
    outcome: ConditionsOutcome = MEETS,
    weight_used: int = 100,
    level: Level | None = None,
) -> ParticipationScore:
    """A member's score written directly; its level from the default thresholds."""
    value = None if total is None else D(total)
    row = ParticipationScore(
        scheme_id=scheme.id,
        member_id=member.id,
        region_id=member.region_id,
        total=value,
        level=level or scoring.level(value, 80, 60, 40),
        conditions_outcome=outcome,
        conditions_missed={MEETS: 0, WARNING: 1, NOT_MET: 2}[outcome],
        weight_used=weight_used if value is not None else 0,
        computed_at=datetime(2026, 2, 1, tzinfo=UTC),
    )
    db.add(row)
    db.flush()
    return row


def line(
    db,
    scheme: ScoringScheme,
    member: Member,
    kind: CriterionKind,
    points: str | None,
    left_out: LeftOut | None = None,
) -> None:
    weight = next(c.weight for c in scheme.criteria if c.kind is kind)
    db.add(
        ScoreCriterion(
            scheme_id=scheme.id,
            member_id=member.id,
            kind=kind,
            weight=weight,
            measured=None if points is None else D(points),
            points=None if points is None else D(points),
            left_out=left_out,
        )
    )
    db.flush()


@dataclass
class Net:
    north: Term
    south: Term
    alesund: Member
    bergen: Member
    cork: Member
    dublin: Member
    exeter: Member
    faro: Member
    previous: ScoringScheme
    scheme: ScoringScheme


@pytest.fixture
def net(db) -> Net:
    north = TermFactory(label="North", position=1)
    south = TermFactory(label="South", position=2)
    alesund = MemberFactory(name="Ålesund", region=north)
    bergen = MemberFactory(name="Bergen", region=north)
    cork = MemberFactory(name="Cork", region=south)
    dublin = MemberFactory(name="Dublin", region=south)
    exeter = MemberFactory(name="Exeter", region=None)
    faro = MemberFactory(name="Faro", region=north)

    previous = services.create_scheme(db, None, 2024)
    for member, total in ((alesund, "50"), (bergen, "85"), (cork, "30"), (dublin, "70")):
        score(db, previous, member, total)
    score(db, previous, exeter, None)

    scheme = services.create_scheme(db, None, 2025)
    # Follow-ups are out of 2025's method.
    next(c for c in scheme.criteria if c.kind is CriterionKind.FOLLOW_UPS).weight = 0
    db.flush()
    score(db, scheme, alesund, "72.60")
    score(db, scheme, bergen, "69", WARNING)
    score(db, scheme, cork, "30", NOT_MET, weight_used=45)
    score(db, scheme, dublin, "50")
    score(db, scheme, exeter, "45")
    score(db, scheme, faro, None)
    attendance, exchanges = CriterionKind.ATTENDANCE, CriterionKind.EXCHANGES
    line(db, scheme, alesund, attendance, "100")
    line(db, scheme, bergen, attendance, "60")
    line(db, scheme, cork, attendance, None, LeftOut.NOT_INVITED)
    line(db, scheme, dublin, attendance, "20")
    line(db, scheme, alesund, exchanges, "50")
    line(db, scheme, bergen, exchanges, "0")
    return Net(north, south, alesund, bergen, cork, dublin, exeter, faro, previous, scheme)


# --- the years ----------------------------------------------------------------------------


def test_year_list_newest_first_with_headline_figures(db, net):
    services.create_scheme(db, None, 2026)
    years = queries.year_list(db)
    assert [
        (row.scheme.year, row.members, row.average, row.at_risk, row.not_meeting) for row in years
    ] == [
        (2026, 0, None, 0, 0),
        (2025, 6, D("53.32"), 1, 1),
        (2024, 5, D("58.75"), 1, 0),
    ]


def test_year_list_without_years(db):
    assert queries.year_list(db) == []


# --- the overview -------------------------------------------------------------------------


def test_overview_distribution_and_last_years(db, net):
    overview = queries.overview(db, net.scheme)
    assert overview.distribution.counts == {
        Level.ACTIVE: 2,
        Level.ENGAGED: 2,
        Level.AT_RISK: 1,
        None: 1,
    }
    assert overview.distribution.total == 6
    assert overview.distribution.average == D("53.32")
    assert overview.distribution.share(Level.ACTIVE) == pytest.approx(2 / 6)
    assert overview.distribution.share(Level.LEADING) == 0
    assert overview.previous.counts == {
        Level.LEADING: 1,
        Level.ACTIVE: 1,
        Level.ENGAGED: 1,
        Level.AT_RISK: 1,
        None: 1,
    }
    assert overview.previous.average == D("58.75")
    assert overview.outcomes == {MEETS: 4, WARNING: 1, NOT_MET: 1}


def test_overview_regions_in_list_order_with_no_region_last(db, net):
    regions = queries.overview(db, net.scheme).regions
    assert [(r.region, r.distribution.counts, r.distribution.average) for r in regions] == [
        ("North", {Level.ACTIVE: 2, None: 1}, D("70.80")),
        ("South", {Level.AT_RISK: 1, Level.ENGAGED: 1}, D("40.00")),
        (None, {Level.ENGAGED: 1}, D("45.00")),
    ]


def test_overview_region_order_follows_the_list_position(db, net):
    net.north.position, net.south.position = 9, 0
    db.flush()
    regions = queries.overview(db, net.scheme).regions
    assert [r.region for r in regions] == ["South", "North", None]


def test_overview_movement_from_last_year(db, net):
    movement = queries.overview(db, net.scheme).movement
    # Scored both years: Ålesund up, Bergen and Dublin down, Cork the same.
    # (22.60 − 16 + 0 − 20) / 4 = −3.35.
    assert (movement.compared, movement.up, movement.down, movement.same) == (4, 1, 2, 1)
    assert movement.average_change == D("-3.35")


def test_overview_without_a_previous_year(db, net):
    overview = queries.overview(db, net.previous)
    assert overview.previous is None
    assert overview.movement is None
    assert overview.distribution.average == D("58.75")


def test_overview_criteria_of_the_method(db, net):
    criteria = {c.kind: c for c in queries.overview(db, net.scheme).criteria}
    # Follow-ups weigh 0 in 2025: not part of the method.
    assert CriterionKind.FOLLOW_UPS not in criteria
    assert len(criteria) == 6
    attendance = criteria[CriterionKind.ATTENDANCE]
    assert (attendance.weight, attendance.average_points) == (25, D("60.00"))
    assert (attendance.measured_members, attendance.left_out_members) == (3, 1)
    exchanges = criteria[CriterionKind.EXCHANGES]
    assert (exchanges.average_points, exchanges.measured_members) == (D("25.00"), 2)
    groups = criteria[CriterionKind.WORKING_GROUPS]
    assert (groups.average_points, groups.measured_members, groups.left_out_members) == (
        None,
        0,
        0,
    )


def test_overview_of_a_year_without_scores(db, net):
    scheme = services.create_scheme(db, None, 2026)
    overview = queries.overview(db, scheme)
    assert overview.distribution.counts == {}
    assert overview.distribution.average is None
    assert overview.distribution.share(Level.ACTIVE) == 0
    assert overview.regions == []
    assert overview.outcomes == {}
    # 2025 is its previous year; nobody is scored in both.
    assert overview.movement.compared == 0
    assert overview.movement.average_change is None


# --- the list of scores -------------------------------------------------------------------


def page_names(db, scheme, page: int = 1, per_page: int = 50, **filters) -> list[str]:
    found = queries.score_page(db, scheme, queries.ScoreFilters(**filters), page, per_page)
    return [row.name for row in found.items]


def test_score_page_highest_first_unscored_last(db, net):
    page = queries.score_page(db, net.scheme, queries.ScoreFilters(), 1, 50)
    assert page.total == 6
    assert [(r.name, r.total, r.previous_total, r.change) for r in page.items] == [
        ("Ålesund", D("72.60"), D("50.00"), D("22.60")),
        ("Bergen", D("69.00"), D("85.00"), D("-16.00")),
        ("Dublin", D("50.00"), D("70.00"), D("-20.00")),
        ("Exeter", D("45.00"), None, None),
        ("Cork", D("30.00"), D("30.00"), D("0.00")),
        ("Faro", None, None, None),
    ]
    first = page.items[0]
    assert (first.member_id, first.slug, first.region, first.level, first.outcome) == (
        net.alesund.id,
        net.alesund.slug,
        "North",
        Level.ACTIVE,
        MEETS,
    )
    assert page.items[3].region is None


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"level": "engaged"}, ["Dublin", "Exeter"]),
        ({"level": "none"}, ["Faro"]),
        ({"level": "leading"}, []),
        ({"level": "unknown"}, ["Ålesund", "Bergen", "Dublin", "Exeter", "Cork", "Faro"]),
        ({"outcome": "warning"}, ["Bergen"]),
        ({"outcome": "not_met"}, ["Cork"]),
        ({"outcome": "meets", "level": "engaged"}, ["Dublin", "Exeter"]),
        ({"query": "ales"}, ["Ålesund"]),
        ({"query": "ÅLE"}, ["Ålesund"]),
        ({"query": "r"}, ["Bergen", "Exeter", "Cork", "Faro"]),
        ({"query": "%"}, []),
        ({"query": "_"}, []),
    ],
)
def test_score_page_filters(db, net, filters, expected):
    assert page_names(db, net.scheme, **filters) == expected


def test_score_page_filters_by_region(db, net):
    assert page_names(db, net.scheme, region_id=net.north.id) == ["Ålesund", "Bergen", "Faro"]
    assert page_names(db, net.scheme, region_id=net.south.id, level="at_risk") == ["Cork"]
    assert page_names(db, net.scheme, region_id=999_999) == []


def test_score_page_orders(db, net):
    assert page_names(db, net.scheme, order="name") == [
        "Ålesund",
        "Bergen",
        "Cork",
        "Dublin",
        "Exeter",
        "Faro",
    ]
    # Largest drop first; members without a change last, by name.
    assert page_names(db, net.scheme, order="change") == [
        "Dublin",
        "Bergen",
        "Cork",
        "Ålesund",
        "Exeter",
        "Faro",
    ]


def test_score_page_ties_by_name(db, net):
    score(db, net.scheme, MemberFactory(name="Aachen", region=net.south), "50")
    assert page_names(db, net.scheme)[2:4] == ["Aachen", "Dublin"]


def test_score_page_pages(db, net):
    page = queries.score_page(db, net.scheme, queries.ScoreFilters(), 2, 2)
    assert [r.name for r in page.items] == ["Dublin", "Exeter"]
    assert (page.total, page.page, page.pages) == (6, 2, 3)
    beyond = queries.score_page(db, net.scheme, queries.ScoreFilters(), 99, 2)
    assert beyond.page == 3
    assert [r.name for r in beyond.items] == ["Cork", "Faro"]
    filtered = queries.score_page(db, net.scheme, queries.ScoreFilters(level="none"), 5, 2)
    assert (filtered.total, filtered.page, [r.name for r in filtered.items]) == (1, 1, ["Faro"])


def test_score_page_without_a_previous_year(db, net):
    page = queries.score_page(db, net.previous, queries.ScoreFilters(order="change"), 1, 50)
    assert all(row.previous_total is None and row.change is None for row in page.items)
    assert [row.name for row in page.items] == ["Ålesund", "Bergen", "Cork", "Dublin", "Exeter"]


def test_export_rows(db, net):
    headers, rows = queries.export_rows(db, net.scheme)
    assert headers == [
        "year",
        "member",
        "region",
        "total",
        "level",
        "conditions",
        "previous_total",
        "points_attendance",
        "points_reporting_on_time",
        "points_completeness",
        "points_commitments",
        "points_working_groups",
        "points_exchanges",
    ]
    assert [row[1] for row in rows] == ["Ålesund", "Bergen", "Cork", "Dublin", "Exeter", "Faro"]
    by_name = {row[1]: row for row in rows}
    assert by_name["Ålesund"] == [
        2025,
        "Ålesund",
        "North",
        D("72.60"),
        "active",
        "meets",
        D("50.00"),
        D("100.00"),
        None,
        None,
        None,
        None,
        D("50.00"),
    ]
    assert by_name["Cork"][3:8] == [D("30.00"), "at_risk", "not_met", D("30.00"), None]
    assert by_name["Exeter"][2] == ""
    assert by_name["Faro"][3:7] == [None, "", "meets", None]


def test_export_rows_of_a_year_without_scores(db, net):
    scheme = services.create_scheme(db, None, 2026)
    headers, rows = queries.export_rows(db, scheme)
    assert headers[:7] == [
        "year",
        "member",
        "region",
        "total",
        "level",
        "conditions",
        "previous_total",
    ]
    assert rows == []


# --- recognition --------------------------------------------------------------------------


def recognised(db, scheme) -> list[tuple[str | None, list[tuple[int, str, Decimal]]]]:
    return [
        (region.region, [(m.rank, m.name, m.total) for m in region.members])
        for region in queries.recognition(db, scheme)
    ]


def test_recognition_of_the_year(db, net):
    # Cork does not meet the conditions and Faro has no score: neither is eligible.
    assert recognised(db, net.scheme) == [
        ("North", [(1, "Ålesund", D("72.60")), (2, "Bergen", D("69.00"))]),
        ("South", [(1, "Dublin", D("50.00"))]),
        (None, [(1, "Exeter", D("45.00"))]),
    ]
    north = queries.recognition(db, net.scheme)[0].members
    assert (north[0].member_id, north[0].level) == (net.alesund.id, Level.ACTIVE)


def test_recognition_ties_and_size(db, net):
    scheme = services.create_scheme(db, None, 2023)
    scheme.recognition_size = 4
    region = TermFactory(label="East")
    for name, total, outcome, weight_used in (
        ("Omega", "95", NOT_MET, 100),
        ("Epsilon", "85", WARNING, 45),
        ("Alpha", "80", WARNING, 100),
        ("Beta", "80", MEETS, 20),
        ("Gamma", "80", MEETS, 45),
        ("Delta", "80", MEETS, 45),
        ("Zeta", "70", MEETS, 100),
    ):
        score(db, scheme, MemberFactory(name=name, region=region), total, outcome, weight_used)
    assert recognised(db, scheme) == [
        (
            "East",
            [
                (1, "Epsilon", D("85.00")),
                (2, "Delta", D("80.00")),
                (3, "Gamma", D("80.00")),
                (4, "Beta", D("80.00")),
            ],
        )
    ]
    scheme.recognition_size = 6
    db.flush()
    assert [name for _rank, name, _total in recognised(db, scheme)[0][1]] == [
        "Epsilon",
        "Delta",
        "Gamma",
        "Beta",
        "Alpha",
        "Zeta",
    ]


def test_recognition_is_per_year(db, net):
    # 2024's list is 2024's (by the regions recorded with the scores).
    assert recognised(db, net.previous) == [
        ("North", [(1, "Bergen", D("85.00")), (2, "Ålesund", D("50.00"))]),
        ("South", [(1, "Dublin", D("70.00")), (2, "Cork", D("30.00"))]),
    ]


def test_recognition_keeps_the_region_of_the_year(db, net):
    """A member that moved region since keeps the region its score was computed with."""
    net.alesund.region = net.south
    db.flush()
    assert recognised(db, net.scheme)[0] == (
        "North",
        [(1, "Ålesund", D("72.60")), (2, "Bergen", D("69.00"))],
    )


# --- at risk ------------------------------------------------------------------------------


@pytest.fixture
def contacts(db, net) -> None:
    """Focal points in office on TODAY: Ålesund's and Faro's; Bergen's left in January, Dublin
    has only a secondary one, Exeter's starts in March, Cork has none."""
    ContactFactory(member=net.alesund, is_primary=True)
    ContactFactory(member=net.faro, is_primary=True, active_to=TODAY)
    ContactFactory(member=net.bergen, is_primary=True, active_to=date(2026, 1, 15))
    ContactFactory(member=net.dublin, is_primary=False)
    ContactFactory(member=net.exeter, is_primary=True, active_from=date(2026, 3, 1))


def risk(db, scheme, today: date = TODAY, page: int = 1, per_page: int = 50):
    return queries.at_risk(db, scheme, today, page, per_page)


def flags(row: queries.AtRiskRow) -> tuple:
    return (row.dropped, row.no_focal_point, row.leadership_on, row.low_level, row.outcome)


def test_at_risk_reasons(db, net, contacts):
    net.alesund.next_election_on = date(2026, 7, 1)
    net.faro.leader_term_ends_on = date(2026, 9, 1)  # beyond six months
    net.exeter.next_election_on = date(2026, 1, 15)  # already past
    db.flush()
    page = risk(db, net.scheme)
    assert page.total == 5
    rows = {row.name: row for row in page.items}
    # Lowest score first; Faro (no score, meets, a focal point, no change soon) is not listed.
    assert list(rows) == ["Cork", "Exeter", "Dublin", "Bergen", "Ålesund"]
    assert flags(rows["Cork"]) == (False, True, None, True, NOT_MET)
    assert flags(rows["Exeter"]) == (False, True, None, False, MEETS)
    assert flags(rows["Dublin"]) == (True, True, None, False, MEETS)
    assert flags(rows["Bergen"]) == (True, True, None, False, WARNING)
    assert flags(rows["Ålesund"]) == (False, False, date(2026, 7, 1), False, MEETS)
    assert rows["Bergen"].conditions_failed and rows["Cork"].conditions_failed
    assert not rows["Dublin"].conditions_failed
    assert (rows["Dublin"].total, rows["Dublin"].previous_total) == (D("50.00"), D("70.00"))
    assert (rows["Ålesund"].slug, rows["Ålesund"].region) == (net.alesund.slug, "North")


def test_at_risk_focal_point_is_judged_on_the_day(db, net, contacts):
    names = {row.name for row in risk(db, net.scheme, today=date(2026, 3, 2)).items}
    # Faro's focal point has left by then; Exeter's has started.
    assert "Faro" in names and "Exeter" not in names
    # Bergen's was still in office (Bergen is listed for its drop and warning anyway).
    rows = {row.name: row for row in risk(db, net.scheme, today=date(2026, 1, 10)).items}
    assert rows["Bergen"].no_focal_point is False


@pytest.mark.parametrize(
    ("election", "term_ends", "expected"),
    [
        (date(2026, 2, 1), None, date(2026, 2, 1)),  # today
        (date(2026, 8, 1), None, date(2026, 8, 1)),  # six months to the day
        (date(2026, 8, 2), None, None),
        (date(2026, 1, 31), None, None),
        (None, date(2026, 5, 1), date(2026, 5, 1)),
        (date(2026, 6, 1), date(2026, 4, 1), date(2026, 4, 1)),  # the earlier of the two
        (date(2026, 4, 1), date(2026, 6, 1), date(2026, 4, 1)),
        (date(2026, 4, 1), date(2027, 6, 1), date(2026, 4, 1)),
        (date(2025, 4, 1), date(2026, 6, 1), date(2026, 6, 1)),
    ],
)
def test_at_risk_leadership_change_within_six_months(
    db, net, contacts, election, term_ends, expected
):
    net.alesund.next_election_on = election
    net.alesund.leader_term_ends_on = term_ends
    db.flush()
    rows = {row.name: row for row in risk(db, net.scheme).items}
    if expected is None:
        assert "Ålesund" not in rows
    else:
        assert rows["Ålesund"].leadership_on == expected


@pytest.mark.parametrize(
    ("before", "now", "dropped"),
    [
        ("70", "55", True),
        ("70", "55.01", False),
        ("64.99", "50", False),
        ("80.20", "65.20", True),
        ("65.10", "50.10", True),
        ("65.10", "50.11", False),
    ],
)
def test_at_risk_drop_of_fifteen_points_or_more(db, net, contacts, before, now, dropped):
    member = MemberFactory(name="Galway", region=net.south)
    ContactFactory(member=member, is_primary=True)
    score(db, net.previous, member, before)
    score(db, net.scheme, member, now)
    rows = {row.name: row for row in risk(db, net.scheme).items}
    if dropped:
        assert rows["Galway"].dropped is True
    else:
        assert "Galway" not in rows


def test_at_risk_pages(db, net, contacts):
    page = risk(db, net.scheme, page=2, per_page=2)
    assert (page.total, page.page, page.pages) == (4, 2, 2)
    assert [row.name for row in page.items] == ["Dublin", "Bergen"]
    beyond = risk(db, net.scheme, page=9, per_page=2)
    assert beyond.page == 2


def test_at_risk_without_a_previous_year(db, net, contacts):
    rows = {row.name: row for row in risk(db, net.previous).items}
    assert all(row.dropped is False and row.previous_total is None for row in rows.values())
    # 2024: Cork is at the at-risk level; all of 2024's members lack a focal point but Ålesund.
    assert set(rows) == {"Bergen", "Cork", "Dublin", "Exeter"}
    assert rows["Cork"].low_level is True


def test_at_risk_ignores_other_years_and_members(db, net, contacts):
    other = services.create_scheme(db, None, 2026)
    score(db, other, MemberFactory(name="Hull"), "10", NOT_MET)
    names = {row.name for row in risk(db, net.scheme).items}
    assert "Hull" not in names
