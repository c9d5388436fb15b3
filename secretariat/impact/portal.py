"""The funder portal: the programmes a funder pays for, their published impact reports, and a
live summary of aggregated figures. Anything else answers with the uniform 404."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from secretariat.clock import network_today
from secretariat.db import get_session
from secretariat.forms import refuse_oversized_ids
from secretariat.funding.models import Grant, Programme
from secretariat.impact import queries, render
from secretariat.impact.forms import FORMATS
from secretariat.impact.models import ImpactReport, ImpactReportVersion
from secretariat.impact.views import download_version, send_story_image
from secretariat.permissions import Permission, can_see_programme, requires

bp = Blueprint("portal", __name__, url_prefix="/portal")
refuse_oversized_ids(bp)


def _funded() -> list[int]:
    return queries.funded_programme_ids(get_session(), current_user.funder_id)


def _programme_or_404(programme_id: int) -> Programme:
    """A programme the signed-in funder has a grant for."""
    session = get_session()
    funders = session.scalars(select(Grant.funder_id).where(Grant.programme_id == programme_id))
    if not can_see_programme(current_user, funders):
        abort(404)
    programme = session.scalar(
        select(Programme)
        .where(Programme.id == programme_id)
        .options(selectinload(Programme.grants).joinedload(Grant.funder))
    )
    if programme is None:
        abort(404)
    return programme


def _published(programme_ids: list[int]) -> list[ImpactReport]:
    """Reports of these programmes with at least one published version, newest period first."""
    if not programme_ids:
        return []
    has_version = select(ImpactReportVersion.report_id)
    return list(
        get_session().scalars(
            select(ImpactReport)
            .where(ImpactReport.programme_id.in_(programme_ids), ImpactReport.id.in_(has_version))
            .order_by(ImpactReport.period_end.desc(), ImpactReport.id)
            .options(selectinload(ImpactReport.versions))
        )
    )


def _summary(programme: Programme):  # type: ignore[no-untyped-def]
    today = network_today()
    end = min(today, programme.ends_on)
    if end < programme.starts_on:
        return None
    return queries.summary(get_session(), programme, programme.starts_on, end)


@bp.route("/")
@requires(Permission.VIEW_FUNDED_PROGRAMMES)
def index():  # type: ignore[no-untyped-def]
    session = get_session()
    ids = _funded()
    programmes = (
        list(
            session.scalars(
                select(Programme)
                .where(Programme.id.in_(ids))
                .order_by(Programme.ends_on.desc(), Programme.name)
                .options(selectinload(Programme.grants).joinedload(Grant.funder))
            )
        )
        if ids
        else []
    )
    reports = _published(ids)
    by_programme: dict[int, list[ImpactReport]] = {}
    for report in reports:
        by_programme.setdefault(report.programme_id, []).append(report)
    return render_template(
        "impact/portal/index.html",
        funder=current_user.funder,
        programmes=programmes,
        reports=by_programme,
    )


@bp.route("/programmes/<int:programme_id>")
@requires(Permission.VIEW_FUNDED_PROGRAMMES)
def programme(programme_id: int):  # type: ignore[no-untyped-def]
    programme = _programme_or_404(programme_id)
    return render_template(
        "impact/portal/programme.html",
        programme=programme,
        grants=[g for g in programme.grants if g.funder_id == current_user.funder_id],
        reports=_published([programme.id]),
        summary=_summary(programme),
        size_labels=queries.size_labels(),
        percent=render.percent,
    )


def _version_or_404(report_id: int, number: int) -> tuple[ImpactReport, ImpactReportVersion]:
    """A published version of a report of a programme the funder has a grant for."""
    report = get_session().scalar(
        select(ImpactReport)
        .where(ImpactReport.id == report_id)
        .options(selectinload(ImpactReport.versions), selectinload(ImpactReport.programme))
    )
    if report is None:
        abort(404)
    _programme_or_404(report.programme_id)
    version = report.version(number)
    if version is None:
        abort(404)
    return report, version


@bp.route("/reports/<int:report_id>/versions/<int:number>")
@requires(Permission.VIEW_FUNDED_PROGRAMMES)
def report(report_id: int, number: int):  # type: ignore[no-untyped-def]
    report, version = _version_or_404(report_id, number)

    def image_src(image: dict | None) -> str | None:
        if not image:
            return None
        return url_for(
            "portal.image", report_id=report.id, number=version.number, sha256=image["sha256"]
        )

    return render_template(
        "impact/portal/report.html",
        report=report,
        formats=FORMATS,
        latest=report.versions[-1],
        **render.body(
            version.snapshot,
            draft=False,
            figure_url=lambda key: None,
            image_src=image_src,
            version=version,
        ),
    )


@bp.route("/reports/<int:report_id>/versions/<int:number>/report.<fmt>")
@requires(Permission.VIEW_FUNDED_PROGRAMMES)
def download(report_id: int, number: int, fmt: str):  # type: ignore[no-untyped-def]
    report, version = _version_or_404(report_id, number)
    return download_version(report, version, fmt)


@bp.route("/reports/<int:report_id>/versions/<int:number>/images/<sha256>")
@requires(Permission.VIEW_FUNDED_PROGRAMMES)
def image(report_id: int, number: int, sha256: str):  # type: ignore[no-untyped-def]
    _report, version = _version_or_404(report_id, number)
    images = {
        story["image"]["sha256"]: story["image"]
        for story in version.snapshot.get("stories", [])
        if story.get("image")
    }
    return send_story_image(images.get(sha256), sha256)
