"""The figures of an impact report, checked against a world whose answers are worked out by hand.

The world (``tests/impact/factories.known_world``): regions Europe and Africa; members A (large
city, Europe), B (medium-sized city, Europe), C (small city, Africa), D (a region, Africa) covered
by the programme, and E (large city, Africa) not covered; records around the edge of every rule.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from secretariat.commitments.models import CommitmentStatus
from secretariat.exchanges.models import ExchangeStatus
from secretariat.funding.models import Coverage
from secretariat.impact import queries, snapshot
from secretariat.impact.periods import Period, parse_period
from secretariat.indicators.models import Aggregation, Direction, Level, NetworkValue
from secretariat.members.models import MemberKind, MemberStatus
from secretariat.reporting.models import CycleState, SubmissionStatus
from tests.factories import (
    CommitmentFactory,
    GroupMembershipFactory,
    IndicatorFactory,
    MemberFactory,
    PeerExchangeFactory,
    ReportingCycleFactory,
    WorkingGroupFactory,
)
from tests.funding.factories import ProgrammeFactory, ProgrammeIndicatorFactory
from tests.impact.factories import (
    CommitmentUpdateFactory,
    CycleMemberFactory,
    at,
    attend,
    event_at,
    known_world,
    programme,
    region,
    submit,
)

LARGE = "Large cities (500,000+)"
MEDIUM = "Medium-sized cities"
SMALL = "Small cities (under 100,000)"
REGIONAL = "States and regions"


def figures_of(session, prog, period: str = "2026") -> dict:
    parsed = parse_period(period)
    assert parsed is not None
    return queries.figures(session, prog, queries.scope_of(session, prog, parsed))


def as_decimals(indicator: dict) -> dict:
    """An indicator's numbers read as Decimals (their notation is checked on its own)."""
    return {
        key: (Decimal(indicator[key]) if indicator[key] is not None else None)
        for key in ("value", "target", "progress_pct")
    }


@pytest.fixture
def world(db):
    return known_world(db)


# --- the known world, figure by figure ------------------------------------------------------


def test_every_figure_of_the_known_world(db, world):
    figures = figures_of(db, world.programme)

    assert figures["members"] == {
        "total": 4,
        "by_region": [
            {"region": "Europe", "sizes": {"large": 1, "medium": 1}, "total": 2},
            {"region": "Africa", "sizes": {"small": 1, "regional": 1}, "total": 2},
        ],
        "by_size": {"large": 1, "medium": 1, "small": 1, "regional": 1},
    }
    # The forum only: A's two people and C's one. Not the cancelled event, not 2025's, not the
    # one only E attended; B registered for the forum but did not come.
    assert figures["events"] == {
        "held": 1,
        "attendances": 3,
        "members_attending": 2,
        "members_attending_share": "0.5000",
    }
    # A->C (across regions), A->B and E->D; not the proposed one, not 2025's.
    assert figures["exchanges"] == {"total": 3, "cross_region": 1, "cross_region_share": "0.3333"}
    # A + P1 + the secretariat, and B, C, P1, P2; not 2025's, not E's, not the unsigned one.
    assert figures["agreements"] == {"signed": 2, "partners": 2, "members": 3}
    # A achieved in 2026 (B's achievement was in 2025); in progress: C, and D off track.
    assert figures["commitments"] == {
        "achieved": 1,
        "in_progress": 2,
        "off_track": 1,
        "planned": 1,
        "achieved_to_date": 2,
        "total": 5,
    }
    [indicator] = figures["indicators"]
    # A's 300 and B's 200: C's 999 is a draft, E's 5000 is not covered, A's 7777 is of 2025.
    assert as_decimals(indicator) == {
        "value": Decimal(500),
        "target": Decimal(1000),
        "progress_pct": Decimal(50),
    }
    assert {k: v for k, v in indicator.items() if k not in ("value", "target", "progress_pct")} == {
        "code": "PM-CUT",
        "name": "Particulate emissions avoided",
        "unit": "t",
        "direction": "higher",
        "level": "member",
        "aggregation": "sum",
        "reporting": 2,
        "expected": 4,
        "on_target": False,
    }
    assert figures["participation"] == {
        "year": 2026,
        "computed": True,
        "final": False,
        "levels": [
            {"level": "leading", "label": "Leading", "count": 1},
            {"level": "active", "label": "Active", "count": 1},
            {"level": "engaged", "label": "Engaged", "count": 0},
            {"level": "at_risk", "label": "At risk", "count": 1},
        ],
        "scored": 3,
        "not_scored": 1,
    }
    # Asked: A-D (E is not covered; 2025's cycle is of another period); A and B reported.
    assert figures["completeness"] == {
        "cycles": ["Annual report 2026"],
        "asked": 4,
        "submitted": 2,
        "rate": "0.5000",
    }


