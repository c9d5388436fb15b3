"""Participation pages: the years, a year's overview and scores, its method, computing,
finalising and reopening, regional recognition, members at risk, and member scorecards."""

from __future__ import annotations

import io
from decimal import Decimal

from flask import (
    Blueprint,
    abort,
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
from sqlalchemy import select

from secretariat.clock import network_today
from secretariat.commitments.forms import STATUS_LABELS as COMMITMENT_STATUS_LABELS
from secretariat.db import get_session
from secretariat.exchanges.forms import TYPE_LABELS as EXCHANGE_TYPE_LABELS
from secretariat.followups.forms import STATUS_LABELS as FOLLOW_UP_STATUS_LABELS
from secretariat.forms import flash_errors, refuse_oversized_ids, show_errors
from secretariat.forms import posted as _posted
from secretariat.forms import row_id as _id
from secretariat.groups.forms import ROLE_LABELS as GROUP_ROLE_LABELS
from secretariat.groups.models import WorkingGroup
from secretariat.indicators.services import plain
from secretariat.members.models import Member
from secretariat.members.services import ValidationFailed
from secretariat.participation import queries, services
from secretariat.participation.forms import (
    ReopenForm,
    SchemeForm,
    SettingsForm,
    YearForm,
    template_labels,
)
from secretariat.participation.models import (
    ConditionKind,
    ConditionsOutcome,
    CriterionKind,
    EvidenceKind,
    Level,
    ParticipationScore,
    ScoringScheme,
)
from secretariat.permissions import (
    OutOfScope,
    Permission,
    ensure_member_scope,
    has_permission,
    is_staff,
    requires,
)
from secretariat.tabular import write_table
from secretariat.vocabularies.models import Term, Vocabulary

bp = Blueprint("participation", __name__, url_prefix="/participation")

PER_PAGE = 50
_MIMETYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

refuse_oversized_ids(bp)


def _scheme_or_404(year: int) -> ScoringScheme:
    scheme = services.scheme_for_year(get_session(), year)
    if scheme is None:
        abort(404)
    return scheme


def _page_arg() -> int:
    return _id(request.args.get("page")) or 1


def _percent(rate: float | None) -> str:
    return format_percent(rate) if rate is not None else "—"


def _render(template: str, **context):  # type: ignore[no-untyped-def]
    return render_template(
        template,
        **template_labels(),
        percent=_percent,
        commitment_status_labels=COMMITMENT_STATUS_LABELS,
        exchange_type_labels=EXCHANGE_TYPE_LABELS,
        follow_up_status_labels=FOLLOW_UP_STATUS_LABELS,
        group_role_labels=GROUP_ROLE_LABELS,
        **context,
    )


# --- Years --------------------------------------------------------------------------------


@bp.route("/")
@requires(Permission.VIEW_PARTICIPATION)
def index():  # type: ignore[no-untyped-def]
    db = get_session()
    settings = services.settings(db)
    return _render(
        "participation/index.html",
        years=queries.year_list(db),
        year_form=YearForm(year=str(network_today().year)),
        settings_form=SettingsForm(recognition_visible=settings.recognition_visible_to_members),
        this_year=network_today().year,
    )


@bp.route("/years", methods=["POST"])
@requires(Permission.MANAGE_PARTICIPATION)
def create_year():  # type: ignore[no-untyped-def]
    db = get_session()
    form = YearForm()
    if not _posted(form):
        abort(400)
    raw = (form.year.data or "").strip()
    year = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 4 else None
    try:
        if year is None:
            raise ValidationFailed({"year": _("Enter a year such as %(year)s.", year=2025)})
        scheme = services.create_scheme(db, current_user, year)
    except ValidationFailed as exc:
        show_errors(form, exc.errors)
        settings = services.settings(db)
        return _render(
            "participation/index.html",
            years=queries.year_list(db),
            year_form=form,
            settings_form=SettingsForm(recognition_visible=settings.recognition_visible_to_members),
            this_year=network_today().year,
        ), 422
    flash(
        _("The %(year)s scheme is ready: compute the scores when you wish.", year=year), "success"
    )
    return redirect(url_for("participation.year", year=scheme.year))


@bp.route("/settings", methods=["POST"])
@requires(Permission.EDIT_SCORING_SCHEME)
def save_settings():  # type: ignore[no-untyped-def]
    form = SettingsForm()
    if not _posted(form):
        abort(400)
    services.set_recognition_visibility(
        get_session(), current_user, bool(form.recognition_visible.data)
    )
    flash(_("Settings saved."), "success")
    return redirect(url_for("participation.index"))


# --- One year -----------------------------------------------------------------------------


@bp.route("/<int:year>")
@requires(Permission.VIEW_PARTICIPATION)
def year(year: int):  # type: ignore[no-untyped-def]
    db = get_session()
    scheme = _scheme_or_404(year)
    return _render(
        "participation/year.html",
        scheme=scheme,
        overview=queries.overview(db, scheme),
        levels=queries.LEVELS,
        not_met=ConditionsOutcome.NOT_MET,
    )


def _filters() -> queries.ScoreFilters:
    args = request.args
    return queries.ScoreFilters(
        level=args.get("level", ""),
        region_id=_id(args.get("region")),
        outcome=args.get("outcome", ""),
        query=(args.get("q") or "").strip()[:100],
        order=args.get("order", "total") if args.get("order") in ("name", "change") else "total",
    )


@bp.route("/<int:year>/scores")
@requires(Permission.VIEW_PARTICIPATION)
def scores(year: int):  # type: ignore[no-untyped-def]
    db = get_session()
    scheme = _scheme_or_404(year)
    filters = _filters()
    page = queries.score_page(db, scheme, filters, _page_arg(), PER_PAGE)
    regions = db.execute(
        select(Term.id, Term.label)
        .where(Term.vocabulary == Vocabulary.REGION)
        .order_by(Term.position, Term.label)
    ).all()
    args = {
        key: value
        for key, value in request.args.items()
        if key in ("level", "region", "outcome", "q", "order") and value
    }
    return _render(
        "participation/scores.html",
        scheme=scheme,
        page=page,
        filters=filters,
        regions=regions,
        levels=queries.LEVELS,
        outcomes=list(ConditionsOutcome),
        args=args,
    )


@bp.route("/<int:year>/scores.<any(csv, xlsx):fmt>")
@requires(Permission.VIEW_PARTICIPATION)
def export(year: int, fmt: str):  # type: ignore[no-untyped-def]
    scheme = _scheme_or_404(year)
    headers, rows = queries.export_rows(get_session(), scheme)
    buffer = io.BytesIO()
    write_table(buffer, fmt, headers, rows)
    buffer.seek(0)
    return send_file(
        buffer,
        mimetype=_MIMETYPES[fmt],
        as_attachment=True,
        download_name=f"participation-{scheme.year}.{fmt}",
    )


@bp.route("/<int:year>/compute", methods=["POST"])
@requires(Permission.MANAGE_PARTICIPATION)
def compute(year: int):  # type: ignore[no-untyped-def]
    scheme = _scheme_or_404(year)
    try:
        result = services.compute(get_session(), current_user, scheme)
    except services.SchemeError as exc:
        flash(exc.message, "error")
    else:
        flash(
            _(
                "Scores computed: %(members)s members measured, %(scored)s with a score.",
                members=result.members,
                scored=result.scored,
            ),
            "success",
        )
    return redirect(url_for("participation.year", year=year))


@bp.route("/<int:year>/finalise", methods=["POST"])
@requires(Permission.MANAGE_PARTICIPATION)
def finalise(year: int):  # type: ignore[no-untyped-def]
    scheme = _scheme_or_404(year)
    try:
        services.finalise(get_session(), current_user, scheme)
    except services.SchemeError as exc:
        flash(exc.message, "error")
    else:
        flash(_("%(year)s is final: its method and scores are frozen.", year=year), "success")
    return redirect(url_for("participation.year", year=year))


@bp.route("/<int:year>/reopen", methods=["GET", "POST"])
@requires(Permission.MANAGE_PARTICIPATION)
def reopen(year: int):  # type: ignore[no-untyped-def]
    db = get_session()
    scheme = _scheme_or_404(year)
    form = ReopenForm()
    if _posted(form):
        try:
            services.reopen(db, current_user, scheme, form.reason.data or "")
        except services.SchemeError as exc:
            flash(exc.message, "error")
            return redirect(url_for("participation.year", year=year))
        except ValidationFailed as exc:
            show_errors(form, exc.errors)
        else:
            flash(_("%(year)s is provisional again.", year=year), "success")
            return redirect(url_for("participation.year", year=year))
        return _render("participation/reopen.html", scheme=scheme, form=form), 422
    if not scheme.is_final:
        flash(_("%(year)s is not finalised.", year=year), "info")
        return redirect(url_for("participation.year", year=year))
    return _render("participation/reopen.html", scheme=scheme, form=form)


# --- The method ---------------------------------------------------------------------------


def _scheme_values(scheme: ScoringScheme) -> dict[str, str]:
    values: dict[str, str] = {}
    for criterion in scheme.criteria:
        prefix = criterion.kind.value
        values[f"{prefix}-weight"] = str(criterion.weight)
        values[f"{prefix}-floor"] = _plain(criterion.floor)
        values[f"{prefix}-target"] = _plain(criterion.target)
        values[f"{prefix}-bonus"] = _plain(criterion.bonus)
    return values


def _plain(value: Decimal | None) -> str:
    return "" if value is None else plain(value)


def _render_scheme(scheme: ScoringScheme, form: SchemeForm, values: dict, errors: dict):  # type: ignore[no-untyped-def]
    return _render(
        "participation/scheme.html",
        scheme=scheme,
        form=form,
        values=values,
        errors=errors,
        kinds=list(CriterionKind),
        can_edit=has_permission(current_user, Permission.EDIT_SCORING_SCHEME)
        and not scheme.is_final,
        history=scheme.history,
    )


@bp.route("/<int:year>/scheme")
@requires(Permission.VIEW_PARTICIPATION)
def scheme(year: int):  # type: ignore[no-untyped-def]
    scheme = _scheme_or_404(year)
    form = SchemeForm(
        leading_from=str(scheme.leading_from),
        active_from=str(scheme.active_from),
        engaged_from=str(scheme.engaged_from),
        recognition_size=str(scheme.recognition_size),
        conditions=[condition.kind.value for condition in scheme.conditions],
    )
    return _render_scheme(scheme, form, _scheme_values(scheme), {})


@bp.route("/<int:year>/scheme", methods=["POST"])
@requires(Permission.EDIT_SCORING_SCHEME)
def save_scheme(year: int):  # type: ignore[no-untyped-def]
    db = get_session()
    scheme = _scheme_or_404(year)
    form = SchemeForm()
    if not _posted(form):
        abort(400)
    values = {
        f"{kind.value}-{part}": (request.form.get(f"{kind.value}-{part}") or "")[:50]
        for kind in CriterionKind
        for part in ("weight", "floor", "target", "bonus")
    }
    data = services.SchemeData(
        criteria={
            kind: services.CriterionInput(
                weight=values[f"{kind.value}-weight"],
                floor=values[f"{kind.value}-floor"],
                target=values[f"{kind.value}-target"],
                bonus=values[f"{kind.value}-bonus"],
            )
            for kind in CriterionKind
        },
        conditions={
            ConditionKind(value)
            for value in (form.conditions.data or [])
            if value in {kind.value for kind in ConditionKind}
        },
        leading_from=form.leading_from.data or "",
        active_from=form.active_from.data or "",
        engaged_from=form.engaged_from.data or "",
        recognition_size=form.recognition_size.data or "",
    )
    try:
        services.update_scheme(db, current_user, scheme, data)
    except services.SchemeError as exc:
        flash(exc.message, "error")
        return redirect(url_for("participation.scheme", year=year))
    except ValidationFailed as exc:
        show_errors(form, {k: v for k, v in exc.errors.items() if hasattr(form, k)})
        others = {k: v for k, v in exc.errors.items() if not hasattr(form, k)}
        if "criteria" in others:
            flash_errors({"criteria": others.pop("criteria")})
        return _render_scheme(scheme, form, values, others), 422
    flash(
        _("The %(year)s method is saved. Compute the scores again to apply it.", year=year),
        "success",
    )
    return redirect(url_for("participation.scheme", year=year))


# --- Recognition and risk -----------------------------------------------------------------


@bp.route("/<int:year>/recognition")
@requires(Permission.VIEW_RECOGNITION)
def recognition(year: int):  # type: ignore[no-untyped-def]
    db = get_session()
    if not is_staff(current_user) and not services.settings(db).recognition_visible_to_members:
        raise OutOfScope()
    scheme = _scheme_or_404(year)
    return _render(
        "participation/recognition.html",
        scheme=scheme,
        regions=queries.recognition(db, scheme),
        staff_view=is_staff(current_user),
    )


@bp.route("/<int:year>/at-risk")
@requires(Permission.VIEW_PARTICIPATION)
def at_risk(year: int):  # type: ignore[no-untyped-def]
    db = get_session()
    scheme = _scheme_or_404(year)
    today = network_today()
    return _render(
        "participation/at_risk.html",
        scheme=scheme,
        page=queries.at_risk(db, scheme, today, _page_arg(), PER_PAGE),
        today=today,
        score_drop=services.SCORE_DROP,
        leadership_months=services.LEADERSHIP_MONTHS,
    )


# --- Scorecards ---------------------------------------------------------------------------


@bp.route("/mine")
@requires(Permission.VIEW_SCORECARD)
def mine():  # type: ignore[no-untyped-def]
    if current_user.member_id is None:
        raise OutOfScope()
    return redirect(url_for("participation.latest", member_id=current_user.member_id))


@bp.route("/members/<int:member_id>")
@requires(Permission.VIEW_SCORECARD)
def latest(member_id: int):  # type: ignore[no-untyped-def]
    """The member's most recent year with a score."""
    db = get_session()
    ensure_member_scope(current_user, member_id)
    member = db.get(Member, member_id)
    if member is None:
        abort(404)
    year = db.scalar(
        select(ScoringScheme.year)
        .join(ParticipationScore, ParticipationScore.scheme_id == ScoringScheme.id)
        .where(ParticipationScore.member_id == member_id)
        .order_by(ScoringScheme.year.desc())
        .limit(1)
    )
    if year is None:
        return _render("participation/no_scores.html", member=member)
    return redirect(url_for("participation.scorecard", year=year, member_id=member_id))


def _evidence_links(card: queries.Scorecard) -> dict[tuple[EvidenceKind, int], str]:
    """Where each evidence item can be opened (records deleted since are not linked)."""
    group_ids = [
        item.item_id
        for items in card.evidence.values()
        for item in items
        if item.item_kind is EvidenceKind.GROUP
    ]
    slugs = (
        dict(
            get_session()
            .execute(
                select(WorkingGroup.id, WorkingGroup.slug).where(WorkingGroup.id.in_(group_ids))
            )
            .all()
        )
        if group_ids
        else {}
    )
    links: dict[tuple[EvidenceKind, int], str] = {}
    for items in card.evidence.values():
        for item in items:
            key = (item.item_kind, item.item_id)
            if item.item_kind is EvidenceKind.EVENT:
                links[key] = url_for("events.detail", event_id=item.item_id)
            elif item.item_kind is EvidenceKind.CYCLE:
                links[key] = url_for(
                    "submissions.form", cycle_id=item.item_id, member_id=card.member.id
                )
            elif item.item_kind is EvidenceKind.COMMITMENT:
                links[key] = url_for("commitments.detail", commitment_id=item.item_id)
            elif item.item_kind is EvidenceKind.GROUP and item.item_id in slugs:
                links[key] = url_for("groups.detail", group_slug=slugs[item.item_id])
            elif item.item_kind is EvidenceKind.EXCHANGE:
                links[key] = url_for("exchanges.detail", exchange_id=item.item_id)
            elif item.item_kind is EvidenceKind.FOLLOW_UP:
                links[key] = url_for("followups.detail", follow_up_id=item.item_id)
    return links


@bp.route("/<int:year>/members/<int:member_id>")
@requires(Permission.VIEW_SCORECARD)
def scorecard(year: int, member_id: int):  # type: ignore[no-untyped-def]
    db = get_session()
    ensure_member_scope(current_user, member_id)
    member = db.get(Member, member_id)
    if member is None:
        abort(404)
    scheme = _scheme_or_404(year)
    card = queries.scorecard(db, scheme, member)
    if card.score is None:
        abort(404)
    return _render(
        "participation/scorecard.html",
        card=card,
        scheme=scheme,
        links=_evidence_links(card),
        criteria_by_kind={criterion.kind: criterion for criterion in scheme.criteria},
        staff_view=is_staff(current_user),
        recognition_visible=is_staff(current_user)
        or services.settings(db).recognition_visible_to_members,
        Level=Level,
    )
