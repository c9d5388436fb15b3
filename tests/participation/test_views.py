"""The participation pages through real requests: the years, a year's overview, its scores and
exports, computing, finalising and reopening, the method and the network's setting, regional
recognition, the members at risk and the scorecards, and their query counts.

The network below is measured for 2025 on 1 February 2026. With the default method (and no
reporting cycle, commitment or follow-up, so those criteria are left out), its scores are:

=========  ======  =====================  ======================  ========  ==============
member     region  attendance             groups / exchanges      total     conditions
=========  ======  =====================  ======================  ========  ==============
Lisbon     North   2 of 2 events: 100     0 / 1 (25 points)       61.11     meets
Lyon       North   2 of 2: 100            0 / 0                   55.56     meets
Porto      North   1 of 2 (50 %): 66.67   1 group (50) / 0        48.15     warning
Nairobi    South   1 of 1: 100            0 / 0                   55.56     meets
Accra      South   0 of 1: 0              0 / 1 (25)              5.56      not met
Dakar      South   not invited: left out  0 / 0                   0.00      not met
=========  ======  =====================  ======================  ========  ==============

Quito joined in 2026 and is not measured in 2025. The 2024 totals are written directly.
"""

from __future__ import annotations

import csv
import html
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from secretariat.accounts.models import User
from secretariat.clock import network_today
from secretariat.events.models import Attendance, AttendanceSource, Event, Invitation
from secretariat.events.models import Audience as EventAudience
from secretariat.exchanges.models import PeerExchange
from secretariat.members.models import Member
from secretariat.participation import scoring, services
from secretariat.participation.models import (
    ConditionsOutcome,
    CriterionKind,
    Level,
    ParticipationScore,
    ParticipationSettings,
    SchemeAction,
    SchemeEvent,
    SchemeState,
    ScoringScheme,
)
from secretariat.vocabularies.models import Term
from tests.factories import (
    ContactFactory,
    EventFactory,
    GroupMembershipFactory,
    MemberFactory,
    PeerExchangeFactory,
    TermFactory,
    UserFactory,
    WorkingGroupFactory,
)

#: When 2025 is measured: every 2025 deadline has passed.
NOW = datetime(2026, 2, 1, tzinfo=UTC)
D = Decimal


# --- the network --------------------------------------------------------------------------


@dataclass
class Network:
    north: Term
    south: Term
    staff: User
    admin: User
    focal: User
    lisbon: Member
    lyon: Member
    porto: Member
    nairobi: Member
    accra: Member
    dakar: Member
    quito: Member
    spring: Event
    summer: Event
    exchange: PeerExchange
    previous: ScoringScheme
    scheme: ScoringScheme


def invite(db, event: Event, member: Member, attended: bool | None = None) -> None:
    db.add(Invitation(event_id=event.id, member_id=member.id, audience=EventAudience.CHOSEN))
    if attended is not None:
        db.add(
            Attendance(
                event_id=event.id,
                member_id=member.id,
                contact_id=None,
                attended=attended,
                source=AttendanceSource.MANUAL,
            )
        )
    db.flush()


def event_on(day: date, title: str) -> Event:
    starts = datetime(day.year, day.month, day.day, 10, tzinfo=UTC)
    return EventFactory(title=title, starts_at=starts, ends_at=starts + timedelta(hours=2))


def insert_score(
    db,
    scheme: ScoringScheme,
    member: Member,
    total: str | None,
    level: Level | None = None,
    outcome: ConditionsOutcome = ConditionsOutcome.MEETS,
    weight_used: int = 45,
) -> ParticipationScore:
    """A score written directly, with the level the default thresholds give unless told."""
    value = None if total is None else D(total)
    if level is None and value is not None:
        level = scoring.level(value, 80, 60, 40)
    row = ParticipationScore(
        scheme_id=scheme.id,
        member_id=member.id,
        region_id=member.region_id,
        total=value,
        level=level,
        conditions_outcome=outcome,
        conditions_missed={"meets": 0, "warning": 1, "not_met": 2}[outcome.value],
        weight_used=weight_used if value is not None else 0,
        computed_at=NOW,
    )
    db.add(row)
    db.flush()
    return row


def build_network(db) -> Network:
    north = TermFactory(label="North", position=1)
    south = TermFactory(label="South", position=2)
    staff = UserFactory(name="Sofia Staff")
    admin = UserFactory(name="Ada Admin", admin=True)

    def city(name: str, region: Term, **fields) -> Member:
        return MemberFactory(name=name, slug=name.lower(), region=region, **fields)

    lisbon, lyon, porto = city("Lisbon", north), city("Lyon", north), city("Porto", north)
    nairobi, accra, dakar = city("Nairobi", south), city("Accra", south), city("Dakar", south)
    quito = city("Quito", south, joined_on=date(2026, 3, 1))
    focal = UserFactory(focal_point=True, member=lisbon, name="Luisa Lisbon")
    ContactFactory(member=lisbon, name="Luisa Lisbon", email=focal.email, is_primary=True)
    ContactFactory(member=lyon, is_primary=True)
    # Nairobi's primary focal point was in office through 2025, but left in January 2026.
    ContactFactory(member=nairobi, is_primary=True, active_to=date(2026, 1, 15))
    ContactFactory(member=porto, is_primary=False)
    # Lyon elects a new leader within six months of today.
    lyon.next_election_on = network_today() + timedelta(days=90)

    spring = event_on(date(2025, 3, 10), "Spring Assembly")
    summer = event_on(date(2025, 6, 10), "Summer School")
    for member, attended in ((lisbon, True), (lyon, True), (porto, True)):
        invite(db, spring, member, attended)
    for member, attended in ((lisbon, True), (lyon, True), (porto, False)):
        invite(db, summer, member, attended)
    invite(db, spring, nairobi, True)
    invite(db, spring, accra, False)
    exchange = PeerExchangeFactory(
        from_member=lisbon, to_member=accra, occurred_on=date(2025, 5, 12)
    )
    GroupMembershipFactory(group=WorkingGroupFactory(name="Coastal Cities"), member=porto)

    previous = services.create_scheme(db, None, 2024)
    for member, total in (
        (lisbon, "65"),
        (porto, "70"),
        (lyon, "35"),
        (accra, "30"),
        (dakar, "20"),
    ):
        insert_score(db, previous, member, total)
    scheme = services.create_scheme(db, None, 2025)
    # The method was settled before the year was measured.
    scheme.edited_at = NOW - timedelta(days=1)
    services.compute(db, None, scheme, now=NOW)
    db.flush()
    return Network(
        north,
        south,
        staff,
        admin,
        focal,
        lisbon,
        lyon,
        porto,
        nairobi,
        accra,
        dakar,
        quito,
        spring,
        summer,
        exchange,
        previous,
        scheme,
    )


