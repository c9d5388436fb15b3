"""Forms of the events. Choices (members, groups, zones) are passed in by the view."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import InputRequired, Length, Optional

from secretariat.events.models import Audience, EventType, Response
from secretariat.forms import options

TYPE_LABELS = {
    EventType.WORKSHOP: _l("Workshop"),
    EventType.WEBINAR: _l("Webinar"),
    EventType.ANNUAL_FORUM: _l("Annual forum"),
    EventType.STUDY_TOUR: _l("Study tour"),
    EventType.PEER_EXCHANGE_VISIT: _l("Peer exchange visit"),
    EventType.BOARD_MEETING: _l("Steering or board meeting"),
    EventType.OTHER: _l("Other"),
}
AUDIENCE_LABELS = {
    Audience.ALL_ACTIVE: _l("All active members"),
    Audience.GROUP: _l("The current members of a working group"),
    Audience.CHOSEN: _l("Chosen members"),
}
RESPONSE_LABELS = {Response.REGISTERED: _l("Registered"), Response.DECLINED: _l("Declined")}


def template_labels() -> dict:
    return {
        "event_type_labels": TYPE_LABELS,
        "audience_labels": AUDIENCE_LABELS,
        "response_labels": RESPONSE_LABELS,
    }


class EventForm(FlaskForm):
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=255)])
    event_type = SelectField(
        _l("Type"),
        choices=options((t.value, label) for t, label in TYPE_LABELS.items()),
        validators=[InputRequired()],
    )
    starts_local = DateTimeLocalField(
        _l("Starts"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"], validators=[Optional()]
    )
    ends_local = DateTimeLocalField(
        _l("Ends"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"], validators=[Optional()]
    )
    timezone = SelectField(
        _l("Time zone of the times above"),
        coerce=str,
        validators=[Optional()],
        description=_l("For an event held somewhere, the local zone; online events use ours."),
    )
    is_online = BooleanField(_l("Online"))
    meeting_url = URLField(
        _l("Joining link"),
        validators=[Optional(), Length(max=500)],
        description=_l("Shown to invited members only."),
    )
    venue = StringField(_l("Venue"), validators=[Optional(), Length(max=255)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=255)])
    country = SelectField(_l("Country"), coerce=str, validators=[Optional()])
    host_member_id = SelectField(_l("Host member"), coerce=str, validators=[Optional()])
    group_id = SelectField(_l("Working group"), coerce=str, validators=[Optional()])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=20_000)])

    def __init__(  # type: ignore[no-untyped-def]
        self, *args, zones=(), network_zone="", countries=(), members=(), groups=(), **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = options(
            [("", _l("The network's time zone (%(zone)s)", zone=network_zone)), *zones]
        )
        self.country.choices = options([("", "—"), *countries])
        self.host_member_id.choices = options([("", _l("No host member")), *members])
        self.group_id.choices = options([("", _l("No working group")), *groups])


class InviteForm(FlaskForm):
    audience = RadioField(
        _l("Invite"),
        choices=options((a.value, label) for a, label in AUDIENCE_LABELS.items()),
        validators=[InputRequired()],
    )
    group_id = SelectField(_l("Working group"), coerce=str, validators=[Optional()])
    member_ids = SelectMultipleField(_l("Members"), coerce=int, validate_choice=False)
    notify = BooleanField(_l("E-mail the focal points of the newly invited members"), default=True)

    def __init__(self, *args, groups=(), **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.group_id.choices = options([("", "—"), *groups])


class UninvitedAttendanceForm(FlaskForm):
    member_id = SelectField(_l("Member"), coerce=str, validators=[InputRequired()])
    contact_id = SelectField(_l("Person (if known)"), coerce=str, validators=[Optional()])
    reason = TextAreaField(
        _l("Why is a member that was not invited recorded?"),
        validators=[Optional(), Length(max=2000)],
    )

    def __init__(self, *args, members=(), contacts=(), **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.member_id.choices = options([("", "—"), *members])
        self.contact_id.choices = options([("", _l("Not known")), *contacts])


class AttendanceFileForm(FlaskForm):
    file = FileField(
        _l("Attendance file"),
        validators=[FileRequired(_l("Choose the file to import."))],
        description=_l(
            "The participants report of Zoom, Teams, Meet, Webex... as CSV: a column of "
            "e-mail addresses or names, and optionally join time, leave time and duration."
        ),
    )


class ImportConfirmForm(FlaskForm):
    reason = TextAreaField(
        _l("Why are members that were not invited recorded?"),
        validators=[Optional(), Length(max=2000)],
    )


class ResolveForm(FlaskForm):
    contact_id = SelectField(_l("This person is"), coerce=str, validators=[InputRequired()])
    save_email = BooleanField(_l("Keep this e-mail address on the contact (if it has none)"))
    reason = StringField(
        _l("Reason, if the member was not invited"), validators=[Optional(), Length(max=2000)]
    )

    def __init__(self, *args, contacts=(), **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.contact_id.choices = options([("", "—"), *contacts])


class PostForm(FlaskForm):
    """A form with only the CSRF token, for buttons and checkbox lists read by hand."""
