"""Forms of the indicator pages. Member choices are passed in by the view.

The forms only read what was typed; the services decide what is acceptable (a code already
used, a roll-up that does not suit the type of value, a target out of range), so that every
problem comes back at once, with the same words whichever page sent it.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from secretariat.followups.forms import Needed
from secretariat.forms import options
from secretariat.indicators.models import Aggregation, Direction, Indicator, Level, ValueType

VALUE_TYPE_LABELS = {
    ValueType.NUMBER: _l("Number"),
    ValueType.PERCENTAGE: _l("Percentage"),
    ValueType.YES_NO: _l("Yes or no"),
    ValueType.CHOICE: _l("Choice from a list"),
    ValueType.TEXT: _l("Short text"),
}
DIRECTION_LABELS = {
    Direction.HIGHER_IS_BETTER: _l("Higher is better"),
    Direction.LOWER_IS_BETTER: _l("Lower is better"),
    Direction.NONE: _l("Neither"),
}
LEVEL_LABELS = {
    Level.MEMBER: _l("Each member reports it"),
    Level.NETWORK: _l("One value for the network"),
}
AGGREGATION_LABELS = {
    Aggregation.SUM: _l("Sum"),
    Aggregation.MEAN: _l("Mean"),
    Aggregation.MEDIAN: _l("Median"),
    Aggregation.COUNT_YES: _l("Count of yes answers"),
    Aggregation.NONE: _l("No roll-up"),
}
#: The "show" filter of the list.
SHOW_LABELS = {
    "active": _l("Active"),
    "retired": _l("Retired"),
    "all": _l("All"),
}


def template_labels() -> dict:
    return {
        "value_type_labels": VALUE_TYPE_LABELS,
        "direction_labels": DIRECTION_LABELS,
        "level_labels": LEVEL_LABELS,
        "aggregation_labels": AGGREGATION_LABELS,
    }


def _enum_choices(labels: dict) -> list:
    return options((value.value, label) for value, label in labels.items())


class IndicatorForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[Needed()],
        description=_l("A short stable identifier used in exports, such as GHG-PC."),
    )
    name = StringField(_l("Name"), validators=[Needed()])
    definition = TextAreaField(
        _l("Definition"),
        validators=[Optional()],
        description=_l("What is measured and how, so that every member reports the same thing."),
    )
    unit = StringField(
        _l("Unit"), validators=[Optional()], description=_l("For example t CO2e or km.")
    )
    value_type = SelectField(
        _l("Type of value"),
        choices=_enum_choices(VALUE_TYPE_LABELS),
        default=ValueType.NUMBER.value,
        validate_choice=False,
    )
    min_value = StringField(
        _l("Lowest allowed value"),
        validators=[Optional()],
        description=_l("For numbers and percentages only. Leave empty for no limit."),
    )
    max_value = StringField(
        _l("Highest allowed value"),
        validators=[Optional()],
        description=_l("For numbers and percentages only. Leave empty for no limit."),
    )
    choices = TextAreaField(
        _l("Answers to choose from"),
        validators=[Optional()],
        description=_l("For a choice from a list: one answer per line, in the order shown."),
    )
    direction = SelectField(
        _l("Direction"),
        choices=_enum_choices(DIRECTION_LABELS),
        default=Direction.HIGHER_IS_BETTER.value,
        validate_choice=False,
        description=_l("Whether a higher value is progress; used to compare with targets."),
    )
    level = SelectField(
        _l("Level"),
        choices=_enum_choices(LEVEL_LABELS),
        default=Level.MEMBER.value,
        validate_choice=False,
        description=_l(
            "A network-level value is recorded by the secretariat, not asked of members."
        ),
    )
    aggregation = SelectField(
        _l("Network roll-up"),
        choices=_enum_choices(AGGREGATION_LABELS),
        default=Aggregation.NONE.value,
        validate_choice=False,
        description=_l(
            "How members' values add up to the network's figure: sum or mean for numbers, "
            "mean or median for percentages, count of yes answers for yes or no."
        ),
    )
    is_active = BooleanField(
        _l("Active"),
        default=True,
        description=_l("A retired indicator keeps its values but can no longer be asked for."),
    )


class TargetForm(FlaskForm):
    """Set a target; the ids are prefixed so that it can share a page with other forms."""

    period = StringField(
        _l("Period"),
        id="target-period",
        validators=[Needed()],
        description=_l("A year (2025), a half (2025-H1) or a quarter (2025-Q3)."),
    )
    value = StringField(_l("Target"), id="target-value", validators=[Needed()])
    member_id = SelectField(
        _l("For"),
        id="target-member",
        coerce=str,
        validate_choice=False,
        description=_l("The whole network, or one member."),
    )
    note = StringField(_l("Note"), id="target-note", validators=[Optional()])

    def __init__(self, *args, members: Iterable[tuple[int, str]] = (), **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.member_id.choices = options([("", _l("The network")), *members])


class NetworkValueForm(FlaskForm):
    """The network's own value of a network-level indicator for a period."""

    period = StringField(
        _l("Period"),
        id="network-period",
        validators=[Needed()],
        description=_l("A year (2025), a half (2025-H1) or a quarter (2025-Q3)."),
    )
    value = StringField(
        _l("Value"),
        id="network-value",
        validators=[Optional()],
        description=_l("Leave empty to remove the value recorded for the period."),
    )
    note = StringField(_l("Note"), id="network-note", validators=[Optional()])


def network_value_form(indicator: Indicator, **kwargs) -> NetworkValueForm:  # type: ignore[no-untyped-def]
    """The form for the indicator: its answers are offered in a list for yes/no and choices."""
    if indicator.value_type is ValueType.YES_NO:
        answers = [("yes", _l("Yes")), ("no", _l("No"))]
    elif indicator.value_type is ValueType.CHOICE:
        answers = [(choice, choice) for choice in indicator.choices or []]
    else:
        return NetworkValueForm(**kwargs)

    class ListedValueForm(NetworkValueForm):
        value = SelectField(
            _l("Value"),
            id="network-value",
            coerce=str,
            validate_choice=False,
            choices=options([("", _l("None: remove the value")), *answers]),
        )

    return ListedValueForm(**kwargs)
