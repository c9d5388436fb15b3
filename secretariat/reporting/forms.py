"""Forms of the staff's reporting pages. Choices (groups, members, indicators) are passed in.

The forms only read what was typed; the service decides what is acceptable, so that every
problem (a due date before the opening, a retired indicator, a closed group) comes back at once.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Optional

from secretariat.followups.forms import Needed
from secretariat.forms import options
from secretariat.reporting.models import (
    Audience,
    CycleState,
    SubmissionAction,
    SubmissionStatus,
    ValueSource,
)

STATE_LABELS = {
    CycleState.DRAFT: _l("Draft"),
    CycleState.OPEN: _l("Open"),
    CycleState.CLOSED: _l("Closed"),
}
AUDIENCE_LABELS = {
    Audience.ALL_ACTIVE: _l("All active members"),
    Audience.GROUP: _l("The members of a working group"),
    Audience.CHOSEN: _l("Members chosen one by one"),
}
SUBMISSION_STATUS_LABELS = {
    SubmissionStatus.DRAFT: _l("Draft"),
    SubmissionStatus.SUBMITTED: _l("Submitted"),
    SubmissionStatus.VERIFIED: _l("Verified"),
    SubmissionStatus.RETURNED: _l("Returned for changes"),
}
SOURCE_LABELS = {
    ValueSource.ENTERED: _l("Entered"),
    ValueSource.UNCHANGED: _l("Unchanged from last cycle"),
}
ACTION_LABELS = {
    SubmissionAction.SAVED: _l("Draft saved"),
    SubmissionAction.SUBMITTED: _l("Submitted"),
    SubmissionAction.VERIFIED: _l("Verified"),
    SubmissionAction.RETURNED: _l("Returned for fixes"),
    SubmissionAction.REOPENED: _l("Reopened"),
    SubmissionAction.EDITED_BY_STAFF: _l("Edited by the secretariat"),
}
#: Rows the members' list shows at once: long enough to scan, short enough to fit a screen.
MEMBER_LIST_SIZE = 15


def template_labels() -> dict:
    return {
        "cycle_state_labels": STATE_LABELS,
        "cycle_audience_labels": AUDIENCE_LABELS,
        "submission_status_labels": SUBMISSION_STATUS_LABELS,
        "value_source_labels": SOURCE_LABELS,
        "submission_action_labels": ACTION_LABELS,
    }


class CycleForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[Needed()],
        description=_l("As focal points will see it, e.g. “Annual report 2025”."),
    )
    period = StringField(
        _l("Period reported on"),
        validators=[Needed()],
        description=_l("A year (2025), a half (2025-H1) or a quarter (2025-Q3)."),
    )
    opens_on = DateField(_l("Opens on"), validators=[Optional(), Needed()])
    due_on = DateField(
        _l("Due on"),
        validators=[Optional(), Needed()],
        description=_l("Submissions after the end of this day are late."),
    )
    grace_until = DateField(
        _l("Late submissions taken until"),
        validators=[Optional()],
        description=_l("Left empty, late submissions are taken until the cycle is closed."),
    )
    audience = SelectField(
        _l("Who is asked"),
        choices=options((a.value, label) for a, label in AUDIENCE_LABELS.items()),
        default=Audience.ALL_ACTIVE.value,
        validate_choice=False,
        description=_l("Fixed when the cycle opens: members who join later are not asked."),
    )
    group_id = SelectField(
        _l("Working group"),
        coerce=str,
        validate_choice=False,
        description=_l("Only when the members of a working group are asked."),
    )
    member_ids = SelectMultipleField(
        _l("Members asked"),
        coerce=str,
        validate_choice=False,
        description=_l(
            "Only when members are chosen one by one. Hold Ctrl (or ⌘) to choose several; "
            "type a name's first letters to jump to it."
        ),
    )
    #: Rendered as one checkbox per indicator; ``optional_indicator_ids`` beside each.
    indicator_ids = SelectMultipleField(_l("Indicators asked"), coerce=str, validate_choice=False)
    optional_indicator_ids = SelectMultipleField(
        _l("Optional indicators"), coerce=str, validate_choice=False
    )
    instructions = TextAreaField(
        _l("Instructions"),
        validators=[Optional()],
        description=_l("Shown to focal points above the form: what to report and where to ask."),
    )

    def __init__(  # type: ignore[no-untyped-def]
        self, *args, groups=(), members=(), indicators=(), **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.group_id.choices = options([("", _l("Choose a working group")), *groups])
        self.member_ids.choices = options(members)
        self.indicator_ids.choices = options(indicators)
        self.optional_indicator_ids.choices = options(indicators)


class ReturnForm(FlaskForm):
    comment = TextAreaField(
        _l("What should the member fix?"),
        validators=[Needed()],
        description=_l("The focal point sees this comment with their submission."),
    )


class ReopenForm(FlaskForm):
    comment = TextAreaField(
        _l("Why is it reopened?"),
        validators=[Needed()],
        description=_l("Kept in the submission's history and shown to the focal point."),
    )
