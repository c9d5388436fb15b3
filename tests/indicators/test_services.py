"""Indicator services: reading typed values, validating indicators, targets, network values."""

from __future__ import annotations

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
from secretariat.indicators.services import (
    EMPTY,
    BadValue,
    IndicatorData,
    Value,
    create_indicator,
    parse_number,
    parse_value,
    record_network_value,
    remove_target,
    set_target,
    update_indicator,
    validate_indicator,
)
from secretariat.members.services import ValidationFailed
from secretariat.permissions import OutOfScope
from tests.factories import IndicatorFactory, MemberFactory, UserFactory
from tests.indicators.data import open_cycle, report


@pytest.fixture
def staff(db):
    return UserFactory()


def message(indicator: Indicator, raw: str) -> str:
    with pytest.raises(BadValue) as caught:
        parse_value(indicator, raw)
    return caught.value.message


def data(**overrides) -> IndicatorData:
    values = {
        "code": "GHG-PC",
        "name": "GHG emissions per capita",
        "value_type": ValueType.NUMBER,
        "direction": Direction.LOWER_IS_BETTER,
        "level": Level.MEMBER,
        "aggregation": Aggregation.MEAN,
    }
    values.update(overrides)
    return IndicatorData(**values)


def targets(db) -> list[tuple[str, int | None, Decimal, str | None]]:
    return [
        (t.period, t.member_id, t.value, t.note)
        for t in db.scalars(select(Target).order_by(Target.period, Target.member_id, Target.id))
    ]


# -- parse_number and parse_value -----------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1250", Decimal("1250")),
        ("1,250.5", Decimal("1250.5")),
        (" 1 250.5 ", Decimal("1250.5")),
        ("12.5%", Decimal("12.5")),
        ("-3", Decimal("-3")),
        ("0.1234567", Decimal("0.123457")),
    ],
)
def test_parse_number_reads_numbers_as_people_write_them(app, raw, expected):
    assert parse_number(raw) == expected


@pytest.mark.parametrize("raw", ["abc", "12,5", "1.250,5", "NaN", "Infinity", "0x10", ""])
def test_parse_number_refuses_what_is_not_a_number_in_english(app, raw):
    # "12,5" is ambiguous in English (a misplaced thousands separator): refused, not read as 125.
    with pytest.raises(BadValue) as caught:
        parse_number(raw)
    assert caught.value.message == "Enter a number, such as 1250 or 12.5."


def test_parse_number_reads_a_decimal_comma_in_french(app):
    app.config["DEFAULT_LOCALE"] = "fr"
    with app.test_request_context("/"):
        assert parse_number("12,5") == Decimal("12.5")
        assert parse_number("1 250,5") == Decimal("1250.5")


def test_parse_number_refuses_too_large_numbers(app):
    with pytest.raises(BadValue, match="too large"):
        parse_number("1e18")
    assert parse_number("999999999999999999") == Decimal("999999999999999999")


def test_parse_value_of_a_number(db):
    indicator = IndicatorFactory(
        value_type=ValueType.NUMBER, min_value=Decimal(0), max_value=Decimal(1000)
    )
    assert parse_value(indicator, "1,000") == Value(number=Decimal("1000"))
    assert parse_value(indicator, "0") == Value(number=Decimal("0"))
    assert parse_value(indicator, "") is EMPTY
    assert parse_value(indicator, "   ") is EMPTY
    assert parse_value(indicator, None) is EMPTY
    assert message(indicator, "abc") == "Enter a number, such as 1250 or 12.5."
    assert message(indicator, "12,5") == "Enter a number, such as 1250 or 12.5."
    assert message(indicator, "1000.01") == "Enter at most 1000."
    assert message(indicator, "-0.5") == "Enter at least 0."
    assert message(indicator, "12\x00") == "Remove the invisible control characters."


def test_parse_value_of_a_number_without_range(db):
    indicator = IndicatorFactory(value_type=ValueType.NUMBER)
    assert parse_value(indicator, "-1,250.5") == Value(number=Decimal("-1250.5"))


