"""Pages of the peer exchanges: list, record or propose, confirm or reject, and the network."""

from __future__ import annotations

import io
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import format_percent
from flask_babel import gettext as _
from flask_login import current_user

from secretariat.db import get_session, utcnow
from secretariat.exchanges import exports, queries, services
from secretariat.exchanges.forms import (
    STATUS_LABELS,
    TYPE_LABELS,
    ExchangeForm,
    RejectForm,
)
from secretariat.exchanges.graph import layout
from secretariat.exchanges.models import ExchangeStatus, ExchangeType, PeerExchange
from secretariat.forms import flash_errors, show_errors
from secretariat.members.forms import STATUS_LABELS as STATUS
from secretariat.members.models import MemberStatus
from secretariat.permissions import Permission, is_staff, requires
from secretariat.tabular import write_table
from secretariat.vocabularies.models import Vocabulary
from secretariat.vocabularies.services import terms

bp = Blueprint("exchanges", __name__)

#: Rows of the pair table under the graph; the CSV export has them all.
EDGE_TABLE_ROWS = 100


@bp.app_template_filter("exchange_type")
def _type_label(value: ExchangeType) -> str:
    return str(TYPE_LABELS.get(value, value))


@bp.app_template_filter("exchange_status")
def _status_label(value: ExchangeStatus) -> str:
    return str(STATUS_LABELS.get(value, value))


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) < 10 else None


def _enum_arg(name: str, enum_cls: type[Any]) -> Any:
    value = request.args.get(name, "")
    return enum_cls(value) if value in enum_cls._value2member_map_ else None


def _year_arg() -> int | None:
    year = _int_arg("year")
    return year if year is not None and 1900 <= year <= 9999 else None


def _list_filters() -> queries.ExchangeFilters:
    return queries.ExchangeFilters(
        status=_enum_arg("status", ExchangeStatus),
        exchange_type=_enum_arg("type", ExchangeType),
        year=_year_arg(),
        group_id=_int_arg("group"),
        member_id=_int_arg("member"),
    )


def _network_filters() -> queries.ExchangeFilters:
    return queries.ExchangeFilters(
        exchange_type=_enum_arg("type", ExchangeType),
        year=_year_arg(),
        group_id=_int_arg("group"),
    )


def _exchange_or_404(exchange_id: int) -> PeerExchange:
    exchange = queries.exchange_detail(get_session(), exchange_id)
    if exchange is None:
        abort(404)
    services.ensure_exchange_scope(current_user, exchange)
    return exchange


# -- list --------------------------------------------------------------------------------------


@bp.route("/exchanges/")
@requires(Permission.PROPOSE_EXCHANGES)
def index():  # type: ignore[no-untyped-def]
    db = get_session()
    filters = _list_filters()
    staff = is_staff(current_user)
    awaiting: list[PeerExchange] = []
    if not staff:
        filters.member_id = current_user.member_id
        awaiting = queries.awaiting_answer(db, current_user.member_id)
    page = queries.exchange_page(
        db, filters, _int_arg("page") or 1, current_app.config.get("EXCHANGES_PER_PAGE", 25)
    )
    return render_template(
        "exchanges/index.html",
        page=page,
        filters=filters,
        staff=staff,
        awaiting=awaiting,
        proposals=queries.proposal_count(db) if staff else 0,
        members=queries.member_choices(db) if staff else [],
        groups=queries.group_choices(db),
        years=queries.exchange_years(
            db, member_id=None if staff else current_user.member_id, confirmed_only=False
        ),
        type_labels=TYPE_LABELS,
        status_labels=STATUS_LABELS,
    )


# -- record, propose, edit -----------------------------------------------------------------------


def _member_options(keep: tuple[int, ...] = ()) -> list[tuple[int, str]]:
    """Staff choose among all members; a focal point its own member and the active ones."""
    db = get_session()
    if is_staff(current_user):
        return [
            (member_id, name if status is MemberStatus.ACTIVE else f"{name} ({STATUS[status]})")
            for member_id, name, status in queries.member_choices(db)
        ]
    rows = queries.member_choices(db, active_only=True, including=(current_user.member_id, *keep))
    return [(member_id, name) for member_id, name, _status in rows]


def _exchange_form(exchange: PeerExchange | None = None) -> ExchangeForm:
    db = get_session()
    keep = (exchange.from_member_id, exchange.to_member_id) if exchange else ()
    themes = [(t.id, t.label) for t in terms(db, Vocabulary.THEME, active_only=True)]
    if exchange is not None and exchange.theme and exchange.theme_id not in dict(themes):
        themes.append((exchange.theme.id, exchange.theme.label))
    return ExchangeForm(
        obj=exchange,
        members=_member_options(keep),
        groups=queries.group_choices(db),
        themes=themes,
    )


