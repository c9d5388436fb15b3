"""Forms and labels of the participation pages. The forms only read what was typed; the
service checks every figure, so that all problems come back at once."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField, StringField, TextAreaField, widgets

from secretariat.forms import options
from secretariat.participation.models import (
    ConditionKind,
    ConditionResult,
    ConditionsOutcome,
    CriterionKind,
    EvidenceKind,
    LeftOut,
    Level,
    SchemeAction,
    SchemeState,
)

STATE_LABELS = {
    SchemeState.PROVISIONAL: _l("Provisional"),
    SchemeState.FINAL: _l("Final"),
}
LEVEL_LABELS = {
    Level.LEADING: _l("Leading"),
    Level.ACTIVE: _l("Active"),
    Level.ENGAGED: _l("Engaged"),
    Level.AT_RISK: _l("At risk"),
    None: _l("Not scored"),
}
OUTCOME_LABELS = {
    ConditionsOutcome.MEETS: _l("Meets the conditions"),
    ConditionsOutcome.WARNING: _l("Warning: one condition missed"),
    ConditionsOutcome.NOT_MET: _l("Conditions not met"),
}
CRITERION_LABELS = {
    CriterionKind.ATTENDANCE: _l("Event attendance"),
    CriterionKind.REPORTING_ON_TIME: _l("Reporting on time"),
    CriterionKind.COMPLETENESS: _l("Submission completeness"),
    CriterionKind.COMMITMENTS: _l("Commitment progress"),
    CriterionKind.WORKING_GROUPS: _l("Working-group engagement"),
    CriterionKind.EXCHANGES: _l("Peer exchanges"),
    CriterionKind.FOLLOW_UPS: _l("Follow-ups closed on time"),
}
#: What each criterion measures, in plain words (the scheme page and the scorecard).
CRITERION_HELP = {
    CriterionKind.ATTENDANCE: _l(
        "Share of the events held in the year the member was invited to (since joining) "
        "that someone from the member attended."
    ),
    CriterionKind.REPORTING_ON_TIME: _l(
        "Share of the reporting cycles due in the year first submitted by their due date."
    ),
    CriterionKind.COMPLETENESS: _l(
        "Share of the indicators requested in those cycles that the member answered."
    ),
    CriterionKind.COMMITMENTS: _l(
        "Half the share of commitments updated during the year, plus half the share "
        "achieved or in progress at its end (dropped commitments are not counted)."
    ),
    CriterionKind.WORKING_GROUPS: _l(
        "Working groups the member took part in during the year; each lead (co-chair) role "
        "adds the bonus. Observers do not count."
    ),
    CriterionKind.EXCHANGES: _l(
        "Confirmed peer exchanges of the year, given and received; beyond the target, more "
        "add nothing."
    ),
    CriterionKind.FOLLOW_UPS: _l(
        "Share of the member's follow-ups due in the year that were closed by their due date."
    ),
}
CONDITION_LABELS = {
    ConditionKind.PRIMARY_FOCAL_POINT: _l("An active primary focal point"),
    ConditionKind.ANNUAL_SUBMISSION: _l("The year's reports submitted"),
    ConditionKind.EVENT_ATTENDED: _l("At least one event attended"),
    ConditionKind.EVIDENCE_FRESH: _l("Commitment evidence not stale"),
}
RESULT_LABELS = {
    ConditionResult.MET: _l("Met"),
    ConditionResult.MISSED: _l("Missed"),
    ConditionResult.NOT_APPLICABLE: _l("Not applicable"),
}
LEFT_OUT_LABELS = {
    LeftOut.NO_EVENTS: _l("No event was held this year."),
    LeftOut.NOT_INVITED: _l("Not invited to any event held this year since joining."),
    LeftOut.NO_CYCLES: _l("No reporting cycle was due this year."),
    LeftOut.NOT_ASKED: _l("Not asked to report in a cycle due this year (or none due yet)."),
    LeftOut.NO_COMMITMENTS: _l("No commitment made by the end of the year."),
    LeftOut.NO_GROUPS: _l("No working group was active this year."),
    LeftOut.NO_EXCHANGES: _l("No peer exchange was confirmed this year."),
    LeftOut.NO_FOLLOW_UPS: _l("No follow-up of the member was due this year (or none yet)."),
}
EVIDENCE_LABELS = {
    EvidenceKind.EVENT: _l("Event"),
    EvidenceKind.CYCLE: _l("Reporting cycle"),
    EvidenceKind.COMMITMENT: _l("Commitment"),
    EvidenceKind.GROUP: _l("Working group"),
    EvidenceKind.EXCHANGE: _l("Peer exchange"),
    EvidenceKind.FOLLOW_UP: _l("Follow-up"),
}
ACTION_LABELS = {
    SchemeAction.CREATED: _l("Scheme created"),
    SchemeAction.EDITED: _l("Method changed"),
    SchemeAction.COMPUTED: _l("Scores computed"),
    SchemeAction.FINALISED: _l("Year finalised"),
    SchemeAction.REOPENED: _l("Year reopened"),
}


class YearForm(FlaskForm):
    year = StringField(_l("Year"))


class SchemeForm(FlaskForm):
    """Levels, recognition size and conditions; the criteria's figures are read by name
    (``<criterion>-weight``, ``-floor``, ``-target``, ``-bonus``) from the same form."""

    leading_from = StringField(_l("Leading from"))
    active_from = StringField(_l("Active from"))
    engaged_from = StringField(_l("Engaged from"))
    recognition_size = StringField(_l("Members recognised per region"))
    conditions = SelectMultipleField(
        _l("Membership conditions checked this year"),
        choices=options((kind.value, label) for kind, label in CONDITION_LABELS.items()),
        widget=widgets.ListWidget(prefix_label=False),
        option_widget=widgets.CheckboxInput(),
        validate_choice=False,
    )


class ReopenForm(FlaskForm):
    reason = TextAreaField(_l("Why is the year reopened?"))


class SettingsForm(FlaskForm):
    recognition_visible = BooleanField(
        _l("Show the regional recognition list to members' focal points")
    )


def template_labels() -> dict:
    return {
        "state_labels": STATE_LABELS,
        "level_labels": LEVEL_LABELS,
        "outcome_labels": OUTCOME_LABELS,
        "criterion_labels": CRITERION_LABELS,
        "criterion_help": CRITERION_HELP,
        "condition_labels": CONDITION_LABELS,
        "result_labels": RESULT_LABELS,
        "left_out_labels": LEFT_OUT_LABELS,
        "evidence_labels": EVIDENCE_LABELS,
        "action_labels": ACTION_LABELS,
    }
