"""Pages of the member registry: directory, member records, contacts, import and export."""

from __future__ import annotations

import io
from functools import cache

import pycountry
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
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from secretariat import uploads
from secretariat.accounts import services as account_services
from secretariat.accounts.forms import ROLE_LABELS as USER_ROLE_LABELS
from secretariat.accounts.models import Role, User
from secretariat.agreements import queries as agreement_queries
from secretariat.agreements.forms import template_labels as agreement_labels
from secretariat.clock import network_today
from secretariat.db import get_session, utcnow
from secretariat.events import queries as event_queries
from secretariat.events.forms import template_labels as event_labels
from secretariat.exchanges import queries as exchange_queries
from secretariat.followups import queries as followup_queries
from secretariat.followups.forms import template_labels as followup_labels
from secretariat.forms import options, show_errors
from secretariat.groups import queries as group_queries
from secretariat.groups.forms import template_labels as group_labels
from secretariat.mail import MailError
from secretariat.members import queries, services, transfer
from secretariat.members.forms import (
    STATUS_LABELS,
    ContactForm,
    EndContactForm,
    ImportConfirmForm,
    ImportForm,
    MemberForm,
    NewMemberForm,
    StatusForm,
    country_choices,
    currency_choices,
    template_labels,
)
from secretariat.members.models import Contact, ContactRole, Member, MemberKind, MemberStatus
from secretariat.permissions import Permission, ensure_member_scope, has_permission, requires
from secretariat.tabular import FORMATS, TableError, read_table, write_table
from secretariat.vocabularies.models import Vocabulary
from secretariat.vocabularies.services import terms

bp = Blueprint("members", __name__, url_prefix="/members")

IMPORT_KINDS = ("members", "contacts")


@cache
def language_choices() -> tuple[tuple[str, str], ...]:
    return tuple(
        sorted(
            ((lang.alpha_2, lang.name) for lang in pycountry.languages if hasattr(lang, "alpha_2")),
            key=lambda c: c[1],
        )
    )


def _member_or_404(slug: str) -> Member:
    member = get_session().scalar(select(Member).where(Member.slug == slug))
    if member is None:
        abort(404)
    ensure_member_scope(current_user, member.id)
    return member


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


def _filters() -> queries.MemberFilters:
    args = request.args
    status = args.get("status", "")
    kind = args.get("kind", "")
    country = args.get("country", "").upper()
    return queries.MemberFilters(
        q=args.get("q", "").strip()[:100],
        region_id=_int_arg("region"),
        country=country if services.is_country(country) else None,
        status=MemberStatus(status) if status in MemberStatus._value2member_map_ else None,
        kind=MemberKind(kind) if kind in MemberKind._value2member_map_ else None,
        tier_id=_int_arg("tier"),
        sort=args.get("sort", "name") if args.get("sort") in queries.SORTS else "name",
        descending=args.get("dir") == "desc",
    )


@bp.route("/")
@requires(Permission.VIEW_MEMBER_DIRECTORY)
def index():  # type: ignore[no-untyped-def]
    db = get_session()
    filters = _filters()
    full = has_permission(current_user, Permission.MANAGE_MEMBERS)
    if not full:
        # The directory shows public fields only: no filtering or sorting by the others.
        filters.tier_id = None
        if filters.sort not in queries.PUBLIC_SORTS:
            filters.sort, filters.descending = "name", False
    page = queries.member_page(
        db, filters, _int_arg("page") or 1, current_app.config["MEMBERS_PER_PAGE"]
    )
    return render_template(
        "members/index.html",
        page=page,
        filters=filters,
        regions=terms(db, Vocabulary.REGION),
        tiers=terms(db, Vocabulary.TIER),
        countries=queries.filter_countries(db),
        full=full,
        **template_labels(),
    )


def _member_form(form_class: type[MemberForm], **kwargs) -> MemberForm:  # type: ignore[no-untyped-def]
    db = get_session()
    return form_class(
        countries=country_choices(),
        regions=[(str(t.id), t.label) for t in terms(db, Vocabulary.REGION, active_only=True)],
        tiers=[(str(t.id), t.label) for t in terms(db, Vocabulary.TIER, active_only=True)],
        currencies=currency_choices(),
        **kwargs,
    )


