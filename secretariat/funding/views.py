"""Staff pages of funding: the overview, funders and their contacts, programmes, grants and the
reports owed to funders."""

from __future__ import annotations

import enum

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import DateField, Form

from secretariat.accounts.forms import ConfirmForm
from secretariat.accounts.models import Role, User
from secretariat.clock import network_today
from secretariat.db import get_session
from secretariat.forms import flash_errors, posted, refuse_oversized_ids, row_id, show_errors
from secretariat.funding import queries, services
from secretariat.funding.forms import (
    BLANK_INDICATOR_ROWS,
    FunderContactForm,
    FunderForm,
    GrantForm,
    ProgrammeForm,
    ReportSentForm,
    template_labels,
)
from secretariat.funding.models import (
    Coverage,
    Frequency,
    Funder,
    FunderKind,
    Grant,
    GrantReport,
    Programme,
)
from secretariat.groups import queries as group_queries
from secretariat.indicators.models import Indicator
from secretariat.indicators.services import plain
from secretariat.mail import MailError
from secretariat.members.forms import country_choices, currency_choices
from secretariat.members.models import Member
from secretariat.permissions import Permission, requires

bp = Blueprint("funding", __name__, url_prefix="/funding")
refuse_oversized_ids(bp)


# -- helpers --------------------------------------------------------------------------------


def _or_404(model: type, row_id_: int):  # type: ignore[no-untyped-def]
    row = get_session().get(model, row_id_)
    if row is None:
        abort(404)
    return row


def _page_arg() -> int:
    return row_id(request.args.get("page")) or 1


def _per_page() -> int:
    return current_app.config["MEMBERS_PER_PAGE"]


def _chosen_id(value: str | None) -> int | None:
    """The row id chosen in a select: None when nothing is chosen; 0 (no row's id, so the
    service refuses it with its own message) when the value is garbled."""
    if not value:
        return None
    return row_id(value) or 0


def _enum(enum_cls: type[enum.Enum], value: str | None) -> object:
    """The enum member of a posted value; anything else as posted, for the service to refuse."""
    return enum_cls(value) if value in enum_cls._value2member_map_ else value


def _unreadable_dates(form: Form) -> dict[str, str]:
    """Take the dates the form could not read off their fields; the service, seeing no date,
    refuses them, and this message replaces its own."""
    unreadable = {}
    for name, field in form._fields.items():
        if isinstance(field, DateField) and field.errors:
            unreadable[name] = _("Enter a date, e.g. %(example)s.", example="2027-03-15")
            field.errors = []
    return unreadable


# -- the overview ---------------------------------------------------------------------------


@bp.route("/")
@requires(Permission.MANAGE_FUNDING)
def index():  # type: ignore[no-untyped-def]
    db = get_session()
    return render_template(
        "funding/index.html",
        funders=queries.funder_rows(db),
        programmes=queries.programme_rows(db),
        reports=queries.reports_due(db, page=_page_arg(), per_page=_per_page()),
        today=network_today(),
        **template_labels(),
    )


# -- funders --------------------------------------------------------------------------------


def _funder_form(**kwargs) -> FunderForm:  # type: ignore[no-untyped-def]
    return FunderForm(countries=country_choices(), **kwargs)


def _funder_data(form: FunderForm) -> services.FunderData:
    return services.FunderData(
        name=form.name.data or "",
        kind=_enum(FunderKind, form.kind.data),
        country=form.country.data or None,
        website=form.website.data or None,
        notes=form.notes.data or None,
    )


