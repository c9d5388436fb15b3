"""Forms of sign-in, account and user administration."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import Email, InputRequired, Length, ValidationError

from secretariat.accounts.models import Role
from secretariat.accounts.passwords import MAX_PASSWORD_LENGTH, password_problem
from secretariat.forms import options

ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.STAFF: _l("Secretariat staff"),
    Role.FOCAL_POINT: _l("Focal point of a member"),
    Role.FUNDER: _l("Funder"),
}


class SignInForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[InputRequired(), Length(max=320)])
    password = PasswordField(
        _l("Password"), validators=[InputRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )
    remember = BooleanField(_l("Keep me signed in on this device for 30 days"))


class EmailLinkForm(FlaskForm):
    email = EmailField(
        _l("E-mail address"),
        validators=[InputRequired(), Email(check_deliverability=False), Length(max=320)],
    )


class ConfirmForm(FlaskForm):
    """An empty form: only its CSRF token matters (POST-only actions)."""


def _check_new_password(_form: FlaskForm, field: PasswordField) -> None:
    problem = password_problem(field.data or "")
    if problem:
        raise ValidationError(problem)


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[InputRequired(), _check_new_password],
        description=_l("At least 10 characters. A short sentence is easy to remember."),
    )
    confirm = PasswordField(_l("Repeat the new password"), validators=[InputRequired()])

    def validate_confirm(self, field: PasswordField) -> None:
        if field.data != self.password.data:
            raise ValidationError(_l("The two passwords are not the same."))


class ChangePasswordForm(SetPasswordForm):
    current_password = PasswordField(_l("Current password"), validators=[InputRequired()])


class ProfileForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=255)])


class UserForm(FlaskForm):
    """Invite or edit a user. Choices of member and funder are passed in by the view."""

    email = EmailField(
        _l("E-mail address"),
        validators=[InputRequired(), Email(check_deliverability=False), Length(max=320)],
    )
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=255)])
    role = SelectField(
        _l("Role"),
        choices=options((role.value, label) for role, label in ROLE_LABELS.items()),
        validators=[InputRequired()],
    )
    member = SelectField(_l("Member (for focal points)"), coerce=str, validate_choice=True)
    funder = SelectField(_l("Funder (for funder users)"), coerce=str, validate_choice=True)

    def __init__(self, *args, member_choices=(), funder_choices=(), **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.member.choices = options([("", _l("— none —")), *member_choices])
        self.funder.choices = options([("", _l("— none —")), *funder_choices])

    def validate_member(self, field: SelectField) -> None:
        if self.role.data == Role.FOCAL_POINT.value and not field.data:
            raise ValidationError(_l("Choose the member this focal point works for."))

    def validate_funder(self, field: SelectField) -> None:
        if self.role.data == Role.FUNDER.value and not field.data:
            raise ValidationError(_l("Choose the funder this user works for."))