def _keep_retired_choice(field, term) -> None:  # type: ignore[no-untyped-def]
    """A retired region or tier still shows on the members that have it."""
    if term is not None and all(choice.value != str(term.id) for choice in field.choices):
        field.choices.extend(options([(term.id, term.label)]))


def _member_data(form: MemberForm) -> services.MemberData:
    slug = (form.slug.data or "").strip() or services.slugify(form.name.data or "")
    return services.MemberData(
        name=form.name.data or "",
        slug=slug,
        kind=MemberKind(form.kind.data),
        country=form.country.data or "",
        region_id=int(form.region_id.data) if form.region_id.data else None,
        population=form.population.data,
        joined_on=form.joined_on.data,
        tier_id=int(form.tier_id.data) if form.tier_id.data else None,
        annual_fee=form.annual_fee.data,
        fee_currency=form.fee_currency.data or None,
        next_election_on=form.next_election_on.data,
        leader_term_ends_on=form.leader_term_ends_on.data,
        website=form.website.data or None,
        notes=form.notes.data or None,
    )


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_MEMBERS)
def new():  # type: ignore[no-untyped-def]
    form = _member_form(NewMemberForm)
    if form.validate_on_submit():
        try:
            member = services.create_member(
                get_session(),
                current_user,
                _member_data(form),
                status=MemberStatus(form.status.data),
            )
        except services.ValidationFailed as exc:
            show_errors(form, exc.errors)
        else:
            flash(_("%(name)s is added.", name=member.name), "success")
            return redirect(url_for("members.detail", slug=member.slug))
    return render_template("members/form.html", form=form, member=None)


@bp.route("/<slug>")
@requires(Permission.VIEW_MEMBER)
def detail(slug: str):  # type: ignore[no-untyped-def]
    member = queries.member_detail(get_session(), slug)
    if member is None:
        abort(404)
    ensure_member_scope(current_user, member.id)
    today = utcnow().date()
    current, past = queries.split_contacts(member, today)
    users_by_contact = {}
    if has_permission(current_user, Permission.MANAGE_USERS):
        users_by_contact = {
            u.contact_id: u
            for u in get_session().scalars(select(User).where(User.member_id == member.id))
        }
    given, received = exchange_queries.exchanges_for_member(get_session(), member.id)
    network_day = network_today()
    agreements = agreement_queries.agreements_of(get_session(), current_user, member_id=member.id)
    pending, closed = followup_queries.follow_ups_for(
        get_session(), current_user, member_id=member.id
    )
    return render_template(
        "members/detail.html",
        agreements=agreements,
        pending_follow_ups=pending,
        closed_follow_ups=closed,
        network_day=network_day,
        member=member,
        memberships=group_queries.member_groups(get_session(), member.id),
        member_events=event_queries.member_events(get_session(), member.id),
        exchanges_given=given,
        exchanges_received=received,
        current_contacts=current,
        past_contacts=past,
        users_by_contact=users_by_contact,
        has_primary=any(c.is_primary for c in current),
        status_form=StatusForm(),
        today=today,
        now=utcnow(),
        **template_labels(),
        **group_labels(),
        **event_labels(),
        **agreement_labels(),
        **followup_labels(),
    )


@bp.route("/<slug>/edit", methods=["GET", "POST"])
@requires(Permission.MANAGE_MEMBERS)
def edit(slug: str):  # type: ignore[no-untyped-def]
    member = _member_or_404(slug)
    form = _member_form(MemberForm, obj=member)
    _keep_retired_choice(form.region_id, member.region)
    _keep_retired_choice(form.tier_id, member.tier)
    if request.method == "GET":
        form.kind.data = member.kind.value
        form.region_id.data = str(member.region_id or "")
        form.tier_id.data = str(member.tier_id or "")
        form.fee_currency.data = member.fee_currency or ""
    if form.validate_on_submit():
        try:
            services.update_member(get_session(), current_user, member, _member_data(form))
        except services.ValidationFailed as exc:
            show_errors(form, exc.errors)
        else:
            flash(_("%(name)s is saved.", name=member.name), "success")
            return redirect(url_for("members.detail", slug=member.slug))
    return render_template("members/form.html", form=form, member=member)