@bp.route("/funders/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_FUNDING)
def new_funder():  # type: ignore[no-untyped-def]
    form = _funder_form()
    if posted(form):
        try:
            funder = services.create_funder(get_session(), current_user, _funder_data(form))
        except services.FundingError as exc:
            show_errors(form, exc.errors)
        else:
            flash(_("%(name)s is added.", name=funder.name), "success")
            return redirect(url_for("funding.funder", funder_id=funder.id))
    return render_template("funding/funder_form.html", form=form, funder=None)


@bp.route("/funders/<int:funder_id>/edit", methods=["GET", "POST"])
@requires(Permission.MANAGE_FUNDING)
def edit_funder(funder_id: int):  # type: ignore[no-untyped-def]
    funder = _or_404(Funder, funder_id)
    form = _funder_form(obj=funder)
    if request.method == "GET":
        form.kind.data = funder.kind.value
        form.country.data = funder.country or ""
    if posted(form):
        try:
            services.update_funder(get_session(), current_user, funder, _funder_data(form))
        except services.FundingError as exc:
            show_errors(form, exc.errors)
        else:
            flash(_("%(name)s is saved.", name=funder.name), "success")
            return redirect(url_for("funding.funder", funder_id=funder.id))
    return render_template("funding/funder_form.html", form=form, funder=funder)


def _render_funder(funder: Funder, contact_form: FunderContactForm, status: int = 200):  # type: ignore[no-untyped-def]
    db = get_session()
    return (
        render_template(
            "funding/funder.html",
            funder=funder,
            grants=queries.funder_grants(db, funder.id),
            contacts=queries.funder_contacts(db, funder.id),
            contact_form=contact_form,
            today=network_today(),
            **template_labels(),
        ),
        status,
    )


@bp.route("/funders/<int:funder_id>")
@requires(Permission.MANAGE_FUNDING)
def funder(funder_id: int):  # type: ignore[no-untyped-def]
    return _render_funder(_or_404(Funder, funder_id), FunderContactForm(formdata=None))


@bp.route("/funders/<int:funder_id>/contacts", methods=["POST"])
@requires(Permission.MANAGE_FUNDING)
def invite_contact(funder_id: int):  # type: ignore[no-untyped-def]
    funder = _or_404(Funder, funder_id)
    form = FunderContactForm()
    if not posted(form):
        abort(400)
    try:
        user = services.invite_funder_contact(
            get_session(),
            current_user._get_current_object(),
            funder,
            form.name.data,
            form.email.data,
        )
    except services.FundingError as exc:
        show_errors(form, exc.errors)
        return _render_funder(funder, form)
    except MailError:
        # The answer is an error, so the request rolls back: no user without an invitation.
        flash(_("The e-mail could not be sent. Please try again in a few minutes."), "error")
        return _render_funder(funder, form, status=503)
    flash(
        _("%(name)s is invited: an e-mail went to %(email)s.", name=user.name, email=user.email),
        "success",
    )
    return redirect(url_for("funding.funder", funder_id=funder.id))


@bp.route("/funders/<int:funder_id>/contacts/<int:user_id>/deactivate", methods=["POST"])
@requires(Permission.MANAGE_FUNDING)
def deactivate_contact(funder_id: int, user_id: int):  # type: ignore[no-untyped-def]
    funder = _or_404(Funder, funder_id)
    user = get_session().get(User, user_id)
    if user is None or user.role is not Role.FUNDER or user.funder_id != funder.id:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.deactivate_funder_contact(get_session(), current_user, funder, user)
    except services.FundingError as exc:
        flash_errors(exc.errors)
    else:
        flash(_("%(name)s is deactivated and signed out everywhere.", name=user.name), "success")
    return redirect(url_for("funding.funder", funder_id=funder.id))


# -- programmes -----------------------------------------------------------------------------


def _staff_choices(db: Session, current_id: int | None) -> list[tuple[int, str]]:
    """Active staff by name; a deactivated lead the programme names stays listed (and is
    refused by the service if kept)."""
    users = db.scalars(
        select(User)
        .where(
            User.role.in_((Role.ADMIN, Role.STAFF)),
            User.is_active.is_(True) | (User.id == current_id),
        )
        .order_by(User.name, User.id)
    )
    return [
        (u.id, u.name if u.is_active else _("%(name)s (deactivated)", name=u.name)) for u in users
    ]


def _indicator_choices(db: Session, chosen: list[int]) -> list[tuple[int, str]]:
    """Active indicators by code, and retired ones the programme already follows."""
    wanted = Indicator.is_active.is_(True)
    if chosen:
        wanted = wanted | Indicator.id.in_(chosen)
    indicators = db.scalars(select(Indicator).where(wanted).order_by(Indicator.code))
    return [
        (i.id, str(i) if i.is_active else _("%(name)s (retired)", name=str(i))) for i in indicators
    ]


def _members(db: Session) -> list:  # type: ignore[type-arg]
    """Every member by name, for the list of chosen members."""
    return list(
        db.execute(
            select(Member.id, Member.name, Member.country, Member.status).order_by(
                Member.search_name, Member.id
            )
        )
    )


def _programme_form(programme: Programme | None) -> tuple[ProgrammeForm, list]:  # type: ignore[type-arg]
    db = get_session()
    chosen = [pi.indicator_id for pi in programme.indicators] if programme else []
    if request.method == "POST":
        # Listed even if retired since, so that the refusal is seen beside them.
        chosen = [
            i
            for name, value in request.form.items(multi=True)
            if name.startswith("indicators-")
            and name.endswith("-indicator_id")
            and (i := row_id(value))
        ]
    members = _members(db)
    rows = len(programme.indicators) + BLANK_INDICATOR_ROWS if programme else BLANK_INDICATOR_ROWS
    form = ProgrammeForm(
        groups=group_queries.group_choices(db, programme.group_id if programme else None),
        members=[(m.id, m.name) for m in members],
        staff=_staff_choices(db, programme.lead_id if programme else None),
        indicators=_indicator_choices(db, chosen),
        rows=rows if request.method == "GET" else 0,
    )
    return form, members


def _fill_programme(form: ProgrammeForm, programme: Programme) -> None:
    form.name.data = programme.name
    form.description.data = programme.description
    form.starts_on.data = programme.starts_on
    form.ends_on.data = programme.ends_on
    form.coverage.data = programme.coverage.value
    form.group_id.data = str(programme.group_id or "")
    form.member_ids.data = [str(pm.member_id) for pm in programme.chosen_members]
    form.lead_id.data = str(programme.lead_id or "")
    for entry, row in zip(form.indicators, programme.indicators, strict=False):
        entry.form.indicator_id.data = str(row.indicator_id)
        entry.form.target.data = plain(row.target) if row.target is not None else ""


def _programme_data(form: ProgrammeForm, unreadable: dict[str, str]) -> services.ProgrammeData:
    indicators: list[tuple[int, object]] = []
    for entry in form.indicators:
        row = entry.form
        if row.is_blank():
            continue
        indicator_id = _chosen_id(row.indicator_id.data)
        if indicator_id is None:
            # Refused by the service as an unknown indicator; this message says what to do.
            unreadable["indicators"] = _("Choose the indicator of each target.")
        indicators.append((indicator_id or 0, row.target.data))
    return services.ProgrammeData(
        name=form.name.data or "",
        starts_on=form.starts_on.data,
        ends_on=form.ends_on.data,
        coverage=_enum(Coverage, form.coverage.data),
        description=form.description.data,
        group_id=_chosen_id(form.group_id.data),
        member_ids=[_chosen_id(v) or 0 for v in form.member_ids.data or []],
        lead_id=_chosen_id(form.lead_id.data),
        indicators=indicators,
    )


def _render_programme_form(form: ProgrammeForm, members: list, programme: Programme | None):  # type: ignore[no-untyped-def, type-arg]
    return render_template(
        "funding/programme_form.html",
        form=form,
        members=members,
        programme=programme,
        **template_labels(),
    )


@bp.route("/programmes/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_FUNDING)
def new_programme():  # type: ignore[no-untyped-def]
    form, members = _programme_form(None)
    if posted(form):
        unreadable = _unreadable_dates(form)
        try:
            programme = services.create_programme(
                get_session(), current_user, _programme_data(form, unreadable)
            )
        except services.FundingError as exc:
            show_errors(form, {**exc.errors, **unreadable})
        else:
            flash(_("%(name)s is added.", name=programme.name), "success")
            return redirect(url_for("funding.programme", programme_id=programme.id))
    return _render_programme_form(form, members, None)


@bp.route("/programmes/<int:programme_id>/edit", methods=["GET", "POST"])
@requires(Permission.MANAGE_FUNDING)
def edit_programme(programme_id: int):  # type: ignore[no-untyped-def]
    programme = queries.programme_detail(get_session(), programme_id)
    if programme is None:
        abort(404)
    form, members = _programme_form(programme)
    if request.method == "GET":
        _fill_programme(form, programme)
    if posted(form):
        unreadable = _unreadable_dates(form)
        try:
            services.update_programme(
                get_session(), current_user, programme, _programme_data(form, unreadable)
            )
        except services.FundingError as exc:
            show_errors(form, {**exc.errors, **unreadable})
        else:
            flash(_("%(name)s is saved.", name=programme.name), "success")
            return redirect(url_for("funding.programme", programme_id=programme.id))
    return _render_programme_form(form, members, programme)


def _render_programme(programme: Programme, sent_error: dict | None = None):  # type: ignore[no-untyped-def, type-arg]
    db = get_session()
    return render_template(
        "funding/programme.html",
        programme=programme,
        reports=queries.programme_reports(db, programme.id),
        covered=queries.covered_members(db, programme, page=_page_arg(), per_page=_per_page()),
        sent_error=sent_error,
        today=network_today(),
        **template_labels(),
    )


@bp.route("/programmes/<int:programme_id>")
@requires(Permission.MANAGE_FUNDING)
def programme(programme_id: int):  # type: ignore[no-untyped-def]
    found = queries.programme_detail(get_session(), programme_id)
    if found is None:
        abort(404)
    return _render_programme(found)


def _report_or_404(programme_id: int, report_id: int) -> GrantReport:
    report = get_session().scalar(
        select(GrantReport)
        .join(GrantReport.grant)
        .where(GrantReport.id == report_id, Grant.programme_id == programme_id)
    )
    if report is None:
        abort(404)
    return report


@bp.route("/programmes/<int:programme_id>/reports/<int:report_id>/sent", methods=["POST"])
@requires(Permission.MANAGE_FUNDING)
def report_sent(programme_id: int, report_id: int):  # type: ignore[no-untyped-def]
    report = _report_or_404(programme_id, report_id)
    form = ReportSentForm()
    if not posted(form):
        abort(400)
    unreadable = _unreadable_dates(form)
    try:
        services.mark_report_sent(get_session(), current_user, report, form.sent_on.data)
    except services.FundingError as exc:
        errors = {**exc.errors, **unreadable}
        found = queries.programme_detail(get_session(), programme_id)
        assert found is not None
        return _render_programme(
            found,
            sent_error={
                "report_id": report.id,
                "message": errors["sent_on"],
                "value": (form.sent_on.raw_data or [""])[0],
            },
        )
    flash(_("The report is marked as sent."), "success")
    return redirect(url_for("funding.programme", programme_id=programme_id) + "#reports-title")


@bp.route("/programmes/<int:programme_id>/reports/<int:report_id>/unsent", methods=["POST"])
@requires(Permission.MANAGE_FUNDING)
def report_unsent(programme_id: int, report_id: int):  # type: ignore[no-untyped-def]
    report = _report_or_404(programme_id, report_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.mark_report_unsent(get_session(), current_user, report)
    except services.FundingError as exc:
        flash_errors(exc.errors)
    else:
        flash(_("The report is marked as not sent: it is owed again."), "success")
    return redirect(url_for("funding.programme", programme_id=programme_id) + "#reports-title")


# -- grants ---------------------------------------------------------------------------------


def _grant_form() -> GrantForm:
    db = get_session()
    funders = db.execute(select(Funder.id, Funder.name).order_by(Funder.name, Funder.id))
    programmes = db.execute(
        select(Programme.id, Programme.name).order_by(Programme.name, Programme.id)
    )
    return GrantForm(
        funders=list(funders), programmes=list(programmes), currencies=currency_choices()
    )


def _grant_data(form: GrantForm) -> services.GrantData:
    return services.GrantData(
        funder_id=_chosen_id(form.funder_id.data),
        programme_id=_chosen_id(form.programme_id.data),
        amount=form.amount.data,
        currency=form.currency.data,
        starts_on=form.starts_on.data,
        ends_on=form.ends_on.data,
        frequency=_enum(Frequency, form.frequency.data),
        reference=form.reference.data,
    )


def _back_from_grant(grant: Grant | None) -> str:
    """Where the form's "Cancel" leads: the page it was opened from."""
    if grant is not None:
        return url_for("funding.programme", programme_id=grant.programme_id)
    programme_id = row_id(request.args.get("programme"))
    funder_id = row_id(request.args.get("funder"))
    if programme_id and get_session().get(Programme, programme_id):
        return url_for("funding.programme", programme_id=programme_id)
    if funder_id and get_session().get(Funder, funder_id):
        return url_for("funding.funder", funder_id=funder_id)
    return url_for("funding.index")


@bp.route("/grants/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_FUNDING)
def new_grant():  # type: ignore[no-untyped-def]
    form = _grant_form()
    if request.method == "GET":
        # Opened from a funder's or a programme's page: that one is chosen already.
        form.funder_id.data = str(row_id(request.args.get("funder")) or "")
        form.programme_id.data = str(row_id(request.args.get("programme")) or "")
    if posted(form):
        unreadable = _unreadable_dates(form)
        try:
            grant = services.create_grant(get_session(), current_user, _grant_data(form))
        except services.FundingError as exc:
            show_errors(form, {**exc.errors, **unreadable})
        else:
            flash(_("The grant is added; its reports are due as listed."), "success")
            return redirect(url_for("funding.programme", programme_id=grant.programme_id))
    return render_template(
        "funding/grant_form.html", form=form, grant=None, back=_back_from_grant(None)
    )


@bp.route("/grants/<int:grant_id>/edit", methods=["GET", "POST"])
@requires(Permission.MANAGE_FUNDING)
def edit_grant(grant_id: int):  # type: ignore[no-untyped-def]
    grant = _or_404(Grant, grant_id)
    form = _grant_form()
    if request.method == "GET":
        form.funder_id.data = str(grant.funder_id)
        form.programme_id.data = str(grant.programme_id)
        form.reference.data = grant.reference or ""
        form.amount.data = plain(grant.amount)
        form.currency.data = grant.currency
        form.starts_on.data = grant.starts_on
        form.ends_on.data = grant.ends_on
        form.frequency.data = grant.frequency.value
    if posted(form):
        unreadable = _unreadable_dates(form)
        try:
            services.update_grant(get_session(), current_user, grant, _grant_data(form))
        except services.FundingError as exc:
            show_errors(form, {**exc.errors, **unreadable})
        else:
            flash(_("The grant is saved; its reports not sent yet follow its dates."), "success")
            return redirect(url_for("funding.programme", programme_id=grant.programme_id))
    return render_template(
        "funding/grant_form.html", form=form, grant=grant, back=_back_from_grant(grant)
    )