def test_parse_value_of_a_percentage(db):
    indicator = IndicatorFactory(value_type=ValueType.PERCENTAGE, aggregation=Aggregation.MEAN)
    assert parse_value(indicator, "12.5") == Value(number=Decimal("12.5"))
    assert parse_value(indicator, "100 %") == Value(number=Decimal("100"))
    assert parse_value(indicator, "0") == Value(number=Decimal("0"))
    assert message(indicator, "140") == "A percentage is between 0 and 100."
    assert message(indicator, "140%") == "A percentage is between 0 and 100."
    assert message(indicator, "-1") == "A percentage is between 0 and 100."
    assert message(indicator, "lots") == "Enter a number, such as 1250 or 12.5."


def test_parse_value_of_a_percentage_with_a_narrower_range(db):
    indicator = IndicatorFactory(
        value_type=ValueType.PERCENTAGE,
        aggregation=Aggregation.MEAN,
        min_value=Decimal(10),
        max_value=Decimal(90),
    )
    assert parse_value(indicator, "10") == Value(number=Decimal("10"))
    assert parse_value(indicator, "90") == Value(number=Decimal("90"))
    assert message(indicator, "9.5") == "Enter at least 10."
    assert message(indicator, "90.5") == "Enter at most 90."


def test_parse_value_of_yes_or_no(db):
    indicator = IndicatorFactory(value_type=ValueType.YES_NO, aggregation=Aggregation.COUNT_YES)
    for raw in ("yes", "Yes", " YES ", "y", "true", "1"):
        assert parse_value(indicator, raw) == Value(boolean=True), raw
    for raw in ("no", "No", "n", "false", "0"):
        assert parse_value(indicator, raw) == Value(boolean=False), raw
    assert message(indicator, "maybe") == "Answer yes or no."
    assert message(indicator, "2") == "Answer yes or no."


def test_parse_value_of_a_choice(db):
    indicator = IndicatorFactory(
        value_type=ValueType.CHOICE,
        aggregation=Aggregation.NONE,
        choices=["Adopted", "In preparation", "None"],
    )
    assert parse_value(indicator, "adopted") == Value(text="Adopted")
    assert parse_value(indicator, " IN PREPARATION ") == Value(text="In preparation")
    assert message(indicator, "Planned") == "Choose one of: Adopted, In preparation, None."


def test_parse_value_of_short_text(db):
    indicator = IndicatorFactory(value_type=ValueType.TEXT, aggregation=Aggregation.NONE)
    assert parse_value(indicator, "  Bike   lanes\nand buses ") == Value(
        text="Bike lanes and buses"
    )
    assert parse_value(indicator, "x" * 500) == Value(text="x" * 500)
    assert message(indicator, "x" * 501) == "Use at most 500 characters."
    assert message(indicator, "bidi \u202e trick") == "Remove the invisible control characters."


# -- validating and saving indicators -------------------------------------------------------


def test_create_indicator_cleans_and_saves(db, staff):
    indicator = create_indicator(
        db,
        staff,
        data(
            code=" ghg-pc ",
            name="  GHG   emissions ",
            unit=" t CO2e ",
            definition="\r\nTotal emissions.\r\nPer resident.\r\n",
            min_value=Decimal(0),
            max_value=Decimal(50),
        ),
    )
    db.expire_all()
    saved = db.get(Indicator, indicator.id)
    assert saved.code == "GHG-PC"
    assert saved.name == "GHG emissions"
    assert saved.unit == "t CO2e"
    assert saved.definition == "Total emissions.\nPer resident."
    assert (saved.min_value, saved.max_value) == (Decimal(0), Decimal(50))
    assert saved.choices is None
    assert saved.is_active is True


def test_duplicate_code_is_refused_whatever_the_case(db, staff):
    IndicatorFactory(code="GHG-PC", name="GHG per capita")
    errors = validate_indicator(db, data(code="ghg-pc"))
    assert errors == {"code": "The code GHG-PC is already used by “GHG per capita”."}
    with pytest.raises(ValidationFailed):
        create_indicator(db, staff, data(code="Ghg-Pc"))
    assert db.scalar(select(func.count()).select_from(Indicator)) == 1


