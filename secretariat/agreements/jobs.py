"""Scheduled jobs of the agreements (thin and idempotent: select due rows, act, mark)."""

from __future__ import annotations

from flask import Flask

from secretariat.agreements.services import record_expiries
from secretariat.db import get_db


def expire_agreements(app: Flask) -> int:
    """Record as expired the active agreements whose last day has passed; return how many."""
    with app.app_context(), get_db(app).transaction(immediate=True) as session:
        return len(record_expiries(session))
