"""The submission form's model: one field per indicator, prefilled, with its problems.

Shared by the form page and the focal point's home, which embeds the form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from secretariat.accounts.models import User
from secretariat.indicators.models import Indicator, ValueType
from secretariat.indicators.services import Value, display, format_value, input_text
from secretariat.members.models import Member
from secretariat.permissions import is_staff
from secretariat.reporting import queries, services
from secretariat.reporting.forms import SUBMISSION_STATUS_LABELS
from secretariat.reporting.models import (
    CycleIndicator,
    ReportingCycle,
    Submission,
    SubmissionValue,
)


@dataclass
class Field:
    """One indicator of the form: what to show, what was typed, and what is wrong with it."""

    ci: CycleIndicator
    given: services.ValueInput
    previous: services.Previous | None
    #: The value stored in the submission, for the read-only view.
    stored: SubmissionValue | None
    error: str | None = None
    #: Where the error belongs: "value", "comment" or "evidence".
    error_place: str = "value"
    #: A change of more than half from the previous value ("warning" blocks submitting).
    large_change: str | None = None
    warning: bool = False

    @property
    def indicator(self) -> Indicator:
        return self.ci.indicator

    @property
    def id(self) -> int:
        return self.ci.indicator_id

    @property
    def input_id(self) -> str:
        return f"value-{self.id}"

    @property
    def previous_shown(self) -> str:
        if self.previous is None:
            return ""
        value = self.previous.value
        return display(self.indicator, value.number, value.boolean, value.text)

    @property
    def stored_shown(self) -> str:
        return queries.shown(self.indicator, self.stored)

    @property
    def unit(self) -> str | None:
        if self.indicator.value_type is ValueType.PERCENTAGE:
            return "%"
        return self.indicator.unit if self.indicator.is_numeric else None

    @property
    def range_hint(self) -> str:
        if not self.indicator.is_numeric:
            return ""
        low, high = self.indicator.bounds()
        if low is not None and high is not None:
            return _(
                "Between %(low)s and %(high)s.", low=format_value(low), high=format_value(high)
            )
        if low is not None:
            return _("At least %(low)s.", low=format_value(low))
        if high is not None:
            return _("At most %(high)s.", high=format_value(high))
        return ""

    @property
    def details_open(self) -> bool:
        """Show the comment and evidence when they hold something or a problem."""
        has_problem = bool(self.error) and self.error_place != "value"
        return bool(self.given.comment or self.given.evidence_url or has_problem)


def _stored_value(row: SubmissionValue) -> Value:
    return Value(row.number_value, row.bool_value, row.text_value)


def initial_input(
    cycle: ReportingCycle,
    submission: Submission | None,
    previous: dict[int, services.Previous],
) -> services.SubmissionInput:
    """What the form shows before anything is posted.

    A new submission is prefilled with the previous values, so that the focal point only
    confirms or changes them; a saved one shows what was saved.
    """
    values: dict[int, services.ValueInput] = {}
    if submission is None:
        for ci in cycle.indicators:
            before = previous.get(ci.indicator_id)
            values[ci.indicator_id] = services.ValueInput(
                raw=input_text(before.value if before else None)
            )
        return services.SubmissionInput(values)
    stored = {v.indicator_id: v for v in submission.values}
    for ci in cycle.indicators:
        row = stored.get(ci.indicator_id)
        if row is None:
            values[ci.indicator_id] = services.ValueInput()
            continue
        values[ci.indicator_id] = services.ValueInput(
            raw=input_text(_stored_value(row)),
            comment=row.comment or "",
            evidence_url=row.evidence_url or "",
            confirmed=row.change_confirmed,
        )
    return services.SubmissionInput(values, submission.general_comment or "")


def _fields(
    cycle: ReportingCycle,
    submission: Submission | None,
    data: services.SubmissionInput,
    previous: dict[int, services.Previous],
    problems: services.Problems | None,
) -> list[Field]:
    stored = {v.indicator_id: v for v in submission.values} if submission is not None else {}
    # Every large change gets its "this value is right" box, ticked or not: check again as if
    # nothing were confirmed (a pure check, nothing is written).
    unconfirmed = services.SubmissionInput(
        {
            i: services.ValueInput(v.raw, v.comment, v.evidence_url, confirmed=False)
            for i, v in data.values.items()
        },
        data.general_comment,
    )
    _parsed, large = services.check_submission(cycle, unconfirmed, previous, final=False)
    fields = []
    for ci in cycle.indicators:
        given = data.values.get(ci.indicator_id, services.ValueInput())
        field = Field(ci, given, previous.get(ci.indicator_id), stored.get(ci.indicator_id))
        field.large_change = large.warnings.get(ci.indicator_id)
        if problems is not None:
            field.error = problems.errors.get(ci.indicator_id)
            if field.error:
                field.error_place = problems.places.get(ci.indicator_id, "value")
            field.warning = ci.indicator_id in problems.warnings
        fields.append(field)
    return fields


def submission_form_context(
    session: Session,
    actor: User,
    cycle: ReportingCycle,
    member: Member,
    submission: Submission | None,
    *,
    today: date,
    data: services.SubmissionInput | None = None,
    problems: services.Problems | None = None,
) -> dict:
    """Everything ``reporting/_submission_form.html`` needs (the form page and the home page).

    ``cycle`` comes with its indicators loaded, ``submission`` with its values.
    """
    previous = services.previous_values(session, cycle, member.id)
    if data is None:
        data = initial_input(cycle, submission, previous)
    editable = services.can_edit(actor, cycle, submission, today)
    return {
        "cycle": cycle,
        "member": member,
        "submission": submission,
        "fields": _fields(cycle, submission, data, previous, problems),
        "general_comment": data.general_comment,
        "general_error": problems.errors.get(0) if problems is not None else None,
        "problems": problems,
        "editable": editable,
        "locked_reason": None if editable else services.locked_reason(cycle, submission, today),
        "prefilled": submission is None and bool(previous),
        "on_behalf": is_staff(actor),
        "today": today,
        "days_left": (cycle.due_on - today).days,
        "zone": current_app.config["TIMEZONE"],
        "submission_status_labels": SUBMISSION_STATUS_LABELS,
    }
