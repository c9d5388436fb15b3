"""Forms of the working groups. Choices (themes, staff, members) are passed in by the view."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from secretariat.forms import options
from secretariat.groups.models import GroupRole, GroupStatus

ROLE_LABELS = {
    GroupRole.LEAD: _l("Lead (co-chair)"),
    GroupRole.MEMBER: _l("Member"),
    GroupRole.OBSERVER: _l("Observer"),
}
STATUS_LABELS = {GroupStatus.ACTIVE: _l("Active"), GroupStatus.CLOSED: _l("Closed")}


def template_labels() -> dict:
    return {"group_role_labels": ROLE_LABELS, "group_status_labels": STATUS_LABELS}


def _role_choices():  # type: ignore[no-untyped-def]
    return options((role.value, label) for role, label in ROLE_LABELS.items())


class GroupForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=255)])
    slug = StringField(
        _l("Short name for web addresses"),
        validators=[Optional(), Length(max=100)],
        description=_l(
            "Lower-case letters, digits and hyphens. Left empty, it is made from the name."
        ),
    )
    theme_id = SelectField(_l("Theme"), coerce=str, validators=[Optional()])
    staff_lead_id = SelectField(_l("Staff lead"), coerce=str, validators=[Optional()])
    started_on = DateField(
        _l("Started on"), validators=[Optional()], description=_l("Left empty, today.")
    )
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=20_000)])

    def __init__(self, *args, themes=(), staff=(), **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.theme_id.choices = options([("", _l("No theme")), *themes])
        self.staff_lead_id.choices = options([("", _l("Nobody yet")), *staff])


class AddMembersForm(FlaskForm):
    member_ids = SelectMultipleField(
        _l("Members"),
        coerce=int,
        validators=[InputRequired(message=_l("Choose at least one member."))],
        description=_l("Hold Ctrl (or ⌘) to choose several."),
    )
    role = SelectField(_l("Role"), choices=_role_choices(), validators=[InputRequired()])
    joined_on = DateField(_l("Joined on"), validators=[InputRequired()])

    def __init__(self, *args, members=(), **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.member_ids.choices = options(members)


class ChangeRoleForm(FlaskForm):
    role = SelectField(_l("New role"), choices=_role_choices(), validators=[InputRequired()])
    changed_on = DateField(_l("From"), validators=[InputRequired()])


class RemoveMemberForm(FlaskForm):
    left_on = DateField(_l("Left on"), validators=[InputRequired()])


class CloseGroupForm(FlaskForm):
    closed_on = DateField(_l("Closed on"), validators=[InputRequired()])
