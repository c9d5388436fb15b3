"""Reporting-cycle pages for staff: the cycles, their form, the cycle dashboard, the review of
one submission (verify, return, reopen) and the exports."""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import format_percent, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import DateField, Form

from secretariat.clock import network_today
from secretariat.db import get_session
from secretariat.forms import posted as _posted
from secretariat.forms import refuse_oversized_ids, show_errors
from secretariat.forms import row_id as _id
from secretariat.groups import queries as group_queries
from secretariat.indicators.models import Indicator, Level
from secretariat.indicators.services import display
from secretariat.members.forms import STATUS_LABELS as MEMBER_STATUS_LABELS
from secretariat.members.models import Member, MemberStatus
from secretariat.members.services import ValidationFailed, slugify
from secretariat.permissions import OutOfScope, Permission, requires
from secretariat.reporting import queries, services
from secretariat.reporting.forms import (
    MEMBER_LIST_SIZE,
    CycleForm,
    ReopenForm,
    ReturnForm,
    template_labels,
)
from secretariat.reporting.models import (
    Audience,
    CycleState,
    ReportingCycle,
    Submission,
    SubmissionStatus,
)
from secretariat.tabular import write_table

bp = Blueprint("reporting", __name__, url_prefix="/reporting")

#: Rows per page in each list of the cycle dashboard.
PER_PAGE = 50
#: Beyond this many addresses a mailto link gets too long for mail programs: copy them instead.
MAILTO_LIMIT = 100
_MIMETYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


refuse_oversized_ids(bp)


def _page_arg(name: str) -> int:
    return _id(request.args.get(name)) or 1


def _cycle_or_404(cycle_id: int) -> ReportingCycle:
    cycle = get_session().get(ReportingCycle, cycle_id)
    if cycle is None:
        abort(404)
    return cycle


def _percent(rate: float | None) -> str:
    return format_percent(rate) if rate is not None else "—"


def _labels() -> dict:
    return {**template_labels(), "percent": _percent}


# -- private queries (candidates for reporting/queries.py) ----------------------------------


def _member_choices(session: Session) -> list[tuple[int, str]]:
    """Every member by name, with their status when they are not active."""
    rows = session.execute(
        select(Member.id, Member.name, Member.status).order_by(Member.search_name, Member.id)
    )
    return [
        (
            row.id,
            row.name
            if row.status is MemberStatus.ACTIVE
            else _("%(name)s (%(status)s)", name=row.name, status=MEMBER_STATUS_LABELS[row.status]),
        )
        for row in rows
    ]


def _askable_indicators(session: Session, chosen: list[int]) -> list[Indicator]:
    """Active member-level indicators by code, and any already chosen (to be seen, and
    refused by the service if they can no longer be asked)."""
    wanted = (Indicator.is_active.is_(True)) & (Indicator.level == Level.MEMBER)
    if chosen:
        wanted = wanted | Indicator.id.in_(chosen)
    return list(session.scalars(select(Indicator).where(wanted).order_by(Indicator.code)))


def _latest_cycle(session: Session) -> ReportingCycle | None:
    """The most recent cycle, whose indicators a new cycle starts from."""
    return session.scalar(
        select(ReportingCycle)
        .order_by(ReportingCycle.period.desc(), ReportingCycle.opens_on.desc())
        .limit(1)
    )


def _would_ask(session: Session, cycle: ReportingCycle) -> int | None:
    """How many members opening a draft would ask today (once open, the rates say it)."""
    if cycle.state is not CycleState.DRAFT:
        return None
    return len(services.audience_member_ids(session, cycle))


# -- reading the cycle form -----------------------------------------------------------------


def _unreadable(form: Form) -> dict[str, str]:
    """Take what the form could not read (a garbled date) off its fields, by field."""
    unreadable = {}
    for name, field in form._fields.items():
        if field.errors and name != "csrf_token":
            unreadable[name] = (
                _("Enter a date, e.g. %(example)s.", example="2027-03-15")
                if isinstance(field, DateField)
                else field.errors[0]
            )
            field.errors = []
    return unreadable