def _optional_int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _exchange_data(form: ExchangeForm) -> services.ExchangeData:
    kind = form.exchange_type.data or ""
    return services.ExchangeData(
        from_member_id=_optional_int(form.from_member_id.data),
        to_member_id=_optional_int(form.to_member_id.data),
        exchange_type=ExchangeType(kind) if kind in ExchangeType._value2member_map_ else None,
        occurred_on=form.occurred_on.data,
        description=form.description.data or "",
        group_id=_optional_int(form.group_id.data),
        theme_id=_optional_int(form.theme_id.data),
        outcome=form.outcome.data or None,
        evidence_url=form.evidence_url.data or None,
    )


def _checked_data(
    form: ExchangeForm, exchange: PeerExchange | None = None
) -> services.ExchangeData | None:
    """The form's data once the form and the data are both valid; None when errors show.

    The form and the service rules are checked together, so that every problem shows at once.
    """
    form_ok = form.validate()
    data = _exchange_data(form)
    own = None if is_staff(current_user) else current_user.member_id
    errors = services.validate_exchange(
        get_session(),
        data,
        services.network_today(),
        proposing_member_id=own,
        kept_member_ids=(exchange.from_member_id, exchange.to_member_id) if exchange else (),
    )
    if own is not None and own not in (data.from_member_id, data.to_member_id):
        errors.setdefault(
            "from_member_id",
            _("One side must be your member, %(name)s.", name=current_user.member.name),
        )
    if form_ok and not errors:
        return data
    show_errors(form, {k: v for k, v in errors.items() if not getattr(form, k).errors})
    return None


@bp.route("/exchanges/new", methods=["GET", "POST"])
@requires(Permission.PROPOSE_EXCHANGES)
def new():  # type: ignore[no-untyped-def]
    form = _exchange_form()
    staff = is_staff(current_user)
    if request.method == "GET":
        form.occurred_on.data = services.network_today()
        member_id = _int_arg("member")
        group_id = _int_arg("group")
        if staff:
            form.from_member_id.data = str(member_id or "")
        else:
            form.from_member_id.data = str(current_user.member_id)
            if member_id and member_id != current_user.member_id:
                form.to_member_id.data = str(member_id)
        if group_id:
            form.group_id.data = str(group_id)
    data = _checked_data(form) if request.method == "POST" else None
    if data is not None:
        try:
            exchange = services.record_exchange(get_session(), current_user, data)
        except services.ValidationFailed as exc:
            show_errors(form, exc.errors)
        else:
            if exchange.status is ExchangeStatus.CONFIRMED:
                flash(_("The exchange is recorded."), "success")
            else:
                flash(
                    _("The exchange is proposed; it counts once the other member confirms it."),
                    "success",
                )
            return redirect(url_for("exchanges.detail", exchange_id=exchange.id))
    return render_template(
        "exchanges/form.html",
        form=form,
        exchange=None,
        staff=staff,
        max_date=services.network_today().isoformat(),
    )


@bp.route("/exchanges/<int:exchange_id>")
@requires(Permission.PROPOSE_EXCHANGES)
def detail(exchange_id: int):  # type: ignore[no-untyped-def]
    exchange = _exchange_or_404(exchange_id)
    return render_template(
        "exchanges/detail.html",
        exchange=exchange,
        can_edit=services.can_edit(current_user, exchange),
        can_decide=services.can_decide(current_user, exchange),
        staff=is_staff(current_user),
        own_member_id=current_user.member_id,
    )


@bp.route("/exchanges/<int:exchange_id>/edit", methods=["GET", "POST"])
@requires(Permission.PROPOSE_EXCHANGES)
def edit(exchange_id: int):  # type: ignore[no-untyped-def]
    exchange = _exchange_or_404(exchange_id)
    if not services.can_edit(current_user, exchange):
        flash(_("Only the secretariat can change an exchange once it is decided."), "error")
        return redirect(url_for("exchanges.detail", exchange_id=exchange.id))
    form = _exchange_form(exchange)
    if request.method == "GET":
        for name in ("from_member_id", "to_member_id", "group_id", "theme_id"):
            getattr(form, name).data = str(getattr(exchange, name) or "")
        form.exchange_type.data = exchange.exchange_type.value
    data = _checked_data(form, exchange) if request.method == "POST" else None
    if data is not None:
        try:
            services.update_exchange(get_session(), current_user, exchange, data)
        except services.ValidationFailed as exc:
            show_errors(form, exc.errors)
        else:
            flash(_("The exchange is saved."), "success")
            return redirect(url_for("exchanges.detail", exchange_id=exchange.id))
    return render_template(
        "exchanges/form.html",
        form=form,
        exchange=exchange,
        staff=is_staff(current_user),
        max_date=services.network_today().isoformat(),
    )


