"""Forms of the commitments. Categories are passed in by the view.

The forms only read what was typed; the services decide what is acceptable, so every problem
(a missing title, a percentage of 140, an evidence date in the future) comes back at once.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional

from secretariat.commitments.models import CommitmentStatus
from secretariat.followups.forms import Needed
from secretariat.forms import options

STATUS_LABELS = {
    CommitmentStatus.PLANNED: _l("Planned"),
    CommitmentStatus.IN_PROGRESS: _l("In progress"),
    CommitmentStatus.ACHIEVED: _l("Achieved"),
    CommitmentStatus.OFF_TRACK: _l("Off track"),
    CommitmentStatus.DROPPED: _l("Dropped"),
}
#: The choices of the "not updated for" filter; any other whole number of days is accepted.
NOT_UPDATED_CHOICES = (90, 180, 365)
#: Longest "not updated for" period accepted, in days (a hundred years).
MAX_NOT_UPDATED_DAYS = 36_500
#: What the file inputs accept, as a hint to the browser (the content decides).
ACCEPTED_FILES = ".pdf,.docx,.xlsx,.odt,.png,.jpg,.jpeg"

_FILE_HINT = _l(
    "PDF, Word (DOCX), Excel (XLSX), OpenDocument text (ODT), PNG or JPEG; at most 20 MB."
)


def template_labels() -> dict:
    return {"commitment_status_labels": STATUS_LABELS}


def _status_choices() -> list:
    return options((s.value, label) for s, label in STATUS_LABELS.items())


class _EvidenceForm(FlaskForm):
    """The evidence a commitment or a progress update can bring: a link or a document."""

    evidence_url = StringField(
        _l("Evidence link"),
        validators=[Optional()],
        description=_l("A web address starting with https://."),
    )
    evidence_file = FileField(
        _l("Evidence document"), description=_FILE_HINT, render_kw={"accept": ACCEPTED_FILES}
    )


class CommitmentForm(_EvidenceForm):
    title = StringField(
        _l("Commitment"),
        validators=[Needed()],
        description=_l("What the member pledged, e.g. “A climate action plan aligned with 1.5°C”."),
    )
    category_id = SelectField(
        _l("Category"), coerce=str, validate_choice=False, validators=[Needed()]
    )
    status = SelectField(_l("Status"), coerce=str, validate_choice=False)
    description = TextAreaField(_l("Description"), validators=[Optional()])
    baseline = StringField(
        _l("Baseline"),
        validators=[Optional()],
        description=_l("Where the member started from, e.g. “No plan” or “42 kt CO2e in 2019”."),
    )
    target = StringField(_l("Target"), validators=[Optional()])
    target_on = DateField(_l("Target date"), validators=[Optional()])
    freshness_months = IntegerField(
        _l("Evidence stays current for (months)"),
        validators=[Optional()],
        description=_l(
            "Optional: older evidence is flagged as stale, e.g. 60 for a plan, 24 for an "
            "inventory. Without evidence, the commitment is flagged at once."
        ),
    )
    evidence_on = DateField(
        _l("Evidence date"),
        validators=[Optional()],
        description=_l("The day the evidence dates from, e.g. the plan's adoption."),
    )
    remove_document = BooleanField(_l("Remove the uploaded document"))

    def __init__(self, *args, categories: Iterable = (), **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.category_id.choices = options(
            [("", _l("Choose…")), *((t.id, t.label) for t in categories)]
        )
        self.status.choices = _status_choices()


class UpdateForm(_EvidenceForm):
    status = SelectField(_l("Status"), coerce=str, validate_choice=False)
    percent_complete = IntegerField(
        _l("Percent complete"),
        validators=[Optional()],
        description=_l("From 0 to 100; an achieved commitment counts as 100."),
    )
    narrative = TextAreaField(
        _l("What has happened"),
        validators=[Needed()],
        description=_l("Since the last update: steps taken, decisions, obstacles."),
    )
    evidence_on = DateField(
        _l("Evidence date"),
        validators=[Optional()],
        description=_l("Needed with new evidence: the day it dates from."),
    )

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.status.choices = _status_choices()
