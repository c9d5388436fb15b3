"""Indicator pages (staff): the list, the form, and an indicator's page with its network
roll-up against targets, the values of every member, its targets and network values."""

from __future__ import annotations

from decimal import Decimal

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

from secretariat.db import get_session
from secretariat.forms import flash_errors, refuse_oversized_ids, show_errors
from secretariat.forms import posted as _posted
from secretariat.forms import row_id as _id
from secretariat.indicators import queries, services
from secretariat.indicators.forms import (
    SHOW_LABELS,
    IndicatorForm,
    NetworkValueForm,
    TargetForm,
    network_value_form,
    template_labels,
)
from secretariat.indicators.models import (
    NUMERIC_TYPES,
    Aggregation,
    Indicator,
    Level,
    Target,
    ValueType,
)
from secretariat.members.models import Member
from secretariat.members.services import ValidationFailed
from secretariat.permissions import Permission, requires

bp = Blueprint("indicators", __name__, url_prefix="/indicators")


refuse_oversized_ids(bp)


def _indicator_or_404(indicator_id: int) -> Indicator:
    indicator = get_session().get(Indicator, indicator_id)
    if indicator is None:
        abort(404)
    return indicator


# -- the list -------------------------------------------------------------------------------


@bp.route("/")
@requires(Permission.MANAGE_INDICATORS)
def index():  # type: ignore[no-untyped-def]
    show = request.args.get("show", "active")
    if show not in SHOW_LABELS:
        show = "active"
    indicators = queries.indicator_list(
        get_session(), include_retired=show == "all", retired_only=show == "retired"
    )
    return render_template(
        "indicators/index.html",
        indicators=indicators,
        show=show,
        show_labels=SHOW_LABELS,
        **template_labels(),
    )


# -- creating and editing -------------------------------------------------------------------


def _number(form: IndicatorForm, name: str, unreadable: dict[str, str]) -> Decimal | None:
    raw = (getattr(form, name).data or "").strip()
    if not raw:
        return None
    try:
        return services.parse_number(raw)
    except services.BadValue as exc:
        unreadable[name] = exc.message
        return None


def _indicator_data(form: IndicatorForm) -> services.IndicatorData:
    unreadable: dict[str, str] = {}
    numeric = form.value_type.data in NUMERIC_TYPES
    return services.IndicatorData(
        code=form.code.data or "",
        name=form.name.data or "",
        definition=form.definition.data or None,
        unit=form.unit.data or None,
        # Unknown choices go through as typed, for the service to refuse with its message.
        value_type=form.value_type.data,  # type: ignore[arg-type]
        direction=form.direction.data,  # type: ignore[arg-type]
        level=form.level.data,  # type: ignore[arg-type]
        aggregation=form.aggregation.data,  # type: ignore[arg-type]
        # The range is for numbers: what was typed there for another type is left aside.
        min_value=_number(form, "min_value", unreadable) if numeric else None,
        max_value=_number(form, "max_value", unreadable) if numeric else None,
        choices=(form.choices.data or "").splitlines(),
        is_active=bool(form.is_active.data),
        unreadable=unreadable,
    )


def _fill(form: IndicatorForm, indicator: Indicator) -> None:
    form.code.data = indicator.code
    form.name.data = indicator.name
    form.definition.data = indicator.definition
    form.unit.data = indicator.unit
    form.value_type.data = indicator.value_type.value
    low, high = indicator.min_value, indicator.max_value
    form.min_value.data = services.plain(low) if low is not None else ""
    form.max_value.data = services.plain(high) if high is not None else ""
    form.choices.data = "\n".join(indicator.choices or [])
    form.direction.data = indicator.direction.value
    form.level.data = indicator.level.value
    form.aggregation.data = indicator.aggregation.value
    form.is_active.data = indicator.is_active


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_INDICATORS)
def new():  # type: ignore[no-untyped-def]
    form = IndicatorForm()
    if _posted(form):
        try:
            indicator = services.create_indicator(
                get_session(), current_user, _indicator_data(form)
            )
        except ValidationFailed as exc:
            show_errors(form, exc.errors)
        else:
            flash(_("The indicator %(code)s is created.", code=indicator.code), "success")
            return redirect(url_for("indicators.detail", indicator_id=indicator.id))
    return render_template("indicators/form.html", form=form, indicator=None, **template_labels())


@bp.route("/<int:indicator_id>/edit", methods=["GET", "POST"])
@requires(Permission.MANAGE_INDICATORS)
def edit(indicator_id: int):  # type: ignore[no-untyped-def]
    indicator = _indicator_or_404(indicator_id)
    form = IndicatorForm()
    if request.method == "GET":
        _fill(form, indicator)
    if _posted(form):
        try:
            services.update_indicator(get_session(), current_user, indicator, _indicator_data(form))
        except ValidationFailed as exc:
            show_errors(form, exc.errors)
        else:
            flash(_("The indicator %(code)s is saved.", code=indicator.code), "success")
            return redirect(url_for("indicators.detail", indicator_id=indicator.id))
    return render_template(
        "indicators/form.html", form=form, indicator=indicator, **template_labels()
    )


# -- an indicator's page --------------------------------------------------------------------


def _member_targets(indicator: Indicator) -> bool:
    """Whether targets can be set per member: not for a network-level one or a yes count."""
    return indicator.level is Level.MEMBER and indicator.aggregation is not Aggregation.COUNT_YES


