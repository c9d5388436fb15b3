"""Indicator operations, and reading a typed value for an indicator.

``parse_value`` is the one place that turns what someone typed into a value of an indicator's
type, with a message saying what is wrong otherwise; reporting cycles and network values use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from babel.numbers import NumberFormatError, parse_decimal
from flask import has_request_context
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from secretariat.accounts.models import User
from secretariat.indicators.models import (
    NUMERIC_TYPES,
    PERIOD_PATTERN,
    Aggregation,
    Direction,
    Indicator,
    Level,
    NetworkValue,
    Target,
    ValueType,
)
from secretariat.members.models import Member
from secretariat.members.services import ValidationFailed
from secretariat.permissions import Permission, ensure_permission
from secretariat.text import has_control_characters, paragraphs, single_line

#: Largest magnitude a value may have (the column keeps 18 digits before the point).
LIMIT = Decimal("1e18")
#: Longest short-text answer.
MAX_TEXT = 500
#: Words accepted for yes and no, whatever the case.
YES_WORDS = frozenset({"yes", "y", "true", "1"})
NO_WORDS = frozenset({"no", "n", "false", "0"})
#: Aggregations that make sense for each type of value.
AGGREGATIONS = {
    ValueType.NUMBER: {Aggregation.SUM, Aggregation.MEAN, Aggregation.MEDIAN, Aggregation.NONE},
    ValueType.PERCENTAGE: {Aggregation.MEAN, Aggregation.MEDIAN, Aggregation.NONE},
    ValueType.YES_NO: {Aggregation.COUNT_YES, Aggregation.NONE},
    ValueType.CHOICE: {Aggregation.NONE},
    ValueType.TEXT: {Aggregation.NONE},
}
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class Value:
    """A typed value: exactly one of the three is set, or none for an empty answer."""

    number: Decimal | None = None
    boolean: bool | None = None
    text: str | None = None

    @property
    def is_empty(self) -> bool:
        return self.number is None and self.boolean is None and self.text is None


EMPTY = Value()


class BadValue(ValueError):
    """What was typed is not a value of the indicator's type; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _locale() -> str:
    return str(get_locale() or "en") if has_request_context() else "en"


def parse_number(raw: str) -> Decimal:
    """Read a number written the way people write them ("1,250.5", "1250,5" in French...)."""
    cleaned = raw.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    if cleaned.endswith("%"):
        cleaned = cleaned[:-1]
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        try:
            number = parse_decimal(cleaned, locale=_locale(), strict=True)
        except NumberFormatError as exc:
            raise BadValue(_("Enter a number, such as 1250 or 12.5.")) from exc
    if not number.is_finite():
        raise BadValue(_("Enter a number, such as 1250 or 12.5."))
    if abs(number) >= LIMIT:
        raise BadValue(_("This number is too large."))
    if number.as_tuple().exponent < -6:  # type: ignore[operator]
        number = number.quantize(Decimal("0.000001"))
    return number


def parse_value(indicator: Indicator, raw: str | None) -> Value:
    """Read what was typed for the indicator; an empty answer is ``EMPTY``."""
    raw = (raw or "").strip()
    if not raw:
        return EMPTY
    if has_control_characters(raw):
        raise BadValue(_("Remove the invisible control characters."))
    if indicator.value_type in NUMERIC_TYPES:
        number = parse_number(raw)
        low, high = indicator.bounds()
        if indicator.value_type is ValueType.PERCENTAGE and not (0 <= number <= 100):
            raise BadValue(_("A percentage is between 0 and 100."))
        if low is not None and number < low:
            raise BadValue(_("Enter at least %(low)s.", low=format_value(low)))
        if high is not None and number > high:
            raise BadValue(_("Enter at most %(high)s.", high=format_value(high)))
        return Value(number=number)
    if indicator.value_type is ValueType.YES_NO:
        word = raw.casefold()
        if word in YES_WORDS or word == _("yes").casefold():
            return Value(boolean=True)
        if word in NO_WORDS or word == _("no").casefold():
            return Value(boolean=False)
        raise BadValue(_("Answer yes or no."))
    if indicator.value_type is ValueType.CHOICE:
        for choice in indicator.choices or []:
            if choice.casefold() == raw.casefold():
                return Value(text=choice)
        raise BadValue(_("Choose one of: %(choices)s.", choices=", ".join(indicator.choices or [])))
    text = single_line(raw)
    if len(text) > MAX_TEXT:
        raise BadValue(_("Use at most %(count)d characters.", count=MAX_TEXT))
    return Value(text=text)


