"""Pages of the follow-ups: my follow-ups, the list, the staff overview, one follow-up and its
status moves, and the form that adds several after an event."""

from __future__ import annotations

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
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import DateField, Form
from wtforms.fields.choices import SelectChoice

from secretariat.accounts.models import Role, User
from secretariat.agreements.models import Agreement
from secretariat.clock import network_today
from secretariat.db import get_session
from secretariat.events.models import Event
from secretariat.followups import queries, services
from secretariat.followups.forms import (
    BULK_ROWS,
    MAX_BULK_ROWS,
    CancelForm,
    CompleteForm,
    EventFollowUpsForm,
    FollowUpForm,
    parse_source,
    source_choices,
    source_value,
    template_labels,
)
from secretariat.followups.models import (
    FollowUp,
    FollowUpStatus,
    Priority,
    Recurrence,
    SourceKind,
)
from secretariat.forms import flash_errors, show_errors
from secretariat.forms import posted as _posted
from secretariat.groups.models import WorkingGroup
from secretariat.members.models import Member
from secretariat.permissions import Permission, is_staff, requires

bp = Blueprint("followups", __name__, url_prefix="/follow-ups")

#: Where a service's refusal about the source is shown on the follow-up form.
_SOURCE_FIELDS = {"event_id": "source", "agreement_id": "source", "group_id": "source"}
#: The values of the list's "show" filter besides the statuses.
_SHOW = ("pending", "overdue", "all")


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


def _follow_up_or_404(follow_up_id: int) -> FollowUp:
    return services.visible_follow_up(get_session(), current_user, follow_up_id)


def _unreadable(form: Form) -> dict[str, str]:
    """Take what the validated form could not read (a garbled date) off its fields, by field."""
    unreadable = {}
    for name, field in form._fields.items():
        if field.errors and name != "csrf_token":
            unreadable[name] = _date_message() if isinstance(field, DateField) else field.errors[0]
            field.errors = []
    return unreadable


def _date_message() -> str:
    return _("Enter a date, e.g. %(example)s.", example="2027-03-15")


# -- choices --------------------------------------------------------------------------------


def _owner_label(user: User) -> str:
    if user.role is Role.FOCAL_POINT and user.member is not None:
        return _("%(name)s (%(member)s)", name=user.name, member=user.member.name)
    return user.name


def owner_choices(current: User | None = None) -> list[SelectChoice]:
    """Active staff, then active focal points (with their member); a current owner who can no
    longer own follow-ups stays in the list of the follow-up that has them."""
    users = list(
        get_session().scalars(
            select(User)
            .options(joinedload(User.member))
            .where(User.role.in_(services.OWNER_ROLES), User.is_active.is_(True))
            .order_by(User.name, User.id)
        )
    )
    if current is not None and all(u.id != current.id for u in users):
        users.append(current)
    staff_group, focal_group = _("Secretariat staff"), _("Focal points")
    return [
        SelectChoice(
            value=str(u.id),
            label=_owner_label(u),
            optgroup=focal_group if u.role is Role.FOCAL_POINT else staff_group,
        )
        for u in sorted(users, key=lambda u: u.role is Role.FOCAL_POINT)
    ]


def member_choices() -> list[tuple[int, str]]:
    rows = get_session().execute(select(Member.id, Member.name).order_by(Member.name, Member.id))
    return [(row.id, row.name) for row in rows]


def _source_choices() -> list[SelectChoice]:
    db = get_session()
    events = db.scalars(select(Event).order_by(Event.starts_at.desc(), Event.id.desc()))
    agreements = db.execute(
        select(Agreement.id, Agreement.title).order_by(Agreement.title, Agreement.id)
    )
    groups = db.execute(
        select(WorkingGroup.id, WorkingGroup.name).order_by(WorkingGroup.name, WorkingGroup.id)
    )
    return source_choices(
        events=[
            (
                e.id,
                _(
                    "Event: %(title)s (%(date)s)",
                    title=e.title,
                    date=format_date(services.event_day(e)),
                ),
            )
            for e in events
        ],
        agreements=[(a.id, _("Agreement: %(title)s", title=a.title)) for a in agreements],
        groups=[(g.id, _("Working group: %(name)s", name=g.name)) for g in groups],
    )


def _follow_up_form(follow_up: FollowUp | None = None) -> FollowUpForm:
    return FollowUpForm(
        owners=owner_choices(follow_up.owner if follow_up else None),
        members=member_choices(),
        sources=_source_choices(),
    )


# -- reading the forms ----------------------------------------------------------------------


