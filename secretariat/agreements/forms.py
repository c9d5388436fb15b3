"""Forms of the agreements. Choices (staff, groups, members, partners) are passed in by the view."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from secretariat.agreements.models import AgreementKind, AgreementStatus, ChangeKind, DocumentType
from secretariat.agreements.services import INITIAL_STATUSES
from secretariat.followups.forms import PRIORITY_LABELS
from secretariat.followups.models import Priority
from secretariat.forms import options

S = AgreementStatus

KIND_LABELS = {
    AgreementKind.MOU: _l("Memorandum of understanding"),
    AgreementKind.LETTER_OF_INTENT: _l("Letter of intent"),
    AgreementKind.COOPERATION: _l("Cooperation agreement"),
    AgreementKind.GRANT: _l("Grant agreement"),
    AgreementKind.DATA_SHARING: _l("Data-sharing agreement"),
    AgreementKind.OTHER: _l("Other agreement"),
}
STATUS_LABELS = {
    S.DRAFT: _l("Draft"),
    S.NEGOTIATING: _l("In negotiation"),
    S.SIGNED: _l("Signed"),
    S.ACTIVE: _l("Active"),
    S.EXPIRED: _l("Expired"),
    S.TERMINATED: _l("Terminated"),
    S.RENEWED: _l("Renewed"),
}
#: The button that moves an agreement to each status.
ACTION_LABELS = {
    S.NEGOTIATING: _l("Start negotiating"),
    S.SIGNED: _l("Record the signature"),
    S.ACTIVE: _l("Put into force"),
    S.EXPIRED: _l("Record the expiry"),
    S.TERMINATED: _l("Terminate"),
}
CHANGE_LABELS = {
    ChangeKind.CREATED: _l("Entered"),
    ChangeKind.EDITED: _l("Details edited"),
    ChangeKind.STATUS: _l("Status changed"),
    ChangeKind.DOCUMENT_ADDED: _l("Document added"),
    ChangeKind.DOCUMENT_REMOVED: _l("Document removed"),
    ChangeKind.OBLIGATION_ADDED: _l("Obligation added"),
    ChangeKind.OBLIGATION_CHANGED: _l("Obligation changed"),
    ChangeKind.OBLIGATION_REMOVED: _l("Obligation removed"),
    ChangeKind.RENEWAL_STARTED: _l("Renewal started"),
}
DOCUMENT_LABELS = {
    DocumentType.PDF: "PDF",
    DocumentType.DOCX: "Word",
    DocumentType.XLSX: "Excel",
    DocumentType.ODT: "OpenDocument",
    DocumentType.PNG: "PNG",
    DocumentType.JPEG: "JPEG",
}


def template_labels() -> dict:
    return {
        "agreement_kind_labels": KIND_LABELS,
        "agreement_status_labels": STATUS_LABELS,
        "agreement_action_labels": ACTION_LABELS,
        "agreement_change_labels": CHANGE_LABELS,
        "document_type_labels": DOCUMENT_LABELS,
    }


class AgreementForm(FlaskForm):
    kind = SelectField(_l("Kind"), validators=[InputRequired()])
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=300)])
    summary = TextAreaField(
        _l("Summary"),
        validators=[Optional(), Length(max=20_000)],
        description=_l("What the parties agree to do, in a few lines."),
    )
    status = SelectField(
        _l("Recorded as"),
        validators=[Optional()],
        description=_l(
            "An agreement signed before you started using this site can be entered "
            "as signed or active directly."
        ),
    )
    owner_id = SelectField(
        _l("Owner"),
        validators=[InputRequired()],
        description=_l(
            "The member of staff who watches it; its obligations' follow-ups are theirs."
        ),
    )
    group_id = SelectField(_l("Working group"), validators=[Optional()])
    secretariat_party = BooleanField(_l("The secretariat is a party"))
    member_ids = SelectMultipleField(
        _l("Members who are parties"),
        coerce=int,
        validators=[Optional()],
        description=_l("Hold Ctrl (or ⌘) to choose several, e.g. every city of a cohort MoU."),
    )
    partner_ids = SelectMultipleField(
        _l("Partners who are parties"),
        coerce=int,
        validators=[Optional()],
        description=_l("Hold Ctrl (or ⌘) to choose several."),
    )
    signed_on = DateField(_l("Signed on"), validators=[Optional()])
    effective_from = DateField(
        _l("In force from"),
        validators=[Optional()],
        description=_l("Left empty, the signature day."),
    )
    expires_on = DateField(
        _l("Expires on"),
        validators=[Optional()],
        description=_l("Its last day in force. Leave empty if it runs until terminated."),
    )
    renewal_notice_days = IntegerField(
        _l("Renewal notice (days)"),
        validators=[Optional(), NumberRange(min=0, max=3650)],
        description=_l("How long before expiry the renewal should be prepared."),
    )

    def __init__(  # type: ignore[no-untyped-def]
        self, *args, staff=(), groups=(), members=(), partners=(), entering=True, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = options(
            [("", _l("Choose…")), *((k.value, v) for k, v in KIND_LABELS.items())]
        )
        self.owner_id.choices = options([("", _l("Choose…")), *staff])
        self.group_id.choices = options([("", _l("No group")), *groups])
        self.member_ids.choices = [(m_id, name) for m_id, name in members]
        self.partner_ids.choices = [(p_id, name) for p_id, name in partners]
        if entering:
            self.status.choices = options((s.value, STATUS_LABELS[s]) for s in INITIAL_STATUSES)
        else:
            del self.status


class TransitionForm(FlaskForm):
    on = DateField(_l("On"), validators=[Optional()])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=5_000)])


class DocumentForm(FlaskForm):
    file = FileField(
        _l("File"),
        description=_l(
            "PDF, Word (DOCX), Excel (XLSX), OpenDocument text (ODT), PNG or JPEG; at most 20 MB."
        ),
    )
    description = StringField(
        _l("Description"),
        validators=[Optional(), Length(max=255)],
        description=_l("E.g. “Signed copy” or “Annex 2: budget”."),
    )


class ObligationForm(FlaskForm):
    description = TextAreaField(_l("Obligation"), validators=[InputRequired(), Length(max=5_000)])
    party_id = SelectField(_l("Responsible party"), coerce=str, validators=[InputRequired()])
    due_on = DateField(_l("Due on"), validators=[InputRequired()])
    priority = SelectField(
        _l("Priority of its follow-up"),
        choices=options((p.value, PRIORITY_LABELS[p]) for p in Priority),
        default=Priority.NORMAL.value,
    )

    def __init__(self, *args, parties=(), **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.party_id.choices = options([("", _l("Choose…")), *parties])
