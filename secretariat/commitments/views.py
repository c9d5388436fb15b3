"""Commitment pages: the network view, a member's commitments, one commitment with its history,
the forms that enter, edit and update them, and evidence downloads.

Focal points reach only their own member's commitments; anything else is the uniform 404.
"""

from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import DateField, Form, IntegerField

from secretariat.agreements import documents
from secretariat.clock import network_today
from secretariat.commitments import queries, services
from secretariat.commitments.forms import (
    MAX_NOT_UPDATED_DAYS,
    NOT_UPDATED_CHOICES,
    CommitmentForm,
    UpdateForm,
    template_labels,
)
from secretariat.commitments.models import (
    ONGOING,
    Commitment,
    CommitmentStatus,
    CommitmentUpdate,
)
from secretariat.db import get_session, utcnow
from secretariat.forms import posted as _posted
from secretariat.forms import refuse_oversized_ids, show_errors
from secretariat.forms import row_id as _id
from secretariat.members.models import Member
from secretariat.members.services import ValidationFailed
from secretariat.permissions import (
    Permission,
    ensure_member_scope,
    has_permission,
    is_staff,
    requires,
)
from secretariat.vocabularies.models import Vocabulary
from secretariat.vocabularies.services import terms

bp = Blueprint("commitments", __name__, url_prefix="/commitments")


refuse_oversized_ids(bp)


def _member_or_404(member_id: int) -> Member:
    member = get_session().get(Member, member_id)
    if member is None:
        abort(404)
    ensure_member_scope(current_user, member.id)
    return member


def _visible(commitment_id: int) -> Commitment:
    return services.visible_commitment(get_session(), current_user, commitment_id)


# -- the network view ----------------------------------------------------------------------


def _not_updated_days(raw: str) -> tuple[int | None, str | None]:
    """The "not updated for" filter in days, or a message saying what is wrong with it."""
    raw = raw.strip()
    if not raw:
        return None, None
    days = _id(raw)
    if days is None or not 1 <= days <= MAX_NOT_UPDATED_DAYS:
        return None, _(
            "Give the number of days as a whole number between 1 and %(most)s, e.g. 180.",
            most=format_decimal(MAX_NOT_UPDATED_DAYS),
        )
    return days, None


def _filters() -> tuple[queries.CommitmentFilters, str | None]:
    args = request.args
    status = args.get("status", "")
    not_updated, problem = _not_updated_days(args.get("not_updated", ""))
    filters = queries.CommitmentFilters(
        category_id=_id(args.get("category")),
        status=CommitmentStatus(status) if status in CommitmentStatus._value2member_map_ else None,
        stale=args.get("stale", "") in ("1", "y", "on", "true"),
        not_updated_days=not_updated,
        member_id=_id(args.get("member")),
        region_id=_id(args.get("region")),
    )
    return filters, problem


def _filter_args(filters: queries.CommitmentFilters) -> dict:
    """The query string of the filters in force, for the pagination and status links."""
    args: dict = {}
    if filters.category_id is not None:
        args["category"] = filters.category_id
    if filters.status is not None:
        args["status"] = filters.status.value
    if filters.stale:
        args["stale"] = "1"
    if filters.not_updated_days is not None:
        args["not_updated"] = filters.not_updated_days
    if filters.member_id is not None:
        args["member"] = filters.member_id
    if filters.region_id is not None:
        args["region"] = filters.region_id
    return args


@bp.route("/")
@requires(Permission.VIEW_COMMITMENTS)
def index():  # type: ignore[no-untyped-def]
    if not has_permission(current_user, Permission.MANAGE_COMMITMENTS):
        # A focal point's commitments are their own member's.
        if current_user.member_id is None:
            abort(404)
        return redirect(url_for("commitments.member", member_id=current_user.member_id))
    db = get_session()
    today = network_today()
    now = utcnow()
    filters, problem = _filters()
    page = queries.commitment_page(
        db,
        filters,
        today,
        now,
        _id(request.args.get("page")) or 1,
        current_app.config["MEMBERS_PER_PAGE"],
    )
    counts = queries.status_counts(db, filters, today, now)
    args = _filter_args(filters)
    windows = list(NOT_UPDATED_CHOICES)
    if filters.not_updated_days is not None and filters.not_updated_days not in windows:
        windows = sorted([*windows, filters.not_updated_days])
    return render_template(
        "commitments/index.html",
        page=page,
        filters=filters,
        filter_problem=problem,
        typed_not_updated=request.args.get("not_updated", "") if problem else "",
        counts=counts,
        counts_total=sum(counts.values()),
        args=args,
        without_status={k: v for k, v in args.items() if k != "status"},
        categories=terms(db, Vocabulary.COMMITMENT_CATEGORY),
        regions=terms(db, Vocabulary.REGION),
        members=queries.member_choices(db),
        windows=windows,
        today=today,
        **template_labels(),
    )


