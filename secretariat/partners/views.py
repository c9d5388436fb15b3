"""Pages of the partner organisations: list, partner page, editing, archiving and contacts."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from secretariat.accounts.forms import ConfirmForm
from secretariat.agreements import queries as agreement_queries
from secretariat.agreements.forms import template_labels as agreement_labels
from secretariat.clock import network_today
from secretariat.db import get_session
from secretariat.forms import flash_errors, show_errors
from secretariat.members.forms import country_choices
from secretariat.partners import queries, services
from secretariat.partners.forms import PartnerContactForm, PartnerForm, template_labels
from secretariat.partners.models import Partner, PartnerContact, PartnerKind
from secretariat.permissions import Permission, requires

bp = Blueprint("partners", __name__, url_prefix="/partners")

#: The ``show`` argument of the list: which partners it shows (current ones by default).
SHOW_ARCHIVED = {"": False, "archived": True, "all": None}


def _partner_or_404(partner_id: int) -> Partner:
    partner = get_session().get(Partner, partner_id)
    if partner is None:
        abort(404)
    return partner


def _contact_or_404(partner: Partner, contact_id: int) -> PartnerContact:
    contact = get_session().get(PartnerContact, contact_id)
    if contact is None or contact.partner_id != partner.id:
        abort(404)
    return contact


def _page_arg() -> int:
    value = request.args.get("page", "")
    return int(value) if value.isdigit() else 1


@bp.route("/")
@requires(Permission.MANAGE_PARTNERS)
def index():  # type: ignore[no-untyped-def]
    args = request.args
    kind = args.get("kind", "")
    show = args.get("show", "")
    filters = {
        "q": args.get("q", "").strip()[:100],
        "kind": PartnerKind(kind) if kind in PartnerKind._value2member_map_ else None,
        "show": show if show in SHOW_ARCHIVED else "",
    }
    page = queries.partner_rows(
        get_session(),
        kind=filters["kind"],
        search=filters["q"],
        archived=SHOW_ARCHIVED[filters["show"]],
        page=_page_arg(),
        per_page=current_app.config["MEMBERS_PER_PAGE"],
    )
    return render_template("partners/index.html", page=page, filters=filters, **template_labels())


def _partner_form(**kwargs) -> PartnerForm:  # type: ignore[no-untyped-def]
    return PartnerForm(countries=country_choices(), **kwargs)


def _partner_data(form: PartnerForm) -> services.PartnerData:
    kind = form.kind.data or ""
    return services.PartnerData(
        name=form.name.data or "",
        kind=PartnerKind(kind) if kind in PartnerKind._value2member_map_ else None,
        country=form.country.data or None,
        website=form.website.data or None,
        notes=form.notes.data or None,
    )


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_PARTNERS)
def new():  # type: ignore[no-untyped-def]
    form = _partner_form()
    if form.validate_on_submit():
        try:
            partner = services.create_partner(get_session(), current_user, _partner_data(form))
        except services.ValidationFailed as exc:
            show_errors(form, exc.errors)
        else:
            flash(_("%(name)s is added.", name=partner.name), "success")
            return redirect(url_for("partners.detail", partner_id=partner.id))
    return render_template("partners/form.html", form=form, partner=None)


@bp.route("/<int:partner_id>")
@requires(Permission.MANAGE_PARTNERS)
def detail(partner_id: int):  # type: ignore[no-untyped-def]
    partner = queries.partner_detail(get_session(), partner_id)
    if partner is None:
        abort(404)
    return render_template(
        "partners/detail.html",
        partner=partner,
        agreements=agreement_queries.agreements_of(
            get_session(), current_user, partner_id=partner.id
        ),
        today=network_today(),
        **template_labels(),
        **agreement_labels(),
    )


@bp.route("/<int:partner_id>/edit", methods=["GET", "POST"])
@requires(Permission.MANAGE_PARTNERS)
def edit(partner_id: int):  # type: ignore[no-untyped-def]
    partner = _partner_or_404(partner_id)
    form = _partner_form(obj=partner)
    if request.method == "GET":
        form.kind.data = partner.kind.value
        form.country.data = partner.country or ""
    if form.validate_on_submit():
        try:
            services.update_partner(get_session(), current_user, partner, _partner_data(form))
        except services.ValidationFailed as exc:
            show_errors(form, exc.errors)
        else:
            flash(_("%(name)s is saved.", name=partner.name), "success")
            return redirect(url_for("partners.detail", partner_id=partner.id))
    return render_template("partners/form.html", form=form, partner=partner)


@bp.route("/<int:partner_id>/archive", methods=["POST"])
@requires(Permission.MANAGE_PARTNERS)
def archive(partner_id: int):  # type: ignore[no-untyped-def]
    partner = _partner_or_404(partner_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.archive_partner(get_session(), current_user, partner)
    except services.ValidationFailed as exc:
        flash_errors(exc.errors)
    else:
        flash(
            _(
                "%(name)s is archived: it is left out of lists and choices; "
                "its agreements still name it.",
                name=partner.name,
            ),
            "success",
        )
    return redirect(url_for("partners.detail", partner_id=partner.id))


@bp.route("/<int:partner_id>/restore", methods=["POST"])
@requires(Permission.MANAGE_PARTNERS)
def restore(partner_id: int):  # type: ignore[no-untyped-def]
    partner = _partner_or_404(partner_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.restore_partner(get_session(), current_user, partner)
    except services.ValidationFailed as exc:
        flash_errors(exc.errors)
    else:
        flash(_("%(name)s is restored.", name=partner.name), "success")
    return redirect(url_for("partners.detail", partner_id=partner.id))


# -- contacts -------------------------------------------------------------------------------


def _contact_data(form: PartnerContactForm) -> services.PartnerContactData:
    return services.PartnerContactData(
        name=form.name.data or "",
        email=form.email.data or None,
        role=form.role.data or None,
    )


@bp.route("/<int:partner_id>/contacts/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_PARTNERS)
def new_contact(partner_id: int):  # type: ignore[no-untyped-def]
    partner = _partner_or_404(partner_id)
    form = PartnerContactForm()
    if form.validate_on_submit():
        try:
            contact = services.add_contact(
                get_session(), current_user, partner, _contact_data(form)
            )
        except services.ValidationFailed as exc:
            show_errors(form, exc.errors)
        else:
            flash(
                _("%(name)s is added to %(partner)s.", name=contact.name, partner=partner.name),
                "success",
            )
            return redirect(url_for("partners.detail", partner_id=partner.id))
    return render_template("partners/contact_form.html", form=form, partner=partner, contact=None)


@bp.route("/<int:partner_id>/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
@requires(Permission.MANAGE_PARTNERS)
def edit_contact(partner_id: int, contact_id: int):  # type: ignore[no-untyped-def]
    partner = _partner_or_404(partner_id)
    contact = _contact_or_404(partner, contact_id)
    form = PartnerContactForm(obj=contact)
    if form.validate_on_submit():
        try:
            services.update_contact(get_session(), current_user, contact, _contact_data(form))
        except services.ValidationFailed as exc:
            show_errors(form, exc.errors)
        else:
            flash(_("%(name)s is saved.", name=contact.name), "success")
            return redirect(url_for("partners.detail", partner_id=partner.id))
    return render_template(
        "partners/contact_form.html", form=form, partner=partner, contact=contact
    )


@bp.route("/<int:partner_id>/contacts/<int:contact_id>/remove", methods=["POST"])
@requires(Permission.MANAGE_PARTNERS)
def remove_contact(partner_id: int, contact_id: int):  # type: ignore[no-untyped-def]
    partner = _partner_or_404(partner_id)
    contact = _contact_or_404(partner, contact_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    name = contact.name
    services.remove_contact(get_session(), current_user, contact)
    flash(_("%(name)s is removed from %(partner)s.", name=name, partner=partner.name), "success")
    return redirect(url_for("partners.detail", partner_id=partner.id))
