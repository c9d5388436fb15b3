"""Pages of the agreements: list, agreement page, lifecycle, documents and obligations."""

from __future__ import annotations

import unicodedata

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
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from secretariat.accounts.models import Role, User
from secretariat.agreements import documents, queries, services
from secretariat.agreements.forms import (
    ACTION_LABELS,
    AgreementForm,
    DocumentForm,
    ObligationForm,
    TransitionForm,
    template_labels,
)
from secretariat.agreements.models import (
    Agreement,
    AgreementDocument,
    AgreementKind,
    AgreementStatus,
    Obligation,
    PartyKind,
)
from secretariat.agreements.services import PartyRef
from secretariat.clock import network_today
from secretariat.db import get_session
from secretariat.followups import queries as followup_queries
from secretariat.followups.forms import template_labels as followup_labels
from secretariat.followups.models import Priority
from secretariat.forms import flash_errors, refuse_oversized_ids, show_errors
from secretariat.forms import row_id as _id
from secretariat.groups.models import GroupStatus, WorkingGroup
from secretariat.members.services import ValidationFailed
from secretariat.permissions import OutOfScope, Permission, is_staff, requires

bp = Blueprint("agreements", __name__, url_prefix="/agreements")


refuse_oversized_ids(bp)


def _visible(agreement_id: int) -> Agreement:
    try:
        return services.visible_agreement(get_session(), current_user, agreement_id)
    except OutOfScope:
        abort(404)


def _agreement_or_404(agreement_id: int) -> Agreement:
    agreement = get_session().get(Agreement, agreement_id)
    if agreement is None:
        abort(404)
    return agreement


def _int_arg(name: str) -> int | None:
    """A whole number from the query string (a page, a row id); None if it is not one."""
    return _id(request.args.get(name))


def _without_controls(value: str) -> str:
    return "".join(ch for ch in value if unicodedata.category(ch)[0] != "C")


def _filters() -> queries.AgreementFilters:
    args = request.args
    kind = args.get("kind", "")
    status = args.get("status", "")
    expiring = _int_arg("expiring")
    party = PartyRef.parse(args.get("party", "")) if is_staff(current_user) else None
    return queries.AgreementFilters(
        kind=AgreementKind(kind) if kind in AgreementKind._value2member_map_ else None,
        status=AgreementStatus(status) if status in AgreementStatus._value2member_map_ else None,
        party=party,
        expiring_within=expiring if expiring in queries.EXPIRING_WINDOWS else None,
        # Without controls: PostgreSQL refuses a NUL in a query parameter.
        search=" ".join(_without_controls(args.get("q", "")).split())[:100] or None,
    )


@bp.route("/")
@requires(Permission.VIEW_AGREEMENTS)
def index():  # type: ignore[no-untyped-def]
    db = get_session()
    today = network_today()
    filters = _filters()
    page = queries.agreement_page(
        db,
        current_user,
        filters,
        today,
        _int_arg("page") or 1,
        current_app.config["MEMBERS_PER_PAGE"],
    )
    choices = queries.party_choices(db) if is_staff(current_user) else None
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "agreements/index.html",
        page=page,
        filters=filters,
        party_choices=choices,
        party_token=filters.party.token if filters.party else "",
        args=args,
        today=today,
        windows=queries.EXPIRING_WINDOWS,
        **template_labels(),
    )


# -- entering and editing -------------------------------------------------------------------