@bp.route("/<slug>/status", methods=["GET", "POST"])
@requires(Permission.MANAGE_MEMBERS)
def change_status(slug: str):  # type: ignore[no-untyped-def]
    member = _member_or_404(slug)
    form = StatusForm()
    if request.method == "GET":
        form.status.data = member.status.value
    if form.validate_on_submit():
        try:
            services.change_status(
                get_session(),
                current_user,
                member,
                MemberStatus(form.status.data),
                form.reason.data,
            )
        except services.ValidationFailed as exc:
            show_errors(form, exc.errors)
        else:
            flash(
                _(
                    "%(name)s is now %(status)s.",
                    name=member.name,
                    status=STATUS_LABELS[member.status],
                ),
                "success",
            )
            return redirect(url_for("members.detail", slug=member.slug))
    return render_template("members/status.html", form=form, member=member, **template_labels())


# -- contacts -------------------------------------------------------------------------------


def _contact_or_404(member: Member, contact_id: int) -> Contact:
    contact = get_session().get(Contact, contact_id)
    if contact is None or contact.member_id != member.id:
        abort(404)
    return contact


def _contact_data(form: ContactForm) -> services.ContactData:
    return services.ContactData(
        name=form.name.data or "",
        role=ContactRole(form.role.data),
        email=form.email.data or None,
        phone=form.phone.data or None,
        job_title=form.job_title.data or None,
        is_primary=bool(form.is_primary.data),
        receives_reminders=bool(form.receives_reminders.data),
        active_from=form.active_from.data,
        active_to=form.active_to.data,
        language=form.language.data or None,
    )


@bp.route("/<slug>/contacts/new", methods=["GET", "POST"])
@requires(Permission.EDIT_CONTACTS)
def new_contact(slug: str):  # type: ignore[no-untyped-def]
    member = _member_or_404(slug)
    form = ContactForm(languages=language_choices())
    if request.method == "GET":
        form.active_from.data = utcnow().date()
        form.role.data = request.args.get("role", "focal_point")
    if form.validate_on_submit():
        try:
            contact = services.add_contact(get_session(), current_user, member, _contact_data(form))
        except services.ValidationFailed as exc:
            show_errors(form, exc.errors)
        else:
            flash(_("%(name)s is added.", name=contact.name), "success")
            return redirect(url_for("members.detail", slug=member.slug))
    return render_template("members/contact_form.html", form=form, member=member, contact=None)