def _choice_id(
    value: str | None, field: str, unreadable: dict[str, str], message: str
) -> int | None:
    """The id chosen in a select; a garbled value is noted in ``unreadable``."""
    if not value:
        return None
    if value.isdigit():
        return int(value)
    unreadable[field] = message
    return None


def _enum(enum_cls, value: str | None):  # type: ignore[no-untyped-def]
    """The enum member, or the raw text for the service to refuse."""
    return enum_cls(value) if value in enum_cls._value2member_map_ else value


def _follow_up_data(form: FollowUpForm, unreadable: dict[str, str]) -> services.FollowUpData:
    data = services.FollowUpData(
        title=form.title.data or "",
        description=form.description.data or None,
        owner_id=_choice_id(
            form.owner_id.data, "owner_id", unreadable, _("Choose the owner from the list.")
        ),
        member_id=_choice_id(
            form.member_id.data, "member_id", unreadable, _("Choose a member from the list.")
        ),
        due_on=form.due_on.data,
        priority=_enum(Priority, form.priority.data),
        recurrence=_enum(Recurrence, form.recurrence.data),
        repeat_until=form.repeat_until.data,
        unreadable=unreadable,
    )
    try:
        source = parse_source(form.source.data)
    except ValueError:
        unreadable["source"] = _("Choose the source from the list.")
        source = None
    if source is not None:
        kind, source_id = source
        setattr(data, f"{kind.value}_id", source_id)
    return data


def _show_follow_up_errors(form: FollowUpForm, errors: dict[str, str]) -> None:
    show_errors(form, {_SOURCE_FIELDS.get(name, name): message for name, message in errors.items()})


# -- my follow-ups, the list and the overview -----------------------------------------------


@bp.route("/")
@requires(Permission.SIGNED_IN)
def mine():  # type: ignore[no-untyped-def]
    today = network_today()
    return render_template(
        "followups/mine.html",
        mine=queries.my_follow_ups(get_session(), current_user, today),
        today=today,
        due_soon_days=services.DUE_SOON_DAYS,
        closed_days=queries.RECENTLY_CLOSED_DAYS,
        **template_labels(),
    )


def _filters(staff: bool) -> queries.FollowUpFilters:
    args = request.args
    show = args.get("show", "pending")
    source = args.get("source", "")
    return queries.FollowUpFilters(
        owner_id=_int_arg("owner") if staff else None,
        member_id=_int_arg("member") if staff else None,
        show=show if show in _SHOW or show in FollowUpStatus._value2member_map_ else "pending",
        source=SourceKind(source) if source in SourceKind._value2member_map_ else None,
    )


@bp.route("/all")
@requires(Permission.UPDATE_FOLLOW_UPS)
def index():  # type: ignore[no-untyped-def]
    db = get_session()
    today = network_today()
    staff = is_staff(current_user)
    filters = _filters(staff)
    page = queries.follow_up_page(
        db,
        current_user,
        filters,
        today,
        _int_arg("page") or 1,
        current_app.config["MEMBERS_PER_PAGE"],
    )
    owners, members = [], []
    if staff:
        owners = list(
            db.scalars(
                select(User).where(User.role.in_(services.OWNER_ROLES)).order_by(User.name, User.id)
            )
        )
        members = member_choices()
    return render_template(
        "followups/index.html",
        page=page,
        filters=filters,
        staff=staff,
        owners=owners,
        members=members,
        today=today,
        **template_labels(),
    )


@bp.route("/overview")
@requires(Permission.MANAGE_FOLLOW_UPS)
def overview():  # type: ignore[no-untyped-def]
    today = network_today()
    rows = queries.counts_by_owner(get_session(), today)
    totals = {
        "overdue": sum(r.overdue for r in rows),
        "due_soon": sum(r.due_soon for r in rows),
        "pending": sum(r.pending for r in rows),
    }
    return render_template(
        "followups/overview.html",
        rows=rows,
        totals=totals,
        today=today,
        due_soon_days=services.DUE_SOON_DAYS,
    )


# -- creating and editing -------------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_FOLLOW_UPS)
def new():  # type: ignore[no-untyped-def]
    form = _follow_up_form()
    if request.method == "GET":
        member_id = _int_arg("member")
        if member_id:
            form.member_id.data = str(member_id)
        for kind in (SourceKind.EVENT, SourceKind.AGREEMENT, SourceKind.GROUP):
            source_id = _int_arg(kind.value)
            if source_id:
                form.source.data = source_value(kind, source_id)
        if services.eligible_owner(current_user):
            form.owner_id.data = str(current_user.id)
    if _posted(form):
        try:
            follow_up = services.create_follow_up(
                get_session(), current_user, _follow_up_data(form, _unreadable(form))
            )
        except services.ValidationFailed as exc:
            _show_follow_up_errors(form, exc.errors)
        else:
            flash(_("The follow-up “%(title)s” is created.", title=follow_up.title), "success")
            return redirect(url_for("followups.detail", follow_up_id=follow_up.id))
    return render_template("followups/form.html", form=form, follow_up=None)


