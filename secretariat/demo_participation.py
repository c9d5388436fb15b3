"""Demo participation: last year measured and finalised, this year provisional."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from secretariat.accounts.models import User
from secretariat.participation import services


def load_participation(session: Session, staff: User, today: date) -> dict[str, int]:
    """Measure last year (finalised) and this year (provisional) if not done yet."""
    added = 0
    for year, final in ((today.year - 1, True), (today.year, False)):
        if services.scheme_for_year(session, year) is not None:
            continue
        scheme = services.create_scheme(session, staff, year)
        services.compute(session, staff, scheme)
        if final:
            services.finalise(session, staff, scheme)
        added += 1
    return {"participation_years_added": added}