@bp.route("/<slug>/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
@requires(Permission.EDIT_CONTACTS)
def edit_contact(slug: str, contact_id: int):  # type: ignore[no-untyped-def]
    member = _member_or_404(slug)
    contact = _contact_or_404(member, contact_id)
    form = ContactForm(obj=contact, languages=language_choices())
    if request.method == "GET":
        form.role.data = contact.role.value
        form.language.data = contact.language or ""
    if form.validate_on_submit():
        try:
            services.update_contact(get_session(), current_user, contact, _contact_data(form))
        except services.ValidationFailed as exc:
            show_errors(form, exc.errors)
        else:
            flash(_("%(name)s is saved.", name=contact.name), "success")
            return redirect(url_for("members.detail", slug=member.slug))
    return render_template("members/contact_form.html", form=form, member=member, contact=contact)


@bp.route("/<slug>/contacts/<int:contact_id>/end", methods=["GET", "POST"])
@requires(Permission.EDIT_CONTACTS)
def end_contact(slug: str, contact_id: int):  # type: ignore[no-untyped-def]
    member = _member_or_404(slug)
    contact = _contact_or_404(member, contact_id)
    form = EndContactForm()
    if request.method == "GET":
        form.active_to.data = utcnow().date()
    if form.validate_on_submit():
        try:
            services.end_contact(get_session(), current_user, contact, form.active_to.data)
        except services.ValidationFailed as exc:
            show_errors(form, exc.errors)
        else:
            flash(
                _(
                    "%(name)s is recorded as having left; the record stays in the history.",
                    name=contact.name,
                ),
                "success",
            )
            return redirect(url_for("members.detail", slug=member.slug))
    return render_template("members/contact_end.html", form=form, member=member, contact=contact)


@bp.route("/<slug>/contacts/<int:contact_id>/invite", methods=["POST"])
@requires(Permission.MANAGE_USERS)
def invite_contact(slug: str, contact_id: int):  # type: ignore[no-untyped-def]
    member = _member_or_404(slug)
    contact = _contact_or_404(member, contact_id)
    if not contact.email:
        flash(_("Add an e-mail address to %(name)s first.", name=contact.name), "error")
        return redirect(url_for("members.detail", slug=member.slug))
    data = account_services.UserData(
        email=contact.email,
        name=contact.name,
        role=Role.FOCAL_POINT,
        member=member,
        contact=contact,
    )
    try:
        account_services.invite_user(get_session(), data, current_user._get_current_object())
    except account_services.AccountError as exc:
        flash(exc.message, "error")
    except MailError:
        flash(_("The e-mail could not be sent. Please try again in a few minutes."), "error")
        abort(503)
    else:
        flash(
            _(
                "%(name)s is invited as %(role)s.",
                name=contact.name,
                role=USER_ROLE_LABELS[Role.FOCAL_POINT],
            ),
            "success",
        )
    return redirect(url_for("members.detail", slug=member.slug))


# -- import and export ----------------------------------------------------------------------


@bp.route("/import/<what>", methods=["GET", "POST"])
@requires(Permission.MANAGE_MEMBERS)
def import_upload(what: str):  # type: ignore[no-untyped-def]
    if what not in IMPORT_KINDS:
        abort(404)
    form = ImportForm()
    plan = None
    token = None
    error = None
    if form.validate_on_submit():
        upload = form.file.data
        filename = upload.filename or "upload.csv"
        data = upload.read()
        try:
            table = read_table(data, filename)
            plan = transfer.plan_import(get_session(), what, table)
        except TableError as exc:
            error = exc.message
        else:
            if plan.ok and plan.has_changes:
                token = uploads.store_pending(what, filename, data)
    columns = transfer.MEMBER_COLUMNS if what == "members" else transfer.CONTACT_COLUMNS
    return render_template(
        "members/import.html",
        form=form,
        what=what,
        plan=plan,
        token=token,
        error=error,
        columns=columns,
        confirm_form=ImportConfirmForm(),
    )


@bp.route("/import/<what>/<token>", methods=["POST"])
@requires(Permission.MANAGE_MEMBERS)
def import_confirm(what: str, token: str):  # type: ignore[no-untyped-def]
    if what not in IMPORT_KINDS:
        abort(404)
    if not ImportConfirmForm().validate_on_submit():
        abort(400)
    stored = uploads.load_pending(what, token)
    if stored is None:
        flash(_("This import has expired. Upload the file again."), "error")
        return redirect(url_for("members.import_upload", what=what))
    data, filename = stored
    db = get_session()
    try:
        plan = transfer.plan_import(db, what, read_table(data, filename))
        transfer.apply_plan(db, current_user, plan)
    except (TableError, transfer.ImportRefused):
        # The data changed since the preview; show the new preview instead of writing.
        flash(_("The records changed since the preview. Upload the file again."), "error")
        return redirect(url_for("members.import_upload", what=what))
    uploads.discard_pending(token)
    flash(
        _(
            "Import done: %(created)d added, %(updated)d changed, %(unchanged)d unchanged.",
            created=len(plan.creates),
            updated=len(plan.updates),
            unchanged=plan.unchanged,
        ),
        "success",
    )
    return redirect(url_for("members.index"))


@bp.route("/export/<what>.<fmt>")
@requires(Permission.MANAGE_MEMBERS)
def export(what: str, fmt: str):  # type: ignore[no-untyped-def]
    if what not in IMPORT_KINDS or fmt not in FORMATS:
        abort(404)
    db = get_session()
    if what == "members":
        headers = transfer.MEMBER_COLUMNS
        rows = transfer.member_rows(db, queries.filtered_members(db, _filters()))
    else:
        headers = transfer.CONTACT_COLUMNS
        rows = transfer.contact_rows(db)
    buffer = io.BytesIO()
    write_table(buffer, fmt, headers, rows)
    buffer.seek(0)
    mimetype = (
        "text/csv"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return send_file(
        buffer,
        mimetype=mimetype,
        as_attachment=True,
        download_name=f"{what}-{utcnow().date().isoformat()}.{fmt}",
    )
