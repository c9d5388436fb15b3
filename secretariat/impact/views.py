"""Staff pages of impact reports: list, create, write, publish, reissue, and every figure's
records."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from secretariat.accounts.forms import ConfirmForm
from secretariat.db import get_session
from secretariat.forms import flash_errors, refuse_oversized_ids, row_id, show_errors
from secretariat.funding.models import Programme
from secretariat.impact import queries, render, services, snapshot
from secretariat.impact.forms import (
    FORMATS,
    NewReportForm,
    PublishForm,
    ReportTextForm,
    template_labels,
)
from secretariat.impact.models import (
    ImpactReport,
    ImpactReportStory,
    ImpactReportVersion,
    ReportStatus,
)
from secretariat.impact.periods import Period, parse_period
from secretariat.members.models import Member
from secretariat.permissions import Permission, requires
from secretariat.stories import images
from secretariat.stories.models import Story

bp = Blueprint("impact", __name__, url_prefix="/impact")
refuse_oversized_ids(bp)

#: Where each kind of record in a figure's list links to on staff pages.
RECORD_LINKS = {
    "member": ("members.detail", "slug"),
    "event": ("events.detail", "event_id"),
    "exchange": ("exchanges.detail", "exchange_id"),
    "agreement": ("agreements.detail", "agreement_id"),
    "partner": ("partners.detail", "partner_id"),
    "commitment": ("commitments.detail", "commitment_id"),
}


def _report_or_404(report_id: int) -> ImpactReport:
    report = get_session().scalar(
        select(ImpactReport)
        .where(ImpactReport.id == report_id)
        .options(selectinload(ImpactReport.versions), selectinload(ImpactReport.programme))
    )
    if report is None:
        abort(404)
    return report


def _version_or_404(report: ImpactReport, number: int | None) -> ImpactReportVersion:
    version = report.version(number)
    if version is None:
        abort(404)
    return version


@bp.route("/")
@requires(Permission.MANAGE_IMPACT_REPORTS)
def index():  # type: ignore[no-untyped-def]
    session = get_session()
    slug = request.args.get("programme", "")[:100]
    programme = session.scalar(select(Programme).where(Programme.slug == slug)) if slug else None
    versions = (
        select(
            ImpactReportVersion.report_id,
            func.count(ImpactReportVersion.id).label("count"),
            func.max(ImpactReportVersion.published_at).label("last"),
        )
        .group_by(ImpactReportVersion.report_id)
        .subquery()
    )
    stmt = (
        select(ImpactReport, Programme.name, versions.c.count, versions.c.last)
        .join(Programme, Programme.id == ImpactReport.programme_id)
        .outerjoin(versions, versions.c.report_id == ImpactReport.id)
        .order_by(ImpactReport.period_end.desc(), Programme.name, ImpactReport.id)
    )
    if programme is not None:
        stmt = stmt.where(ImpactReport.programme_id == programme.id)
    rows = session.execute(stmt).all()
    programmes = session.execute(select(Programme.slug, Programme.name).order_by(Programme.name))
    return render_template(
        "impact/index.html",
        rows=rows,
        programme=programme,
        programmes=list(programmes),
        **template_labels(),
    )


def _programme_choices() -> list[tuple[str, str]]:
    rows = get_session().execute(select(Programme.id, Programme.name).order_by(Programme.name))
    return [("", _("Choose a programme"))] + [(str(pid), name) for pid, name in rows]


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_IMPACT_REPORTS)
def new():  # type: ignore[no-untyped-def]
    session = get_session()
    form = NewReportForm()
    form.programme_id.choices = _programme_choices()
    if request.method == "GET" and request.args.get("programme"):
        chosen = session.scalar(
            select(Programme.id).where(Programme.slug == request.args["programme"][:100])
        )
        form.programme_id.data = str(chosen or "")
    if form.validate_on_submit():
        try:
            report = services.create_report(
                session,
                current_user,
                row_id(form.programme_id.data),
                form.period.data,
                form.title.data,
            )
        except services.ReportError as exc:
            show_errors(form, exc.errors)
        else:
            flash(_("The draft report is created: write its introduction and choose its stories."),
                  "success")  # fmt: skip
            return redirect(url_for("impact.detail", report_id=report.id))
    return render_template("impact/new.html", form=form)


def _figure_url(report: ImpactReport, version: ImpactReportVersion | None):  # type: ignore[no-untyped-def]
    def url(key: str) -> str:
        args: dict[str, Any] = {"report_id": report.id, "key": key}
        if version is not None:
            args["version"] = version.number
        return url_for("impact.figure", **args)

    return url


def _image_url(report: ImpactReport):  # type: ignore[no-untyped-def]
    def src(image: dict | None) -> str | None:
        if not image:
            return None
        return url_for("impact.image", report_id=report.id, sha256=image["sha256"])

    return src


@bp.route("/<int:report_id>")
@requires(Permission.MANAGE_IMPACT_REPORTS)
def detail(report_id: int):  # type: ignore[no-untyped-def]
    report = _report_or_404(report_id)
    if report.status is ReportStatus.DRAFT:
        return _render_report(report, None)
    return _render_report(report, report.versions[-1])


@bp.route("/<int:report_id>/versions/<int:number>")
@requires(Permission.MANAGE_IMPACT_REPORTS)
def version(report_id: int, number: int):  # type: ignore[no-untyped-def]
    report = _report_or_404(report_id)
    return _render_report(report, _version_or_404(report, number))


def _render_report(report: ImpactReport, version: ImpactReportVersion | None) -> str:
    session = get_session()
    if version is None:
        snap = snapshot.for_report(session, report)
    else:
        snap = version.snapshot
    return render_template(
        "impact/detail.html",
        report=report,
        publish_form=PublishForm(),
        confirm=ConfirmForm(),
        formats=FORMATS,
        **render.body(
            snap,
            draft=version is None,
            figure_url=_figure_url(report, version),
            image_src=_image_url(report),
            version=version,
        ),
        **template_labels(),
    )


@bp.route("/<int:report_id>/edit", methods=["GET", "POST"])
@requires(Permission.MANAGE_IMPACT_REPORTS)
def edit(report_id: int):  # type: ignore[no-untyped-def]
    session = get_session()
    report = _report_or_404(report_id)
    if report.status is not ReportStatus.DRAFT:
        flash(_("The report is published: issue a new version to change it."), "error")
        return redirect(url_for("impact.detail", report_id=report.id))
    chosen = session.scalars(
        select(ImpactReportStory)
        .where(ImpactReportStory.report_id == report.id)
        .order_by(ImpactReportStory.position)
        .options(selectinload(ImpactReportStory.story))
    ).all()
    stories = {story.id: story for story in services.choosable_stories(session, report)}
    for link in chosen:
        stories.setdefault(link.story_id, link.story)
    form = ReportTextForm(obj=report if request.method == "GET" else None)
    form.story_ids.choices = [(story.id, story.title) for story in stories.values()]
    if request.method == "GET":
        form.story_ids.data = [link.story_id for link in chosen]
    if form.validate_on_submit():
        data = services.ReportText(
            title=form.title.data or "",
            introduction=form.introduction.data,
            story_ids=_ordered(form.story_ids.data or [], [link.story_id for link in chosen]),
        )
        try:
            services.update_report(session, current_user, report, data)
        except services.ReportError as exc:
            show_errors(form, exc.errors)
        else:
            flash(_("The draft is saved."), "success")
            return redirect(url_for("impact.detail", report_id=report.id))
    return render_template(
        "impact/edit.html", form=form, report=report, stories=stories, **template_labels()
    )


def _ordered(wanted: list[int], current: list[int]) -> list[int]:
    """Stories already chosen keep their place; newly ticked ones follow in the list's order."""
    return [sid for sid in current if sid in wanted] + [sid for sid in wanted if sid not in current]