@bp.route("/<int:follow_up_id>/edit", methods=["GET", "POST"])
@requires(Permission.MANAGE_FOLLOW_UPS)
def edit(follow_up_id: int):  # type: ignore[no-untyped-def]
    follow_up = _follow_up_or_404(follow_up_id)
    form = _follow_up_form(follow_up)
    if request.method == "GET":
        form.title.data = follow_up.title
        form.description.data = follow_up.description
        form.owner_id.data = str(follow_up.owner_id)
        form.member_id.data = str(follow_up.member_id or "")
        form.source.data = source_value(
            follow_up.source_kind,
            follow_up.event_id or follow_up.agreement_id or follow_up.group_id,
        )
        form.due_on.data = follow_up.due_on
        form.priority.data = follow_up.priority.value
        form.recurrence.data = follow_up.recurrence.value
        form.repeat_until.data = follow_up.repeat_until
    if _posted(form):
        try:
            services.update_follow_up(
                get_session(), current_user, follow_up, _follow_up_data(form, _unreadable(form))
            )
        except services.ValidationFailed as exc:
            _show_follow_up_errors(form, exc.errors)
        else:
            flash(_("The follow-up “%(title)s” is saved.", title=follow_up.title), "success")
            return redirect(url_for("followups.detail", follow_up_id=follow_up.id))
    return render_template("followups/form.html", form=form, follow_up=follow_up)


# -- one follow-up and its moves ------------------------------------------------------------


@bp.route("/<int:follow_up_id>")
@requires(Permission.UPDATE_FOLLOW_UPS)
def detail(follow_up_id: int):  # type: ignore[no-untyped-def]
    follow_up = _follow_up_or_404(follow_up_id)
    following = get_session().scalar(select(FollowUp).where(FollowUp.previous_id == follow_up.id))
    return render_template(
        "followups/detail.html",
        follow_up=follow_up,
        following=following,
        today=network_today(),
        **template_labels(),
    )


@bp.route("/<int:follow_up_id>/start", methods=["POST"])
@requires(Permission.UPDATE_FOLLOW_UPS)
def start(follow_up_id: int):  # type: ignore[no-untyped-def]
    follow_up = _follow_up_or_404(follow_up_id)
    try:
        services.start(get_session(), current_user, follow_up)
    except services.ValidationFailed as exc:
        flash_errors(exc.errors)
    else:
        flash(_("“%(title)s” is in progress.", title=follow_up.title), "success")
    return redirect(url_for("followups.detail", follow_up_id=follow_up.id))


@bp.route("/<int:follow_up_id>/reopen", methods=["POST"])
@requires(Permission.UPDATE_FOLLOW_UPS)
def reopen(follow_up_id: int):  # type: ignore[no-untyped-def]
    follow_up = _follow_up_or_404(follow_up_id)
    try:
        services.reopen(get_session(), current_user, follow_up)
    except services.ValidationFailed as exc:
        flash_errors(exc.errors)
    else:
        flash(_("“%(title)s” is open again.", title=follow_up.title), "success")
    return redirect(url_for("followups.detail", follow_up_id=follow_up.id))


def _next_occurrence_message(following: FollowUp) -> Markup:
    """A flashed message with a link to the next occurrence; the values in it are escaped."""
    return Markup(  # noqa: S704 - our own translated sentence, with every value escaped
        _(
            'The next occurrence, due %(date)s, is created: <a href="%(url)s">%(title)s</a>.',
            date=escape(format_date(following.due_on)),
            url=escape(url_for("followups.detail", follow_up_id=following.id)),
            title=escape(following.title),
        )
    )


@bp.route("/<int:follow_up_id>/complete", methods=["GET", "POST"])
@requires(Permission.UPDATE_FOLLOW_UPS)
def complete(follow_up_id: int):  # type: ignore[no-untyped-def]
    follow_up = _follow_up_or_404(follow_up_id)
    form = CompleteForm()
    if request.method == "GET":
        form.completed_on.data = network_today()
    if _posted(form):
        unreadable = _unreadable(form)
        try:
            following = services.complete(
                get_session(), current_user, follow_up, form.completed_on.data, form.note.data
            )
        except services.ValidationFailed as exc:
            show_errors(form, {**exc.errors, **unreadable})
        else:
            flash(_("“%(title)s” is done.", title=follow_up.title), "success")
            if following is not None:
                flash(_next_occurrence_message(following), "success")
            return redirect(url_for("followups.detail", follow_up_id=follow_up.id))
    return render_template(
        "followups/complete.html", form=form, follow_up=follow_up, **template_labels()
    )