@pytest.fixture
def network(db) -> Network:
    return build_network(db)


@pytest.fixture
def as_staff(network, auth) -> Network:
    auth.login(network.staff)
    return network


@pytest.fixture
def as_admin(network, auth) -> Network:
    auth.login(network.admin)
    return network


# --- reading pages ------------------------------------------------------------------------


def text(response) -> str:
    """The page's HTML with entities decoded, for assertions on visible text."""
    return html.unescape(response.get_data(as_text=True))


def plain(fragment: str) -> str:
    """The visible words of an HTML fragment, on one line."""
    return " ".join(re.sub(r"<[^>]+>", " ", fragment).split())


def section(page: str, title_id: str) -> str:
    match = re.search(
        rf'<section aria-labelledby="{title_id}">(.*?)</section>', page, flags=re.DOTALL
    )
    assert match, f"no section {title_id}"
    return match.group(1)


def rows(fragment: str) -> list[list[str]]:
    """The text of the cells of each table row that has data cells."""
    found = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", fragment, flags=re.DOTALL):
        cells = re.findall(r"<t([dh])[^>]*>(.*?)</t[dh]>", row, flags=re.DOTALL)
        if any(kind == "d" for kind, _cell in cells):
            found.append([plain(cell) for _kind, cell in cells])
    return found


def names(page: str) -> list[str]:
    """The first cell of each row: the members of a list of scores."""
    return [row[0] for row in rows(page)]


def flashes(client, response) -> str:
    """The page a redirect leads to, where the flashed messages are shown."""
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    return text(client.get(response.headers["Location"]))


def scores_of(db, scheme: ScoringScheme) -> dict[str, tuple]:
    db.expire_all()
    found = db.execute(
        select(Member.name, ParticipationScore.total, ParticipationScore.level)
        .join(Member, Member.id == ParticipationScore.member_id)
        .where(ParticipationScore.scheme_id == scheme.id)
    ).all()
    return {name: (total, level) for name, total, level in found}


def fresh_scheme(db, scheme: ScoringScheme) -> ScoringScheme:
    db.expire_all()
    return db.get(ScoringScheme, scheme.id)


def history(db, scheme: ScoringScheme) -> list[SchemeAction]:
    return list(
        db.scalars(
            select(SchemeEvent.action)
            .where(SchemeEvent.scheme_id == scheme.id)
            .order_by(SchemeEvent.id)
        )
    )


def scheme_form(scheme: ScoringScheme, changes: dict | None = None) -> dict:
    """The year's method as its page posts it; ``changes`` overrides fields by name."""
    data: dict = {}
    for criterion in scheme.criteria:
        prefix = criterion.kind.value
        data[f"{prefix}-weight"] = str(criterion.weight)
        data[f"{prefix}-floor"] = str(criterion.floor)
        data[f"{prefix}-target"] = str(criterion.target)
        data[f"{prefix}-bonus"] = "" if criterion.bonus is None else str(criterion.bonus)
    data.update(
        leading_from=str(scheme.leading_from),
        active_from=str(scheme.active_from),
        engaged_from=str(scheme.engaged_from),
        recognition_size=str(scheme.recognition_size),
        conditions=[condition.kind.value for condition in scheme.conditions],
    )
    data.update(changes or {})
    return data


def method(db, scheme: ScoringScheme) -> tuple:
    """The year's method, read again from the database."""
    scheme = fresh_scheme(db, scheme)
    return (
        [(c.kind, c.weight, c.floor, c.target, c.bonus) for c in scheme.criteria],
        sorted(c.kind for c in scheme.conditions),
        (scheme.leading_from, scheme.active_from, scheme.engaged_from, scheme.recognition_size),
        scheme.edited_at,
    )


# --- the network as computed --------------------------------------------------------------


def test_the_network_scores_as_worked_out_by_hand(db, network):
    assert scores_of(db, network.scheme) == {
        "Lisbon": (D("61.11"), Level.ACTIVE),
        "Lyon": (D("55.56"), Level.ENGAGED),
        "Porto": (D("48.15"), Level.ENGAGED),
        "Nairobi": (D("55.56"), Level.ENGAGED),
        "Accra": (D("5.56"), Level.AT_RISK),
        "Dakar": (D("0.00"), Level.AT_RISK),
    }
    outcomes = dict(
        db.execute(
            select(Member.name, ParticipationScore.conditions_outcome)
            .join(Member, Member.id == ParticipationScore.member_id)
            .where(ParticipationScore.scheme_id == network.scheme.id)
        ).all()
    )
    assert outcomes == {
        "Lisbon": ConditionsOutcome.MEETS,
        "Lyon": ConditionsOutcome.MEETS,
        "Porto": ConditionsOutcome.WARNING,
        "Nairobi": ConditionsOutcome.MEETS,
        "Accra": ConditionsOutcome.NOT_MET,
        "Dakar": ConditionsOutcome.NOT_MET,
    }
    assert not network.scheme.scores_out_of_date


# --- the years ----------------------------------------------------------------------------


def test_index_lists_the_years_with_their_figures(client, as_staff):
    page = text(client.get("/participation/"))
    table = rows(section(page, "years-title"))
    # Year, state, members measured, average, at risk, conditions not met, computed.
    assert [row[:6] for row in table] == [
        ["2025", "Provisional", "6", "37.66", "2", "2"],
        ["2024", "Provisional", "5", "44", "3", "0"],
    ]
    assert table[1][6] == "not yet"
    assert 'href="/participation/2025"' in page
    # Staff start years; only administrators change the network's setting.
    assert 'action="/participation/years"' in page
    assert 'action="/participation/settings"' not in page


