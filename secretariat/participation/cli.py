"""Commands of participation measurement."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from secretariat.clock import network_today
from secretariat.db import get_db
from secretariat.members.services import ValidationFailed
from secretariat.participation import services
from secretariat.participation.jobs import refresh_provisional_scores


@click.group("participation")
def participation() -> None:
    """Participation scores: compute a year, or refresh the provisional ones."""


@participation.command("compute")
@click.option("--year", type=int, default=None, help="The year to measure (default: this year).")
@with_appcontext
def compute(year: int | None) -> None:
    """Compute a year's provisional scores (creating its scheme from the last year's if needed).

    A finalised year is refused: reopen it in the browser, with a reason, first.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    year = year or network_today().year
    with get_db(app).transaction() as session:
        scheme = services.scheme_for_year(session, year)
        try:
            if scheme is None:
                scheme = services.create_scheme(session, None, year)
                click.echo(f"Created the {year} scheme from the last year's (or the defaults).")
            result = services.compute(session, None, scheme)
        except services.SchemeError as exc:
            raise click.ClickException(exc.message) from exc
        except ValidationFailed as exc:
            raise click.ClickException("; ".join(exc.errors.values())) from exc
    click.echo(
        f"{year}: {result.members} member(s) measured, {result.scored} with a score, "
        f"{result.evidence} evidence record(s)."
    )


@participation.command("refresh")
@with_appcontext
def refresh() -> None:
    """Compute again this year's and last year's provisional scores (run nightly)."""
    years = refresh_provisional_scores(current_app._get_current_object())  # type: ignore[attr-defined]
    if years:
        click.echo("Computed: " + ", ".join(str(year) for year in years) + ".")
    else:
        click.echo("No provisional year to compute.")
