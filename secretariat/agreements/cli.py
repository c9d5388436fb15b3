"""Commands of the agreements."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from secretariat.agreements.jobs import expire_agreements


@click.group("agreements")
def agreements() -> None:
    """Agreements: the daily expiry check."""


@agreements.command("expire")
@with_appcontext
def expire() -> None:
    """Record as expired every active agreement whose last day has passed (run daily)."""
    count = expire_agreements(current_app._get_current_object())  # type: ignore[attr-defined]
    click.echo(f"{count} agreement(s) recorded as expired.")