def test_admin_sees_the_network_setting(client, as_admin):
    page = text(client.get("/participation/"))
    assert 'action="/participation/settings"' in page
    assert "Show the regional recognition list to members' focal points" in page


def test_create_a_year_from_the_latest_method(db, client, as_staff):
    response = client.post("/participation/years", data={"year": "2026"})
    assert response.headers["Location"] == "/participation/2026"
    assert "The 2026 scheme is ready: compute the scores when you wish." in flashes(
        client, response
    )
    created = db.scalar(select(ScoringScheme).where(ScoringScheme.year == 2026))
    assert created.state is SchemeState.PROVISIONAL
    assert created.computed_at is None
    assert [(c.kind, c.weight) for c in created.criteria] == [
        (c.kind, c.weight) for c in as_staff.scheme.criteria
    ]
    assert [(e.action, e.comment, e.actor_id) for e in created.history] == [
        (SchemeAction.CREATED, "Copied from 2025.", as_staff.staff.id)
    ]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("2025", "2025 already has a scheme."),
        ("abc", "Enter a year such as 2025."),
        ("", "Enter a year such as 2025."),
        ("1999", "Enter a year between 2000 and 2100."),
        ("20255", "Enter a year such as 2025."),
        ("²⁰²⁶", "Enter a year such as 2025."),
    ],
)
def test_create_a_year_refused(db, client, as_staff, typed, message):
    before = db.scalar(select(func.count()).select_from(ScoringScheme))
    response = client.post("/participation/years", data={"year": typed})
    assert response.status_code == 422
    page = text(response)
    assert message in page
    assert 'id="year-error"' in page
    # The years are still listed on the page shown again.
    assert 'href="/participation/2025"' in page
    assert db.scalar(select(func.count()).select_from(ScoringScheme)) == before


def test_a_year_without_a_scheme_is_not_found(client, as_staff):
    for path in (
        "/participation/2030",
        "/participation/2030/scores",
        "/participation/2030/scores.csv",
        "/participation/2030/scheme",
        "/participation/2030/recognition",
        "/participation/2030/at-risk",
        f"/participation/2030/members/{as_staff.lisbon.id}",
    ):
        assert client.get(path).status_code == 404, path
    assert client.post("/participation/2030/compute").status_code == 404


# --- a year's overview --------------------------------------------------------------------


def test_year_overview_shows_levels_compared_with_last_year(client, as_staff):
    page = text(client.get("/participation/2025"))
    assert "<h1>Participation 2025</h1>" in page
    levels = section(page, "levels-title")
    figures = plain(levels)
    assert "6 members measured" in figures
    assert "37.66 average score (2024: 44)" in figures
    assert "2 do not meet the conditions" in figures
    # Level, members, share, bar, last year.
    assert [[row[0], row[1], row[2], row[4]] for row in rows(levels)] == [
        ["Leading", "0", "0%", "0"],
        ["Active", "1", "17%", "2"],
        ["Engaged", "3", "50%", "0"],
        ["At risk", "2", "33%", "3"],
    ]
    assert 'href="/participation/2025/scores?level=engaged"' in levels
    assert (
        "Of the 5 members scored in both years, 1 moved up a level, 1 moved down and 3 kept "
        "theirs; the average change is -9.92 points."
    ) in figures


def test_year_overview_shows_regions_conditions_and_criteria(client, as_staff):
    page = text(client.get("/participation/2025"))
    # Region, leading, active, engaged, at risk, not scored, average.
    assert rows(section(page, "regions-title")) == [
        ["North", "0", "1", "2", "0", "0", "54.94"],
        ["South", "0", "0", "1", "2", "0", "20.37"],
    ]
    conditions = plain(section(page, "conditions-title"))
    assert "Meets the conditions : 3" in conditions
    assert "Warning: one condition missed : 1" in conditions
    assert "Conditions not met : 2" in conditions
    criteria = {row[0]: row[1:] for row in rows(section(page, "criteria-title"))}
    # Weight, average points, members measured, left out.
    assert criteria["Event attendance"] == ["25", "73.33", "5", "1"]
    assert criteria["Reporting on time"] == ["20", "—", "0", "6"]
    assert criteria["Peer exchanges"] == ["10", "8.33", "6", "0"]


def test_the_first_year_has_no_change_to_show(db, client, as_staff):
    first = services.create_scheme(db, None, 2020)
    services.compute(db, None, first, now=datetime(2021, 2, 1, tzinfo=UTC))
    page = text(client.get("/participation/2020"))
    assert "2019 was not measured, so there is no change to show." in page


def test_a_year_not_computed_yet(db, client, as_staff):
    services.create_scheme(db, None, 2026)
    page = text(client.get("/participation/2026"))
    assert "No scores yet for 2026. Compute them to see the overview." in page
    assert 'action="/participation/2026/compute"' in page
    # Neither finalising nor exporting before there are scores.
    assert "/participation/2026/finalise" not in page
    assert "/participation/2026/scores.csv" not in page


def test_a_year_where_no_criterion_had_data(db, client, as_staff):
    """In 2021 no event, cycle, group or exchange: nobody could be scored."""
    scheme = services.create_scheme(db, None, 2021)
    services.compute(db, None, scheme, now=datetime(2022, 2, 1, tzinfo=UTC))
    page = text(client.get("/participation/2021"))
    levels = rows(section(page, "levels-title"))
    assert levels[-1][:3] == ["Not scored", "6", "100%"]
    assert "— average score" in plain(section(page, "levels-title"))
    scores = text(client.get("/participation/2021/scores?level=none"))
    assert len(rows(scores)) == 6
    card = client.get(f"/participation/2021/members/{as_staff.lisbon.id}")
    assert card.status_code == 200
    card = text(card)
    assert "— score out of 100" in plain(card)
    assert "Not scored" in card
    assert (
        "7 criteria had no data and were left out; the weights of the others count in their "
        "place (0 of 100 weight points used)."
    ) in plain(card)
    assert client.get("/participation/2021/recognition").status_code == 200
    assert client.get("/participation/2021/at-risk").status_code == 200


# --- the list of scores -------------------------------------------------------------------