@bp.route("/<int:follow_up_id>/cancel", methods=["GET", "POST"])
@requires(Permission.UPDATE_FOLLOW_UPS)
def cancel(follow_up_id: int):  # type: ignore[no-untyped-def]
    follow_up = _follow_up_or_404(follow_up_id)
    form = CancelForm()
    if request.method == "GET":
        form.cancelled_on.data = network_today()
    if _posted(form):
        unreadable = _unreadable(form)
        try:
            services.cancel(
                get_session(), current_user, follow_up, form.cancelled_on.data, form.note.data
            )
        except services.ValidationFailed as exc:
            errors = {
                "cancelled_on" if name == "completed_on" else name: message
                for name, message in exc.errors.items()
            }
            show_errors(form, {**errors, **unreadable})
        else:
            flash(_("“%(title)s” is cancelled.", title=follow_up.title), "success")
            return redirect(url_for("followups.detail", follow_up_id=follow_up.id))
    return render_template(
        "followups/cancel.html", form=form, follow_up=follow_up, **template_labels()
    )


# -- several at once, after an event --------------------------------------------------------


def _rows_wanted() -> int:
    rows = _int_arg("rows") or BULK_ROWS
    return max(1, min(rows, MAX_BULK_ROWS))


def _bulk_rows(
    form: EventFollowUpsForm, event: Event
) -> tuple[list[int], list[services.FollowUpData]]:
    """The rows that were filled in, with their positions on the form."""
    positions, rows = [], []
    for position, entry in enumerate(form.rows):
        row = entry.form
        if row.is_blank():
            continue
        unreadable = {}
        if row.due_on.errors:
            unreadable["due_on"] = _date_message()
            row.due_on.errors = []
        positions.append(position)
        rows.append(
            services.FollowUpData(
                title=row.title.data or "",
                owner_id=_choice_id(
                    row.owner_id.data, "owner_id", unreadable, _("Choose the owner from the list.")
                ),
                member_id=_choice_id(
                    row.member_id.data,
                    "member_id",
                    unreadable,
                    _("Choose a member from the list."),
                ),
                due_on=row.due_on.data,
                priority=_enum(Priority, row.priority.data),
                event_id=event.id,
                unreadable=unreadable,
            )
        )
    return positions, rows


def _show_bulk_errors(
    form: EventFollowUpsForm, positions: list[int], errors: dict[str, str]
) -> list[str]:
    """Put each refusal on its row's field; return those that belong to no field."""
    general = []
    for key, message in errors.items():
        index, _sep, name = key.partition(".")
        if index.isdigit() and int(index) < len(positions):
            row = form.rows[positions[int(index)]].form
            field = getattr(row, name, None)
            if field is not None and hasattr(field, "errors"):
                field.errors = [*field.errors, message]
                continue
            general.append(
                _("Row %(row)d: %(message)s", row=positions[int(index)] + 1, message=message)
            )
        else:
            general.append(message)
    return general


@bp.route("/from-event/<int:event_id>", methods=["GET", "POST"])
@requires(Permission.MANAGE_FOLLOW_UPS)
def from_event(event_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    event = db.get(Event, event_id)
    if event is None:
        abort(404)
    form = EventFollowUpsForm(
        owners=owner_choices(), members=member_choices(), row_count=_rows_wanted()
    )
    general: list[str] = []
    if _posted(form):
        positions, rows = _bulk_rows(form, event)
        try:
            created = services.create_follow_ups(db, current_user, rows)
        except services.ValidationFailed as exc:
            general = _show_bulk_errors(form, positions, exc.errors)
        else:
            flash(
                ngettext(
                    "%(num)d follow-up added after %(title)s.",
                    "%(num)d follow-ups added after %(title)s.",
                    len(created),
                    title=event.title,
                ),
                "success",
            )
            return redirect(url_for("events.detail", event_id=event.id))
    return render_template(
        "followups/from_event.html",
        form=form,
        event=event,
        event_day=services.event_day(event),
        general_errors=general,
        rows_wanted=len(form.rows.entries),
        more_rows=min(len(form.rows.entries) + BULK_ROWS, MAX_BULK_ROWS),
        max_rows=MAX_BULK_ROWS,
        **template_labels(),
    )