def _ids(
    values: list[str] | None, name: str, unreadable: dict[str, str], message: str
) -> list[int]:
    ids = [_id(v) for v in values or []]
    if any(i is None for i in ids):
        unreadable.setdefault(name, message)
    return [i for i in ids if i is not None]


def _cycle_data(form: CycleForm, cycle: ReportingCycle | None) -> services.CycleData:
    unreadable = _unreadable(form)
    data = services.CycleData(
        name=form.name.data or "",
        period=form.period.data or "",
        opens_on=form.opens_on.data,
        due_on=form.due_on.data,
        grace_until=form.grace_until.data,
        instructions=form.instructions.data,
        unreadable=unreadable,
    )
    if cycle is not None and cycle.state is not CycleState.DRAFT:
        # Fixed once open: the audience has been asked and the form is out.
        data.period = cycle.period
        data.audience = cycle.audience
        data.group_id = cycle.group_id
        data.indicator_ids = [ci.indicator_id for ci in cycle.indicators]
        data.optional_indicator_ids = [
            ci.indicator_id for ci in cycle.indicators if not ci.is_required
        ]
        return data
    audience = form.audience.data
    if audience in Audience._value2member_map_:
        data.audience = Audience(audience)
    else:
        unreadable["audience"] = _("Choose who is asked from the list.")
    if form.group_id.data:
        data.group_id = _id(form.group_id.data)
        if data.group_id is None:
            unreadable["group_id"] = _("Choose the working group from the list.")
    if data.audience is Audience.CHOSEN:
        data.member_ids = _ids(
            form.member_ids.data, "member_ids", unreadable, _("Choose members from the list.")
        )
    data.indicator_ids = _ids(
        form.indicator_ids.data,
        "indicator_ids",
        unreadable,
        _("Choose indicators from the list."),
    )
    data.optional_indicator_ids = _ids(
        form.optional_indicator_ids.data,
        "indicator_ids",
        unreadable,
        _("Choose indicators from the list."),
    )
    return data


def _cycle_form(
    cycle: ReportingCycle | None, chosen_indicators: list[int]
) -> tuple[CycleForm, list[Indicator]]:
    """The form with its choices; an open cycle's form only shows what it was opened with."""
    db = get_session()
    if cycle is not None and cycle.state is not CycleState.DRAFT:
        return CycleForm(), []
    indicators = _askable_indicators(db, chosen_indicators)
    form = CycleForm(
        groups=group_queries.group_choices(db, cycle.group_id if cycle else None),
        members=_member_choices(db),
        indicators=[(i.id, str(i)) for i in indicators],
    )
    return form, indicators


def _fill(form: CycleForm, cycle: ReportingCycle) -> None:
    form.name.data = cycle.name
    form.period.data = cycle.period
    form.opens_on.data = cycle.opens_on
    form.due_on.data = cycle.due_on
    form.grace_until.data = cycle.grace_until
    form.audience.data = cycle.audience.value
    form.group_id.data = str(cycle.group_id or "")
    form.member_ids.data = [str(cm.member_id) for cm in cycle.members]
    form.indicator_ids.data = [str(ci.indicator_id) for ci in cycle.indicators]
    form.optional_indicator_ids.data = [
        str(ci.indicator_id) for ci in cycle.indicators if not ci.is_required
    ]
    form.instructions.data = cycle.instructions


def _render_form(form: CycleForm, indicators: list[Indicator], cycle: ReportingCycle | None):  # type: ignore[no-untyped-def]
    return render_template(
        "reporting/form.html",
        form=form,
        indicators=indicators,
        cycle=cycle,
        locked=cycle is not None and cycle.state is not CycleState.DRAFT,
        member_list_size=MEMBER_LIST_SIZE,
        timezone=current_app.config["TIMEZONE"],
        **_labels(),
    )