def test_scores_list_highest_first_with_change_from_last_year(client, as_staff):
    page = text(client.get("/participation/2025/scores"))
    assert "6 members" in page
    table = rows(page)
    assert table[0] == ["Lisbon", "North", "61.11", "Active", "Meets the conditions", "-3.89"]
    assert names(page) == ["Lisbon", "Lyon", "Nairobi", "Porto", "Accra", "Dakar"]
    assert table[2][5] == "—"  # Nairobi was not measured in 2024
    assert table[3][4] == "Warning: one condition missed"
    assert f'href="/participation/2025/members/{as_staff.porto.id}"' in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("level=engaged", ["Lyon", "Nairobi", "Porto"]),
        ("level=at_risk", ["Accra", "Dakar"]),
        ("level=leading", []),
        ("outcome=not_met", ["Accra", "Dakar"]),
        ("outcome=warning", ["Porto"]),
        ("q=por", ["Porto"]),
        ("q=LIS", ["Lisbon"]),
        ("q=%25", []),
        ("level=engaged&outcome=meets", ["Lyon", "Nairobi"]),
        ("order=name", ["Accra", "Dakar", "Lisbon", "Lyon", "Nairobi", "Porto"]),
        ("order=change", ["Accra", "Porto", "Dakar", "Lisbon", "Lyon", "Nairobi"]),
        # Unknown values are ignored.
        ("level=famous&outcome=maybe&order=random&region=x", None),
    ],
)
def test_scores_list_filters_and_orders(client, as_staff, query, expected):
    page = text(client.get(f"/participation/2025/scores?{query}"))
    if expected is None:
        expected = ["Lisbon", "Lyon", "Nairobi", "Porto", "Accra", "Dakar"]
    assert names(page) == expected
    if not expected:
        assert "No member matches." in page


def test_scores_list_filters_by_region(client, as_staff):
    south = as_staff.south.id
    page = text(client.get(f"/participation/2025/scores?region={south}"))
    assert names(page) == ["Nairobi", "Accra", "Dakar"]
    assert f'<option value="{south}" selected>South</option>' in page
    page = text(client.get(f"/participation/2025/scores?region={south}&level=at_risk&q=dak"))
    assert names(page) == ["Dakar"]


def test_scores_list_is_paginated_by_fifty_keeping_the_filters(db, client, as_staff):
    MemberFactory.create_batch(50, region=as_staff.south)
    services.compute(db, None, as_staff.scheme, now=NOW)
    first = text(client.get("/participation/2025/scores"))
    assert "56 members" in first
    assert len(rows(first)) == 50
    assert "Page 1 of 2" in first
    second = text(client.get("/participation/2025/scores?page=2"))
    assert len(rows(second)) == 6
    assert "Dakar" in names(second)

    filtered = text(client.get("/participation/2025/scores?level=at_risk"))
    assert len(rows(filtered)) == 50
    found = re.search(r'href="([^"]+)" rel="next"', filtered)
    assert found, "no link to the next page"
    query = parse_qs(urlsplit(found.group(1)).query)
    assert query == {"level": ["at_risk"], "page": ["2"]}
    last = text(client.get(found.group(1)))
    assert len(rows(last)) == 2
    # Beyond the last page: the last page.
    beyond = text(client.get("/participation/2025/scores?level=at_risk&page=99"))
    assert names(beyond) == names(last)


def test_export_csv_has_every_member_and_the_breakdown(client, as_staff):
    response = client.get("/participation/2025/scores.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "participation-2025.csv" in response.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert table[0] == [
        "year",
        "member",
        "region",
        "total",
        "level",
        "conditions",
        "previous_total",
        *[f"points_{kind.value}" for kind in CriterionKind],
    ]
    by_name = {row[1]: row for row in table[1:]}
    assert sorted(by_name) == ["Accra", "Dakar", "Lisbon", "Lyon", "Nairobi", "Porto"]
    lisbon = dict(zip(table[0], by_name["Lisbon"], strict=True))
    assert lisbon["year"] == "2025"
    assert (lisbon["region"], lisbon["level"], lisbon["conditions"]) == (
        "North",
        "active",
        "meets",
    )
    assert D(lisbon["total"]) == D("61.11")
    assert D(lisbon["previous_total"]) == D("65")
    assert D(lisbon["points_attendance"]) == D("100")
    assert D(lisbon["points_exchanges"]) == D("25")
    assert lisbon["points_reporting_on_time"] == ""
    assert D(by_name["Dakar"][3]) == D("0")
    assert by_name["Nairobi"][6] == ""


def test_export_xlsx_has_every_member_and_the_totals(client, as_staff):
    response = client.get("/participation/2025/scores.xlsx")
    assert response.status_code == 200
    assert "participation-2025.xlsx" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    table = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert table[0][:7] == [
        "year",
        "member",
        "region",
        "total",
        "level",
        "conditions",
        "previous_total",
    ]
    totals = {row[1]: row[3] for row in table[1:]}
    assert totals == pytest.approx(
        {
            "Accra": 5.56,
            "Dakar": 0,
            "Lisbon": 61.11,
            "Lyon": 55.56,
            "Nairobi": 55.56,
            "Porto": 48.15,
        }
    )
    assert [row[1] for row in table[1:]] == sorted(totals)
    assert all(row[0] == 2025 for row in table[1:])


# --- computing, finalising, reopening -----------------------------------------------------


def test_compute_button_computes_again_and_says_so(db, client, as_staff):
    scheme = as_staff.scheme
    before = scores_of(db, scheme)
    # A new event since: Dakar attended it.
    late = event_on(date(2025, 11, 20), "Autumn Forum")
    invite(db, late, as_staff.dakar, True)
    response = client.post("/participation/2025/compute")
    assert response.headers["Location"] == "/participation/2025"
    assert "Scores computed: 6 members measured, 6 with a score." in flashes(client, response)
    after = scores_of(db, scheme)
    assert after["Dakar"][0] > before["Dakar"][0]
    assert {k: v for k, v in after.items() if k != "Dakar"} == {
        k: v for k, v in before.items() if k != "Dakar"
    }
    scheme = fresh_scheme(db, scheme)
    assert scheme.computed_at > NOW
    assert history(db, scheme)[-1] is SchemeAction.COMPUTED
    assert scheme.history[0].actor_id == as_staff.staff.id