def test_the_lists_hold_exactly_the_records_behind_each_figure(db, world):
    lists = figures_of(db, world.programme)["lists"]

    assert lists == {
        "members": sorted(m.id for m in world.covered),
        "events": [world.events["forum"].id],
        "exchanges": sorted(world.exchanges[k].id for k in ("a_c", "a_b", "e_d")),
        "exchanges_cross_region": [world.exchanges["a_c"].id],
        "agreements": sorted(world.agreements[k].id for k in ("a", "bc")),
        "partners": sorted(world.partners[k].id for k in ("p1", "p2")),
        "commitments_achieved": [world.commitments["a"].id],
        "commitments_in_progress": sorted(world.commitments[k].id for k in ("c", "d_off")),
        "participation": sorted(world.scores[k].id for k in "abcd"),
        "reporting": sorted(world.asked[k].id for k in "abcd"),
    }


def test_records_show_the_rows_behind_each_list(db, world):
    lists = figures_of(db, world.programme)["lists"]
    w = world

    def rows(key):
        headings, found = queries.records(db, key, lists[key])
        return headings, [(r.kind, r.id, r.cells) for r in found]

    assert rows("members") == (
        ["Member", "Country", "Region", "Size"],
        [
            ("member", w.a.id, ["Aveiro", "PT", "Europe", LARGE]),
            ("member", w.b.id, ["Braga", "PT", "Europe", MEDIUM]),
            ("member", w.c.id, ["Cotonou", "BJ", "Africa", SMALL]),
            ("member", w.d.id, ["Dakar Region", "SN", "Africa", REGIONAL]),
        ],
    )
    assert rows("events") == (
        ["Date", "Event", "Type", "Members attending (all)", "People attending (all)"],
        [("event", w.events["forum"].id, ["2026-03-10", "Clean air forum", "Annual forum", 2, 3])],
    )
    exchange_headings = ["Date", "From", "To", "Type", "Across regions"]
    a_c = (
        "exchange",
        w.exchanges["a_c"].id,
        ["2026-02-01", "Aveiro", "Cotonou", "Study visit", "Yes"],
    )
    assert rows("exchanges") == (
        exchange_headings,
        [
            a_c,
            (
                "exchange",
                w.exchanges["a_b"].id,
                ["2026-06-15", "Aveiro", "Braga", "Study visit", "No"],
            ),
            (
                "exchange",
                w.exchanges["e_d"].id,
                ["2026-09-09", "Enugu", "Dakar Region", "Study visit", "No"],
            ),
        ],
    )
    assert rows("exchanges_cross_region") == (exchange_headings, [a_c])
    assert rows("agreements") == (
        ["Signed", "Agreement", "Kind", "Parties"],
        [
            (
                "agreement",
                w.agreements["a"].id,
                [
                    "2026-03-01",
                    "Aveiro clean air MoU",
                    "Memorandum of understanding",
                    "Aveiro, Air Lab, The secretariat",
                ],
            ),
            (
                "agreement",
                w.agreements["bc"].id,
                [
                    "2026-10-20",
                    "Four-party cooperation",
                    "Cooperation agreement",
                    "Braga, Cotonou, Air Lab, Green Fund",
                ],
            ),
        ],
    )
    assert rows("partners") == (
        ["Partner", "Country"],
        [
            ("partner", w.partners["p1"].id, ["Air Lab", "DE"]),
            ("partner", w.partners["p2"].id, ["Green Fund", ""]),
        ],
    )
    commitment_headings = ["Member", "Commitment", "Status", "Target date"]
    assert rows("commitments_achieved") == (
        commitment_headings,
        [
            (
                "commitment",
                w.commitments["a"].id,
                ["Aveiro", "Low emission zone", "Achieved", "2026-12-31"],
            )
        ],
    )
    assert rows("commitments_in_progress") == (
        commitment_headings,
        [
            ("commitment", w.commitments["c"].id, ["Cotonou", "Bus corridors", "In progress", ""]),
            (
                "commitment",
                w.commitments["d_off"].id,
                ["Dakar Region", "Regional heat plan", "Off track", "2027-06-30"],
            ),
        ],
    )
    assert rows("participation") == (
        ["Member", "Level", "Score"],
        [
            ("member", w.a.id, ["Aveiro", "Leading", "87.5"]),
            ("member", w.b.id, ["Braga", "Active", "65"]),
            ("member", w.c.id, ["Cotonou", "At risk", "35"]),
            ("member", w.d.id, ["Dakar Region", "Not scored", ""]),
        ],
    )
    assert rows("reporting") == (
        ["Cycle", "Member", "Status"],
        [
            ("member", w.a.id, ["Annual report 2026", "Aveiro", "Submitted"]),
            ("member", w.b.id, ["Annual report 2026", "Braga", "Verified"]),
            ("member", w.c.id, ["Annual report 2026", "Cotonou", "Draft"]),
            ("member", w.d.id, ["Annual report 2026", "Dakar Region", "Not started"]),
        ],
    )