def _agreement_form(agreement: Agreement | None = None, entering: bool = True, **kwargs):  # type: ignore[no-untyped-def]
    db = get_session()
    staff = db.scalars(
        select(User).where(User.role.in_((Role.ADMIN, Role.STAFF))).order_by(User.name)
    )
    staff_choices = [
        (u.id, u.name if u.is_active else _("%(name)s (deactivated)", name=u.name))
        for u in staff
        if u.is_active or (agreement is not None and u.id == agreement.owner_id)
    ]
    groups = db.scalars(select(WorkingGroup).order_by(WorkingGroup.status, WorkingGroup.name))
    group_choices = [
        (g.id, g.name if g.status is GroupStatus.ACTIVE else _("%(name)s (closed)", name=g.name))
        for g in groups
    ]
    kept = services.parties_of(agreement.parties) if agreement is not None else []
    parties = queries.party_choices(db, kept)
    return AgreementForm(
        staff=staff_choices,
        groups=group_choices,
        members=parties.members,
        partners=parties.partners,
        entering=entering,
        **kwargs,
    )


def _parties(form: AgreementForm) -> list[PartyRef]:
    parties = [PartyRef(PartyKind.SECRETARIAT)] if form.secretariat_party.data else []
    # Read from the raw request so that a party chosen twice is seen, and refused, as such.
    members = request.form.getlist(form.member_ids.name)
    partners = request.form.getlist(form.partner_ids.name)
    parties += [PartyRef(PartyKind.MEMBER, _id(v)) for v in members if _id(v) is not None]
    parties += [PartyRef(PartyKind.PARTNER, _id(v)) for v in partners if _id(v) is not None]
    return parties


def _data(form: AgreementForm, parties: list[PartyRef]) -> services.AgreementData:
    # The edit form has no status field (WTForms leaves None in place of a deleted field).
    status = form.status.data if form.status is not None else None
    return services.AgreementData(
        kind=AgreementKind(form.kind.data)
        if form.kind.data in AgreementKind._value2member_map_
        else None,
        title=form.title.data or "",
        summary=form.summary.data,
        owner_id=_id(form.owner_id.data),
        group_id=_id(form.group_id.data),
        parties=parties,
        signed_on=form.signed_on.data,
        effective_from=form.effective_from.data,
        expires_on=form.expires_on.data,
        renewal_notice_days=form.renewal_notice_days.data,
        status=AgreementStatus(status)
        if status in AgreementStatus._value2member_map_
        else AgreementStatus.DRAFT,
    )


def _show(form: AgreementForm, errors: dict[str, str]) -> None:
    """Put the parties' problem next to the members' list, where parties are chosen."""
    errors = dict(errors)
    if "parties" in errors and hasattr(form, "member_ids"):
        errors["member_ids"] = errors.pop("parties")
    show_errors(form, errors)


def _fill(form: AgreementForm, data: services.AgreementData) -> None:
    form.kind.data = data.kind.value if data.kind else ""
    form.title.data = data.title
    form.summary.data = data.summary
    form.owner_id.data = str(data.owner_id or "")
    form.group_id.data = str(data.group_id or "")
    form.secretariat_party.data = any(p.kind is PartyKind.SECRETARIAT for p in data.parties)
    form.member_ids.data = [p.id for p in data.parties if p.kind is PartyKind.MEMBER]
    form.partner_ids.data = [p.id for p in data.parties if p.kind is PartyKind.PARTNER]
    form.signed_on.data = data.signed_on
    form.effective_from.data = data.effective_from
    form.expires_on.data = data.expires_on
    form.renewal_notice_days.data = data.renewal_notice_days


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_AGREEMENTS)
def new():  # type: ignore[no-untyped-def]
    form = _agreement_form()
    if request.method == "GET":
        form.owner_id.data = str(current_user.id)
        form.secretariat_party.data = True
        form.renewal_notice_days.data = 90
        member = _int_arg("member")
        partner = _int_arg("partner")
        form.member_ids.data = [member] if member else []
        form.partner_ids.data = [partner] if partner else []
    if form.validate_on_submit():
        try:
            agreement = services.create_agreement(
                get_session(), current_user, _data(form, _parties(form))
            )
        except ValidationFailed as exc:
            _show(form, exc.errors)
        else:
            flash(_("The agreement “%(title)s” is entered.", title=agreement.title), "success")
            return redirect(url_for("agreements.detail", agreement_id=agreement.id))
    return render_template("agreements/form.html", form=form, agreement=None, renews=None)