def test_finalise_freezes_the_year_and_reopen_needs_a_reason(db, client, as_staff):
    scheme = as_staff.scheme
    page = text(client.get("/participation/2025"))
    assert 'action="/participation/2025/finalise"' in page

    response = client.post("/participation/2025/finalise")
    assert "2025 is final: its method and scores are frozen." in flashes(client, response)
    scheme = fresh_scheme(db, scheme)
    assert scheme.state is SchemeState.FINAL
    assert scheme.finalised_by_id == as_staff.staff.id
    page = text(client.get("/participation/2025"))
    assert "finalised on" in page and "by Sofia Staff" in page
    assert 'href="/participation/2025/reopen"' in page
    assert 'action="/participation/2025/compute"' not in page

    # Computing a final year is refused, and its scores stay as they were.
    before = scores_of(db, scheme)
    computed_at = scheme.computed_at
    invite(db, event_on(date(2025, 11, 20), "Autumn Forum"), as_staff.dakar, True)
    response = client.post("/participation/2025/compute")
    assert "2025 is finalised: reopen it, with a reason, to change it." in flashes(client, response)
    assert scores_of(db, scheme) == before
    assert fresh_scheme(db, scheme).computed_at == computed_at
    # Finalising again too.
    response = client.post("/participation/2025/finalise")
    assert "2025 is finalised" in flashes(client, response)

    form = client.get("/participation/2025/reopen")
    assert form.status_code == 200
    assert "Why is the year reopened?" in text(form)
    assert 'name="reason"' in text(form)

    for reason in ("", "   \n  "):
        refused = client.post("/participation/2025/reopen", data={"reason": reason})
        assert refused.status_code == 422
        assert "Say why the year is reopened." in text(refused)
        assert fresh_scheme(db, scheme).state is SchemeState.FINAL

    response = client.post(
        "/participation/2025/reopen", data={"reason": "Accra's attendance was mislaid."}
    )
    assert "2025 is provisional again." in flashes(client, response)
    scheme = fresh_scheme(db, scheme)
    assert scheme.state is SchemeState.PROVISIONAL
    assert scheme.finalised_at is None and scheme.finalised_by_id is None
    year_history = plain(section(text(client.get("/participation/2025")), "history-title"))
    assert "Year reopened · Sofia Staff: Accra's attendance was mislaid." in year_history
    assert "Year finalised · Sofia Staff" in year_history


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("x" * 2001, "Use at most 2000 characters."),
        ("Late\x00data", "Remove the invisible control characters."),
    ],
)
def test_reopen_reason_is_checked(db, client, as_staff, reason, message):
    services.finalise(db, as_staff.staff, as_staff.scheme)
    response = client.post("/participation/2025/reopen", data={"reason": reason})
    assert response.status_code == 422
    assert message in text(response)
    assert fresh_scheme(db, as_staff.scheme).state is SchemeState.FINAL
    assert SchemeAction.REOPENED not in history(db, as_staff.scheme)


def test_reopening_a_provisional_year_is_refused(db, client, as_staff):
    response = client.get("/participation/2025/reopen")
    assert "2025 is not finalised." in flashes(client, response)
    response = client.post("/participation/2025/reopen", data={"reason": "Why not"})
    assert "2025 is not finalised." in flashes(client, response)
    assert SchemeAction.REOPENED not in history(db, as_staff.scheme)


def test_finalising_is_refused_while_the_method_changed_since_computing(db, client, as_staff):
    services.update_scheme(
        db,
        as_staff.admin,
        as_staff.scheme,
        services.SchemeData(
            criteria={
                c.kind: services.CriterionInput(
                    str(c.weight + (5 if c.kind is CriterionKind.ATTENDANCE else 0)),
                    str(c.floor),
                    str(c.target),
                    "" if c.bonus is None else str(c.bonus),
                )
                for c in as_staff.scheme.criteria
            },
            conditions={c.kind for c in as_staff.scheme.conditions},
            leading_from="80",
            active_from="60",
            engaged_from="40",
            recognition_size="3",
        ),
    )
    response = client.post("/participation/2025/finalise")
    assert "The method changed after the scores were computed: compute them again first." in (
        flashes(client, response)
    )
    assert fresh_scheme(db, as_staff.scheme).state is SchemeState.PROVISIONAL


# --- the method ---------------------------------------------------------------------------


def test_admin_changes_a_weight_and_the_year_asks_to_compute_again(db, client, as_admin):
    scheme = as_admin.scheme
    page = text(client.get("/participation/2025"))
    assert "The method changed after the scores were computed" not in page

    data = scheme_form(scheme, {"attendance-weight": "30"})
    data["conditions"] = [v for v in data["conditions"] if v != "event_attended"]
    response = client.post("/participation/2025/scheme", data=data)
    assert response.headers["Location"] == "/participation/2025/scheme"
    assert "The 2025 method is saved. Compute the scores again to apply it." in flashes(
        client, response
    )
    scheme = fresh_scheme(db, scheme)
    weights = {c.kind: c.weight for c in scheme.criteria}
    assert weights[CriterionKind.ATTENDANCE] == 30
    assert "event_attended" not in {c.kind.value for c in scheme.conditions}
    assert scheme.scores_out_of_date
    edited = scheme.history[0]
    assert (edited.action, edited.actor_id) == (SchemeAction.EDITED, as_admin.admin.id)
    assert "attendance" in edited.comment and "-event_attended" in edited.comment

    page = text(client.get("/participation/2025"))
    assert (
        "The method changed after the scores were computed: compute them again before finalising."
    ) in page
    assert 'action="/participation/2025/finalise"' not in page

    client.post("/participation/2025/compute")
    # Lisbon: (100 × 30 + 0 × 10 + 25 × 10) / 50.
    assert scores_of(db, scheme)["Lisbon"] == (D("65.00"), Level.ACTIVE)
    page = text(client.get("/participation/2025"))
    assert "The method changed after the scores were computed" not in page


def test_saving_the_same_method_changes_nothing(db, client, as_admin):
    before = method(db, as_admin.scheme)
    response = client.post("/participation/2025/scheme", data=scheme_form(as_admin.scheme))
    assert response.status_code == 302
    assert method(db, as_admin.scheme) == before
    assert SchemeAction.EDITED not in history(db, as_admin.scheme)