# -- the cycles -----------------------------------------------------------------------------


@bp.route("/")
@requires(Permission.MANAGE_REPORTING)
def index():  # type: ignore[no-untyped-def]
    return render_template(
        "reporting/index.html",
        rows=queries.cycle_list(get_session()),
        **_labels(),
    )


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_REPORTING)
def new():  # type: ignore[no-untyped-def]
    db = get_session()
    latest = _latest_cycle(db) if request.method == "GET" else None
    if latest is not None:
        chosen = [ci.indicator_id for ci in latest.indicators]
    else:
        # Listed even if they can no longer be asked, so the refusal is seen beside them.
        chosen = [i for i in map(_id, request.form.getlist("indicator_ids")) if i is not None]
    form, indicators = _cycle_form(None, chosen)
    if request.method == "GET":
        form.opens_on.data = network_today()
        if latest is not None:
            # Cycles mostly repeat: start from the indicators asked last time.
            active = {i.id for i in indicators if i.is_active and i.level is Level.MEMBER}
            form.indicator_ids.data = [str(i) for i in chosen if i in active]
            form.optional_indicator_ids.data = [
                str(ci.indicator_id)
                for ci in latest.indicators
                if not ci.is_required and ci.indicator_id in active
            ]
    if _posted(form):
        try:
            cycle = services.create_cycle(db, current_user, _cycle_data(form, None))
        except ValidationFailed as exc:
            show_errors(form, exc.errors)
        else:
            flash(
                _(
                    "The cycle “%(name)s” is ready as a draft. Open it when it is right.",
                    name=cycle.name,
                ),
                "success",
            )
            return redirect(url_for("reporting.cycle", cycle_id=cycle.id))
    return _render_form(form, indicators, None)