def test_an_indicator_keeps_its_own_code(db, staff):
    indicator = IndicatorFactory(code="GHG-PC")
    update_indicator(db, staff, indicator, data(code="ghg-pc", name="Renamed"))
    assert (indicator.code, indicator.name) == ("GHG-PC", "Renamed")


@pytest.mark.parametrize(
    ("overrides", "field", "expected"),
    [
        ({"code": ""}, "code", "Give the indicator a short code, such as GHG-PC."),
        (
            {"code": "GHG PC"},
            "code",
            "Use at most 40 letters, digits, dots, dashes or underscores.",
        ),
        (
            {"code": "X" * 41},
            "code",
            "Use at most 40 letters, digits, dots, dashes or underscores.",
        ),
        ({"name": "  "}, "name", "Enter a name."),
        ({"name": "GHG\x00"}, "name", "Remove the invisible control characters."),
        ({"unit": "u" * 61}, "unit", "Use at most 60 characters."),
        ({"definition": "a\u202eb"}, "definition", "Remove the invisible control characters."),
        (
            {"min_value": Decimal(10), "max_value": Decimal(5)},
            "max_value",
            "The highest allowed value must not be below the lowest.",
        ),
        ({"max_value": Decimal("1e18")}, "max_value", "This number is too large."),
        (
            {"value_type": ValueType.PERCENTAGE, "max_value": Decimal(140)},
            "max_value",
            "A percentage is between 0 and 100.",
        ),
        ({"value_type": "grade"}, "value_type", "Choose a type of value from the list."),
        ({"direction": "up"}, "direction", "Choose a direction from the list."),
        ({"level": "planet"}, "level", "Choose a level from the list."),
        ({"aggregation": "max"}, "aggregation", "Choose a roll-up from the list."),
    ],
)
def test_bad_indicator_data(db, overrides, field, expected):
    errors = validate_indicator(db, data(**overrides))
    assert errors[field] == expected


def test_settings_typed_as_text_are_read_as_their_enums(db, staff):
    indicator = create_indicator(
        db,
        staff,
        data(value_type="percentage", direction="higher", level="member", aggregation="median"),
    )
    assert indicator.value_type is ValueType.PERCENTAGE
    assert indicator.direction is Direction.HIGHER_IS_BETTER
    assert indicator.aggregation is Aggregation.MEDIAN


def test_unreadable_fields_are_reported_with_the_others(db):
    errors = validate_indicator(db, data(name="", unreadable={"min_value": "Enter a number."}))
    assert errors == {"min_value": "Enter a number.", "name": "Enter a name."}


@pytest.mark.parametrize(
    ("value_type", "aggregation"),
    [
        (ValueType.PERCENTAGE, Aggregation.SUM),
        (ValueType.NUMBER, Aggregation.COUNT_YES),
        (ValueType.YES_NO, Aggregation.MEAN),
        (ValueType.YES_NO, Aggregation.SUM),
        (ValueType.CHOICE, Aggregation.COUNT_YES),
        (ValueType.TEXT, Aggregation.MEDIAN),
    ],
)
def test_a_roll_up_must_suit_the_type_of_value(db, value_type, aggregation):
    errors = validate_indicator(
        db, data(value_type=value_type, aggregation=aggregation, choices=["A", "B"])
    )
    assert errors == {"aggregation": "This roll-up does not apply to this type of value."}


@pytest.mark.parametrize(
    ("value_type", "aggregation"),
    [
        (ValueType.NUMBER, Aggregation.SUM),
        (ValueType.NUMBER, Aggregation.MEAN),
        (ValueType.NUMBER, Aggregation.MEDIAN),
        (ValueType.PERCENTAGE, Aggregation.MEAN),
        (ValueType.PERCENTAGE, Aggregation.MEDIAN),
        (ValueType.YES_NO, Aggregation.COUNT_YES),
        (ValueType.CHOICE, Aggregation.NONE),
        (ValueType.TEXT, Aggregation.NONE),
    ],
)
def test_roll_ups_that_suit_the_type_of_value(db, value_type, aggregation):
    assert (
        validate_indicator(
            db, data(value_type=value_type, aggregation=aggregation, choices=["A", "B"])
        )
        == {}
    )