def field_error(page: str, field_id: str) -> str:
    match = re.search(
        rf'<small id="{field_id}-error" class="field-error">(.*?)</small>', page, re.DOTALL
    )
    return " ".join(match.group(1).split()) if match else ""


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"attendance-floor": "80", "attendance-target": "50"},
            "attendance-target",
            "The target must be above the floor.",
        ),
        ({"exchanges-weight": "abc"}, "exchanges-weight", "“abc” is not a whole number."),
        ({"exchanges-weight": ""}, "exchanges-weight", "Enter a whole number."),
        ({"exchanges-weight": "101"}, "exchanges-weight", "Enter a number from 0 to 100."),
        ({"follow_ups-target": "150"}, "follow_ups-target", "A share is at most 100 %."),
        ({"exchanges-floor": "-1"}, "exchanges-floor", "Enter a number from 0 to 100,000."),
        ({"exchanges-target": "x"}, "exchanges-target", "“x” is not a number."),
        ({"exchanges-target": "4.12345"}, "exchanges-target", "Use at most four decimal places."),
        (
            {"leading_from": "50"},
            "leading_from",
            "The thresholds must rise: engaged below active, active below leading.",
        ),
        ({"recognition_size": "0"}, "recognition_size", "Enter a number from 1 to 20."),
    ],
)
def test_invalid_method_is_refused_with_messages(db, client, as_admin, changes, field, message):
    before = method(db, as_admin.scheme)
    response = client.post("/participation/2025/scheme", data=scheme_form(as_admin.scheme, changes))
    assert response.status_code == 422
    page = text(response)
    assert field_error(page, field) == message
    assert message in page
    # What was typed is shown again.
    for name, value in changes.items():
        if "-" in name:
            assert f'name="{name}" value="{html.escape(value)}"' in page
    assert method(db, as_admin.scheme) == before
    assert SchemeAction.EDITED not in history(db, as_admin.scheme)


def test_every_problem_of_the_method_is_shown_at_once(db, client, as_admin):
    before = method(db, as_admin.scheme)
    changes = {
        "attendance-floor": "80",
        "attendance-target": "50",
        "exchanges-weight": "abc",
        "engaged_from": "90",
    }
    response = client.post("/participation/2025/scheme", data=scheme_form(as_admin.scheme, changes))
    assert response.status_code == 422
    page = text(response)
    assert field_error(page, "attendance-target") == "The target must be above the floor."
    assert field_error(page, "exchanges-weight") == "“abc” is not a whole number."
    assert "The thresholds must rise" in page
    assert method(db, as_admin.scheme) == before


def test_all_weights_zero_is_refused(db, client, as_admin):
    before = method(db, as_admin.scheme)
    changes = {f"{kind.value}-weight": "0" for kind in CriterionKind}
    response = client.post("/participation/2025/scheme", data=scheme_form(as_admin.scheme, changes))
    assert response.status_code == 422
    assert "Give at least one criterion a weight above 0." in text(response)
    assert method(db, as_admin.scheme) == before


def test_staff_sees_the_method_but_cannot_change_it(db, client, as_staff):
    page = text(client.get("/participation/2025/scheme"))
    assert "<h1>Method 2025</h1>" in page
    assert 'action="/participation/2025/scheme"' not in page
    assert "An administrator can change the method of a provisional year." in page
    assert "Event attendance" in page and "from 80 points" in page
    before = method(db, as_staff.scheme)
    response = client.post(
        "/participation/2025/scheme",
        data=scheme_form(as_staff.scheme, {"attendance-weight": "30"}),
    )
    assert response.status_code == 404
    assert method(db, as_staff.scheme) == before


def test_the_method_of_a_final_year_cannot_be_changed(db, client, as_admin):
    services.finalise(db, as_admin.staff, as_admin.scheme)
    page = text(client.get("/participation/2025/scheme"))
    assert 'action="/participation/2025/scheme"' not in page
    assert "Reopen the year, with a reason, to change its method." in page
    before = method(db, as_admin.scheme)
    response = client.post(
        "/participation/2025/scheme",
        data=scheme_form(as_admin.scheme, {"attendance-weight": "30"}),
    )
    assert response.headers["Location"] == "/participation/2025/scheme"
    assert "2025 is finalised: reopen it, with a reason, to change it." in flashes(client, response)
    assert method(db, as_admin.scheme) == before
    assert fresh_scheme(db, as_admin.scheme).state is SchemeState.FINAL


# --- the network's setting and the recognition list --------------------------------------


def test_admin_shows_the_recognition_list_to_focal_points(db, client, auth, network):
    path = "/participation/2025/recognition"
    auth.login(network.focal)
    assert client.get(path).status_code == 404
    auth.logout()

    auth.login(network.admin)
    response = client.post("/participation/settings", data={"recognition_visible": "y"})
    assert response.headers["Location"] == "/participation/"
    assert "Settings saved." in flashes(client, response)
    assert db.get(ParticipationSettings, 1).recognition_visible_to_members is True
    assert "checked" in re.search(
        r'<input[^>]*id="recognition_visible"[^>]*>', text(client.get("/participation/"))
    ).group(0)
    auth.logout()

    auth.login(network.focal)
    response = client.get(path)
    assert response.status_code == 200
    page = text(response)
    assert "Lisbon" in page and "Lyon" in page
    # Its own member is linked to its scorecard, the others are not.
    assert f'href="/participation/2025/members/{network.lisbon.id}"' in page
    assert f'href="/participation/2025/members/{network.lyon.id}"' not in page
    # Nor the staff's pages of the year.
    assert 'href="/participation/2025/at-risk"' not in page
    auth.logout()

    auth.login(network.admin)
    client.post("/participation/settings", data={})
    db.expire_all()
    assert db.get(ParticipationSettings, 1).recognition_visible_to_members is False
    auth.logout()
    auth.login(network.focal)
    assert client.get(path).status_code == 404


def test_staff_cannot_change_the_setting(db, client, as_staff):
    response = client.post("/participation/settings", data={"recognition_visible": "y"})
    assert response.status_code == 404
    db.expire_all()
    assert db.get(ParticipationSettings, 1).recognition_visible_to_members is False


