"""Forms of the peer exchanges. Choices (members, groups, themes) are passed in by the view."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, TextAreaField, URLField
from wtforms.validators import InputRequired, Length, Optional

from secretariat.exchanges.models import ExchangeStatus, ExchangeType
from secretariat.forms import options

TYPE_LABELS = {
    ExchangeType.STUDY_VISIT: _l("Study visit"),
    ExchangeType.EXPERT_ADVICE: _l("Expert advice"),
    ExchangeType.PEER_REVIEW: _l("Peer review"),
    ExchangeType.STAFF_EXCHANGE: _l("Staff exchange"),
    ExchangeType.POLICY_REPLICATION: _l("Policy replication"),
    ExchangeType.JOINT_PROJECT: _l("Joint project"),
}
STATUS_LABELS = {
    ExchangeStatus.PROPOSED: _l("Awaiting confirmation"),
    ExchangeStatus.CONFIRMED: _l("Confirmed"),
    ExchangeStatus.REJECTED: _l("Rejected"),
}


def template_labels() -> dict:
    """The display names the exchange templates need."""
    return {"type_labels": TYPE_LABELS, "exchange_status_labels": STATUS_LABELS}


class ExchangeForm(FlaskForm):
    from_member_id = SelectField(
        _l("Shared or hosted by"),
        validators=[InputRequired(_l("Choose the member that shared or hosted."))],
        description=_l(
            "The member that gave advice, hosted the visit or whose practice was taken up."
        ),
    )
    to_member_id = SelectField(
        _l("Learned"),
        validators=[InputRequired(_l("Choose the member that learned."))],
        description=_l("The member that learned from it."),
    )
    exchange_type = SelectField(
        _l("Type of exchange"),
        choices=options([("", _l("— choose —")), *((k.value, v) for k, v in TYPE_LABELS.items())]),
        validators=[InputRequired(_l("Choose the type of exchange."))],
    )
    occurred_on = DateField(
        _l("Date"),
        validators=[InputRequired(_l("Enter the date of the exchange."))],
        description=_l("The day it happened, or began; no later than today."),
    )
    group_id = SelectField(_l("Working group"), validators=[Optional()])
    theme_id = SelectField(_l("Theme"), validators=[Optional()])
    description = TextAreaField(
        _l("What was exchanged"),
        validators=[InputRequired(_l("Describe what was exchanged.")), Length(max=10_000)],
    )
    outcome = TextAreaField(
        _l("Outcome"),
        validators=[Optional(), Length(max=10_000)],
        description=_l("What came of it: a policy adopted, a project started, a lesson learned."),
    )
    evidence_url = URLField(
        _l("Evidence link"),
        validators=[Optional(), Length(max=500)],
        description=_l("A report, news item or document showing the exchange (https://…)."),
    )

    def __init__(  # type: ignore[no-untyped-def]
        self,
        *args,
        members: Iterable[tuple[int, str]] = (),
        groups: Iterable[tuple[int, str]] = (),
        themes: Iterable[tuple[int, str]] = (),
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        members = list(members)
        self.from_member_id.choices = options([("", _l("— choose —")), *members])
        self.to_member_id.choices = options([("", _l("— choose —")), *members])
        self.group_id.choices = options([("", _l("— none —")), *groups])
        self.theme_id.choices = options([("", _l("— none —")), *themes])


class RejectForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"),
        validators=[
            InputRequired(_l("Say why; the proposing member will see it.")),
            Length(max=10_000),
        ],
        description=_l("The proposing member sees it."),
    )