@bp.route("/<int:agreement_id>")
@requires(Permission.VIEW_AGREEMENTS)
def detail(agreement_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    # Loaded with everything the page shows first, then checked: one load, not two.
    try:
        agreement = services.ensure_visible(
            current_user, queries.agreement_detail(db, agreement_id)
        )
    except OutOfScope:
        abort(404)
    today = network_today()
    pending, closed = followup_queries.follow_ups_for(db, current_user, agreement_id=agreement.id)
    staff = is_staff(current_user)
    return render_template(
        "agreements/detail.html",
        agreement=agreement,
        shown_status=agreement.status_on(today),
        transitions=services.allowed_transitions(agreement, today) if staff else [],
        renewable=staff and services.renewal_refusal(agreement) is None,
        documents=[d for d in agreement.documents if not d.is_removed],
        removed_documents=[d for d in agreement.documents if d.is_removed],
        pending_follow_ups=pending,
        closed_follow_ups=closed,
        today=today,
        staff=staff,
        **template_labels(),
        **followup_labels(),
    )


@bp.route("/<int:agreement_id>/edit", methods=["GET", "POST"])
@requires(Permission.MANAGE_AGREEMENTS)
def edit(agreement_id: int):  # type: ignore[no-untyped-def]
    agreement = _agreement_or_404(agreement_id)
    refused = services.edit_refusal(agreement)
    if refused:
        flash(refused, "error")
        return redirect(url_for("agreements.detail", agreement_id=agreement.id))
    form = _agreement_form(agreement, entering=False)
    parties_open = agreement.status in services.OPEN_STATUSES
    if request.method == "GET":
        data = services.renewal_data(agreement)
        data.signed_on = agreement.signed_on
        data.effective_from = agreement.effective_from
        data.expires_on = agreement.expires_on
        _fill(form, data)
    if form.validate_on_submit():
        parties = _parties(form) if parties_open else services.parties_of(agreement.parties)
        try:
            moved = services.update_agreement(
                get_session(), current_user, agreement, _data(form, parties)
            )
        except ValidationFailed as exc:
            _show(form, exc.errors)
        else:
            flash(_("The agreement “%(title)s” is saved.", title=agreement.title), "success")
            if moved:
                flash(
                    _(
                        "%(count)d open follow-ups of its obligations went to the new owner.",
                        count=moved,
                    ),
                    "info",
                )
            return redirect(url_for("agreements.detail", agreement_id=agreement.id))
    return render_template(
        "agreements/form.html",
        form=form,
        agreement=agreement,
        renews=None,
        parties_open=parties_open,
    )


@bp.route("/<int:agreement_id>/renew", methods=["GET", "POST"])
@requires(Permission.MANAGE_AGREEMENTS)
def renew(agreement_id: int):  # type: ignore[no-untyped-def]
    old = _agreement_or_404(agreement_id)
    refused = services.renewal_refusal(old)
    if refused and request.method == "GET":
        # Said at once rather than after the form is filled in (saving repeats it).
        flash(refused, "error")
    form = _agreement_form(old)
    form.status.choices = [
        c for c in form.status.choices if c.value != AgreementStatus.ACTIVE.value
    ]
    if request.method == "GET":
        _fill(form, services.renewal_data(old))
    if form.validate_on_submit():
        try:
            agreement = services.create_agreement(
                get_session(), current_user, _data(form, _parties(form)), renews=old
            )
        except ValidationFailed as exc:
            _show(form, exc.errors)
        else:
            flash(
                _(
                    "The renewal of “%(title)s” is entered. The old agreement becomes renewed "
                    "when this one is put into force.",
                    title=old.title,
                ),
                "success",
            )
            return redirect(url_for("agreements.detail", agreement_id=agreement.id))
    return render_template("agreements/form.html", form=form, agreement=None, renews=old)


@bp.route("/<int:agreement_id>/status/<status>", methods=["GET", "POST"])
@requires(Permission.MANAGE_AGREEMENTS)
def transition(agreement_id: int, status: str):  # type: ignore[no-untyped-def]
    agreement = _agreement_or_404(agreement_id)
    if status not in AgreementStatus._value2member_map_:
        abort(404)
    target = AgreementStatus(status)
    today = network_today()
    form = TransitionForm()
    if request.method == "GET":
        if target is AgreementStatus.SIGNED:
            form.on.data = agreement.signed_on or today
        elif target is AgreementStatus.ACTIVE:
            form.on.data = agreement.effective_from or agreement.signed_on or today
        elif target is AgreementStatus.TERMINATED:
            form.on.data = today
        if target not in services.allowed_transitions(agreement, today):
            flash(services.refusal(agreement, target, today), "error")
            return redirect(url_for("agreements.detail", agreement_id=agreement.id))
    if form.validate_on_submit():
        try:
            services.change_status(
                get_session(),
                current_user,
                agreement,
                target,
                on=form.on.data if target in services.DATED else None,
                reason=form.reason.data if target is AgreementStatus.TERMINATED else None,
            )
        except ValidationFailed as exc:
            if set(exc.errors) <= {"status"}:
                flash_errors(exc.errors)
                return redirect(url_for("agreements.detail", agreement_id=agreement.id))
            show_errors(form, exc.errors)
        else:
            flash(
                _(
                    "The agreement “%(title)s” is now %(status)s.",
                    title=agreement.title,
                    status=template_labels()["agreement_status_labels"][target].lower(),
                ),
                "success",
            )
            return redirect(url_for("agreements.detail", agreement_id=agreement.id))
    return render_template(
        "agreements/transition.html",
        form=form,
        agreement=agreement,
        target=target,
        action=ACTION_LABELS.get(target, ""),
        **template_labels(),
    )


# -- documents ------------------------------------------------------------------------------


@bp.route("/<int:agreement_id>/documents/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_AGREEMENTS)
def add_document(agreement_id: int):  # type: ignore[no-untyped-def]
    agreement = _agreement_or_404(agreement_id)
    form = DocumentForm()
    if form.validate_on_submit():
        upload = request.files.get(form.file.name)
        if upload is None or not upload.filename:
            show_errors(form, {"file": _("Choose the file to upload.")})
        else:
            content = upload.stream.read(documents.MAX_BYTES + 1)
            try:
                document, renamed = services.add_document(
                    get_session(),
                    current_user,
                    agreement,
                    upload.filename,
                    content,
                    form.description.data,
                )
            except ValidationFailed as exc:
                show_errors(form, exc.errors)
            else:
                flash(_("“%(name)s” is attached.", name=document.filename), "success")
                if renamed:
                    flash(
                        _(
                            "The file's name was made safe: it is kept as “%(name)s”.",
                            name=document.filename,
                        ),
                        "info",
                    )
                return redirect(url_for("agreements.detail", agreement_id=agreement.id))
    return render_template("agreements/document_form.html", form=form, agreement=agreement)


def _document_or_404(agreement: Agreement, document_id: int) -> AgreementDocument:
    document = get_session().get(AgreementDocument, document_id)
    if document is None or document.agreement_id != agreement.id:
        abort(404)
    return document


@bp.route("/<int:agreement_id>/documents/<int:document_id>")
@requires(Permission.VIEW_AGREEMENTS)
def download(agreement_id: int, document_id: int):  # type: ignore[no-untyped-def]
    agreement = _visible(agreement_id)
    document = _document_or_404(agreement, document_id)
    if document.is_removed:
        abort(404)
    return documents.send_document(document.sha256, document.file_type, document.filename)


@bp.route("/<int:agreement_id>/documents/<int:document_id>/remove", methods=["POST"])
@requires(Permission.MANAGE_AGREEMENTS)
def remove_document(agreement_id: int, document_id: int):  # type: ignore[no-untyped-def]
    agreement = _agreement_or_404(agreement_id)
    document = _document_or_404(agreement, document_id)
    try:
        services.remove_document(get_session(), current_user, document)
    except ValidationFailed as exc:
        flash_errors(exc.errors)
    else:
        flash(
            _("“%(name)s” is removed; it stays listed in the history.", name=document.filename),
            "success",
        )
    return redirect(url_for("agreements.detail", agreement_id=agreement.id))


# -- obligations ----------------------------------------------------------------------------


def _obligation_form(agreement: Agreement, **kwargs) -> ObligationForm:  # type: ignore[no-untyped-def]
    name = current_app.config["NETWORK_NAME"]
    return ObligationForm(
        parties=[(p.id, services.party_name(p, name)) for p in agreement.parties], **kwargs
    )


def _obligation_data(form: ObligationForm) -> services.ObligationData:
    return services.ObligationData(
        description=form.description.data or "",
        party_id=_id(form.party_id.data),
        due_on=form.due_on.data,
        priority=Priority(form.priority.data)
        if form.priority.data in Priority._value2member_map_
        else Priority.NORMAL,
    )


def _obligation_or_404(agreement: Agreement, obligation_id: int) -> Obligation:
    obligation = get_session().get(Obligation, obligation_id)
    if obligation is None or obligation.agreement_id != agreement.id:
        abort(404)
    return obligation


@bp.route("/<int:agreement_id>/obligations/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_AGREEMENTS)
def new_obligation(agreement_id: int):  # type: ignore[no-untyped-def]
    agreement = _agreement_or_404(agreement_id)
    form = _obligation_form(agreement)
    if form.validate_on_submit():
        try:
            services.add_obligation(get_session(), current_user, agreement, _obligation_data(form))
        except ValidationFailed as exc:
            show_errors(form, exc.errors)
        else:
            flash(
                _(
                    "The obligation is recorded; a follow-up for %(owner)s tracks it.",
                    owner=agreement.owner.name,
                ),
                "success",
            )
            return redirect(url_for("agreements.detail", agreement_id=agreement.id))
    return render_template(
        "agreements/obligation_form.html", form=form, agreement=agreement, obligation=None
    )


@bp.route("/<int:agreement_id>/obligations/<int:obligation_id>/edit", methods=["GET", "POST"])
@requires(Permission.MANAGE_AGREEMENTS)
def edit_obligation(agreement_id: int, obligation_id: int):  # type: ignore[no-untyped-def]
    agreement = _agreement_or_404(agreement_id)
    obligation = _obligation_or_404(agreement, obligation_id)
    form = _obligation_form(agreement)
    if request.method == "GET":
        form.description.data = obligation.description
        form.party_id.data = str(obligation.party_id)
        form.due_on.data = obligation.due_on
        if obligation.follow_up is not None:
            form.priority.data = obligation.follow_up.priority.value
    if form.validate_on_submit():
        try:
            services.update_obligation(
                get_session(), current_user, obligation, _obligation_data(form)
            )
        except ValidationFailed as exc:
            show_errors(form, exc.errors)
        else:
            flash(_("The obligation is saved."), "success")
            return redirect(url_for("agreements.detail", agreement_id=agreement.id))
    return render_template(
        "agreements/obligation_form.html", form=form, agreement=agreement, obligation=obligation
    )


@bp.route("/<int:agreement_id>/obligations/<int:obligation_id>/remove", methods=["POST"])
@requires(Permission.MANAGE_AGREEMENTS)
def remove_obligation(agreement_id: int, obligation_id: int):  # type: ignore[no-untyped-def]
    agreement = _agreement_or_404(agreement_id)
    obligation = _obligation_or_404(agreement, obligation_id)
    services.remove_obligation(get_session(), current_user, obligation)
    flash(_("The obligation is removed; its open follow-up is cancelled."), "success")
    return redirect(url_for("agreements.detail", agreement_id=agreement.id))