def recognition_lists(page: str) -> dict[str, list[str]]:
    """Each region's recognised members, in order, with their scores."""
    found = {}
    for title, body in re.findall(
        r'<h2 id="region-\d+">(.*?)</h2>\s*<ol>(.*?)</ol>', page, flags=re.DOTALL
    ):
        found[title] = [plain(item) for item in re.findall(r"<li>(.*?)</li>", body, re.DOTALL)]
    return found


def test_recognition_names_the_best_of_each_region_meeting_the_conditions(client, as_staff):
    page = text(client.get("/participation/2025/recognition"))
    assert "The 3 most active members of each region." in page
    # Accra and Dakar do not meet the conditions: South names Nairobi alone.
    assert recognition_lists(page) == {
        "North": [
            "Lisbon · 61.11 points · Active",
            "Lyon · 55.56 points · Engaged",
            "Porto · 48.15 points · Engaged",
        ],
        "South": ["Nairobi · 55.56 points · Engaged"],
    }
    assert f'href="/participation/2025/members/{as_staff.lyon.id}"' in page


def test_recognition_breaks_ties_by_conditions_then_evidence_then_name(db, client, as_staff):
    scheme = services.create_scheme(db, None, 2023)
    scheme.recognition_size = 4
    east = TermFactory(label="East", position=0)
    west = TermFactory(label="West", position=5)
    meets, warning = ConditionsOutcome.MEETS, ConditionsOutcome.WARNING
    for name, total, outcome, weight_used in (
        ("Omega", "95", ConditionsOutcome.NOT_MET, 100),  # not eligible
        ("Epsilon", "85", warning, 45),  # a higher score wins over the conditions
        ("Alpha", "80", warning, 100),  # a warning comes after meeting every condition
        ("Beta", "80", meets, 20),  # less of the method with data comes later
        ("Gamma", "80", meets, 45),
        ("Delta", "80", meets, 45),  # same evidence: by name
        ("Unscored", None, meets, 0),
    ):
        insert_score(
            db, scheme, MemberFactory(name=name, region=east), total, None, outcome, weight_used
        )
    for name, total in (("Kappa", "30"), ("Iota", "40"), ("Theta", "50"), ("Eta", "60")):
        insert_score(db, scheme, MemberFactory(name=name, region=west), total)
    insert_score(db, scheme, MemberFactory(name="Nowhere", region=None), "10")
    page = text(client.get("/participation/2023/recognition"))
    assert "The 4 most active members of each region." in page
    assert recognition_lists(page) == {
        "East": [
            "Epsilon · 85 points · Leading",
            "Delta · 80 points · Leading",
            "Gamma · 80 points · Leading",
            "Beta · 80 points · Leading",
        ],
        "West": [
            "Eta · 60 points · Active",
            "Theta · 50 points · Engaged",
            "Iota · 40 points · Engaged",
            "Kappa · 30 points · At risk",
        ],
        "No region": ["Nowhere · 10 points · At risk"],
    }


def test_recognition_of_a_year_without_scores(db, client, as_staff):
    services.create_scheme(db, None, 2026)
    page = text(client.get("/participation/2026/recognition"))
    assert "No scores yet for 2026." in page


# --- members at risk ----------------------------------------------------------------------


def at_risk_reasons(page: str) -> dict[str, str]:
    return {row[0]: row[4] for row in rows(page)}


def test_at_risk_lists_each_member_with_its_reasons(client, as_staff):
    page = text(client.get("/participation/2025/at-risk"))
    assert "5 members need attention" in page
    reasons = at_risk_reasons(page)
    # Lowest score first; Lisbon is healthy.
    assert list(reasons) == ["Dakar", "Accra", "Porto", "Lyon", "Nairobi"]
    assert reasons["Porto"] == (
        "Score dropped by 21.85 points Warning: one condition missed No active primary focal point"
    )
    assert reasons["Lyon"].startswith("Leadership change on ")
    assert "Score dropped" not in reasons["Lyon"] and "focal point" not in reasons["Lyon"]
    # In office through 2025 (it met the condition), gone today.
    assert reasons["Nairobi"] == "No active primary focal point"
    assert reasons["Accra"] == (
        "Score dropped by 24.44 points At-risk level Conditions not met "
        "No active primary focal point"
    )
    assert rows(page)[2][2:4] == ["48.15", "70"]
    assert f'href="/members/{as_staff.lyon.slug}"' in page


def test_at_risk_leadership_horizon_and_term_end(db, client, as_staff):
    today = network_today()
    as_staff.lyon.next_election_on = today + timedelta(days=220)  # beyond six months
    as_staff.lisbon.leader_term_ends_on = today + timedelta(days=30)
    db.flush()
    reasons = at_risk_reasons(text(client.get("/participation/2025/at-risk")))
    assert "Lyon" not in reasons
    assert reasons["Lisbon"].startswith("Leadership change on ")


# --- scorecards ---------------------------------------------------------------------------


def test_scorecard_shows_the_score_its_breakdown_and_evidence(client, as_staff):
    n = as_staff
    response = client.get(f"/participation/2025/members/{n.lisbon.id}")
    assert response.status_code == 200
    page = text(response)
    assert "<h1>Lisbon: participation 2025</h1>" in page
    cards = plain(re.search(r'<div class="cards">(.*?)</div>', page, re.DOTALL).group(1))
    assert "61.11 score out of 100" in cards
    assert "Active level" in cards
    assert "Meets the conditions membership conditions" in cards
    assert "1 position in North" in cards
    conditions = plain(section(page, "conditions"))
    assert "An active primary focal point: Met" in conditions
    assert "At least one event attended: Met" in conditions
    assert "The year's reports submitted: Not applicable" in conditions
    breakdown = section(page, "breakdown-title")
    assert (
        "4 criteria had no data and were left out; the weights of the others count in their "
        "place (45 of 100 weight points used)."
    ) in plain(breakdown)
    lines = {row[0]: row[1:] for row in rows(breakdown)}
    assert lines["Event attendance"][0] == "25"
    assert lines["Event attendance"][1].startswith("2 of 2 events attended")
    assert lines["Event attendance"][2:] == ["100", "56%"]
    assert lines["Peer exchanges"][1].startswith("1 confirmed exchange (1 given, 0 received)")
    assert lines["Reporting on time"][1:3] == [
        "Left out: No reporting cycle was due this year.",
        "—",
    ]
    assert lines["Commitment progress"][1] == "Left out: No commitment made by the end of the year."
    evidence = section(page, "evidence-title")
    assert f'<a href="/events/{n.spring.id}">Spring Assembly</a>' in evidence
    assert f'<a href="/events/{n.summer.id}">Summer School</a>' in evidence
    assert f'<a href="/exchanges/{n.exchange.id}">Accra</a>' in evidence
    assert "given to" in evidence
    # The trend over the years and the staff's links.
    trend = rows(section(page, "trend-title"))
    assert [row[0] for row in trend] == ["2024 (provisional)", "2025 (provisional)"]
    assert f'href="/members/{n.lisbon.slug}"' in page