def format_value(number: Decimal) -> str:
    """A number as people of the current locale write it, without trailing zeros."""
    normalized = number.normalize()
    if normalized == normalized.to_integral_value():
        normalized = normalized.quantize(Decimal(1))
    digits = max(0, -normalized.as_tuple().exponent)  # type: ignore[operator]
    if has_request_context():
        return format_decimal(normalized, format="#,##0." + "#" * digits if digits else "#,##0")
    return str(normalized)


def display(
    indicator: Indicator, number: Decimal | None, boolean: bool | None, text: str | None
) -> str:
    """A stored value as shown on pages ("12.5 %", "Yes", "Adopted"); empty when no value."""
    if number is not None:
        shown = format_value(number)
        if indicator.value_type is ValueType.PERCENTAGE:
            return f"{shown} %"
        return f"{shown} {indicator.unit}" if indicator.unit else shown
    if boolean is not None:
        return _("Yes") if boolean else _("No")
    return text or ""


def input_text(value: Value | None) -> str:
    """A value as it goes back into a form field."""
    if value is None or value.is_empty:
        return ""
    if value.number is not None:
        return plain(value.number)
    if value.boolean is not None:
        return "yes" if value.boolean else "no"
    return value.text or ""


def plain(number: Decimal) -> str:
    """A number without exponent or trailing zeros, as typed in forms and written to exports."""
    if number == number.to_integral_value():
        return str(number.quantize(Decimal(1)))
    return format(number.normalize(), "f")


def relative_change(previous: Decimal, current: Decimal) -> Decimal | None:
    """How much a number moved from the previous value, as a fraction; None from zero."""
    if previous == 0:
        return None
    return abs(current - previous) / abs(previous)


def check_period(raw: str | None) -> str:
    """Validate a period label ("2025", "2025-H1", "2025-Q3") and return it normalised."""
    period = (raw or "").strip().upper()
    match = PERIOD_PATTERN.match(period)
    if not match or not 1900 <= int(match.group(1)) <= 2200:
        raise BadValue(
            _("Write the period as a year (2025), a half (2025-H1) or a quarter (2025-Q3).")
        )
    return period


@dataclass
class IndicatorData:
    code: str
    name: str
    value_type: ValueType
    direction: Direction
    level: Level
    aggregation: Aggregation
    definition: str | None = None
    unit: str | None = None
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    choices: list[str] = field(default_factory=list)
    is_active: bool = True
    #: Fields whose values the form could not read, with their messages.
    unreadable: dict[str, str] = field(default_factory=dict)


def has_values(session: Session, indicator: Indicator) -> bool:
    """Whether any member reported on the indicator, or the network recorded a value."""
    from secretariat.reporting.models import SubmissionValue

    return bool(
        session.scalar(select(exists().where(SubmissionValue.indicator_id == indicator.id)))
        or session.scalar(select(exists().where(NetworkValue.indicator_id == indicator.id)))
    )


