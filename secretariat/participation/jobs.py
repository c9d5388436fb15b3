"""Scheduled jobs of participation measurement (thin and idempotent)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from secretariat.clock import network_today
from secretariat.db import get_db
from secretariat.participation.models import SchemeState, ScoringScheme
from secretariat.participation.services import compute


def refresh_provisional_scores(app: Flask) -> list[int]:
    """Compute again the provisional scores of this year and the last (run nightly).

    Last year stays provisional until staff finalise it, while late reports still come in.
    Finalised years are left alone. Returns the years computed.
    """
    with app.app_context(), get_db(app).transaction(immediate=True) as session:
        year = network_today().year
        schemes = session.scalars(
            select(ScoringScheme)
            .where(
                ScoringScheme.state == SchemeState.PROVISIONAL,
                ScoringScheme.year.in_([year - 1, year]),
            )
            .order_by(ScoringScheme.year)
        ).all()
        for scheme in schemes:
            compute(session, None, scheme)
        return [scheme.year for scheme in schemes]
