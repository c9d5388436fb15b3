"""Forms of the partner pages. Country choices are passed in by the view."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField, TextAreaField, URLField
from wtforms.validators import InputRequired, Length, Optional

from secretariat.forms import options
from secretariat.partners.models import PartnerKind

KIND_LABELS = {
    PartnerKind.COMPANY: _l("Company"),
    PartnerKind.NGO: _l("NGO"),
    PartnerKind.UNIVERSITY: _l("University or research"),
    PartnerKind.DEVELOPMENT_BANK: _l("Development bank"),
    PartnerKind.GOVERNMENT_AGENCY: _l("National or regional government agency"),
    PartnerKind.FOUNDATION: _l("Foundation"),
    PartnerKind.INTERNATIONAL_ORGANISATION: _l("International organisation"),
    PartnerKind.OTHER: _l("Other"),
}


def template_labels() -> dict:
    """The display names the partner templates need."""
    from secretariat.members.services import country_name

    return {"partner_kind_labels": KIND_LABELS, "country_name": country_name}


class PartnerForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[InputRequired(message=_l("Enter the partner's name.")), Length(max=255)],
    )
    # Values outside the lists are left to the service, whose messages say what to do.
    kind = SelectField(
        _l("Kind of organisation"),
        validate_choice=False,
        validators=[InputRequired(message=_l("Choose the kind of organisation."))],
    )
    country = SelectField(
        _l("Country"),
        validate_choice=False,
        description=_l("Where the organisation has its seat."),
    )
    website = URLField(_l("Website"), validators=[Optional(), Length(max=500)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=10_000)])

    def __init__(self, *args, countries=(), **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.kind.choices = options(
            [("", _l("— choose —")), *((kind.value, label) for kind, label in KIND_LABELS.items())]
        )
        self.country.choices = options([("", _l("No country / international")), *countries])


class PartnerContactForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[InputRequired(message=_l("Enter the person's name.")), Length(max=255)],
    )
    email = EmailField(_l("E-mail address"), validators=[Optional(), Length(max=320)])
    role = StringField(
        _l("Role"),
        validators=[Optional(), Length(max=255)],
        description=_l("Their job or part in the relationship, e.g. Head of urban programmes."),
    )