def validate_indicator(
    session: Session, data: IndicatorData, current: Indicator | None = None
) -> dict[str, str]:
    """Return every problem with the data, by field; empty when it can be saved."""
    errors = dict(data.unreadable)
    _read_settings(data, errors)
    for name in ("name", "unit"):
        if has_control_characters(getattr(data, name)):
            errors.setdefault(name, _("Remove the invisible control characters."))
    data.code = (data.code or "").strip().upper()
    data.name = single_line(data.name)
    data.unit = single_line(data.unit) or None
    data.definition = paragraphs(data.definition)
    if not data.code:
        errors["code"] = _("Give the indicator a short code, such as GHG-PC.")
    elif len(data.code) > 40 or not _CODE.match(data.code):
        errors["code"] = _("Use at most 40 letters, digits, dots, dashes or underscores.")
    else:
        clash = session.scalar(select(Indicator).where(func.upper(Indicator.code) == data.code))
        if clash is not None and (current is None or clash.id != current.id):
            errors["code"] = _(
                "The code %(code)s is already used by “%(name)s”.", code=clash.code, name=clash.name
            )
    if not data.name:
        errors.setdefault("name", _("Enter a name."))
    elif len(data.name) > 255:
        errors.setdefault("name", _("Use at most 255 characters."))
    if data.unit and len(data.unit) > 60:
        errors.setdefault("unit", _("Use at most 60 characters."))
    if data.definition and has_control_characters(data.definition):
        errors["definition"] = _("Remove the invisible control characters.")
    if not isinstance(data.value_type, ValueType):
        # The type is unknown: the checks that depend on it would only add confusion.
        return errors
    numeric = data.value_type in NUMERIC_TYPES
    if not numeric:
        data.min_value = data.max_value = None
    for name in ("min_value", "max_value"):
        value = getattr(data, name)
        if value is not None and abs(value) >= LIMIT:
            errors.setdefault(name, _("This number is too large."))
    if data.value_type is ValueType.PERCENTAGE:
        for name in ("min_value", "max_value"):
            value = getattr(data, name)
            if value is not None and not 0 <= value <= 100:
                errors.setdefault(name, _("A percentage is between 0 and 100."))
    if (
        data.min_value is not None
        and data.max_value is not None
        and data.min_value > data.max_value
        and "max_value" not in errors
    ):
        errors["max_value"] = _("The highest allowed value must not be below the lowest.")
    if data.value_type is ValueType.CHOICE:
        choices = [single_line(c) for c in data.choices]
        choices = [c for c in choices if c]
        folded = [c.casefold() for c in choices]
        if any(has_control_characters(c) for c in choices):
            errors["choices"] = _("Remove the invisible control characters.")
        elif len(choices) < 2:
            errors["choices"] = _("List at least two answers, one per line.")
        elif len(set(folded)) != len(folded):
            errors["choices"] = _("Each answer may appear only once.")
        elif any(len(c) > 200 for c in choices):
            errors["choices"] = _("Keep each answer under 200 characters.")
        data.choices = choices
    else:
        data.choices = []
    if "aggregation" not in errors and "level" not in errors:
        if data.level is Level.NETWORK and data.aggregation is not Aggregation.NONE:
            errors["aggregation"] = _(
                "A network-level indicator has one value for the network: choose no roll-up."
            )
        elif data.aggregation not in AGGREGATIONS[data.value_type]:
            errors["aggregation"] = _("This roll-up does not apply to this type of value.")
    if (
        current is not None
        and current.value_type != data.value_type
        and has_values(session, current)
    ):
        errors["value_type"] = _(
            "Values have already been reported, so the type of value cannot change."
        )
    if (
        current is not None
        and "level" not in errors
        and current.level != data.level
        and has_values(session, current)
    ):
        errors["level"] = _("Values have already been reported, so the level cannot change.")
    return errors


#: The settings chosen from lists, with the message for a value that is not in its list.
_SETTINGS = (
    ("value_type", ValueType, _l("Choose a type of value from the list.")),
    ("direction", Direction, _l("Choose a direction from the list.")),
    ("level", Level, _l("Choose a level from the list.")),
    ("aggregation", Aggregation, _l("Choose a roll-up from the list.")),
)


def _read_settings(data: IndicatorData, errors: dict[str, str]) -> None:
    """Turn the settings chosen from lists into their enums; refuse what is not in the list."""
    for name, kind, message in _SETTINGS:
        value = getattr(data, name)
        if isinstance(value, kind):
            continue
        if isinstance(value, str) and value in kind._value2member_map_:
            setattr(data, name, kind(value))
        else:
            errors.setdefault(name, str(message))


def _apply(indicator: Indicator, data: IndicatorData) -> None:
    indicator.code = data.code
    indicator.name = data.name
    indicator.definition = data.definition
    indicator.unit = data.unit
    indicator.value_type = data.value_type
    indicator.min_value = data.min_value
    indicator.max_value = data.max_value
    indicator.choices = data.choices or None
    indicator.direction = data.direction
    indicator.level = data.level
    indicator.aggregation = data.aggregation
    indicator.is_active = data.is_active


def create_indicator(session: Session, actor: User, data: IndicatorData) -> Indicator:
    ensure_permission(actor, Permission.MANAGE_INDICATORS)
    errors = validate_indicator(session, data)
    if errors:
        raise ValidationFailed(errors)
    indicator = Indicator()
    _apply(indicator, data)
    session.add(indicator)
    session.flush()
    return indicator


def update_indicator(
    session: Session, actor: User, indicator: Indicator, data: IndicatorData
) -> None:
    ensure_permission(actor, Permission.MANAGE_INDICATORS)
    errors = validate_indicator(session, data, indicator)
    if errors:
        raise ValidationFailed(errors)
    _apply(indicator, data)
    session.flush()


