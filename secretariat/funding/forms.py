"""Forms of the funding pages. Choices (countries, groups, members, staff, indicators, funders,
programmes) are passed in by the view.

The forms only read what was typed; the services decide what is acceptable, so that every
problem comes back at once, next to its field.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional

from secretariat.followups.forms import Needed
from secretariat.forms import options
from secretariat.funding.models import Coverage, Frequency, FunderKind
from secretariat.funding.services import REPORT_DUE_DAYS

KIND_LABELS = {
    FunderKind.PHILANTHROPY: _l("Philanthropy"),
    FunderKind.PUBLIC: _l("Public funder"),
    FunderKind.MULTILATERAL: _l("Multilateral"),
    FunderKind.CORPORATE: _l("Corporate"),
    FunderKind.OTHER: _l("Other"),
}
COVERAGE_LABELS = {
    Coverage.ALL: _l("All active members"),
    Coverage.GROUP: _l("The current members of a working group"),
    Coverage.CHOSEN: _l("Members chosen one by one"),
}
FREQUENCY_LABELS = {
    Frequency.ANNUAL: _l("Every year"),
    Frequency.SEMI_ANNUAL: _l("Every six months"),
}
#: Blank indicator rows offered below the programme's own.
BLANK_INDICATOR_ROWS = 3
#: More rows than any programme needs; a longer post is cut there.
MAX_INDICATOR_ROWS = 60


def template_labels() -> dict:
    """The display names the funding templates need."""
    from secretariat.members.forms import STATUS_LABELS
    from secretariat.members.services import country_name

    return {
        "funder_kind_labels": KIND_LABELS,
        "coverage_labels": COVERAGE_LABELS,
        "frequency_labels": FREQUENCY_LABELS,
        "member_status_labels": STATUS_LABELS,
        "country_name": country_name,
    }


class FunderForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Needed()])
    kind = SelectField(_l("Kind of funder"), validate_choice=False, validators=[Needed()])
    country = SelectField(
        _l("Country"), validate_choice=False, description=_l("Where the funder has its seat.")
    )
    website = StringField(_l("Website"), description=_l("Starting with https://."))
    notes = TextAreaField(
        _l("Notes"), description=_l("For the secretariat only: funders never see them.")
    )

    def __init__(self, *args, countries=(), **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.kind.choices = options(
            [("", _l("— choose —")), *((kind.value, label) for kind, label in KIND_LABELS.items())]
        )
        self.country.choices = options([("", _l("No country / international")), *countries])


class FunderContactForm(FlaskForm):
    """Invite a person of the funder; shown on the funder page with the prefix ``contact``."""

    name = StringField(_l("Name"), validators=[Needed()])
    email = EmailField(
        _l("E-mail address"),
        validators=[Needed()],
        description=_l("They receive an invitation to choose a password."),
    )


class IndicatorRowForm(Form):
    """One indicator the programme follows, with the value aimed at by its end."""

    indicator_id = SelectField(_l("Indicator"), coerce=str, validate_choice=False)
    target = StringField(_l("Target"))

    def is_blank(self) -> bool:
        return not (self.indicator_id.data or (self.target.data or "").strip())


class ProgrammeForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Needed()])
    description = TextAreaField(
        _l("Description"), description=_l("What the programme does, as funders will read it.")
    )
    starts_on = DateField(_l("Starts on"), validators=[Optional(), Needed()])
    ends_on = DateField(_l("Ends on"), validators=[Optional(), Needed()])
    coverage = RadioField(
        _l("Members covered"),
        choices=options((c.value, label) for c, label in COVERAGE_LABELS.items()),
        default=Coverage.ALL.value,
        validate_choice=False,
    )
    group_id = SelectField(
        _l("Working group"),
        coerce=str,
        validate_choice=False,
        description=_l("Only when the programme covers the current members of a working group."),
    )
    member_ids = SelectMultipleField(_l("Chosen members"), coerce=str, validate_choice=False)
    lead_id = SelectField(
        _l("Lead in the secretariat"),
        coerce=str,
        validate_choice=False,
        description=_l("The member of staff who runs the programme."),
    )
    indicators = FieldList(
        FormField(IndicatorRowForm),
        label=_l("Indicators and targets"),
        min_entries=0,
        max_entries=MAX_INDICATOR_ROWS,
    )

    def __init__(  # type: ignore[no-untyped-def]
        self, *args, groups=(), members=(), staff=(), indicators=(), rows=0, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.group_id.choices = options([("", _l("Choose a working group")), *groups])
        self.member_ids.choices = options(members)
        self.lead_id.choices = options([("", _l("No lead yet")), *staff])
        while len(self.indicators.entries) < min(rows, MAX_INDICATOR_ROWS):
            self.indicators.append_entry()
        indicator_choices = options([("", "—"), *indicators])
        for entry in self.indicators:
            entry.form.indicator_id.choices = indicator_choices


class GrantForm(FlaskForm):
    funder_id = SelectField(_l("Funder"), coerce=str, validate_choice=False, validators=[Needed()])
    programme_id = SelectField(
        _l("Programme"), coerce=str, validate_choice=False, validators=[Needed()]
    )
    reference = StringField(
        _l("Reference"), description=_l("The funder's own reference for the grant, if any.")
    )
    amount = StringField(
        _l("Amount"),
        validators=[Needed()],
        description=_l("The whole grant, e.g. 250000 or 250000.50."),
    )
    currency = SelectField(_l("Currency"), coerce=str, validate_choice=False, validators=[Needed()])
    starts_on = DateField(_l("Starts on"), validators=[Optional(), Needed()])
    ends_on = DateField(_l("Ends on"), validators=[Optional(), Needed()])
    frequency = SelectField(
        _l("Reports due"),
        choices=options((f.value, label) for f, label in FREQUENCY_LABELS.items()),
        default=Frequency.ANNUAL.value,
        validate_choice=False,
        validators=[Needed()],
        description=_l(
            "Each report covers the months since the previous one and is due %(days)d days "
            "after they end.",
            days=REPORT_DUE_DAYS,
        ),
    )

    def __init__(  # type: ignore[no-untyped-def]
        self, *args, funders=(), programmes=(), currencies=(), **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.funder_id.choices = options([("", _l("— choose —")), *funders])
        self.programme_id.choices = options([("", _l("— choose —")), *programmes])
        self.currency.choices = options([("", _l("— choose —")), *currencies])


class ReportSentForm(FlaskForm):
    """The day a grant report went to the funder (one such form per report row)."""

    sent_on = DateField(_l("Sent on"), validators=[Optional(), Needed()])