def test_a_network_level_indicator_has_no_roll_up(db, staff):
    errors = validate_indicator(db, data(level=Level.NETWORK, aggregation=Aggregation.SUM))
    assert errors == {
        "aggregation": "A network-level indicator has one value for the network: choose no roll-up."
    }
    indicator = create_indicator(db, staff, data(level=Level.NETWORK, aggregation=Aggregation.NONE))
    assert indicator.level is Level.NETWORK


def test_choices_are_cleaned_and_checked(db, staff):
    indicator = create_indicator(
        db,
        staff,
        data(
            value_type=ValueType.CHOICE,
            aggregation=Aggregation.NONE,
            choices=["  Adopted ", "", "In   preparation", "  "],
            min_value=Decimal(1),
        ),
    )
    assert indicator.choices == ["Adopted", "In preparation"]
    # A range means nothing for a choice: it is dropped.
    assert indicator.min_value is None

    def choice_error(choices):
        return validate_indicator(
            db,
            data(code="C2", value_type=ValueType.CHOICE, aggregation="none", choices=choices),
        ).get("choices")

    assert choice_error(["Only one"]) == "List at least two answers, one per line."
    assert choice_error(["Yes", "yes"]) == "Each answer may appear only once."
    assert choice_error(["A", "b" * 201]) == "Keep each answer under 200 characters."
    assert choice_error(["A", "B\x07"]) == "Remove the invisible control characters."


def test_choices_and_range_are_dropped_for_yes_no(db, staff):
    indicator = create_indicator(
        db,
        staff,
        data(
            value_type=ValueType.YES_NO,
            aggregation=Aggregation.COUNT_YES,
            choices=["A", "B"],
            min_value=Decimal(0),
            max_value=Decimal(1),
        ),
    )
    assert (indicator.choices, indicator.min_value, indicator.max_value) == (None, None, None)


def test_type_and_level_cannot_change_once_values_exist(db, staff):
    indicator = IndicatorFactory(aggregation=Aggregation.SUM)
    # Without values, both may change.
    assert validate_indicator(db, data(code=indicator.code), indicator) == {}
    report(db, open_cycle(), MemberFactory(), indicator, 12)
    errors = validate_indicator(
        db,
        data(
            code=indicator.code,
            value_type=ValueType.PERCENTAGE,
            level=Level.NETWORK,
            aggregation=Aggregation.NONE,
        ),
        indicator,
    )
    assert errors == {
        "value_type": "Values have already been reported, so the type of value cannot change.",
        "level": "Values have already been reported, so the level cannot change.",
    }
    with pytest.raises(ValidationFailed):
        update_indicator(db, staff, indicator, data(code=indicator.code, value_type="percentage"))
    db.expire_all()
    assert db.get(Indicator, indicator.id).value_type is ValueType.NUMBER
    # The rest may still change.
    update_indicator(db, staff, indicator, data(code=indicator.code, name="Renamed"))
    assert indicator.name == "Renamed"


def test_a_recorded_network_value_also_fixes_the_type(db, staff):
    indicator = IndicatorFactory(level=Level.NETWORK, aggregation=Aggregation.NONE)
    record_network_value(db, staff, indicator, period="2025", value="3")
    errors = validate_indicator(
        db,
        data(code=indicator.code, value_type=ValueType.TEXT, aggregation="none", level="network"),
        indicator,
    )
    assert set(errors) == {"value_type"}


def test_focal_points_cannot_create_or_change_indicators(db):
    focal = UserFactory(focal_point=True)
    indicator = IndicatorFactory(name="Kept")
    with pytest.raises(OutOfScope):
        create_indicator(db, focal, data())
    with pytest.raises(OutOfScope):
        update_indicator(db, focal, indicator, data(code=indicator.code, name="Changed"))
    assert indicator.name == "Kept"


# -- targets --------------------------------------------------------------------------------


def test_set_target_inserts_then_updates(db, staff):
    indicator = IndicatorFactory(aggregation=Aggregation.MEAN)
    first = set_target(db, staff, indicator, period=" 2025 ", value="1,200.5", note=" first ")
    again = set_target(db, staff, indicator, period="2025", value="1100", note="")
    assert again.id == first.id
    assert targets(db) == [("2025", None, Decimal("1100"), None)]