def _act(report: ImpactReport, action, success: str):  # type: ignore[no-untyped-def]
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        action()
    except services.ReportError as exc:
        flash_errors(exc.errors)
    else:
        flash(success, "success")
    return redirect(url_for("impact.detail", report_id=report.id))


@bp.route("/<int:report_id>/publish", methods=["POST"])
@requires(Permission.MANAGE_IMPACT_REPORTS)
def publish(report_id: int):  # type: ignore[no-untyped-def]
    report = _report_or_404(report_id)
    form = PublishForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        version = services.publish(get_session(), current_user, report, form.change_note.data)
    except services.ReportError as exc:
        flash_errors(exc.errors)
        return redirect(url_for("impact.detail", report_id=report.id))
    flash(_("Version %(n)s is published: the programme's funders can now read it.",
            n=version.number), "success")  # fmt: skip
    return redirect(url_for("impact.detail", report_id=report.id))


@bp.route("/<int:report_id>/new-version", methods=["POST"])
@requires(Permission.MANAGE_IMPACT_REPORTS)
def new_version(report_id: int):  # type: ignore[no-untyped-def]
    report = _report_or_404(report_id)
    return _act(
        report,
        lambda: services.start_new_version(get_session(), current_user, report),
        _(
            "A new version is in preparation; funders keep seeing the published one until you "
            "publish it."
        ),  # fmt: skip
    )


@bp.route("/<int:report_id>/abandon", methods=["POST"])
@requires(Permission.MANAGE_IMPACT_REPORTS)
def abandon(report_id: int):  # type: ignore[no-untyped-def]
    report = _report_or_404(report_id)
    return _act(
        report,
        lambda: services.abandon_new_version(get_session(), current_user, report),
        _("The new version is dropped; the published version stays current."),
    )