def test_records_of_an_empty_list_and_of_an_unknown_list(db):
    assert queries.records(db, "partners", []) == (["Partner", "Country"], [])
    with pytest.raises(KeyError):
        queries.records(db, "secrets", [1])


def test_indicator_figures_are_plain_decimal_strings(db, world):
    [indicator] = figures_of(db, world.programme)["indicators"]

    assert (indicator["value"], indicator["target"], indicator["progress_pct"]) == (
        "500",
        "1000",
        "50",
    )


def test_a_round_participation_score_is_shown_in_plain_notation(db, world):
    world.scores["a"].total = Decimal("90")
    db.flush()
    _headings, rows = queries.records(db, "participation", [world.scores["a"].id])

    assert rows[0].cells == ["Aveiro", "Leading", "90"]


def test_the_number_of_statements_does_not_grow_with_the_records(db, world, count_queries):
    everyone = programme(
        db, name="Everyone", coverage=Coverage.ALL, indicators=[(world.indicator, "1000")]
    )
    scope = queries.scope_of(db, everyone, parse_period("2026"))
    queries.figures(db, everyone, scope)  # the programme's indicators are loaded once
    with count_queries() as before:
        queries.figures(db, everyone, scope)
    for n in range(15):
        member = MemberFactory(region=world.africa if n % 2 else world.europe)
        attend(world.events["forum"], member, people=2)
        PeerExchangeFactory(from_member=member, to_member=world.a, occurred_on=date(2026, 8, n + 1))
        CommitmentFactory(member=member, status=CommitmentStatus.IN_PROGRESS)
    scope = queries.scope_of(db, everyone, parse_period("2026"))
    with count_queries() as after:
        figures = queries.figures(db, everyone, scope)

    assert figures["members"]["total"] == 20
    assert figures["events"]["attendances"] == 4 + 30
    assert after.count == before.count


# --- sizes ----------------------------------------------------------------------------------