def _member_choices(indicator: Indicator) -> list[tuple[int, str]]:
    if not _member_targets(indicator):
        return []
    rows = get_session().execute(select(Member.id, Member.name).order_by(Member.name, Member.id))
    return [(row.id, row.name) for row in rows]


def _takes_targets(indicator: Indicator) -> bool:
    return indicator.is_numeric or (
        indicator.value_type is ValueType.YES_NO and indicator.aggregation is Aggregation.COUNT_YES
    )


def _render_detail(
    indicator: Indicator,
    target_form: TargetForm | None = None,
    value_form: NetworkValueForm | None = None,
):  # type: ignore[no-untyped-def]
    db = get_session()
    if target_form is None:
        target_form = TargetForm(formdata=None, members=_member_choices(indicator))
    network = indicator.level is Level.NETWORK
    if value_form is None and network:
        value_form = network_value_form(indicator, formdata=None)
    periods, page = (
        ([], None)
        if network
        else queries.member_values(
            db,
            indicator,
            _id(request.args.get("page")) or 1,
            current_app.config["MEMBERS_PER_PAGE"],
        )
    )
    return render_template(
        "indicators/detail.html",
        indicator=indicator,
        rollup=queries.rollup(db, indicator),
        periods=periods,
        page=page,
        targets=queries.targets_of(db, indicator),
        target_form=target_form if _takes_targets(indicator) else None,
        value_form=value_form,
        member_targets=_member_targets(indicator),
        display=services.display,
        format_value=services.format_value,
        **template_labels(),
    )


@bp.route("/<int:indicator_id>")
@requires(Permission.MANAGE_INDICATORS)
def detail(indicator_id: int):  # type: ignore[no-untyped-def]
    return _render_detail(_indicator_or_404(indicator_id))


@bp.route("/<int:indicator_id>/targets", methods=["POST"])
@requires(Permission.MANAGE_INDICATORS)
def set_target(indicator_id: int):  # type: ignore[no-untyped-def]
    indicator = _indicator_or_404(indicator_id)
    form = TargetForm(members=_member_choices(indicator))
    if not _posted(form):
        flash(_("The form expired. Please submit it again."), "error")
        return redirect(url_for("indicators.detail", indicator_id=indicator.id))
    raw_member = form.member_id.data or ""
    member_id = _id(raw_member)
    unreadable = {}
    if raw_member and member_id is None:
        unreadable["member_id"] = _("Choose a member from the list.")
    try:
        target = services.set_target(
            get_session(),
            current_user,
            indicator,
            period=form.period.data or "",
            value=form.value.data or "",
            member_id=member_id,
            note=form.note.data,
            unreadable=unreadable,
        )
    except ValidationFailed as exc:
        errors = dict(exc.errors)
        if not _takes_targets(indicator):
            flash_errors(errors)
            return redirect(url_for("indicators.detail", indicator_id=indicator.id))
        if not _member_targets(indicator) and "member_id" in errors:
            # No member to choose on this page: said as a message rather than next to a field.
            errors["member"] = errors.pop("member_id")
        show_errors(form, errors)
        return _render_detail(indicator, target_form=form)
    if target.member is not None:
        message = _(
            "The target of %(member)s for %(period)s is set.",
            member=target.member.name,
            period=target.period,
        )
    else:
        message = _("The network's target for %(period)s is set.", period=target.period)
    flash(message, "success")
    return redirect(url_for("indicators.detail", indicator_id=indicator.id) + "#targets-title")


@bp.route("/<int:indicator_id>/targets/<int:target_id>/delete", methods=["POST"])
@requires(Permission.MANAGE_INDICATORS)
def remove_target(indicator_id: int, target_id: int):  # type: ignore[no-untyped-def]
    indicator = _indicator_or_404(indicator_id)
    target = get_session().get(Target, target_id)
    if target is None or target.indicator_id != indicator.id:
        abort(404)
    period = target.period
    services.remove_target(get_session(), current_user, target)
    flash(_("The target for %(period)s is removed.", period=period), "success")
    return redirect(url_for("indicators.detail", indicator_id=indicator.id) + "#targets-title")


@bp.route("/<int:indicator_id>/network-values", methods=["POST"])
@requires(Permission.MANAGE_INDICATORS)
def record_network_value(indicator_id: int):  # type: ignore[no-untyped-def]
    indicator = _indicator_or_404(indicator_id)
    form = network_value_form(indicator)
    if not _posted(form):
        flash(_("The form expired. Please submit it again."), "error")
        return redirect(url_for("indicators.detail", indicator_id=indicator.id))
    try:
        row = services.record_network_value(
            get_session(),
            current_user,
            indicator,
            period=form.period.data or "",
            value=form.value.data or "",
            note=form.note.data,
        )
    except ValidationFailed as exc:
        if indicator.level is not Level.NETWORK:
            # The page has no such form for this indicator: say why on the page.
            flash_errors(exc.errors)
            return redirect(url_for("indicators.detail", indicator_id=indicator.id))
        show_errors(form, exc.errors)
        return _render_detail(indicator, value_form=form)
    period = services.check_period(form.period.data)
    if row is None:
        flash(_("No value is recorded for %(period)s any more.", period=period), "success")
    else:
        flash(_("The network's value for %(period)s is recorded.", period=period), "success")
    return redirect(url_for("indicators.detail", indicator_id=indicator.id))