@bp.route("/<int:report_id>/delete", methods=["POST"])
@requires(Permission.MANAGE_IMPACT_REPORTS)
def delete(report_id: int):  # type: ignore[no-untyped-def]
    report = _report_or_404(report_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    title = report.title
    try:
        services.delete_report(get_session(), current_user, report)
    except services.ReportError as exc:
        flash_errors(exc.errors)
        return redirect(url_for("impact.detail", report_id=report.id))
    flash(_("The draft “%(title)s” is deleted.", title=title), "success")
    return redirect(url_for("impact.index"))


@bp.route("/<int:report_id>/figures/<key>")
@requires(Permission.MANAGE_IMPACT_REPORTS)
def figure(report_id: int, key: str):  # type: ignore[no-untyped-def]
    """The records a figure counts: those frozen in a version, or today's for a draft."""
    session = get_session()
    report = _report_or_404(report_id)
    titles = queries.list_titles()
    if key not in titles:
        abort(404)
    number = row_id(request.args.get("version"))
    version = _version_or_404(report, number) if request.args.get("version") else None
    if version is not None:
        ids = version.snapshot.get("lists", {}).get(key, [])
    else:
        programme = snapshot.load_programme(session, report.programme_id)
        assert programme is not None
        period = report_period(report)
        ids = queries.figures(session, programme, queries.scope_of(session, programme, period))[
            "lists"
        ][key]
    headings, rows = queries.records(session, key, ids)
    slugs = _member_slugs(session, [r.id for r in rows if r.kind == "member"])
    return render_template(
        "impact/figure.html",
        report=report,
        version=version,
        title=titles[key],
        headings=headings,
        rows=rows,
        missing=len(ids) - len(rows),
        link=lambda record: _record_url(record, slugs),
    )


def report_period(report: ImpactReport) -> Period:
    period = parse_period(report.period)
    assert period is not None
    return period


def _member_slugs(session, ids: list[int]) -> dict[int, str]:  # type: ignore[no-untyped-def]
    if not ids:
        return {}
    return dict(session.execute(select(Member.id, Member.slug).where(Member.id.in_(ids))).all())


def _record_url(record: queries.Record, slugs: dict[int, str]) -> str | None:
    endpoint, argument = RECORD_LINKS[record.kind]
    if argument == "slug":
        slug = slugs.get(record.id)
        return url_for(endpoint, slug=slug) if slug else None
    return url_for(endpoint, **{argument: record.id})


@bp.route("/<int:report_id>/images/<sha256>")
@requires(Permission.MANAGE_IMPACT_REPORTS)
def image(report_id: int, sha256: str):  # type: ignore[no-untyped-def]
    report = _report_or_404(report_id)
    known = {
        story["image"]["sha256"]: story["image"]
        for version in report.versions
        for story in version.snapshot.get("stories", [])
        if story.get("image")
    }
    for sha, image_type in get_session().execute(
        select(Story.image_sha256, Story.image_type)
        .join(ImpactReportStory, ImpactReportStory.story_id == Story.id)
        .where(ImpactReportStory.report_id == report.id, Story.image_sha256.is_not(None))
    ):
        known.setdefault(sha, {"type": image_type})
    return send_story_image(known.get(sha256), sha256)


def send_story_image(image: dict | None, sha256: str) -> Response:
    """A story image a report shows (404 for any other)."""
    if image is None:
        abort(404)
    content = render.image_bytes(sha256)
    mime = images.MEDIA_TYPES.get(image.get("type") or "")
    if content is None or mime is None:
        abort(404)
    response = Response(content, mimetype=mime)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.route("/<int:report_id>/draft.<fmt>")
@requires(Permission.MANAGE_IMPACT_REPORTS)
def draft_download(report_id: int, fmt: str):  # type: ignore[no-untyped-def]
    report = _report_or_404(report_id)
    if fmt not in FORMATS or report.status is not ReportStatus.DRAFT:
        abort(404)
    snap = snapshot.for_report(get_session(), report)
    return download(snap, fmt, f"{report.programme.slug}-{report.period}-draft", draft=True)


@bp.route("/<int:report_id>/versions/<int:number>/report.<fmt>")
@requires(Permission.MANAGE_IMPACT_REPORTS)
def version_download(report_id: int, number: int, fmt: str):  # type: ignore[no-untyped-def]
    report = _report_or_404(report_id)
    version = _version_or_404(report, number)
    return download_version(report, version, fmt)


def download_version(report: ImpactReport, version: ImpactReportVersion, fmt: str) -> Response:
    """A published version in one of the formats (the PDF from its cache)."""
    if fmt not in FORMATS:
        abort(404)
    name = f"{report.programme.slug}-{report.period}-v{version.number}"
    if fmt == "pdf":
        return _file(services.version_pdf(version), "pdf", name)
    return download(version.snapshot, fmt, name, draft=False, version=version)


def download(snap: dict, fmt: str, name: str, *, draft: bool, version: Any = None) -> Response:
    if fmt == "pdf":
        return _file(render.pdf(snap, draft=draft, version=version), fmt, name)
    if fmt == "xlsx":
        return _file(render.xlsx(snap), fmt, name)
    return _file(render.document(snap, draft=draft, version=version).encode("utf-8"), fmt, name)


_MIME = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
}


def _file(content: bytes, fmt: str, name: str) -> Response:
    response = Response(content, mimetype=_MIME[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
