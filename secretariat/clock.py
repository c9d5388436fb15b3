"""The network's clock: its time zone and the calendar day it is there.

Deadlines and expiry dates are calendar days in the network's zone: a day ends at midnight
there, not at midnight UTC.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

from secretariat.db import utcnow


def network_zone() -> ZoneInfo:
    """The network's zone; UTC outside an application (e.g. in a bare script)."""
    return ZoneInfo(current_app.config["TIMEZONE"] if has_app_context() else "UTC")


def network_today(now: datetime | None = None) -> date:
    """The calendar day it is in the network's zone at ``now`` (default: this instant)."""
    return (now or utcnow()).astimezone(network_zone()).date()
