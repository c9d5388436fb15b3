"""`secretariat report impact`: an impact report from the command line, in any format."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from secretariat.db import get_db
from secretariat.funding.models import Programme
from secretariat.impact import render, services, snapshot
from secretariat.impact.forms import FORMATS
from secretariat.impact.models import ImpactReport
from secretariat.impact.periods import parse_period


@click.group("report")
def report() -> None:
    """Reports for funders."""


@report.command("impact")
@click.option("--programme", "slug", required=True, help="The programme's slug.")
@click.option("--period", required=True, help="A year (2026) or a half-year (2026-H1).")
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="pdf", show_default=True,
    help="pdf, html (one self-contained file) or xlsx (the data pack).",
)  # fmt: skip
@click.option(
    "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), required=True
)
@click.option("--version", "number", type=int, default=None, help="A published version number.")
@click.option("--draft", is_flag=True, help="Today's figures, even when a version is published.")
@with_appcontext
def impact(slug: str, period: str, fmt: str, output: Path, number: int | None, draft: bool) -> None:
    """Write a programme's impact report for a period.

    By default the latest published version (the same file funders download); without one,
    or with --draft, the figures as of today, marked as a draft.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    wanted = parse_period(period)
    if wanted is None:
        raise click.BadParameter(
            "use a year (2026) or a half-year (2026-H1, 2026-H2)", param_hint="--period"
        )
    with get_db(app).transaction() as session:
        programme = session.scalar(select(Programme).where(Programme.slug == slug))
        if programme is None:
            raise click.ClickException(f"No programme has the slug {slug!r}.")
        found = session.scalar(
            select(ImpactReport).where(
                ImpactReport.programme_id == programme.id, ImpactReport.period == wanted.label
            )
        )
        versions = found.versions if found is not None else []
        if number is not None:
            version = found.version(number) if found is not None else None
            if version is None:
                raise click.ClickException(f"The report has no version {number}.")
        else:
            version = versions[-1] if versions and not draft else None
        if version is not None:
            if fmt == "pdf":
                content = services.version_pdf(version)
            elif fmt == "xlsx":
                content = render.xlsx(version.snapshot)
            else:
                content = render.document(version.snapshot, draft=False, version=version).encode()
            what = f"version {version.number}, published {version.published_at:%Y-%m-%d}"
        else:
            loaded = snapshot.load_programme(session, programme.id)
            assert loaded is not None
            snap = snapshot.build(session, loaded, wanted, found)
            if fmt == "pdf":
                content = render.pdf(snap, draft=True)
            elif fmt == "xlsx":
                content = render.xlsx(snap)
            else:
                content = render.document(snap, draft=True).encode()
            what = "draft: today's figures, not published"
    output.write_bytes(content)
    click.echo(
        f"Wrote {output} ({fmt}, {len(content):,} bytes): {programme.name} {wanted.label}, {what}."
    )
