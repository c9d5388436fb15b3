"""The submission form of a reporting cycle, for focal points (and staff on their behalf).

One page: the cycle's dates and instructions, then one field per indicator, prefilled from the
member's last reported values for a new submission, with "save draft" and "submit". The same
form is embedded in the focal point's home page (``submission_form_context``).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import Session

from secretariat.clock import network_today
from secretariat.db import get_session
from secretariat.forms import refuse_oversized_ids
from secretariat.members.models import Member
from secretariat.permissions import (
    OutOfScope,
    Permission,
    ensure_member_scope,
    is_staff,
    requires,
)
from secretariat.reporting import entry, queries, services
from secretariat.reporting.forms import STATE_LABELS, SUBMISSION_STATUS_LABELS
from secretariat.reporting.models import (
    CycleState,
    ReportingCycle,
    Submission,
)

bp = Blueprint("submissions", __name__, url_prefix="/reporting")


refuse_oversized_ids(bp)


def _posted_input(cycle: ReportingCycle) -> services.SubmissionInput:
    form = request.form
    values = {
        ci.indicator_id: services.ValueInput(
            raw=form.get(f"value-{ci.indicator_id}", ""),
            comment=form.get(f"comment-{ci.indicator_id}", ""),
            evidence_url=form.get(f"evidence-{ci.indicator_id}", ""),
            confirmed=form.get(f"confirm-{ci.indicator_id}") == "yes",
        )
        for ci in cycle.indicators
    }
    return services.SubmissionInput(values, form.get("general_comment", ""))


# -- pages ----------------------------------------------------------------------------------


def _cycle_for(session: Session, cycle_id: int, member_id: int) -> ReportingCycle:
    """The cycle, if it is opened and asks the member; the uniform 404 otherwise."""
    cycle = queries.cycle_detail(session, cycle_id)
    if (
        cycle is None
        or cycle.state is CycleState.DRAFT
        or not services.is_asked(session, cycle, member_id)
    ):
        raise OutOfScope()
    return cycle


@bp.route("/mine")
@requires(Permission.SUBMIT_REPORTS)
def mine():  # type: ignore[no-untyped-def]
    if is_staff(current_user):
        return redirect(url_for("reporting.index"))
    if current_user.member_id is None:
        raise OutOfScope()
    today = network_today()
    return render_template(
        "reporting/mine.html",
        rows=queries.member_cycles(get_session(), current_user.member_id),
        today=today,
        zone=current_app.config["TIMEZONE"],
        submission_status_labels=SUBMISSION_STATUS_LABELS,
        cycle_state_labels=STATE_LABELS,
    )


@bp.route("/<int:cycle_id>/members/<int:member_id>/submission", methods=["GET", "POST"])
@requires(Permission.SUBMIT_REPORTS)
def form(cycle_id: int, member_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    ensure_member_scope(current_user, member_id)
    cycle = _cycle_for(db, cycle_id, member_id)
    member = db.get(Member, member_id)
    if member is None:
        raise OutOfScope()
    data = problems = None
    if request.method == "POST":
        data = _posted_input(cycle)
        submit = request.form.get("action") == "submit"
        try:
            submission = services.save_submission(
                db, current_user, cycle, member, data, submit=submit
            )
        except services.CycleError as exc:
            flash(exc.message, "error")
            return redirect(url_for("submissions.form", cycle_id=cycle.id, member_id=member.id))
        except services.SubmissionInvalid as exc:
            problems = exc.problems
        else:
            if submit:
                flash(_submitted_message(submission), "success")
            else:
                flash(_("The draft is saved."), "success")
            return redirect(url_for("submissions.form", cycle_id=cycle.id, member_id=member.id))
    submission = services.find_submission(db, cycle, member.id)
    context = entry.submission_form_context(
        db,
        current_user,
        cycle,
        member,
        submission,
        today=network_today(),
        data=data,
        problems=problems,
    )
    return render_template(
        "reporting/submission.html",
        report=context,
        cycle=cycle,
        member=member,
        on_behalf=context["on_behalf"],
    )


def _submitted_message(submission: Submission) -> str:
    if is_staff(current_user):
        return _("The report of %(member)s is submitted.", member=submission.member.name)
    if submission.is_late:
        return _("Thank you: your report is submitted (after the due date).")
    return _("Thank you: your report is submitted, on time.")
