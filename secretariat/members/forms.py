"""Forms of the member registry. Choices (regions, tiers) are passed in by the view."""

from __future__ import annotations

from functools import cache

import pycountry
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from secretariat.forms import options
from secretariat.members.models import ContactRole, MemberKind, MemberStatus

KIND_LABELS = {
    MemberKind.CITY: _l("City"),
    MemberKind.METROPOLITAN_AUTHORITY: _l("Metropolitan authority"),
    MemberKind.REGION_OR_STATE: _l("Region or state"),
    MemberKind.RURAL_AREA: _l("Rural area"),
    MemberKind.OTHER: _l("Other"),
}
STATUS_LABELS = {
    MemberStatus.APPLICANT: _l("Applicant"),
    MemberStatus.ACTIVE: _l("Active"),
    MemberStatus.SUSPENDED: _l("Suspended"),
    MemberStatus.LAPSED: _l("Lapsed"),
    MemberStatus.EXITED: _l("Exited"),
}
ROLE_LABELS = {
    ContactRole.LEADER: _l("Mayor or leader"),
    ContactRole.FOCAL_POINT: _l("Focal point"),
    ContactRole.TECHNICAL_LEAD: _l("Technical lead"),
    ContactRole.NATIONAL_REPRESENTATIVE: _l("National representative"),
    ContactRole.OTHER: _l("Other"),
}


@cache
def country_choices() -> tuple[tuple[str, str], ...]:
    """(ISO 3166 alpha-2 code, English name) of every country, by name."""
    return tuple(sorted(((c.alpha_2, c.name) for c in pycountry.countries), key=lambda c: c[1]))


@cache
def currency_choices() -> tuple[tuple[str, str], ...]:
    """(ISO 4217 code, "EUR – Euro") of every currency, by code."""
    return tuple(sorted((c.alpha_3, f"{c.alpha_3} – {c.name}") for c in pycountry.currencies))


def template_labels() -> dict:
    """The display names the register's templates need."""
    from secretariat.members.services import country_name

    return {
        "kind_labels": KIND_LABELS,
        "status_labels": STATUS_LABELS,
        "role_labels": ROLE_LABELS,
        "country_name": country_name,
    }


def _choices(labels: dict) -> list[SelectChoice]:
    return options((key.value, label) for key, label in labels.items())


class MemberForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=255)])
    slug = StringField(
        _l("Short name for web addresses"),
        validators=[Optional(), Length(max=100)],
        description=_l(
            "Lower-case letters, digits and hyphens, e.g. sao-paulo. "
            "Left empty, it is made from the name."
        ),
    )
    kind = SelectField(_l("Kind"), choices=_choices(KIND_LABELS), validators=[InputRequired()])
    country = SelectField(_l("Country"), validators=[InputRequired()])
    region_id = SelectField(_l("Network region"), coerce=str, validators=[Optional()])
    population = IntegerField(_l("Population"), validators=[Optional(), NumberRange(min=0)])
    joined_on = DateField(_l("Joined on"), validators=[Optional()])
    tier_id = SelectField(_l("Tier"), coerce=str, validators=[Optional()])
    annual_fee = DecimalField(
        _l("Annual fee"), places=2, validators=[Optional(), NumberRange(min=0)]
    )
    fee_currency = SelectField(_l("Fee currency"), validators=[Optional()])
    next_election_on = DateField(_l("Next election"), validators=[Optional()])
    leader_term_ends_on = DateField(_l("Leader's term ends"), validators=[Optional()])
    website = URLField(_l("Website"), validators=[Optional(), Length(max=500)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=10_000)])

    def __init__(self, *args, countries=(), regions=(), tiers=(), currencies=(), **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.country.choices = options([("", _l("— choose —")), *countries])
        self.region_id.choices = options([("", _l("— none —")), *regions])
        self.tier_id.choices = options([("", _l("— none —")), *tiers])
        self.fee_currency.choices = options([("", _l("— none —")), *currencies])


class NewMemberForm(MemberForm):
    status = SelectField(
        _l("Status"), choices=_choices(STATUS_LABELS), default=MemberStatus.APPLICANT.value
    )


class StatusForm(FlaskForm):
    status = SelectField(_l("New status"), choices=_choices(STATUS_LABELS))
    reason = TextAreaField(
        _l("Reason"),
        validators=[InputRequired(), Length(max=2000)],
        description=_l("Kept in the member's status history."),
    )


class ContactForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=255)])
    role = SelectField(_l("Role"), choices=_choices(ROLE_LABELS))
    job_title = StringField(_l("Job title"), validators=[Optional(), Length(max=255)])
    email = EmailField(_l("E-mail address"), validators=[Optional(), Length(max=320)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=50)])
    language = SelectField(_l("Preferred language"), validators=[Optional()])
    is_primary = BooleanField(_l("Primary focal point of this member"))
    receives_reminders = BooleanField(_l("Also receives the member's reminders"))
    active_from = DateField(_l("In this role since"), validators=[Optional()])
    active_to = DateField(
        _l("Left this role on"),
        validators=[Optional()],
        description=_l("Leave empty while the person holds the role."),
    )

    def __init__(self, *args, languages=(), **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.language.choices = options([("", _l("— not set —")), *languages])


class EndContactForm(FlaskForm):
    active_to = DateField(_l("Left on"), validators=[InputRequired()])


class ImportForm(FlaskForm):
    file = FileField(
        _l("File (.csv or .xlsx)"),
        validators=[FileRequired(), FileAllowed(["csv", "xlsx"], _l("Use a .csv or .xlsx file."))],
    )


class ImportConfirmForm(FlaskForm):
    """Only a CSRF token; the upload is identified by the URL's token."""