def test_network_and_member_targets_of_a_period_live_side_by_side(db, staff):
    indicator = IndicatorFactory(aggregation=Aggregation.MEAN)
    lisbon, porto = MemberFactory(), MemberFactory()
    set_target(db, staff, indicator, period="2025", value="10")
    set_target(db, staff, indicator, period="2025", value="12", member_id=lisbon.id)
    set_target(db, staff, indicator, period="2025", value="8", member_id=porto.id)
    set_target(db, staff, indicator, period="2025", value="11", member_id=lisbon.id)
    set_target(db, staff, indicator, period="2026", value="9")
    assert sorted(targets(db), key=lambda t: (t[0], t[1] or 0)) == [
        ("2025", None, Decimal("10"), None),
        ("2025", lisbon.id, Decimal("11"), None),
        ("2025", porto.id, Decimal("8"), None),
        ("2026", None, Decimal("9"), None),
    ]


def failed(db, staff, indicator, **kwargs) -> dict[str, str]:
    kwargs.setdefault("period", "2025")
    kwargs.setdefault("value", "10")
    with pytest.raises(ValidationFailed) as caught:
        set_target(db, staff, indicator, **kwargs)
    return caught.value.errors


def test_bad_targets_are_refused_with_every_reason(db, staff):
    indicator = IndicatorFactory(aggregation=Aggregation.MEAN, max_value=Decimal(100))
    assert failed(db, staff, indicator, period="25", value="lots", note="\x00") == {
        "period": "Write the period as a year (2025), a half (2025-H1) or a quarter (2025-Q3).",
        "value": "Enter a number, such as 1250 or 12.5.",
        "note": "Remove the invisible control characters.",
    }
    assert failed(db, staff, indicator, value="") == {"value": "Enter the target value."}
    assert failed(db, staff, indicator, value="101") == {"value": "Enter at most 100."}
    assert failed(db, staff, indicator, member_id=999_999) == {
        "member_id": "Choose a member from the list."
    }
    assert failed(db, staff, indicator, note="n" * 501) == {"note": "Use at most 500 characters."}
    assert targets(db) == []


def test_a_percentage_target_of_140_is_refused(db, staff):
    indicator = IndicatorFactory(value_type=ValueType.PERCENTAGE, aggregation=Aggregation.MEAN)
    assert failed(db, staff, indicator, value="140") == {
        "value": "A percentage is between 0 and 100."
    }


def test_the_network_target_of_a_sum_may_exceed_what_one_member_reports(db, staff):
    indicator = IndicatorFactory(
        aggregation=Aggregation.SUM, min_value=Decimal(0), max_value=Decimal(1000)
    )
    set_target(db, staff, indicator, period="2025", value="25,000")
    # A member's target stays within what the member may report.
    member = MemberFactory()
    assert failed(db, staff, indicator, value="25000", member_id=member.id) == {
        "value": "Enter at most 1000."
    }
    # A sum of values that are each at least 0 is at least 0.
    assert failed(db, staff, indicator, value="-5") == {"value": "Enter at least 0."}
    assert targets(db) == [("2025", None, Decimal("25000"), None)]


def test_a_count_of_yes_takes_a_whole_number_of_members_for_the_network(db, staff):
    indicator = IndicatorFactory(value_type=ValueType.YES_NO, aggregation=Aggregation.COUNT_YES)
    set_target(db, staff, indicator, period="2025", value="30")
    message = "The target is a number of members answering yes."
    assert failed(db, staff, indicator, value="2.5") == {"value": message}
    assert failed(db, staff, indicator, value="-1") == {"value": message}
    assert failed(db, staff, indicator, value="yes") == {
        "value": "Enter a number, such as 1250 or 12.5."
    }
    assert failed(db, staff, indicator, member_id=MemberFactory().id) == {
        "member_id": "A member answers yes or no: a count of yes answers has network targets only."
    }
    assert targets(db) == [("2025", None, Decimal("30"), None)]


