"""Pages of the events: list, event page, invitations, answers, attendance and calendars."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
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

from secretariat import uploads
from secretariat.clock import network_today
from secretariat.db import get_session, utcnow
from secretariat.events import attendance_import, calendar, queries, services
from secretariat.events.forms import (
    AttendanceFileForm,
    EventForm,
    ImportConfirmForm,
    InviteForm,
    PostForm,
    ResolveForm,
    UninvitedAttendanceForm,
    template_labels,
)
from secretariat.events.models import (
    Audience,
    Event,
    EventType,
    Invitation,
    UnmatchedAttendee,
)
from secretariat.events.models import Response as Answer
from secretariat.events.notify import notify_invited
from secretariat.followups import queries as followup_queries
from secretariat.followups.forms import template_labels as followup_labels
from secretariat.forms import flash_errors, show_errors
from secretariat.groups.models import GroupStatus, WorkingGroup
from secretariat.mail import MailError
from secretariat.members.forms import country_choices
from secretariat.members.forms import template_labels as member_labels
from secretariat.members.models import Contact, Member, MemberStatus
from secretariat.permissions import OutOfScope, Permission, is_staff, public, requires

bp = Blueprint("events", __name__, url_prefix="/events")

EVENTS_PER_PAGE = 25


def _event_or_404(event_id: int) -> Event:
    return services.visible_event(get_session(), current_user, event_id)


def _labels() -> dict:
    return {**template_labels(), **member_labels()}


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


@bp.route("/")
@requires(Permission.VIEW_EVENTS)
def index():  # type: ignore[no-untyped-def]
    db = get_session()
    args = request.args
    kind = args.get("type", "")
    year = _int_arg("year")
    filters = queries.EventFilters(
        when=args.get("when") if args.get("when") in ("upcoming", "past", "all") else "upcoming",
        event_type=EventType(kind) if kind in EventType._value2member_map_ else None,
        group_id=_int_arg("group"),
        year=year if year and 1900 < year < 3000 else None,
    )
    page = queries.event_page(db, current_user, filters, _int_arg("page") or 1, EVENTS_PER_PAGE)
    groups = db.scalars(select(WorkingGroup).order_by(WorkingGroup.name)).all()
    return render_template(
        "events/index.html",
        page=page,
        filters=filters,
        groups=groups,
        years=queries.event_years(db),
        **_labels(),
    )


# -- creating and editing -------------------------------------------------------------------


def _event_form(event: Event | None = None, **kwargs) -> EventForm:  # type: ignore[no-untyped-def]
    db = get_session()
    members = db.execute(
        select(Member.id, Member.name)
        .where(Member.status.not_in((MemberStatus.EXITED, MemberStatus.LAPSED)))
        .order_by(Member.search_name)
    ).all()
    groups = db.execute(
        select(WorkingGroup.id, WorkingGroup.name)
        .where(WorkingGroup.status == GroupStatus.ACTIVE)
        .order_by(WorkingGroup.name)
    ).all()
    member_options = [(m.id, m.name) for m in members]
    group_options = [(g.id, g.name) for g in groups]
    if event is not None:
        if event.host_member and event.host_member_id not in {m for m, _n in member_options}:
            member_options.append((event.host_member.id, event.host_member.name))
        if event.group and event.group_id not in {g for g, _n in group_options}:
            group_options.append((event.group.id, event.group.name))
    zones = sorted(services.timezone_names())
    return EventForm(
        zones=[(z, z.replace("_", " ")) for z in zones],
        network_zone=current_app.config["TIMEZONE"],
        countries=country_choices(),
        members=member_options,
        groups=group_options,
        **kwargs,
    )


def _event_data(form: EventForm) -> services.EventData:
    return services.EventData(
        title=form.title.data or "",
        event_type=EventType(form.event_type.data),
        starts_local=form.starts_local.data,
        ends_local=form.ends_local.data,
        timezone=form.timezone.data or None,
        is_online=bool(form.is_online.data),
        meeting_url=form.meeting_url.data or None,
        venue=form.venue.data or None,
        city=form.city.data or None,
        country=form.country.data or None,
        host_member_id=int(form.host_member_id.data) if form.host_member_id.data else None,
        group_id=int(form.group_id.data) if form.group_id.data else None,
        description=form.description.data or None,
    )


def _date_time_errors(form: EventForm) -> None:
    """Explain a half-typed date better than WTForms' "Not a valid datetime value"."""
    for name in ("starts_local", "ends_local"):
        field = getattr(form, name)
        if field.raw_data and field.raw_data[0] and field.data is None:
            field.errors = [_("Enter a date and a time, e.g. 2027-03-15 14:00.")]


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_EVENTS)
def new():  # type: ignore[no-untyped-def]
    form = _event_form()
    if request.method == "GET":
        group_id = _int_arg("group")
        if group_id:
            form.group_id.data = str(group_id)
        form.event_type.data = EventType.WORKSHOP.value
    submitted = form.validate_on_submit()
    _date_time_errors(form)
    if submitted and not form.errors:
        try:
            event = services.create_event(get_session(), current_user, _event_data(form))
        except services.ValidationFailed as exc:
            show_errors(form, exc.errors)
        else:
            flash(_("The event is created. Invite members next."), "success")
            return redirect(url_for("events.invite", event_id=event.id))
    return render_template("events/form.html", form=form, event=None)