# -- a member's commitments ----------------------------------------------------------------


@bp.route("/member/<int:member_id>")
@requires(Permission.VIEW_COMMITMENTS)
def member(member_id: int):  # type: ignore[no-untyped-def]
    the_member = _member_or_404(member_id)
    db = get_session()
    today = network_today()
    return render_template(
        "commitments/member.html",
        member=the_member,
        commitments=queries.member_commitments(db, the_member.id),
        today=today,
        update_due_before=utcnow() - timedelta(days=queries.UPDATE_DUE_DAYS),
        update_due_days=queries.UPDATE_DUE_DAYS,
        ongoing=ONGOING,
        **template_labels(),
    )


# -- reading the forms ---------------------------------------------------------------------


def _unreadable(form: Form) -> dict[str, str]:
    """Take what the form could not read (a garbled date or number) off its fields."""
    unreadable = {}
    for name, field in form._fields.items():
        if field.errors and name != "csrf_token":
            if isinstance(field, DateField):
                unreadable[name] = _("Enter a date, e.g. %(example)s.", example="2027-03-15")
            elif isinstance(field, IntegerField):
                unreadable[name] = _("Enter a whole number, e.g. %(example)s.", example="24")
            else:
                unreadable[name] = field.errors[0]
            field.errors = []
    return unreadable


def _status(value: str | None, unreadable: dict[str, str]) -> CommitmentStatus:
    if value in CommitmentStatus._value2member_map_:
        return CommitmentStatus(value)
    unreadable["status"] = _("Choose a status from the list.")
    return CommitmentStatus.PLANNED


def _upload(form: CommitmentForm | UpdateForm) -> services.Upload | None:
    """The file chosen in the form, read up to one byte past the size limit; None if none."""
    upload = request.files.get(form.evidence_file.name)
    if upload is None or not upload.filename:
        return None
    return services.Upload(upload.filename, upload.stream.read(documents.MAX_BYTES + 1))


def _commitment_data(form: CommitmentForm) -> services.CommitmentData:
    unreadable = _unreadable(form)
    category_id = _id(form.category_id.data)
    return services.CommitmentData(
        title=form.title.data or "",
        category_id=category_id,
        status=_status(form.status.data, unreadable),
        description=form.description.data or None,
        baseline=form.baseline.data or None,
        target=form.target.data or None,
        target_on=form.target_on.data,
        freshness_months=form.freshness_months.data,
        evidence_url=form.evidence_url.data or None,
        evidence_on=form.evidence_on.data,
        unreadable=unreadable,
    )


def _refused(form: CommitmentForm | UpdateForm, exc: ValidationFailed, upload) -> None:  # type: ignore[no-untyped-def]
    show_errors(form, exc.errors)
    if upload is not None and "evidence_file" not in exc.errors:
        # Browsers never refill a file input: say so rather than let it vanish silently.
        show_errors(form, {"evidence_file": _("Nothing was saved: choose the file again.")})


def _note_renamed(upload: services.Upload | None, document) -> None:  # type: ignore[no-untyped-def]
    if upload is not None and document is not None and document.filename != upload.filename:
        flash(
            _("The file's name was made safe: it is kept as “%(name)s”.", name=document.filename),
            "info",
        )


# -- entering and editing ------------------------------------------------------------------


@bp.route("/member/<int:member_id>/new", methods=["GET", "POST"])
@requires(Permission.UPDATE_COMMITMENTS)
def new(member_id: int):  # type: ignore[no-untyped-def]
    the_member = _member_or_404(member_id)
    db = get_session()
    form = CommitmentForm(categories=services.category_choices(db))
    if request.method == "GET":
        form.status.data = CommitmentStatus.PLANNED.value
    if _posted(form):
        upload = _upload(form)
        try:
            commitment = services.create_commitment(
                db, current_user, the_member, _commitment_data(form), upload
            )
        except ValidationFailed as exc:
            _refused(form, exc, upload)
        else:
            flash(_("The commitment “%(title)s” is entered.", title=commitment.title), "success")
            _note_renamed(upload, commitment.evidence_document)
            return redirect(url_for("commitments.detail", commitment_id=commitment.id))
    return render_template("commitments/form.html", form=form, member=the_member, commitment=None)