@pytest.mark.parametrize("value_type", [ValueType.TEXT, ValueType.CHOICE, ValueType.YES_NO])
def test_no_targets_for_answers_that_are_not_counted(db, staff, value_type):
    indicator = IndicatorFactory(
        value_type=value_type, aggregation=Aggregation.NONE, choices=["A", "B"]
    )
    assert failed(db, staff, indicator, value="A") == {
        "value": "Targets are set for numbers, percentages and counts of yes answers."
    }


def test_a_network_level_indicator_has_network_targets_only(db, staff):
    indicator = IndicatorFactory(level=Level.NETWORK, aggregation=Aggregation.NONE)
    assert failed(db, staff, indicator, member_id=MemberFactory().id) == {
        "member_id": "A network-level indicator has network targets only."
    }
    set_target(db, staff, indicator, period="2025-H1", value="3")
    assert targets(db) == [("2025-H1", None, Decimal("3"), None)]


def test_remove_target(db, staff):
    indicator = IndicatorFactory()
    target = set_target(db, staff, indicator, period="2025", value="5")
    kept = set_target(db, staff, indicator, period="2026", value="4")
    with pytest.raises(OutOfScope):
        remove_target(db, UserFactory(focal_point=True), target)
    remove_target(db, staff, target)
    assert [t.id for t in db.scalars(select(Target))] == [kept.id]


def test_focal_points_cannot_set_targets(db):
    with pytest.raises(OutOfScope):
        set_target(db, UserFactory(focal_point=True), IndicatorFactory(), period="2025", value="1")
    assert targets(db) == []


# -- network values -------------------------------------------------------------------------


def network_values(db) -> list[tuple]:
    return [
        (v.period, v.number_value, v.bool_value, v.text_value, v.note, v.recorded_by_id)
        for v in db.scalars(select(NetworkValue).order_by(NetworkValue.period))
    ]


def test_record_network_value_inserts_updates_and_removes(db, staff):
    indicator = IndicatorFactory(level=Level.NETWORK, aggregation=Aggregation.NONE)
    row = record_network_value(db, staff, indicator, period="2025", value="1,250", note=" from ")
    assert network_values(db) == [("2025", Decimal("1250"), None, None, "from", staff.id)]
    other = UserFactory()
    again = record_network_value(db, other, indicator, period="2025", value="1300")
    assert again.id == row.id
    assert network_values(db) == [("2025", Decimal("1300"), None, None, None, other.id)]
    assert record_network_value(db, staff, indicator, period="2025", value="  ") is None
    assert network_values(db) == []
    # Removing what is not there is not an error.
    assert record_network_value(db, staff, indicator, period="2025", value="") is None


def test_record_network_value_of_each_type(db, staff):
    yes_no = IndicatorFactory(
        level=Level.NETWORK, value_type=ValueType.YES_NO, aggregation=Aggregation.NONE
    )
    choice = IndicatorFactory(
        level=Level.NETWORK,
        value_type=ValueType.CHOICE,
        aggregation=Aggregation.NONE,
        choices=["Adopted", "Drafted"],
    )
    assert record_network_value(db, staff, yes_no, period="2025", value="Yes").bool_value is True
    assert record_network_value(db, staff, choice, period="2025", value="drafted").text_value == (
        "Drafted"
    )


def test_bad_network_values_are_refused(db, staff):
    indicator = IndicatorFactory(
        level=Level.NETWORK, value_type=ValueType.YES_NO, aggregation=Aggregation.NONE
    )
    with pytest.raises(ValidationFailed) as caught:
        record_network_value(db, staff, indicator, period="last year", value="maybe")
    assert caught.value.errors == {
        "period": "Write the period as a year (2025), a half (2025-H1) or a quarter (2025-Q3).",
        "value": "Answer yes or no.",
    }
    member_level = IndicatorFactory(level=Level.MEMBER)
    with pytest.raises(ValidationFailed) as caught:
        record_network_value(db, staff, member_level, period="2025", value="lots")
    assert caught.value.errors == {"value": "Members report this indicator in reporting cycles."}
    with pytest.raises(OutOfScope):
        record_network_value(
            db, UserFactory(focal_point=True), indicator, period="2025", value="yes"
        )
    assert network_values(db) == []
