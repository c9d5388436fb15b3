"""Forms of the follow-ups. Choices (owners, members, sources) are passed in by the view.

The forms only read what was typed; the service decides what is acceptable, so that every
problem (a missing title, an owner who cannot own it, a due day before the event) comes back
at once, with the same words whichever page sent it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, FieldList, Form, FormField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from secretariat.followups.models import FollowUpStatus, Priority, Recurrence, SourceKind
from secretariat.forms import options

STATUS_LABELS = {
    FollowUpStatus.OPEN: _l("Open"),
    FollowUpStatus.IN_PROGRESS: _l("In progress"),
    FollowUpStatus.DONE: _l("Done"),
    FollowUpStatus.CANCELLED: _l("Cancelled"),
}
PRIORITY_LABELS = {
    Priority.HIGH: _l("High"),
    Priority.NORMAL: _l("Normal"),
    Priority.LOW: _l("Low"),
}
RECURRENCE_LABELS = {
    Recurrence.NONE: _l("Does not repeat"),
    Recurrence.WEEKLY: _l("Weekly"),
    Recurrence.MONTHLY: _l("Monthly"),
    Recurrence.QUARTERLY: _l("Every three months"),
    Recurrence.YEARLY: _l("Yearly"),
}
SOURCE_LABELS = {
    SourceKind.EVENT: _l("Event"),
    SourceKind.AGREEMENT: _l("Agreement"),
    SourceKind.GROUP: _l("Working group"),
    SourceKind.NONE: _l("No source"),
}
#: Rows of the "follow-ups after an event" form: shown at first, and at most.
BULK_ROWS = 5
MAX_BULK_ROWS = 30


def template_labels() -> dict:
    return {
        "follow_up_status_labels": STATUS_LABELS,
        "follow_up_priority_labels": PRIORITY_LABELS,
        "follow_up_recurrence_labels": RECURRENCE_LABELS,
        "follow_up_source_labels": SOURCE_LABELS,
    }


class Needed:
    """Mark a field as required (asterisk, ``required`` attribute); the service checks it."""

    field_flags = {"required": True}

    def __call__(self, form: Form, field: Any) -> None:
        return None


def source_value(kind: SourceKind, source_id: int | None) -> str:
    """The value of the source select for a source: "event:12", or "" for none."""
    if kind is SourceKind.NONE or source_id is None:
        return ""
    return f"{kind.value}:{source_id}"


def parse_source(value: str | None) -> tuple[SourceKind, int] | None:
    """The kind and id of a source select value; None for no source; ValueError if garbled."""
    if not value:
        return None
    kind, _sep, raw_id = value.partition(":")
    if kind not in ("event", "agreement", "group") or not raw_id.isdigit():
        raise ValueError(value)
    return SourceKind(kind), int(raw_id)


def source_choices(
    events: Iterable[tuple[int, str]],
    agreements: Iterable[tuple[int, str]],
    groups: Iterable[tuple[int, str]],
) -> list[SelectChoice]:
    """The source select's options, grouped by kind; each label names its kind as well, for
    screen readers that do not announce option groups."""
    choices = [SelectChoice(value="", label=_l("None: not from an event, agreement or group"))]
    for kind, pairs, heading in (
        (SourceKind.EVENT, events, _l("Events")),
        (SourceKind.AGREEMENT, agreements, _l("Agreements")),
        (SourceKind.GROUP, groups, _l("Working groups")),
    ):
        choices.extend(
            SelectChoice(value=source_value(kind, ident), label=label, optgroup=str(heading))
            for ident, label in pairs
        )
    return choices


def _enum_choices(labels: dict) -> list[SelectChoice]:
    return options((value.value, label) for value, label in labels.items())


class FollowUpForm(FlaskForm):
    title = StringField(_l("What is to be done"), validators=[Needed()])
    description = TextAreaField(_l("Details"), validators=[Optional()])
    owner_id = SelectField(
        _l("Owner"),
        coerce=str,
        validate_choice=False,
        validators=[Needed()],
        description=_l("A member of staff or a focal point."),
    )
    member_id = SelectField(
        _l("Member concerned"),
        coerce=str,
        validate_choice=False,
        description=_l("A focal point who owns it sees only their own member's follow-ups."),
    )
    source = SelectField(
        _l("Comes from"),
        coerce=str,
        validate_choice=False,
        description=_l("The event, agreement or working group behind it, if any."),
    )
    due_on = DateField(_l("Due on"), validators=[Optional(), Needed()])
    priority = SelectField(
        _l("Priority"),
        choices=_enum_choices(PRIORITY_LABELS),
        default=Priority.NORMAL.value,
        validate_choice=False,
    )
    recurrence = SelectField(
        _l("Repeats"),
        choices=_enum_choices(RECURRENCE_LABELS),
        default=Recurrence.NONE.value,
        validate_choice=False,
        description=_l("When it is done, the next occurrence is created."),
    )
    repeat_until = DateField(
        _l("Repeats until"),
        validators=[Optional()],
        description=_l("Left empty, it repeats until it is cancelled."),
    )

    def __init__(  # type: ignore[no-untyped-def]
        self, *args, owners=(), members=(), sources=(), **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.owner_id.choices = [SelectChoice(value="", label=_l("Choose the owner")), *owners]
        self.member_id.choices = options([("", _l("No particular member")), *members])
        self.source.choices = list(sources)


class CompleteForm(FlaskForm):
    completed_on = DateField(_l("Done on"), validators=[Optional(), Needed()])
    note = TextAreaField(
        _l("What was done"),
        validators=[Optional()],
        description=_l("Optional: a few words for whoever reads this later."),
    )


class CancelForm(FlaskForm):
    cancelled_on = DateField(_l("Cancelled on"), validators=[Optional(), Needed()])
    note = TextAreaField(_l("Why is it cancelled?"), validators=[Needed()])


class FollowUpRowForm(Form):
    """One row of the form that adds several follow-ups after an event."""

    title = StringField(_l("What is to be done"))
    owner_id = SelectField(_l("Owner"), coerce=str, validate_choice=False)
    member_id = SelectField(_l("Member concerned"), coerce=str, validate_choice=False)
    due_on = DateField(_l("Due on"), validators=[Optional()])
    priority = SelectField(
        _l("Priority"),
        choices=_enum_choices(PRIORITY_LABELS),
        default=Priority.NORMAL.value,
        validate_choice=False,
    )

    def is_blank(self) -> bool:
        """Whether nothing was typed or chosen in the row (its priority aside)."""
        return not (
            (self.title.data or "").strip()
            or self.owner_id.data
            or self.member_id.data
            or any((raw or "").strip() for raw in self.due_on.raw_data or ())
        )


class EventFollowUpsForm(FlaskForm):
    rows = FieldList(FormField(FollowUpRowForm), min_entries=0, max_entries=MAX_BULK_ROWS)

    def __init__(  # type: ignore[no-untyped-def]
        self, *args, owners=(), members=(), row_count=BULK_ROWS, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        while len(self.rows.entries) < min(row_count, MAX_BULK_ROWS):
            self.rows.append_entry()
        owner_choices = [SelectChoice(value="", label="—"), *owners]
        member_choices = options([("", "—"), *members])
        for entry in self.rows:
            entry.form.owner_id.choices = owner_choices
            entry.form.member_id.choices = member_choices