def test_size_bands_follow_population_and_kind_at_their_boundaries(db):
    europe = region("Europe", 1)
    members = [
        MemberFactory(region=europe, population=queries.LARGE_CITY),
        MemberFactory(region=europe, population=queries.LARGE_CITY - 1),
        MemberFactory(region=europe, population=queries.MEDIUM_CITY),
        MemberFactory(region=europe, population=queries.MEDIUM_CITY - 1),
        MemberFactory(region=europe, population=None),
        MemberFactory(region=europe, kind=MemberKind.RURAL_AREA, population=2_000_000),
        MemberFactory(region=europe, kind=MemberKind.REGION_OR_STATE, population=10),
        MemberFactory(region=None, kind=MemberKind.METROPOLITAN_AUTHORITY, population=900_000),
    ]
    prog = programme(db, members=members)

    figures = figures_of(db, prog)

    assert figures["members"] == {
        "total": 8,
        "by_region": [
            {
                "region": "Europe",
                "sizes": {
                    "large": 1,
                    "medium": 2,
                    "small": 1,
                    "unknown": 1,
                    "rural": 1,
                    "regional": 1,
                },
                "total": 7,
            },
            {"region": None, "sizes": {"large": 1}, "total": 1},
        ],
        "by_size": {"large": 2, "medium": 2, "small": 1, "rural": 1, "regional": 1, "unknown": 1},
    }
    assert list(figures["members"]["by_size"]) == list(
        band for band in queries.SIZES if band in figures["members"]["by_size"]
    )
    _headings, rows = queries.records(db, "members", [members[-1].id, members[4].id])
    assert sorted(tuple(r.cells[2:]) for r in rows) == [
        ("Europe", "Population not recorded"),
        ("No region", LARGE),
    ]