# -- decide ------------------------------------------------------------------------------------


@bp.route("/exchanges/<int:exchange_id>/confirm", methods=["POST"])
@requires(Permission.PROPOSE_EXCHANGES)
def confirm(exchange_id: int):  # type: ignore[no-untyped-def]
    exchange = _exchange_or_404(exchange_id)
    try:
        services.confirm_exchange(get_session(), current_user, exchange)
    except services.ValidationFailed as exc:
        flash_errors(exc.errors)
    else:
        flash(_("The exchange is confirmed; it now counts in the network."), "success")
    return redirect(url_for("exchanges.detail", exchange_id=exchange.id))


@bp.route("/exchanges/<int:exchange_id>/reject", methods=["GET", "POST"])
@requires(Permission.PROPOSE_EXCHANGES)
def reject(exchange_id: int):  # type: ignore[no-untyped-def]
    exchange = _exchange_or_404(exchange_id)
    if not services.can_decide(current_user, exchange):
        if exchange.status is ExchangeStatus.PROPOSED:
            flash(
                _(
                    "Your member proposed this exchange: the other member or the secretariat "
                    "confirms it."
                ),
                "error",
            )
        else:
            flash(_("This exchange has already been decided."), "error")
        return redirect(url_for("exchanges.detail", exchange_id=exchange.id))
    form = RejectForm()
    if form.validate_on_submit():
        try:
            services.reject_exchange(get_session(), current_user, exchange, form.reason.data)
        except services.ValidationFailed as exc:
            show_errors(form, exc.errors)
        else:
            flash(_("The proposal is rejected."), "success")
            return redirect(url_for("exchanges.detail", exchange_id=exchange.id))
    return render_template("exchanges/reject.html", form=form, exchange=exchange)


@bp.route("/exchanges/<int:exchange_id>/delete", methods=["POST"])
@requires(Permission.MANAGE_EXCHANGES)
def delete(exchange_id: int):  # type: ignore[no-untyped-def]
    exchange = _exchange_or_404(exchange_id)
    services.delete_exchange(get_session(), current_user, exchange)
    flash(_("The exchange is deleted."), "success")
    return redirect(url_for("exchanges.index"))


# -- the network -------------------------------------------------------------------------------


def _filter_args(filters: queries.ExchangeFilters) -> dict[str, Any]:
    args: dict[str, Any] = {}
    if filters.year is not None:
        args["year"] = filters.year
    if filters.group_id is not None:
        args["group"] = filters.group_id
    if filters.exchange_type is not None:
        args["type"] = filters.exchange_type.value
    return args


@bp.route("/network")
@requires(Permission.MANAGE_EXCHANGES)
def network():  # type: ignore[no-untyped-def]
    db = get_session()
    filters = _network_filters()
    graph = queries.network_graph(db, filters)
    figures = queries.network_figures(db, filters, graph)
    drawing = layout(graph, {node.id for node in figures.top_connectors})
    names = {node.id: node for node in graph.nodes}
    busiest = sorted(
        graph.edges,
        key=lambda e: (-e.count, names[e.source].name.casefold(), names[e.target].name.casefold()),
    )[:EDGE_TABLE_ROWS]
    return render_template(
        "exchanges/network.html",
        filters=filters,
        args=_filter_args(filters),
        graph=graph,
        figures=figures,
        drawing=drawing,
        busiest=busiest,
        names=names,
        cross_region_share=(
            format_percent(float(share), "#,##0.#%")
            if (share := figures.cross_region_share) is not None
            else None
        ),
        groups=queries.group_choices(db),
        years=queries.exchange_years(db),
        type_labels=TYPE_LABELS,
    )


def _download_name(extension: str) -> str:
    return f"exchanges-{utcnow().date().isoformat()}.{extension}"


@bp.route("/network/edges.csv")
@requires(Permission.MANAGE_EXCHANGES)
def network_edges():  # type: ignore[no-untyped-def]
    db = get_session()
    filters = _network_filters()
    headers, rows = exports.edge_table(
        queries.network_graph(db, filters), queries.exchange_rows(db, filters)
    )
    buffer = io.BytesIO()
    write_table(buffer, "csv", headers, rows)
    buffer.seek(0)
    return send_file(
        buffer, mimetype="text/csv", as_attachment=True, download_name=_download_name("csv")
    )


@bp.route("/network/graph.graphml")
@requires(Permission.MANAGE_EXCHANGES)
def network_graphml():  # type: ignore[no-untyped-def]
    db = get_session()
    filters = _network_filters()
    document = exports.graphml(
        queries.network_graph(db, filters), queries.exchange_rows(db, filters)
    )
    response = Response(document, mimetype="application/graphml+xml")
    response.headers["Content-Disposition"] = f'attachment; filename="{_download_name("graphml")}"'
    return response