@bp.route("/<int:event_id>/edit", methods=["GET", "POST"])
@requires(Permission.MANAGE_EVENTS)
def edit(event_id: int):  # type: ignore[no-untyped-def]
    event = _event_or_404(event_id)
    form = _event_form(event, obj=event)
    if request.method == "GET":
        zone = services.event_zone(event)
        form.starts_local.data = event.starts_at.astimezone(zone).replace(tzinfo=None)
        form.ends_local.data = event.ends_at.astimezone(zone).replace(tzinfo=None)
        form.event_type.data = event.event_type.value
        form.timezone.data = event.timezone or ""
        form.country.data = event.country or ""
        form.host_member_id.data = str(event.host_member_id or "")
        form.group_id.data = str(event.group_id or "")
    submitted = form.validate_on_submit()
    _date_time_errors(form)
    if submitted and not form.errors:
        try:
            services.update_event(get_session(), current_user, event, _event_data(form))
        except services.ValidationFailed as exc:
            show_errors(form, exc.errors)
        else:
            flash(_("The event is saved."), "success")
            return redirect(url_for("events.detail", event_id=event.id))
    return render_template("events/form.html", form=form, event=event)


@bp.route("/<int:event_id>/cancel", methods=["POST"])
@requires(Permission.MANAGE_EVENTS)
def cancel(event_id: int):  # type: ignore[no-untyped-def]
    return _toggle(event_id, services.cancel_event, _("The event is cancelled."))


@bp.route("/<int:event_id>/reinstate", methods=["POST"])
@requires(Permission.MANAGE_EVENTS)
def reinstate(event_id: int):  # type: ignore[no-untyped-def]
    return _toggle(event_id, services.reinstate_event, _("The event is back on."))


def _toggle(event_id: int, operation, done: str):  # type: ignore[no-untyped-def]
    event = _event_or_404(event_id)
    try:
        operation(get_session(), current_user, event)
    except services.ValidationFailed as exc:
        flash_errors(exc.errors)
    else:
        flash(done, "success")
    return redirect(url_for("events.detail", event_id=event.id))


# -- the event page -------------------------------------------------------------------------


@bp.route("/<int:event_id>")
@requires(Permission.VIEW_EVENTS)
def detail(event_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    event = _event_or_404(event_id)
    staff = is_staff(current_user)
    overview = queries.event_overview(db, event, None if staff else current_user.member_id)
    zone = services.event_zone(event)
    network_zone = services.network_zone()
    pending, closed = followup_queries.follow_ups_for(db, current_user, event_id=event.id)
    return render_template(
        "events/detail.html",
        pending_follow_ups=pending,
        closed_follow_ups=closed,
        today=network_today(),
        **followup_labels(),
        event=event,
        overview=overview,
        staff=staff,
        started=event.starts_at <= utcnow(),
        ended=event.ends_at <= utcnow(),
        zone=zone,
        network_zone=network_zone,
        own_zone=zone.key != network_zone.key,
        **_labels(),
    )


@bp.route("/<int:event_id>.ics")
@requires(Permission.VIEW_EVENTS)
def download(event_id: int):  # type: ignore[no-untyped-def]
    event = _event_or_404(event_id)
    body = calendar.build_calendar([event], event.title, include_links=True)
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="event-{event.id}.ics"'},
    )


# -- invitations and answers ----------------------------------------------------------------


