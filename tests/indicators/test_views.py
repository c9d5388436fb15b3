"""The indicator pages, through real requests: the list, the form, an indicator's page with
its roll-up, member values and targets, the small forms on it, who may see them, and how many
queries the pages cost."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from secretariat.indicators.models import (
    Aggregation,
    Direction,
    Indicator,
    Level,
    NetworkValue,
    Target,
    ValueType,
)
from secretariat.indicators.services import record_network_value, set_target
from secretariat.reporting.models import SubmissionStatus
from tests.factories import IndicatorFactory, MemberFactory, TermFactory, UserFactory
from tests.followups.factories import field_error, fresh, rows, section, text
from tests.indicators.data import input_value, open_cycle, report, report_many


@pytest.fixture
def staff(db):
    return UserFactory(name="Sofia Staff")


@pytest.fixture
def signed_in(staff, auth):
    auth.login(staff)
    return staff


def form_data(**overrides) -> dict[str, str]:
    data = {
        "code": "GHG-PC",
        "name": "GHG emissions per capita",
        "definition": "Total emissions divided by residents.",
        "unit": "t CO2e",
        "value_type": "number",
        "min_value": "0",
        "max_value": "",
        "choices": "",
        "direction": "lower",
        "level": "member",
        "aggregation": "mean",
        "is_active": "y",
    }
    data.update(overrides)
    return data


def followed(client, response) -> str:
    """The page a redirect leads to (where its flashed messages are shown)."""
    assert response.status_code == 302, response.get_data(as_text=True)
    return text(client.get(response.headers["Location"]))


def indicator_count(db) -> int:
    return db.scalar(select(func.count()).select_from(Indicator))


def target_rows(db) -> list[tuple]:
    return [
        (t.period, t.member_id, t.value, t.note)
        for t in db.scalars(select(Target).order_by(Target.id))
    ]


def select_options(page: str, field_id: str) -> list[tuple[str, str]]:
    match = re.search(rf'<select[^>]*id="{field_id}"[^>]*>(.*?)</select>', page, flags=re.DOTALL)
    assert match, f"no select {field_id}"
    return re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', match.group(1))


def selected(page: str, field_id: str) -> str:
    match = re.search(rf'<select[^>]*id="{field_id}"[^>]*>(.*?)</select>', page, flags=re.DOTALL)
    assert match, f"no select {field_id}"
    for option in re.findall(r"<option[^>]*>", match.group(1)):
        if re.search(r"\sselected[\s>=]", option):
            return re.search(r'value="([^"]*)"', option).group(1)
    return ""


# -- the list -------------------------------------------------------------------------------


def test_list_shows_the_active_indicators_with_their_settings_in_words(db, client, signed_in):
    IndicatorFactory(
        code="GHG-PC",
        name="GHG per capita",
        unit="t CO2e",
        value_type=ValueType.NUMBER,
        level=Level.MEMBER,
        direction=Direction.LOWER_IS_BETTER,
        aggregation=Aggregation.MEAN,
    )
    IndicatorFactory(
        code="PLAN",
        name="Climate plan adopted",
        unit=None,
        value_type=ValueType.YES_NO,
        direction=Direction.HIGHER_IS_BETTER,
        aggregation=Aggregation.COUNT_YES,
    )
    IndicatorFactory(code="OLD", name="Old one", is_active=False)
    page = text(client.get("/indicators/"))
    assert page.count("<h1") == 1
    assert "<h1>Indicators</h1>" in page
    assert rows(page) == [
        [
            "GHG-PC",
            "GHG per capita",
            "t CO2e",
            "Number",
            "Each member reports it",
            "Lower is better",
            "Mean",
            "Active",
        ],
        [
            "PLAN",
            "Climate plan adopted",
            "—",
            "Yes or no",
            "Each member reports it",
            "Higher is better",
            "Count of yes answers",
            "Active",
        ],
    ]
    assert "2 indicators" in page
    assert 'href="/indicators/new"' in page
    assert selected(page, "show") == "active"


@pytest.mark.parametrize(
    ("show", "codes"),
    [
        ("active", ["A-ON"]),
        ("retired", ["B-OFF"]),
        ("all", ["A-ON", "B-OFF"]),
        ("nonsense", ["A-ON"]),
    ],
)
def test_list_filter(db, client, signed_in, show, codes):
    IndicatorFactory(code="A-ON")
    IndicatorFactory(code="B-OFF", is_active=False)
    page = text(client.get(f"/indicators/?show={show}"))
    assert [row[0] for row in rows(page)] == codes
    if show == "retired":
        assert rows(page)[0][-1] == "Retired"


def test_empty_lists(db, client, signed_in):
    assert "No active indicators yet." in text(client.get("/indicators/"))
    assert "No retired indicators." in text(client.get("/indicators/?show=retired"))


# -- creating -------------------------------------------------------------------------------


def test_new_form(db, client, signed_in):
    response = client.get("/indicators/new")
    assert response.status_code == 200
    page = text(response)
    assert "<h1>New indicator</h1>" in page
    for label in (
        "Code",
        "Name",
        "Definition",
        "Unit",
        "Type of value",
        "Lowest allowed value",
        "Highest allowed value",
        "Answers to choose from",
        "Direction",
        "Level",
        "Network roll-up",
        "Active",
    ):
        assert f"{label}" in page
    assert [value for value, _label in select_options(page, "value_type")] == [
        "number",
        "percentage",
        "yes_no",
        "choice",
        "text",
    ]
    assert [value for value, _label in select_options(page, "aggregation")] == [
        "sum",
        "mean",
        "median",
        "count_yes",
        "none",
    ]


def test_create_an_indicator(db, client, signed_in):
    response = client.post("/indicators/new", data=form_data(code="ghg-pc", max_value="1,000.5"))
    indicator = db.scalar(select(Indicator))
    assert response.headers["Location"].endswith(f"/indicators/{indicator.id}")
    assert (indicator.code, indicator.name, indicator.unit) == (
        "GHG-PC",
        "GHG emissions per capita",
        "t CO2e",
    )
    assert (indicator.value_type, indicator.direction, indicator.level, indicator.aggregation) == (
        ValueType.NUMBER,
        Direction.LOWER_IS_BETTER,
        Level.MEMBER,
        Aggregation.MEAN,
    )
    assert (indicator.min_value, indicator.max_value) == (Decimal(0), Decimal("1000.5"))
    assert indicator.is_active is True
    assert "The indicator GHG-PC is created." in followed(client, response)


def test_create_a_choice_indicator_ignores_a_range(db, client, signed_in):
    response = client.post(
        "/indicators/new",
        data=form_data(
            code="PLAN",
            value_type="choice",
            aggregation="none",
            direction="none",
            choices="Adopted\r\n In preparation \r\n\r\nNone\r\n",
            min_value="whatever",
            max_value="5",
        ),
    )
    assert response.status_code == 302, text(response)
    indicator = db.scalar(select(Indicator))
    assert indicator.choices == ["Adopted", "In preparation", "None"]
    assert (indicator.min_value, indicator.max_value) == (None, None)


def test_create_a_retired_network_level_indicator(db, client, signed_in):
    data = form_data(code="MEMBERS", level="network", aggregation="none")
    del data["is_active"]  # an unticked box is not sent
    assert client.post("/indicators/new", data=data).status_code == 302
    indicator = db.scalar(select(Indicator))
    assert (indicator.level, indicator.is_active) == (Level.NETWORK, False)


def test_create_refuses_bad_input_and_keeps_what_was_typed(db, client, signed_in):
    IndicatorFactory(code="GHG-PC", name="GHG per capita")
    response = client.post(
        "/indicators/new",
        data=form_data(
            code="ghg-pc",
            name="",
            value_type="percentage",
            min_value="abc",
            max_value="140",
            aggregation="sum",
            unit="per cent",
        ),
    )
    assert response.status_code == 200
    page = text(response)
    assert 'class="error-summary"' in page
    assert field_error(page, "code") == "The code GHG-PC is already used by “GHG per capita”."
    assert field_error(page, "name") == "Enter a name."
    assert field_error(page, "min_value") == "Enter a number, such as 1250 or 12.5."
    assert field_error(page, "max_value") == "A percentage is between 0 and 100."
    assert field_error(page, "aggregation") == "This roll-up does not apply to this type of value."
    # What was typed stays in the form.
    assert input_value(page, "code") == "ghg-pc"
    assert input_value(page, "min_value") == "abc"
    assert input_value(page, "max_value") == "140"
    assert input_value(page, "unit") == "per cent"
    assert selected(page, "value_type") == "percentage"
    assert selected(page, "aggregation") == "sum"
    assert indicator_count(db) == 1


def test_create_refuses_a_comma_decimal_in_english_and_a_bad_range(db, client, signed_in):
    response = client.post("/indicators/new", data=form_data(min_value="12,5", max_value="-1"))
    page = text(response)
    assert field_error(page, "min_value") == "Enter a number, such as 1250 or 12.5."
    assert field_error(page, "max_value") == ""
    response = client.post("/indicators/new", data=form_data(min_value="10", max_value="5"))
    assert field_error(text(response), "max_value") == (
        "The highest allowed value must not be below the lowest."
    )
    assert indicator_count(db) == 0


def test_create_refuses_choices_that_are_not_in_the_lists(db, client, signed_in):
    response = client.post(
        "/indicators/new",
        data=form_data(value_type="grade", direction="up", level="planet", aggregation="max"),
    )
    page = text(response)
    assert field_error(page, "value_type") == "Choose a type of value from the list."
    assert field_error(page, "direction") == "Choose a direction from the list."
    assert field_error(page, "level") == "Choose a level from the list."
    assert field_error(page, "aggregation") == "Choose a roll-up from the list."
    assert indicator_count(db) == 0


def test_a_choice_needs_its_answers(db, client, signed_in):
    response = client.post(
        "/indicators/new",
        data=form_data(value_type="choice", aggregation="none", choices="Only one"),
    )
    assert field_error(text(response), "choices") == "List at least two answers, one per line."
    assert indicator_count(db) == 0


# -- editing --------------------------------------------------------------------------------


def test_edit_form_is_filled_in(db, client, signed_in):
    indicator = IndicatorFactory(
        code="SHARE",
        value_type=ValueType.PERCENTAGE,
        aggregation=Aggregation.MEDIAN,
        min_value=Decimal(0),
        max_value=Decimal("87.5"),
        definition="Share of trips.",
    )
    page = text(client.get(f"/indicators/{indicator.id}/edit"))
    assert "<h1>Edit the indicator SHARE</h1>" in page
    assert input_value(page, "code") == "SHARE"
    assert input_value(page, "min_value") == "0"
    assert input_value(page, "max_value") == "87.5"
    assert selected(page, "value_type") == "percentage"
    assert selected(page, "aggregation") == "median"
    assert "Share of trips." in page
    assert re.search(r'<input[^>]*checked[^>]*id="is_active"', page)


def test_edit_saves_and_retires(db, client, signed_in):
    indicator = IndicatorFactory(code="OLD-CODE", aggregation=Aggregation.SUM)
    data = form_data(code="NEW-CODE", name="Renamed", aggregation="median", min_value="")
    del data["is_active"]
    response = client.post(f"/indicators/{indicator.id}/edit", data=data)
    assert "The indicator NEW-CODE is saved." in followed(client, response)
    indicator = fresh(db, indicator)
    assert (indicator.code, indicator.name, indicator.aggregation, indicator.is_active) == (
        "NEW-CODE",
        "Renamed",
        Aggregation.MEDIAN,
        False,
    )
    assert indicator.min_value is None


def test_edit_refuses_a_type_change_once_values_are_reported(db, client, signed_in):
    indicator = IndicatorFactory(code="GHG-PC", aggregation=Aggregation.MEAN)
    report(db, open_cycle(), MemberFactory(), indicator, 5)
    response = client.post(
        f"/indicators/{indicator.id}/edit",
        data=form_data(value_type="percentage", name="Changed"),
    )
    page = text(response)
    assert response.status_code == 200
    assert field_error(page, "value_type") == (
        "Values have already been reported, so the type of value cannot change."
    )
    assert input_value(page, "name") == "Changed"
    indicator = fresh(db, indicator)
    assert (indicator.value_type, indicator.name) == (ValueType.NUMBER, indicator.name)
    assert indicator.name != "Changed"


# -- an indicator's page --------------------------------------------------------------------


def test_detail_shows_settings_rollup_member_values_and_targets(db, client, signed_in, staff):
    indicator = IndicatorFactory(
        code="GHG",
        name="GHG emissions",
        unit="kt",
        definition="Scope 1 and 2.",
        aggregation=Aggregation.SUM,
        direction=Direction.LOWER_IS_BETTER,
        min_value=Decimal(0),
    )
    porto = MemberFactory(name="Porto", search_name="porto")
    lisbon = MemberFactory(name="Lisbon", search_name="lisbon")
    report_many(db, indicator, ["1250.5", "100"], period="2024", members=[porto, lisbon])
    report_many(db, indicator, ["900"], period="2025", members=[porto])
    # A draft is not shown anywhere.
    report(db, open_cycle("2025"), lisbon, indicator, 5, status=SubmissionStatus.DRAFT)
    set_target(db, staff, indicator, period="2024", value="1000", note="Baseline minus 20%")
    set_target(db, staff, indicator, period="2025", value="1000")
    set_target(db, staff, indicator, period="2025", value="850", member_id=porto.id)

    response = client.get(f"/indicators/{indicator.id}")
    assert response.status_code == 200
    page = text(response)
    assert page.count("<h1") == 1
    assert "<h1>GHG · GHG emissions</h1>" in page
    settings = section(page, "settings-title")
    assert "Scope 1 and 2." in settings
    assert "At least 0" in settings
    assert "Lower is better" in settings
    assert "Sum" in settings
    assert rows(section(page, "rollup-title")) == [
        ["2025", "1", "900 kt", "1,000 kt", "On target"],
        ["2024", "2", "1,350.5 kt", "1,000 kt", "Not on target"],
    ]
    members = section(page, "members-title")
    assert rows(members) == [
        ["Lisbon", "100 kt", "—"],
        ["Porto", "1,250.5 kt", "900 kt Target: 850 kt"],
    ]
    assert "2 members reported" in members
    assert rows(section(page, "targets-title")) == [
        ["2025", "The network", "1,000 kt", "", "Remove the target for 2025, the network"],
        [
            "2024",
            "The network",
            "1,000 kt",
            "Baseline minus 20%",
            "Remove the target for 2024, the network",
        ],
        ["2025", "Porto", "850 kt", "", "Remove the target for 2025, Porto"],
    ]
    # The target form offers the members; no network value form for a member-level indicator.
    options = select_options(page, "target-member")
    assert options[0] == ("", "The network")
    assert {label for _value, label in options[1:]} >= {"Porto", "Lisbon"}
    assert "network-value" not in page
    assert f'action="/indicators/{indicator.id}/targets"' in page


def test_detail_says_when_it_cannot_judge(db, client, signed_in, staff):
    indicator = IndicatorFactory(aggregation=Aggregation.MEAN, direction=Direction.NONE, unit="")
    report_many(db, indicator, [1, 2, 4])
    set_target(db, staff, indicator, period="2025", value="2")
    set_target(db, staff, indicator, period="2026", value="2")
    page = text(client.get(f"/indicators/{indicator.id}"))
    assert rows(section(page, "rollup-title")) == [
        ["2026", "0", "—", "2", "— Cannot say"],
        ["2025", "3", "2.333333", "2", "— Cannot say"],
    ]
    assert "Neither higher nor lower is better" in page


def test_detail_of_a_count_of_yes(db, client, signed_in, staff):
    indicator = IndicatorFactory(
        value_type=ValueType.YES_NO,
        aggregation=Aggregation.COUNT_YES,
        direction=Direction.HIGHER_IS_BETTER,
    )
    a, b = MemberFactory(name="Aveiro", search_name="aveiro"), MemberFactory(name="Braga")
    report_many(db, indicator, [True, False], members=[a, b])
    set_target(db, staff, indicator, period="2025", value="1")
    page = text(client.get(f"/indicators/{indicator.id}"))
    assert rows(section(page, "rollup-title")) == [
        ["2025", "2", "1 member", "1 member", "On target"]
    ]
    assert ["Aveiro", "Yes"] in rows(section(page, "members-title"))
    # A count of yes answers has network targets only: no member to choose.
    assert 'id="target-member"' not in page
    assert "A number of members answering yes." in page


def test_detail_of_a_text_indicator_takes_no_targets(db, client, signed_in):
    indicator = IndicatorFactory(value_type=ValueType.TEXT, aggregation=Aggregation.NONE)
    report_many(db, indicator, ["Bike lanes"])
    page = text(client.get(f"/indicators/{indicator.id}"))
    assert "This indicator has no roll-up" in page
    assert rows(section(page, "rollup-title")) == [["2025", "1", "—", "—", "— Cannot say"]]
    assert rows(section(page, "members-title"))[0][1] == "Bike lanes"
    assert "Targets are set for numbers, percentages and counts of yes answers." in page
    assert 'id="target-period"' not in page


def test_detail_of_a_network_level_indicator(db, client, signed_in, staff):
    indicator = IndicatorFactory(
        level=Level.NETWORK,
        aggregation=Aggregation.NONE,
        direction=Direction.HIGHER_IS_BETTER,
        unit="members",
    )
    record_network_value(db, staff, indicator, period="2025", value="42")
    set_target(db, staff, indicator, period="2025", value="40")
    page = text(client.get(f"/indicators/{indicator.id}"))
    assert rows(section(page, "rollup-title")) == [
        ["2025", "42 members", "40 members", "On target"]
    ]
    assert 'id="members-title"' not in page
    assert 'id="network-period"' in page and 'id="network-value"' in page
    assert 'id="target-member"' not in page


def test_detail_of_a_yes_no_network_indicator_offers_yes_and_no(db, client, signed_in, staff):
    indicator = IndicatorFactory(
        level=Level.NETWORK, value_type=ValueType.YES_NO, aggregation=Aggregation.NONE
    )
    record_network_value(db, staff, indicator, period="2025", value="no")
    page = text(client.get(f"/indicators/{indicator.id}"))
    assert [value for value, _label in select_options(page, "network-value")] == ["", "yes", "no"]
    assert rows(section(page, "rollup-title"))[0][:2] == ["2025", "No"]


def test_detail_member_values_are_paginated(db, client, signed_in, app):
    indicator = IndicatorFactory(unit=None)
    region = TermFactory()
    members = [
        MemberFactory(name=f"City {n:02d}", search_name=f"city {n:02d}", region=region)
        for n in range(30)
    ]
    report_many(db, indicator, list(range(30)), members=members)
    per_page = app.config["MEMBERS_PER_PAGE"]
    first = text(client.get(f"/indicators/{indicator.id}"))
    assert [row[0] for row in rows(section(first, "members-title"))] == [
        f"City {n:02d}" for n in range(per_page)
    ]
    assert f'href="/indicators/{indicator.id}?page=2"' in first
    second = text(client.get(f"/indicators/{indicator.id}?page=2"))
    assert [row[0] for row in rows(section(second, "members-title"))] == [
        f"City {n:02d}" for n in range(per_page, 30)
    ]
    garbled = text(client.get(f"/indicators/{indicator.id}?page=x"))
    assert rows(section(garbled, "members-title")) == rows(section(first, "members-title"))


# -- targets --------------------------------------------------------------------------------


def test_set_a_network_target(db, client, signed_in):
    indicator = IndicatorFactory(aggregation=Aggregation.SUM)
    response = client.post(
        f"/indicators/{indicator.id}/targets",
        data={"period": "2025", "value": "1,500", "member_id": "", "note": "From the plan"},
    )
    assert response.headers["Location"].endswith(f"/indicators/{indicator.id}#targets-title")
    assert "The network's target for 2025 is set." in followed(client, response)
    assert target_rows(db) == [("2025", None, Decimal("1500"), "From the plan")]
    # Setting it again replaces it.
    client.post(f"/indicators/{indicator.id}/targets", data={"period": "2025", "value": "1400"})
    assert target_rows(db) == [("2025", None, Decimal("1400"), None)]


def test_set_a_member_target(db, client, signed_in):
    indicator = IndicatorFactory(aggregation=Aggregation.MEAN)
    member = MemberFactory(name="Porto")
    response = client.post(
        f"/indicators/{indicator.id}/targets",
        data={"period": "2025-h1", "value": "12.5", "member_id": str(member.id)},
    )
    assert "The target of Porto for 2025-H1 is set." in followed(client, response)
    assert target_rows(db) == [("2025-H1", member.id, Decimal("12.5"), None)]


def test_set_target_refuses_bad_input_and_keeps_what_was_typed(db, client, signed_in):
    indicator = IndicatorFactory(value_type=ValueType.PERCENTAGE, aggregation=Aggregation.MEAN)
    member = MemberFactory(name="Porto")
    response = client.post(
        f"/indicators/{indicator.id}/targets",
        data={"period": "last year", "value": "140", "member_id": str(member.id), "note": "Hm"},
    )
    assert response.status_code == 200
    page = text(response)
    assert 'class="error-summary"' in page
    assert field_error(page, "target-period") == (
        "Write the period as a year (2025), a half (2025-H1) or a quarter (2025-Q3)."
    )
    assert field_error(page, "target-value") == "A percentage is between 0 and 100."
    assert input_value(page, "target-period") == "last year"
    assert input_value(page, "target-value") == "140"
    assert input_value(page, "target-note") == "Hm"
    assert selected(page, "target-member") == str(member.id)
    assert "<h1>" in page and page.count("<h1") == 1
    assert target_rows(db) == []


@pytest.mark.parametrize("member_id", ["abc", "999999", "99999999999999"])
def test_set_target_refuses_a_member_not_in_the_list(db, client, signed_in, member_id):
    indicator = IndicatorFactory(aggregation=Aggregation.MEAN)
    response = client.post(
        f"/indicators/{indicator.id}/targets",
        data={"period": "2025", "value": "5", "member_id": member_id},
    )
    assert field_error(text(response), "target-member") == "Choose a member from the list."
    assert target_rows(db) == []


def test_a_member_target_where_none_can_be_chosen_is_refused_with_a_message(db, client, signed_in):
    indicator = IndicatorFactory(value_type=ValueType.YES_NO, aggregation=Aggregation.COUNT_YES)
    member = MemberFactory()
    response = client.post(
        f"/indicators/{indicator.id}/targets",
        data={"period": "2025", "value": "5", "member_id": str(member.id)},
    )
    assert response.status_code == 200
    page = text(response)
    assert (
        "Error: A member answers yes or no: a count of yes answers has network targets only."
        in (" ".join(re.sub(r"<[^>]+>", " ", page).split()))
    )
    assert input_value(page, "target-value") == "5"
    assert target_rows(db) == []


def test_set_target_of_a_text_indicator_is_refused_with_a_message(db, client, signed_in):
    indicator = IndicatorFactory(value_type=ValueType.TEXT, aggregation=Aggregation.NONE)
    response = client.post(
        f"/indicators/{indicator.id}/targets", data={"period": "2025", "value": "5"}
    )
    page = followed(client, response)
    assert "Targets are set for numbers, percentages and counts of yes answers." in page
    assert target_rows(db) == []


def test_remove_a_target(db, client, signed_in, staff):
    indicator = IndicatorFactory()
    target = set_target(db, staff, indicator, period="2025", value="5")
    kept = set_target(db, staff, indicator, period="2026", value="4")
    response = client.post(f"/indicators/{indicator.id}/targets/{target.id}/delete")
    assert "The target for 2025 is removed." in followed(client, response)
    assert [row[0] for row in target_rows(db)] == ["2026"]
    assert db.get(Target, kept.id) is not None


def test_remove_a_target_of_another_indicator_is_not_found(db, client, signed_in, staff):
    indicator, other = IndicatorFactory(), IndicatorFactory()
    target = set_target(db, staff, other, period="2025", value="5")
    assert client.post(f"/indicators/{indicator.id}/targets/{target.id}/delete").status_code == 404
    assert client.post(f"/indicators/{indicator.id}/targets/999999/delete").status_code == 404
    assert client.get(f"/indicators/{other.id}/targets/{target.id}/delete").status_code == 405
    assert len(target_rows(db)) == 1


# -- network values -------------------------------------------------------------------------


def network_values(db) -> list[tuple]:
    return [
        (v.period, v.number_value, v.bool_value, v.note)
        for v in db.scalars(select(NetworkValue).order_by(NetworkValue.period))
    ]


def test_record_and_remove_a_network_value(db, client, signed_in, staff):
    indicator = IndicatorFactory(level=Level.NETWORK, aggregation=Aggregation.NONE)
    url = f"/indicators/{indicator.id}/network-values"
    response = client.post(url, data={"period": "2025", "value": "1,250", "note": "Census"})
    assert "The network's value for 2025 is recorded." in followed(client, response)
    assert network_values(db) == [("2025", Decimal("1250"), None, "Census")]
    assert db.scalar(select(NetworkValue)).recorded_by_id == staff.id
    response = client.post(url, data={"period": "2025", "value": ""})
    assert "No value is recorded for 2025 any more." in followed(client, response)
    assert network_values(db) == []


def test_record_a_yes_no_network_value(db, client, signed_in):
    indicator = IndicatorFactory(
        level=Level.NETWORK, value_type=ValueType.YES_NO, aggregation=Aggregation.NONE
    )
    url = f"/indicators/{indicator.id}/network-values"
    assert client.post(url, data={"period": "2025", "value": "yes"}).status_code == 302
    assert network_values(db) == [("2025", None, True, None)]


def test_record_network_value_refuses_bad_input_and_keeps_what_was_typed(db, client, signed_in):
    indicator = IndicatorFactory(
        level=Level.NETWORK, aggregation=Aggregation.NONE, min_value=Decimal(0)
    )
    response = client.post(
        f"/indicators/{indicator.id}/network-values",
        data={"period": "2025", "value": "-3", "note": "typo"},
    )
    assert response.status_code == 200
    page = text(response)
    assert field_error(page, "network-value") == "Enter at least 0."
    assert input_value(page, "network-value") == "-3"
    assert input_value(page, "network-period") == "2025"
    assert input_value(page, "network-note") == "typo"
    assert 'class="error-summary"' in page
    assert network_values(db) == []


def test_record_network_value_of_a_yes_no_says_maybe_is_no_answer(db, client, signed_in):
    indicator = IndicatorFactory(
        level=Level.NETWORK, value_type=ValueType.YES_NO, aggregation=Aggregation.NONE
    )
    response = client.post(
        f"/indicators/{indicator.id}/network-values", data={"period": "2025", "value": "maybe"}
    )
    assert field_error(text(response), "network-value") == "Answer yes or no."
    assert network_values(db) == []


def test_record_network_value_of_a_member_level_indicator_is_refused(db, client, signed_in):
    indicator = IndicatorFactory(level=Level.MEMBER)
    response = client.post(
        f"/indicators/{indicator.id}/network-values", data={"period": "2025", "value": "3"}
    )
    assert "Members report this indicator in reporting cycles." in followed(client, response)
    assert network_values(db) == []


# -- not found, signed out, and focal points ------------------------------------------------


ENDPOINTS = [
    ("get", "/indicators/"),
    ("get", "/indicators/new"),
    ("post", "/indicators/new"),
    ("get", "/indicators/{id}"),
    ("get", "/indicators/{id}/edit"),
    ("post", "/indicators/{id}/edit"),
    ("post", "/indicators/{id}/targets"),
    ("post", "/indicators/{id}/targets/{target}/delete"),
    ("post", "/indicators/{id}/network-values"),
]


@pytest.mark.parametrize(
    "url",
    [
        "/indicators/999999",
        "/indicators/999999/edit",
        "/indicators/99999999999999",
        "/indicators/99999999999999/edit",
    ],
)
def test_unknown_indicators_are_not_found(db, client, signed_in, url):
    assert client.get(url).status_code == 404
    if url.endswith("/edit"):
        assert client.post(url, data=form_data()).status_code == 404
    assert indicator_count(db) == 0


@pytest.mark.parametrize("path", ["targets", "network-values", "targets/1/delete"])
def test_posting_to_an_unknown_indicator_is_not_found(db, client, signed_in, path):
    assert client.post(f"/indicators/999999/{path}", data={"period": "2025"}).status_code == 404


def fill(url: str, indicator: Indicator, target: Target) -> str:
    return url.format(id=indicator.id, target=target.id)


def posted_data(url: str) -> dict[str, str]:
    if url.endswith(("/new", "/edit")):
        return form_data(code="HACKED", name="Hacked")
    return {"period": "2030", "value": "1", "member_id": "", "note": "Hacked"}


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_focal_points_get_not_found_everywhere_and_change_nothing(
    db, client, auth, staff, method, url
):
    member_level = IndicatorFactory(code="SEEN", name="Kept")
    network_level = IndicatorFactory(code="NET", level=Level.NETWORK, aggregation=Aggregation.NONE)
    focal = UserFactory(focal_point=True)
    target = set_target(db, staff, member_level, period="2025", value="5")
    record_network_value(db, staff, network_level, period="2025", value="3")
    auth.login(focal)
    for indicator in (member_level, network_level):
        address = fill(url, indicator, target)
        if method == "get":
            response = client.get(address)
        else:
            response = client.post(address, data=posted_data(url))
        assert response.status_code == 404, address
        assert "Kept" not in text(response)
    assert indicator_count(db) == 2
    assert fresh(db, member_level).name == "Kept"
    assert fresh(db, network_level).code == "NET"
    assert target_rows(db) == [("2025", None, Decimal("5"), None)]
    assert network_values(db) == [("2025", Decimal("3"), None, None)]


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_signed_out_visitors_are_sent_to_sign_in(db, client, staff, method, url):
    indicator = IndicatorFactory()
    target = set_target(db, staff, indicator, period="2025", value="5")
    address = fill(url, indicator, target)
    response = client.get(address) if method == "get" else client.post(address, data={})
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]
    assert len(target_rows(db)) == 1


# -- queries --------------------------------------------------------------------------------


def statements(count_queries, client, url: str) -> list[str]:
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200, url
    return counter.statements


def test_the_list_runs_the_same_queries_for_10_and_200_indicators(
    db, client, signed_in, count_queries
):
    for n in range(10):
        IndicatorFactory(code=f"A-{n:03d}")
    small = statements(count_queries, client, "/indicators/?show=all")
    for n in range(190):
        IndicatorFactory(code=f"B-{n:03d}", is_active=n % 2 == 0)
    large = statements(count_queries, client, "/indicators/?show=all")
    assert len(small) == len(large), "\n\n".join(large)
    assert len(large) <= 4
    assert len(rows(text(client.get("/indicators/?show=all")))) == 200


def populate(db, staff, indicator, region, members: list, count: int) -> None:
    """``count`` more members with values in two periods, and a member target for some."""
    added = [MemberFactory(region=region) for _n in range(count)]
    members.extend(added)
    for period in ("2024", "2025"):
        cycle = open_cycle(period)
        for n, member in enumerate(added):
            report(db, cycle, member, indicator, n + 1)
    for member in added[::3]:
        set_target(db, staff, indicator, period="2025", value="2", member_id=member.id)


@pytest.mark.parametrize(
    "aggregation", [Aggregation.SUM, Aggregation.MEDIAN, Aggregation.NONE], ids=str
)
def test_the_indicator_page_runs_the_same_queries_for_10_and_200_members(
    db, client, signed_in, staff, count_queries, aggregation
):
    indicator = IndicatorFactory(aggregation=aggregation, direction=Direction.HIGHER_IS_BETTER)
    set_target(db, staff, indicator, period="2024", value="100")
    set_target(db, staff, indicator, period="2025", value="100")
    region, members = TermFactory(), []
    populate(db, staff, indicator, region, members, 10)
    url = f"/indicators/{indicator.id}"
    small = statements(count_queries, client, url)
    populate(db, staff, indicator, region, members, 190)
    large = statements(count_queries, client, url)
    assert len(small) == len(large), "\n\n".join(large)
    assert len(large) <= 14
    page = text(client.get(url))
    assert "200 members reported" in page
    (row_2025, _row_2024) = rows(section(page, "rollup-title"))
    assert row_2025[1] == "200"


def test_the_network_indicator_page_runs_the_same_queries_for_10_and_200_values(
    db, client, signed_in, staff, count_queries
):
    indicator = IndicatorFactory(level=Level.NETWORK, aggregation=Aggregation.NONE)
    for year in range(1900, 1910):
        record_network_value(db, staff, indicator, period=str(year), value=str(year))
        set_target(db, staff, indicator, period=str(year), value="5")
    url = f"/indicators/{indicator.id}"
    small = statements(count_queries, client, url)
    for year in range(1910, 2100):
        record_network_value(db, staff, indicator, period=str(year), value=str(year))
        set_target(db, staff, indicator, period=str(year), value="5")
    large = statements(count_queries, client, url)
    assert len(small) == len(large), "\n\n".join(large)
    assert len(rows(section(text(client.get(url)), "rollup-title"))) == 200


def test_names_typed_by_people_are_escaped(db, client, signed_in, staff):
    indicator = IndicatorFactory(name="<i>GHG</i>", unit="<b>kt</b>")
    member = MemberFactory(name="<script>alert(1)</script>")
    report_many(db, indicator, [5], members=[member])
    response = client.post(
        f"/indicators/{indicator.id}/targets",
        data={"period": "2025", "value": "4", "member_id": str(member.id), "note": "<u>n</u>"},
    )
    body = client.get(response.headers["Location"]).get_data(as_text=True)
    for raw in ("<script>alert(1)</script>", "<i>GHG</i>", "<b>kt</b>", "<u>n</u>"):
        assert raw not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