def set_target(
    session: Session,
    actor: User,
    indicator: Indicator,
    *,
    period: str,
    value: str,
    member_id: int | None = None,
    note: str | None = None,
    unreadable: dict[str, str] | None = None,
) -> Target:
    """Set (or change) the target of a period, for the network or for one member.

    ``unreadable`` holds what the form could not read (a garbled member), by field: it is
    refused with the other problems.
    """
    ensure_permission(actor, Permission.MANAGE_INDICATORS)
    errors: dict[str, str] = dict(unreadable or {})
    try:
        period = check_period(period)
    except BadValue as exc:
        errors["period"] = exc.message
    number: Decimal | None = None
    counts_yes = (
        indicator.value_type is ValueType.YES_NO and indicator.aggregation is Aggregation.COUNT_YES
    )
    # The network's sum may go beyond what one member may report (but not below a floor >= 0).
    summed = (
        member_id is None
        and indicator.level is Level.MEMBER
        and indicator.aggregation is Aggregation.SUM
    )
    if not (value or "").strip() and (counts_yes or indicator.is_numeric):
        errors["value"] = _("Enter the target value.")
    elif counts_yes:
        try:
            number = parse_number(value)
            if number < 0 or number != number.to_integral_value():
                errors["value"] = _("The target is a number of members answering yes.")
        except BadValue as exc:
            errors["value"] = exc.message
    elif summed:
        try:
            number = parse_number(value)
            low = indicator.min_value
            if low is not None and low >= 0 and number < low:
                errors["value"] = _("Enter at least %(low)s.", low=format_value(low))
        except BadValue as exc:
            errors["value"] = exc.message
    elif indicator.is_numeric:
        try:
            number = parse_value(indicator, value).number
        except BadValue as exc:
            errors["value"] = exc.message
    else:
        errors["value"] = _("Targets are set for numbers, percentages and counts of yes answers.")
    if member_id is not None and session.get(Member, member_id) is None:
        errors.setdefault("member_id", _("Choose a member from the list."))
    elif member_id is not None and indicator.level is Level.NETWORK:
        errors.setdefault("member_id", _("A network-level indicator has network targets only."))
    elif member_id is not None and counts_yes:
        errors.setdefault(
            "member_id",
            _("A member answers yes or no: a count of yes answers has network targets only."),
        )
    errors.update(_note_errors(note))
    note = single_line(note) or None
    if errors:
        raise ValidationFailed(errors)
    assert number is not None
    stmt = select(Target).where(Target.indicator_id == indicator.id, Target.period == period)
    stmt = stmt.where(
        Target.member_id.is_(None) if member_id is None else Target.member_id == member_id
    )
    target = session.scalar(stmt)
    if target is None:
        target = Target(indicator=indicator, period=period, member_id=member_id, value=number)
        session.add(target)
    target.value = number
    target.note = note
    session.flush()
    return target


def _note_errors(note: str | None) -> dict[str, str]:
    if has_control_characters(note):
        return {"note": _("Remove the invisible control characters.")}
    if len(single_line(note)) > 500:
        return {"note": _("Use at most 500 characters.")}
    return {}


def remove_target(session: Session, actor: User, target: Target) -> None:
    ensure_permission(actor, Permission.MANAGE_INDICATORS)
    session.delete(target)
    session.flush()


def record_network_value(
    session: Session,
    actor: User,
    indicator: Indicator,
    *,
    period: str,
    value: str,
    note: str | None = None,
) -> NetworkValue | None:
    """Record the network's own value of a network-level indicator; empty removes it."""
    ensure_permission(actor, Permission.MANAGE_INDICATORS)
    errors: dict[str, str] = {}
    if indicator.level is not Level.NETWORK:
        errors["value"] = _("Members report this indicator in reporting cycles.")
    try:
        period = check_period(period)
    except BadValue as exc:
        errors["period"] = exc.message
    parsed = EMPTY
    try:
        parsed = parse_value(indicator, value)
    except BadValue as exc:
        errors.setdefault("value", exc.message)
    errors.update(_note_errors(note))
    note = single_line(note) or None
    if errors:
        raise ValidationFailed(errors)
    row = session.scalar(
        select(NetworkValue).where(
            NetworkValue.indicator_id == indicator.id, NetworkValue.period == period
        )
    )
    if parsed.is_empty:
        if row is not None:
            session.delete(row)
            session.flush()
        return None
    if row is None:
        row = NetworkValue(indicator=indicator, period=period)
        session.add(row)
    row.number_value, row.bool_value, row.text_value = parsed.number, parsed.boolean, parsed.text
    row.note = note
    row.recorded_by_id = actor.id
    session.flush()
    return row