def test_scorecard_of_a_member_that_attended_nothing(client, as_staff):
    page = text(client.get(f"/participation/2025/members/{as_staff.accra.id}"))
    evidence = section(page, "evidence-title")
    assert "Spring Assembly" in evidence and "not attended" in evidence
    assert "received from" in evidence
    assert "Conditions not met" in page
    assert "At least one event attended: Missed" in plain(section(page, "conditions"))


def test_scorecard_of_a_member_without_a_score_that_year_is_not_found(client, as_staff):
    assert client.get(f"/participation/2025/members/{as_staff.quito.id}").status_code == 404
    assert client.get(f"/participation/2024/members/{as_staff.nairobi.id}").status_code == 404
    assert client.get("/participation/2025/members/999999").status_code == 404
    # Its latest scorecard says there is none yet.
    response = client.get(f"/participation/members/{as_staff.quito.id}")
    assert response.status_code == 200
    assert "No participation score yet." in text(response)


def test_latest_scorecard_is_the_most_recent_year_with_a_score(client, as_staff):
    response = client.get(f"/participation/members/{as_staff.porto.id}")
    assert response.headers["Location"] == f"/participation/2025/members/{as_staff.porto.id}"


def test_focal_point_sees_its_own_scorecard(client, auth, network):
    auth.login(network.focal)
    response = client.get("/participation/mine", follow_redirects=True)
    assert response.status_code == 200
    assert response.request.path == f"/participation/2025/members/{network.lisbon.id}"
    page = text(response)
    assert "<h1>Lisbon: participation 2025</h1>" in page
    assert "61.11" in page
    # No staff links, and no regional position while the recognition list is not shown.
    assert f'href="/members/{network.lisbon.slug}"' not in page
    assert 'href="/participation/2025"' not in page
    assert "position in North" not in page
    # Evidence still links to the records it may open.
    assert f'href="/events/{network.spring.id}"' in page


def test_focal_point_sees_its_regional_position_when_the_list_is_shown(db, client, auth, network):
    services.set_recognition_visibility(db, network.admin, True)
    auth.login(network.focal)
    page = text(client.get(f"/participation/2025/members/{network.lisbon.id}"))
    assert "position in North" in page


def test_focal_point_cannot_see_another_members_scorecard(client, auth, network):
    auth.login(network.focal)
    for path in (
        f"/participation/2025/members/{network.porto.id}",
        f"/participation/members/{network.porto.id}",
        f"/participation/2024/members/{network.porto.id}",
        "/participation/2025",
        "/participation/2025/scores",
        "/participation/2025/at-risk",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Porto" not in text(response)


# --- query counts -------------------------------------------------------------------------


def grow(db, region_a: Term, region_b: Term, count: int, events: list[Event]) -> None:
    """``count`` more members, half in each region, invited to the events (attending the
    first), each with an exchange given to the next."""
    members = [MemberFactory(region=region_a if n % 2 else region_b) for n in range(count)]
    for member in members:
        for position, event in enumerate(events):
            db.add(
                Invitation(event_id=event.id, member_id=member.id, audience=EventAudience.CHOSEN)
            )
            db.add(
                Attendance(
                    event_id=event.id,
                    member_id=member.id,
                    contact_id=None,
                    attended=position == 0,
                    source=AttendanceSource.MANUAL,
                )
            )
        ContactFactory(member=member, is_primary=True)
    for giver, receiver in zip(members, members[1:], strict=False):
        PeerExchangeFactory(from_member=giver, to_member=receiver, occurred_on=date(2025, 4, 1))
    db.flush()


def test_pages_issue_the_same_number_of_queries_whatever_the_number_of_members(
    db, client, auth, count_queries
):
    north, south = TermFactory(label="North"), TermFactory(label="South")
    staff = UserFactory()
    events = [event_on(date(2025, 3, 10), "Spring"), event_on(date(2025, 9, 10), "Autumn")]
    grow(db, north, south, 10, events)
    first = db.scalar(select(Member.id).order_by(Member.id).limit(1))
    previous = services.create_scheme(db, None, 2024)
    for member in db.scalars(select(Member)):
        insert_score(db, previous, member, "70")
    scheme = services.create_scheme(db, None, 2025)
    services.compute(db, None, scheme, now=NOW)
    auth.login(staff)
    pages = [
        "/participation/",
        "/participation/2025",
        "/participation/2025/scores",
        "/participation/2025/scores?order=change",
        "/participation/2025/at-risk",
        "/participation/2025/recognition",
        "/participation/2025/scheme",
        f"/participation/2025/members/{first}",
    ]

    def counts() -> dict[str, int]:
        found = {}
        for path in pages:
            client.get(path)  # the first request of a page may warm caches
            with count_queries() as counter:
                response = client.get(path)
            assert response.status_code == 200, path
            found[path] = counter.count
        return found

    small = counts()
    grow(db, north, south, 190, events)
    services.compute(db, None, scheme, now=NOW)
    assert db.scalar(select(func.count()).where(ParticipationScore.scheme_id == scheme.id)) == 200
    large = counts()
    assert large == small
    # The pages did show the larger network.
    assert len(rows(text(client.get("/participation/2025/scores")))) == 50
    assert "200 members" in text(client.get("/participation/2025/scores"))