@bp.route("/<int:event_id>/invite", methods=["GET", "POST"])
@requires(Permission.MANAGE_EVENTS)
def invite(event_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    event = _event_or_404(event_id)
    groups = db.scalars(
        select(WorkingGroup)
        .where(WorkingGroup.status == GroupStatus.ACTIVE)
        .order_by(WorkingGroup.name)
    ).all()
    form = InviteForm(groups=[(g.id, g.name) for g in groups])
    invited = set(db.scalars(select(Invitation.member_id).where(Invitation.event_id == event.id)))
    candidates = db.scalars(
        select(Member)
        .where(Member.status.not_in((MemberStatus.EXITED, MemberStatus.LAPSED)))
        .order_by(Member.search_name)
    ).all()
    if request.method == "GET":
        form.audience.data = (Audience.GROUP if event.group_id else Audience.ALL_ACTIVE).value
        form.group_id.data = str(event.group_id or "")
    if form.validate_on_submit():
        try:
            added = services.invite(
                db,
                current_user,
                event,
                Audience(form.audience.data),
                group_id=int(form.group_id.data) if form.group_id.data else None,
                member_ids=form.member_ids.data or [],
            )
        except services.ValidationFailed as exc:
            show_errors(form, exc.errors)
        else:
            message = _("%(count)d members invited.", count=len(added))
            if form.notify.data and event.ends_at > utcnow():
                try:
                    sent, without = notify_invited(db, event, added)
                except MailError:
                    flash(message, "success")
                    flash(
                        _("The invitation e-mails could not be sent; the invitations are saved."),
                        "error",
                    )
                    return redirect(url_for("events.detail", event_id=event.id))
                message += " " + _("%(sent)d e-mails sent.", sent=sent)
                if without:
                    flash(
                        _(
                            "No focal point with an e-mail address at: %(members)s.",
                            members=", ".join(without),
                        ),
                        "info",
                    )
            flash(message, "success")
            return redirect(url_for("events.detail", event_id=event.id))
    return render_template(
        "events/invite.html",
        form=form,
        event=event,
        candidates=candidates,
        invited=invited,
        chosen=set(form.member_ids.data or []),
        now=utcnow(),
        **_labels(),
    )


@bp.route("/<int:event_id>/invitations/<int:invitation_id>/withdraw", methods=["POST"])
@requires(Permission.MANAGE_EVENTS)
def withdraw(event_id: int, invitation_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    event = _event_or_404(event_id)
    invitation = db.get(Invitation, invitation_id)
    if invitation is None or invitation.event_id != event.id:
        abort(404)
    name = invitation.member.name
    try:
        services.withdraw_invitation(db, current_user, invitation)
    except services.ValidationFailed as exc:
        flash_errors(exc.errors)
    else:
        flash(_("The invitation of %(member)s is withdrawn.", member=name), "success")
    return redirect(url_for("events.detail", event_id=event.id))


@bp.route("/<int:event_id>/respond", methods=["POST"])
@requires(Permission.RESPOND_TO_EVENTS)
def respond(event_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    event = _event_or_404(event_id)
    contact_id = request.form.get("contact_id", "")
    contact = db.get(Contact, int(contact_id)) if contact_id.isdigit() else None
    if contact is None:
        abort(404)
    answer = request.form.get("response", "")
    if answer not in (*Answer._value2member_map_, "none"):
        abort(400)
    try:
        services.respond(
            db, current_user, event, contact, None if answer == "none" else Answer(answer)
        )
    except services.ValidationFailed as exc:
        flash_errors(exc.errors)
    else:
        messages = {
            "registered": _("%(name)s is registered.", name=contact.name),
            "declined": _("%(name)s has declined.", name=contact.name),
            "none": _("The answer of %(name)s is withdrawn.", name=contact.name),
        }
        flash(messages[answer], "success")
    return redirect(url_for("events.detail", event_id=event.id) + "#people")


# -- attendance -----------------------------------------------------------------------------


def _ids(name: str) -> set[int]:
    return {int(v) for v in request.form.getlist(name) if v.isdigit()}


def _uninvited_form(event: Event, **kwargs) -> UninvitedAttendanceForm:  # type: ignore[no-untyped-def]
    db = get_session()
    invited = select(Invitation.member_id).where(Invitation.event_id == event.id)
    members = db.execute(
        select(Member.id, Member.name).where(Member.id.not_in(invited)).order_by(Member.search_name)
    ).all()
    contacts = db.execute(
        select(Contact.id, Contact.name, Member.name)
        .join(Member, Contact.member_id == Member.id)
        .where(Member.id.not_in(invited))
        .order_by(Member.search_name, Contact.name)
    ).all()
    return UninvitedAttendanceForm(
        members=[(m.id, m.name) for m in members],
        contacts=[(c[0], f"{c[1]} ({c[2]})") for c in contacts],
        **kwargs,
    )


@bp.route("/<int:event_id>/attendance", methods=["GET", "POST"])
@requires(Permission.MANAGE_EVENTS)
def attendance(event_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    event = _event_or_404(event_id)
    form = PostForm()
    if form.validate_on_submit():
        try:
            change = services.record_attendance(
                db,
                current_user,
                event,
                shown_contacts=_ids("shown_contact"),
                attended_contacts=_ids("attended_contact"),
                shown_members=_ids("shown_member"),
                attended_members=_ids("attended_member"),
            )
        except services.ValidationFailed as exc:
            for message in exc.errors.values():
                flash(message, "error")
        else:
            flash(
                _(
                    "Attendance saved: %(added)d added, %(changed)d changed.",
                    added=change.added,
                    changed=change.changed,
                ),
                "success",
            )
            return redirect(url_for("events.detail", event_id=event.id))
    return render_template(
        "events/attendance.html",
        event=event,
        overview=queries.event_overview(db, event),
        form=form,
        uninvited_form=_uninvited_form(event),
        started=event.starts_at <= utcnow(),
        **_labels(),
    )


@bp.route("/<int:event_id>/attendance/uninvited", methods=["POST"])
@requires(Permission.MANAGE_EVENTS)
def add_uninvited(event_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    event = _event_or_404(event_id)
    form = _uninvited_form(event)
    if form.validate_on_submit():
        member = db.get(Member, int(form.member_id.data))
        contact = db.get(Contact, int(form.contact_id.data)) if form.contact_id.data else None
        if member is None:
            abort(404)
        try:
            services.add_uninvited_attendance(
                db, current_user, event, member, contact, form.reason.data
            )
        except services.ValidationFailed as exc:
            show_errors(form, exc.errors)
        else:
            flash(
                _("%(member)s is recorded as attending (not invited).", member=member.name),
                "success",
            )
            return redirect(url_for("events.attendance", event_id=event.id))
    return render_template(
        "events/attendance.html",
        event=event,
        overview=queries.event_overview(db, event),
        form=PostForm(),
        uninvited_form=form,
        started=event.starts_at <= utcnow(),
        **_labels(),
    ), 422


def _import_kind(event: Event) -> str:
    return f"attendance-{event.id}"


@bp.route("/<int:event_id>/attendance/import", methods=["GET", "POST"])
@requires(Permission.MANAGE_EVENTS)
def import_attendance(event_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    event = _event_or_404(event_id)
    form = AttendanceFileForm()
    plan = token = None
    if form.validate_on_submit():
        upload = form.file.data
        filename = upload.filename or "attendance.csv"
        data = upload.read()
        try:
            plan = attendance_import.plan_import(db, event, data, filename)
        except services.ValidationFailed as exc:
            show_errors(form, exc.errors)
        else:
            if plan.ok and plan.changes:
                token = uploads.store_pending(_import_kind(event), filename, data)
    return render_template(
        "events/import.html",
        event=event,
        form=form,
        plan=plan,
        token=token,
        confirm_form=ImportConfirmForm(),
        started=event.starts_at <= utcnow(),
        **_labels(),
    )


@bp.route("/<int:event_id>/attendance/import/<token>", methods=["POST"])
@requires(Permission.MANAGE_EVENTS)
def confirm_import(event_id: int, token: str):  # type: ignore[no-untyped-def]
    db = get_session()
    event = _event_or_404(event_id)
    form = ImportConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    stored = uploads.load_pending(_import_kind(event), token)
    if stored is None:
        flash(_("This import has expired. Upload the file again."), "error")
        return redirect(url_for("events.import_attendance", event_id=event.id))
    data, filename = stored
    try:
        plan = attendance_import.plan_import(db, event, data, filename)
        record = attendance_import.apply_import(db, current_user, plan, form.reason.data)
    except services.ValidationFailed as exc:
        show_errors(form, exc.errors)
        return render_template(
            "events/import.html",
            event=event,
            form=AttendanceFileForm(),
            plan=plan,
            token=token,
            confirm_form=form,
            started=event.starts_at <= utcnow(),
            **_labels(),
        ), 422
    uploads.discard_pending(token)
    if record is None:
        flash(_("Nothing to change: this attendance is already recorded."), "info")
    else:
        flash(
            _(
                "Attendance imported: %(matched)d people matched, %(unmatched)d waiting to be "
                "resolved.",
                matched=record.matched,
                unmatched=len(plan.unmatched),
            ),
            "success",
        )
    return redirect(url_for("events.detail", event_id=event.id) + "#attendance")


def _unmatched_or_404(event: Event, unmatched_id: int) -> UnmatchedAttendee:
    item = get_session().get(UnmatchedAttendee, unmatched_id)
    if item is None or item.event_id != event.id:
        abort(404)
    return item


@bp.route("/<int:event_id>/unmatched/<int:unmatched_id>", methods=["GET", "POST"])
@requires(Permission.MANAGE_EVENTS)
def resolve(event_id: int, unmatched_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    event = _event_or_404(event_id)
    item = _unmatched_or_404(event, unmatched_id)
    invited = set(db.scalars(select(Invitation.member_id).where(Invitation.event_id == event.id)))
    rows = db.execute(
        select(Contact.id, Contact.name, Contact.email, Member.id, Member.name)
        .join(Member, Contact.member_id == Member.id)
        .order_by(
            Member.id.not_in(invited) if invited else Member.id, Member.search_name, Contact.name
        )
    ).all()
    choices = [
        (
            r[0],
            f"{r[4]} – {r[1]}"
            + (f" <{r[2]}>" if r[2] else "")
            + ("" if r[3] in invited else " " + _("(not invited)")),
        )
        for r in rows
    ]
    form = ResolveForm(contacts=choices)
    if form.validate_on_submit():
        contact = db.get(Contact, int(form.contact_id.data)) if form.contact_id.data else None
        try:
            attendance_import.resolve_unmatched(
                db,
                current_user,
                item,
                contact,
                save_email=bool(form.save_email.data),
                reason=form.reason.data,
            )
        except services.ValidationFailed as exc:
            show_errors(form, exc.errors)
        else:
            assert contact is not None
            flash(
                _(
                    "%(name)s is recorded as attending for %(member)s.",
                    name=contact.name,
                    member=contact.member.name,
                ),
                "success",
            )
            return redirect(url_for("events.detail", event_id=event.id) + "#unmatched")
    return render_template("events/resolve.html", event=event, item=item, form=form, **_labels())


@bp.route("/<int:event_id>/unmatched/<int:unmatched_id>/dismiss", methods=["POST"])
@requires(Permission.MANAGE_EVENTS)
def dismiss(event_id: int, unmatched_id: int):  # type: ignore[no-untyped-def]
    return _unmatched_action(
        event_id,
        unmatched_id,
        attendance_import.dismiss_unmatched,
        _("Marked as not one of the members' people."),
    )


@bp.route("/<int:event_id>/unmatched/<int:unmatched_id>/reopen", methods=["POST"])
@requires(Permission.MANAGE_EVENTS)
def reopen(event_id: int, unmatched_id: int):  # type: ignore[no-untyped-def]
    return _unmatched_action(
        event_id, unmatched_id, attendance_import.reopen_unmatched, _("The row waits again.")
    )


def _unmatched_action(event_id: int, unmatched_id: int, operation, done: str):  # type: ignore[no-untyped-def]
    event = _event_or_404(event_id)
    item = _unmatched_or_404(event, unmatched_id)
    try:
        operation(get_session(), current_user, item)
    except services.ValidationFailed as exc:
        flash_errors(exc.errors)
    else:
        flash(done, "success")
    return redirect(url_for("events.detail", event_id=event.id) + "#unmatched")


# -- calendar feeds -------------------------------------------------------------------------


@bp.route("/calendar", methods=["GET", "POST"])
@requires(Permission.USE_CALENDAR_FEED)
def calendar_feed():  # type: ignore[no-untyped-def]
    db = get_session()
    form = PostForm()
    address = None
    if form.validate_on_submit():
        if request.form.get("action") == "revoke":
            if calendar.revoke_feed(db, current_user):
                flash(_("The calendar address is revoked; it no longer works."), "success")
            return redirect(url_for("events.calendar_feed"))
        token = calendar.create_feed(db, current_user)
        address = current_app.config["BASE_URL"] + url_for("events.feed", token=token)
    return render_template(
        "events/calendar.html",
        form=form,
        feed=calendar.feed_of(db, current_user),
        address=address,
        webcal=address.replace("https://", "webcal://").replace("http://", "webcal://")
        if address
        else None,
    )


@bp.route("/calendar/<token>.ics")
@public
def feed(token: str):  # type: ignore[no-untyped-def]
    db = get_session()
    user = calendar.user_for_token(db, token)
    if user is None:
        raise OutOfScope()
    name = _("%(network)s events", network=current_app.config["NETWORK_NAME"])
    body = calendar.build_calendar(calendar.feed_events(db, user), name, include_links=True)
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Cache-Control": "private, max-age=900", "X-Robots-Tag": "noindex"},
    )