@bp.route("/<int:cycle_id>/edit", methods=["GET", "POST"])
@requires(Permission.MANAGE_REPORTING)
def edit(cycle_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    cycle = queries.cycle_detail(db, cycle_id)
    if cycle is None:
        abort(404)
    if cycle.state is CycleState.CLOSED:
        flash(_("This cycle is closed. Reopen a member's submission instead."), "error")
        return redirect(url_for("reporting.cycle", cycle_id=cycle.id))
    form, indicators = _cycle_form(cycle, [ci.indicator_id for ci in cycle.indicators])
    if request.method == "GET":
        _fill(form, cycle)
    if _posted(form):
        try:
            services.update_cycle(db, current_user, cycle, _cycle_data(form, cycle))
        except ValidationFailed as exc:
            show_errors(form, exc.errors)
        except services.CycleError as exc:
            flash(exc.message, "error")
            return redirect(url_for("reporting.cycle", cycle_id=cycle.id))
        else:
            flash(_("The cycle “%(name)s” is saved.", name=cycle.name), "success")
            return redirect(url_for("reporting.cycle", cycle_id=cycle.id))
    return _render_form(form, indicators, cycle)


@bp.route("/<int:cycle_id>")
@requires(Permission.MANAGE_REPORTING)
def cycle(cycle_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    found = queries.cycle_detail(db, cycle_id)
    if found is None:
        abort(404)
    today = network_today()
    return render_template(
        "reporting/cycle.html",
        cycle=found,
        today=today,
        takes_submissions=services.takes_submissions(found, today),
        would_ask=_would_ask(db, found),
        rates=queries.cycle_rates(db, found.id),
        regions=queries.rates_by_region(db, found.id),
        missing=queries.not_submitted(db, found.id, today, _page_arg("page"), PER_PAGE),
        emails=queries.missing_emails(db, found.id, today),
        mailto_limit=MAILTO_LIMIT,
        to_verify=queries.submissions_with_status(
            db, found.id, SubmissionStatus.SUBMITTED, _page_arg("verify_page"), PER_PAGE
        ),
        returned=queries.submissions_with_status(
            db, found.id, SubmissionStatus.RETURNED, _page_arg("returned_page"), PER_PAGE
        ),
        args={k: v for k, v in request.args.items() if k.endswith("page")},
        timezone=current_app.config["TIMEZONE"],
        **_labels(),
    )


@bp.route("/<int:cycle_id>/open", methods=["POST"], endpoint="open")
@requires(Permission.MANAGE_REPORTING)
def open_cycle(cycle_id: int):  # type: ignore[no-untyped-def]
    cycle = _cycle_or_404(cycle_id)
    try:
        asked = services.open_cycle(get_session(), current_user, cycle)
    except services.CycleError as exc:
        flash(exc.message, "error")
    else:
        flash(
            ngettext(
                "The cycle “%(name)s” is open: %(num)d member is asked to report.",
                "The cycle “%(name)s” is open: %(num)d members are asked to report.",
                asked,
                name=cycle.name,
            ),
            "success",
        )
    return redirect(url_for("reporting.cycle", cycle_id=cycle.id))


@bp.route("/<int:cycle_id>/close", methods=["POST"])
@requires(Permission.MANAGE_REPORTING)
def close(cycle_id: int):  # type: ignore[no-untyped-def]
    cycle = _cycle_or_404(cycle_id)
    try:
        services.close_cycle(get_session(), current_user, cycle)
    except services.CycleError as exc:
        flash(exc.message, "error")
    else:
        flash(
            _("The cycle “%(name)s” is closed: its submissions are locked.", name=cycle.name),
            "success",
        )
    return redirect(url_for("reporting.cycle", cycle_id=cycle.id))


@bp.route("/<int:cycle_id>/delete", methods=["POST"])
@requires(Permission.MANAGE_REPORTING)
def delete(cycle_id: int):  # type: ignore[no-untyped-def]
    cycle = _cycle_or_404(cycle_id)
    name = cycle.name
    try:
        services.delete_cycle(get_session(), current_user, cycle)
    except services.CycleError as exc:
        flash(exc.message, "error")
        return redirect(url_for("reporting.cycle", cycle_id=cycle.id))
    flash(_("The draft cycle “%(name)s” is deleted.", name=name), "success")
    return redirect(url_for("reporting.index"))


@bp.route("/<int:cycle_id>/export.<any(csv, xlsx):fmt>")
@requires(Permission.MANAGE_REPORTING)
def export(cycle_id: int, fmt: str):  # type: ignore[no-untyped-def]
    db = get_session()
    cycle = _cycle_or_404(cycle_id)
    buffer = io.BytesIO()
    write_table(buffer, fmt, queries.EXPORT_HEADERS, queries.export_rows(db, cycle))
    buffer.seek(0)
    stem = slugify(cycle.name) or f"cycle-{cycle.id}"
    return send_file(
        buffer, mimetype=_MIMETYPES[fmt], as_attachment=True, download_name=f"{stem}.{fmt}"
    )


# -- one submission -------------------------------------------------------------------------


def _submission_or_404(submission_id: int) -> Submission:
    submission = queries.submission_detail(get_session(), submission_id)
    if submission is None:
        abort(404)
    return submission


def _render_submission(submission: Submission, return_form: ReturnForm):  # type: ignore[no-untyped-def]
    db = get_session()
    cycle = submission.cycle
    today = network_today()
    previous = services.previous_values(db, cycle, submission.member_id)
    values = {v.indicator_id: v for v in submission.values}
    rows = []
    for ci in cycle.indicators:
        indicator = ci.indicator
        value = values.get(indicator.id)
        before = previous.get(indicator.id)
        rows.append(
            {
                "indicator": indicator,
                "required": ci.is_required,
                "value": value,
                "shown": queries.shown(indicator, value),
                "previous": before,
                "previous_shown": display(
                    indicator, before.value.number, before.value.boolean, before.value.text
                )
                if before is not None
                else "",
            }
        )
    return render_template(
        "reporting/review.html",
        submission=submission,
        cycle=cycle,
        rows=rows,
        return_form=return_form,
        can_return=submission.status in services.REPORTED,
        can_reopen=cycle.state is not CycleState.DRAFT
        and not services.takes_submissions(cycle, today)
        and not submission.is_reopened,
        timezone=current_app.config["TIMEZONE"],
        **_labels(),
    )


@bp.route("/submissions/<int:submission_id>")
@requires(Permission.MANAGE_REPORTING)
def submission(submission_id: int):  # type: ignore[no-untyped-def]
    return _render_submission(_submission_or_404(submission_id), ReturnForm())


@bp.route("/submissions/<int:submission_id>/verify", methods=["POST"])
@requires(Permission.MANAGE_REPORTING)
def verify(submission_id: int):  # type: ignore[no-untyped-def]
    found = _submission_or_404(submission_id)
    try:
        services.verify_submission(get_session(), current_user, found)
    except services.CycleError as exc:
        flash(exc.message, "error")
        return redirect(url_for("reporting.submission", submission_id=found.id))
    flash(_("The report of %(member)s is verified.", member=found.member.name), "success")
    return redirect(url_for("reporting.cycle", cycle_id=found.cycle_id, _anchor="to-verify-title"))


@bp.route("/submissions/<int:submission_id>/return", methods=["POST"])
@requires(Permission.MANAGE_REPORTING)
def return_submission(submission_id: int):  # type: ignore[no-untyped-def]
    found = _submission_or_404(submission_id)
    form = ReturnForm()
    if not _posted(form):
        return _render_submission(found, form)
    try:
        services.return_submission(get_session(), current_user, found, form.comment.data)
    except services.CycleError as exc:
        flash(exc.message, "error")
        return redirect(url_for("reporting.submission", submission_id=found.id))
    except ValidationFailed as exc:
        show_errors(form, exc.errors)
        return _render_submission(found, form)
    flash(
        _("The report of %(member)s is returned with your comment.", member=found.member.name),
        "success",
    )
    return redirect(url_for("reporting.cycle", cycle_id=found.cycle_id, _anchor="to-verify-title"))


@bp.route("/<int:cycle_id>/members/<int:member_id>/reopen", methods=["GET", "POST"])
@requires(Permission.MANAGE_REPORTING)
def reopen(cycle_id: int, member_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    cycle = _cycle_or_404(cycle_id)
    member = db.get(Member, member_id)
    if member is None or not services.is_asked(db, cycle, member.id):
        abort(404)
    if cycle.state is CycleState.DRAFT or services.takes_submissions(cycle, network_today()):
        flash(
            _("The cycle still takes submissions; return the report instead if it needs fixing.")
            if cycle.state is CycleState.OPEN
            else _("This cycle has not been opened yet."),
            "error",
        )
        return redirect(url_for("reporting.cycle", cycle_id=cycle.id))
    form = ReopenForm()
    if _posted(form):
        try:
            reopened = services.reopen_submission(
                db, current_user, cycle, member, form.comment.data
            )
        except OutOfScope:
            abort(404)
        except services.CycleError as exc:
            flash(exc.message, "error")
            return redirect(url_for("reporting.cycle", cycle_id=cycle.id))
        except ValidationFailed as exc:
            show_errors(form, exc.errors)
        else:
            flash(
                _(
                    "The submission of %(member)s is reopened: its focal points can change it.",
                    member=member.name,
                ),
                "success",
            )
            return redirect(url_for("reporting.submission", submission_id=reopened.id))
    submission_found = services.find_submission(db, cycle, member.id)
    return render_template(
        "reporting/reopen.html",
        form=form,
        cycle=cycle,
        member=member,
        submission=submission_found,
        **_labels(),
    )