@bp.route("/<int:commitment_id>/edit", methods=["GET", "POST"])
@requires(Permission.UPDATE_COMMITMENTS)
def edit(commitment_id: int):  # type: ignore[no-untyped-def]
    commitment = _visible(commitment_id)
    db = get_session()
    form = CommitmentForm(categories=services.category_choices(db, commitment.category_id))
    if request.method == "GET":
        form.title.data = commitment.title
        form.category_id.data = str(commitment.category_id)
        form.status.data = commitment.status.value
        form.description.data = commitment.description
        form.baseline.data = commitment.baseline
        form.target.data = commitment.target
        form.target_on.data = commitment.target_on
        form.freshness_months.data = commitment.freshness_months
        form.evidence_url.data = commitment.evidence_url
        form.evidence_on.data = commitment.evidence_on
    if _posted(form):
        upload = _upload(form)
        try:
            services.update_commitment(
                db,
                current_user,
                commitment,
                _commitment_data(form),
                upload,
                remove_document=bool(form.remove_document.data),
            )
        except ValidationFailed as exc:
            _refused(form, exc, upload)
        else:
            flash(_("The commitment “%(title)s” is saved.", title=commitment.title), "success")
            _note_renamed(upload, commitment.evidence_document)
            return redirect(url_for("commitments.detail", commitment_id=commitment.id))
    return render_template(
        "commitments/form.html", form=form, member=commitment.member, commitment=commitment
    )


# -- one commitment and its history --------------------------------------------------------


@bp.route("/<int:commitment_id>")
@requires(Permission.VIEW_COMMITMENTS)
def detail(commitment_id: int):  # type: ignore[no-untyped-def]
    # Loaded with everything the page shows first, then checked: one load, not two.
    commitment = queries.commitment_detail(get_session(), commitment_id)
    if commitment is None:
        abort(404)
    ensure_member_scope(current_user, commitment.member_id)
    return render_template(
        "commitments/detail.html",
        commitment=commitment,
        today=network_today(),
        staff=is_staff(current_user),
        **template_labels(),
    )


@bp.route("/<int:commitment_id>/update", methods=["GET", "POST"])
@requires(Permission.UPDATE_COMMITMENTS)
def add_update(commitment_id: int):  # type: ignore[no-untyped-def]
    commitment = _visible(commitment_id)
    form = UpdateForm()
    if request.method == "GET":
        form.status.data = commitment.status.value
        form.percent_complete.data = commitment.percent_complete
    if _posted(form):
        upload = _upload(form)
        unreadable = _unreadable(form)
        data = services.UpdateData(
            status=_status(form.status.data, unreadable),
            narrative=form.narrative.data or "",
            percent_complete=form.percent_complete.data,
            evidence_url=form.evidence_url.data or None,
            evidence_on=form.evidence_on.data,
            unreadable=unreadable,
        )
        try:
            progress = services.add_update(get_session(), current_user, commitment, data, upload)
        except ValidationFailed as exc:
            _refused(form, exc, upload)
        else:
            flash(
                _("The progress update on “%(title)s” is recorded.", title=commitment.title),
                "success",
            )
            _note_renamed(upload, progress.evidence_document)
            return redirect(url_for("commitments.detail", commitment_id=commitment.id))
    return render_template(
        "commitments/update_form.html", form=form, commitment=commitment, **template_labels()
    )


@bp.route("/updates/<int:update_id>/verify", methods=["POST"])
@requires(Permission.MANAGE_COMMITMENTS)
def verify_update(update_id: int):  # type: ignore[no-untyped-def]
    update = get_session().get(CommitmentUpdate, update_id)
    if update is None:
        abort(404)
    already = update.is_verified
    services.verify_update(get_session(), current_user, update)
    if already:
        flash(_("This update was already verified."), "info")
    else:
        flash(_("The update is marked as verified."), "success")
    return redirect(
        url_for("commitments.detail", commitment_id=update.commitment_id, _anchor="history-title")
    )


@bp.route("/<int:commitment_id>/delete", methods=["POST"])
@requires(Permission.MANAGE_COMMITMENTS)
def delete(commitment_id: int):  # type: ignore[no-untyped-def]
    commitment = _visible(commitment_id)
    member_id, title = commitment.member_id, commitment.title
    services.delete_commitment(get_session(), current_user, commitment)
    flash(_("The commitment “%(title)s” and its updates are deleted.", title=title), "success")
    return redirect(url_for("commitments.member", member_id=member_id))


# -- evidence ------------------------------------------------------------------------------


@bp.route("/evidence/<int:document_id>")
@requires(Permission.VIEW_COMMITMENTS)
def evidence(document_id: int):  # type: ignore[no-untyped-def]
    document = services.visible_evidence(get_session(), current_user, document_id)
    return documents.send_document(
        document.sha256, document.file_type, document.filename, services.EVIDENCE_FOLDER
    )