# --- periods --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026", Period("2026", date(2026, 1, 1), date(2026, 12, 31))),
        ("2026-H1", Period("2026-H1", date(2026, 1, 1), date(2026, 6, 30))),
        (" 2026-h2 ", Period("2026-H2", date(2026, 7, 1), date(2026, 12, 31))),
        ("2026-H3", None),
        ("2026-Q1", None),
        ("26", None),
        ("1899", None),
        ("twenty", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_period(text, expected):
    assert parse_period(text) == expected


def test_reporting_periods_are_those_inside_the_period():
    assert parse_period("2026").reporting_periods() == [
        "2026",
        "2026-H1",
        "2026-H2",
        "2026-Q1",
        "2026-Q2",
        "2026-Q3",
        "2026-Q4",
    ]
    assert parse_period("2026-H1").reporting_periods() == ["2026-H1", "2026-Q1", "2026-Q2"]
    assert parse_period("2026-H2").reporting_periods() == ["2026-H2", "2026-Q3", "2026-Q4"]


def test_a_half_year_counts_only_its_own_months(db, world):
    w = world
    june = event_at(at(2026, 6, 30, 22), "Last day of June")
    attend(june, w.b)
    july = event_at(at(2026, 7, 2), "July workshop")
    attend(july, w.b)
    mid_year = ReportingCycleFactory(
        name="Mid-year 2026",
        period="2026-H1",
        opens_on=date(2026, 7, 1),
        due_on=date(2026, 7, 31),
        state=CycleState.OPEN,
    )
    CycleMemberFactory(cycle=mid_year, member=w.a)
    CycleMemberFactory(cycle=mid_year, member=w.b)
    submit(mid_year, w.a, w.indicator, "40", SubmissionStatus.SUBMITTED)

    first, second = figures_of(db, w.programme, "2026-H1"), figures_of(db, w.programme, "2026-H2")

    assert first["lists"]["events"] == sorted([w.events["forum"].id, june.id])
    assert first["events"] == {
        "held": 2,
        "attendances": 4,
        "members_attending": 3,
        "members_attending_share": "0.7500",
    }
    assert second["lists"]["events"] == [july.id]
    assert first["lists"]["exchanges"] == [w.exchanges["a_c"].id, w.exchanges["a_b"].id]
    assert second["lists"]["exchanges"] == [w.exchanges["e_d"].id]
    assert second["exchanges"] == {"total": 1, "cross_region": 0, "cross_region_share": "0.0000"}
    assert first["lists"]["agreements"] == [w.agreements["a"].id]
    assert first["agreements"] == {"signed": 1, "partners": 1, "members": 1}
    assert second["lists"]["agreements"] == [w.agreements["bc"].id]
    assert second["agreements"] == {"signed": 1, "partners": 2, "members": 2}
    assert first["lists"]["commitments_achieved"] == [w.commitments["a"].id]
    assert second["commitments"]["achieved"] == 0
    # The half's own cycle and values; the year's cycle and values are not the half's.
    assert first["completeness"] == {
        "cycles": ["Mid-year 2026"],
        "asked": 2,
        "submitted": 1,
        "rate": "0.5000",
    }
    assert second["completeness"] == {"cycles": [], "asked": 0, "submitted": 0, "rate": None}
    assert Decimal(first["indicators"][0]["value"]) == 40
    assert first["indicators"][0]["reporting"] == 1
    assert second["indicators"][0]["value"] is None
    assert second["indicators"][0]["progress_pct"] is None
    # The year asks in its own cycle and in its halves'.
    assert figures_of(db, w.programme, "2026")["completeness"] == {
        "cycles": ["Mid-year 2026", "Annual report 2026"],
        "asked": 6,
        "submitted": 3,
        "rate": "0.5000",
    }


# --- the network's time zone ----------------------------------------------------------------

NEW_YEARS_EVE = at(2025, 12, 31, 23, 30)  # already 1 January 2026 in Tokyo
LAST_EVENING = at(2026, 12, 31, 20)  # 1 January 2027 in Tokyo
AFTER_MIDNIGHT = at(2027, 1, 1, 1)  # still 31 December 2026 in São Paulo


@pytest.mark.parametrize(
    ("app_overrides", "counted", "days"),
    [
        ({"TIMEZONE": "Asia/Tokyo"}, ["eve"], ["2026-01-01"]),
        ({"TIMEZONE": "UTC"}, ["last"], ["2026-12-31"]),
        ({"TIMEZONE": "America/Sao_Paulo"}, ["last", "after"], ["2026-12-31"] * 2),
    ],
    ids=["tokyo", "utc", "sao-paulo"],
)
def test_days_are_those_of_the_network_zone(db, app_overrides, counted, days):
    """An event, and a commitment marked achieved, at the same instants near the new year."""
    member = MemberFactory()
    prog = programme(db, members=[member])
    events, commitments = {}, {}
    for name, instant in (
        ("eve", NEW_YEARS_EVE),
        ("last", LAST_EVENING),
        ("after", AFTER_MIDNIGHT),
    ):
        events[name] = event_at(instant, f"Event {name}")
        attend(events[name], member)
        commitments[name] = CommitmentFactory(member=member, status=CommitmentStatus.ACHIEVED)
        CommitmentUpdateFactory(
            commitment=commitments[name], status=CommitmentStatus.ACHIEVED, created_at=instant
        )

    lists = figures_of(db, prog)["lists"]

    assert lists["events"] == sorted(events[name].id for name in counted)
    _headings, rows = queries.records(db, "events", lists["events"])
    assert [row.cells[0] for row in rows] == days
    assert lists["commitments_achieved"] == sorted(commitments[name].id for name in counted)


# --- coverage -------------------------------------------------------------------------------


def test_coverage_all_counts_every_active_member(db, world):
    w = world
    lapsed = MemberFactory(status=MemberStatus.LAPSED, region=w.africa)
    attend(w.events["forum"], lapsed)
    everyone = programme(
        db, name="Everyone", coverage=Coverage.ALL, indicators=[(w.indicator, "1000")]
    )

    figures = figures_of(db, everyone)

    assert figures["lists"]["members"] == sorted(m.id for m in [w.a, w.b, w.c, w.d, w.e])
    assert figures["members"]["by_region"] == [
        {"region": "Europe", "sizes": {"large": 1, "medium": 1}, "total": 2},
        {"region": "Africa", "sizes": {"large": 1, "small": 1, "regional": 1}, "total": 3},
    ]
    assert figures["events"] == {
        "held": 2,
        "attendances": 4,
        "members_attending": 3,
        "members_attending_share": "0.6000",
    }
    assert figures["exchanges"] == {"total": 3, "cross_region": 1, "cross_region_share": "0.3333"}
    assert figures["agreements"] == {"signed": 3, "partners": 3, "members": 4}
    assert figures["commitments"]["in_progress"] == 3
    assert figures["commitments"]["total"] == 6
    assert Decimal(figures["indicators"][0]["value"]) == 5500
    assert figures["indicators"][0]["reporting"] == 3
    assert figures["indicators"][0]["expected"] == 5
    assert [level["count"] for level in figures["participation"]["levels"]] == [2, 1, 0, 1]
    assert figures["participation"]["not_scored"] == 1
    assert figures["completeness"]["asked"] == 5
    assert figures["completeness"]["submitted"] == 3
    assert figures["completeness"]["rate"] == "0.6000"


def test_coverage_group_counts_the_current_members_of_the_group(db, world):
    w = world
    group = WorkingGroupFactory(name="Clean air")
    GroupMembershipFactory(group=group, member=w.a)
    GroupMembershipFactory(group=group, member=w.c)
    GroupMembershipFactory(group=group, member=w.b, left_on=date(2026, 1, 31))
    grouped = programme(
        db,
        name="Grouped",
        coverage=Coverage.GROUP,
        group_id=group.id,
        indicators=[(w.indicator, "1000")],
    )

    figures = figures_of(db, grouped)

    assert figures["lists"]["members"] == sorted([w.a.id, w.c.id])
    assert figures["members"]["by_size"] == {"large": 1, "small": 1}
    assert figures["events"] == {
        "held": 1,
        "attendances": 3,
        "members_attending": 2,
        "members_attending_share": "1.0000",
    }
    assert figures["exchanges"] == {"total": 2, "cross_region": 1, "cross_region_share": "0.5000"}
    assert figures["agreements"] == {"signed": 2, "partners": 2, "members": 2}
    assert figures["commitments"] == {
        "achieved": 1,
        "in_progress": 1,
        "off_track": 0,
        "planned": 0,
        "achieved_to_date": 1,
        "total": 2,
    }
    assert Decimal(figures["indicators"][0]["value"]) == 300
    assert (figures["indicators"][0]["reporting"], figures["indicators"][0]["expected"]) == (1, 2)
    assert figures["participation"]["scored"] == 2
    assert figures["participation"]["not_scored"] == 0
    assert figures["completeness"] == {
        "cycles": ["Annual report 2026"],
        "asked": 2,
        "submitted": 1,
        "rate": "0.5000",
    }


def test_a_programme_covering_nobody_gives_zeros(db, world):
    nobody = ProgrammeFactory(name="Nobody yet", coverage=Coverage.CHOSEN)
    ProgrammeIndicatorFactory(programme=nobody, indicator=world.indicator, target=Decimal(1000))
    db.flush()

    figures = figures_of(db, nobody)

    assert figures["members"] == {"total": 0, "by_region": [], "by_size": {}}
    assert figures["events"] == {
        "held": 0,
        "attendances": 0,
        "members_attending": 0,
        "members_attending_share": None,
    }
    assert figures["exchanges"] == {"total": 0, "cross_region": 0, "cross_region_share": None}
    assert figures["agreements"] == {"signed": 0, "partners": 0, "members": 0}
    assert figures["commitments"] == {
        "achieved": 0,
        "in_progress": 0,
        "off_track": 0,
        "planned": 0,
        "achieved_to_date": 0,
        "total": 0,
    }
    [indicator] = figures["indicators"]
    assert (indicator["value"], indicator["progress_pct"], indicator["on_target"]) == (
        None,
        None,
        None,
    )
    assert (indicator["reporting"], indicator["expected"]) == (0, 0)
    assert figures["participation"]["scored"] == 0
    assert figures["participation"]["not_scored"] == 0
    assert figures["completeness"] == {
        "cycles": ["Annual report 2026"],
        "asked": 0,
        "submitted": 0,
        "rate": None,
    }
    assert all(found == [] for found in figures["lists"].values())
    # The whole snapshot is built without dividing by zero, its appendix empty.
    built = snapshot.build(db, nobody, parse_period("2026"))
    assert all(table["rows"] == [] for table in built["appendix"].values())


def test_participation_not_computed_for_the_year(db, world):
    figures = figures_of(db, world.programme, "2025")

    assert figures["participation"] == {"year": 2025, "computed": False}
    assert figures["lists"]["participation"] == []


# --- indicators -----------------------------------------------------------------------------


def test_indicator_aggregations_directions_and_network_values(db, world):
    w = world

    def indicator(code, **fields):
        return IndicatorFactory(code=code, name=code, **fields)

    mean = indicator("MEAN", aggregation=Aggregation.MEAN, direction=Direction.HIGHER_IS_BETTER)
    median = indicator("MEDIAN", aggregation=Aggregation.MEDIAN, direction=Direction.NONE)
    lower = indicator("LOWER", aggregation=Aggregation.SUM, direction=Direction.LOWER_IS_BETTER)
    network = indicator(
        "NET",
        level=Level.NETWORK,
        aggregation=Aggregation.NONE,
        direction=Direction.HIGHER_IS_BETTER,
    )
    untargeted = indicator("FREE", aggregation=Aggregation.SUM)
    for ind, values in (
        (mean, {w.a: "300", w.b: "200", w.e: "9000"}),
        (median, {w.a: "1", w.b: "5", w.c: "9"}),
        (lower, {w.a: "400", w.b: "400"}),
        (untargeted, {w.a: "7"}),
    ):
        cycle = ReportingCycleFactory(
            name=f"Cycle {ind.code}", period="2026", state=CycleState.OPEN
        )
        for member, value in values.items():
            submit(cycle, member, ind, value, SubmissionStatus.VERIFIED)
    db.add(NetworkValue(indicator=network, period="2026", number_value=Decimal("1200")))
    db.add(NetworkValue(indicator=network, period="2025", number_value=Decimal("1")))
    prog = programme(
        db,
        name="Indicators",
        members=w.covered,
        indicators=[
            (mean, "500"),
            (median, "5"),
            (lower, "400"),
            (network, "1000"),
            (untargeted, None),
        ],
    )

    found = {i["code"]: i for i in figures_of(db, prog)["indicators"]}

    assert list(found) == ["MEAN", "MEDIAN", "LOWER", "NET", "FREE"]
    assert as_decimals(found["MEAN"]) == {
        "value": Decimal(250),
        "target": Decimal(500),
        "progress_pct": Decimal(50),
    }
    assert (found["MEAN"]["reporting"], found["MEAN"]["on_target"]) == (2, False)
    assert Decimal(found["MEDIAN"]["value"]) == 5
    assert found["MEDIAN"]["on_target"] is None  # no direction: it cannot say
    # Lower is better: 800 against a target of 400 is half way.
    assert as_decimals(found["LOWER"]) == {
        "value": Decimal(800),
        "target": Decimal(400),
        "progress_pct": Decimal(50),
    }
    assert found["LOWER"]["on_target"] is False
    assert as_decimals(found["NET"]) == {
        "value": Decimal(1200),
        "target": Decimal(1000),
        "progress_pct": Decimal(120),
    }
    assert (found["NET"]["reporting"], found["NET"]["expected"], found["NET"]["on_target"]) == (
        0,
        0,
        True,
    )
    assert (found["FREE"]["target"], found["FREE"]["progress_pct"]) == (None, None)
    assert Decimal(found["FREE"]["value"]) == 7


def test_an_exchange_with_a_member_without_region_is_not_across_regions(db, world):
    nowhere = MemberFactory(region=None)
    exchange = PeerExchangeFactory(
        from_member=world.a,
        to_member=nowhere,
        occurred_on=date(2026, 3, 3),
        status=ExchangeStatus.CONFIRMED,
    )

    figures = figures_of(db, world.programme)

    assert exchange.id in figures["lists"]["exchanges"]
    assert exchange.id not in figures["lists"]["exchanges_cross_region"]
    assert figures["exchanges"]["cross_region"] == 1
