"""Scheduled jobs of reminders and the outbox (thin and idempotent: select due rows, act, mark)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from flask import Flask

from secretariat.db import get_db
from secretariat.notifications.delivery import DeliveryResult, deliver
from secretariat.notifications.services import DigestResult, ScanResult, compose_digests, scan


@contextmanager
def job_context(app: Flask) -> Iterator[None]:
    """An app context with a request context on BASE_URL, so messages get absolute links."""
    with app.app_context(), app.test_request_context("/", base_url=app.config["BASE_URL"]):
        yield


def scan_reminders(app: Flask, now: datetime | None = None) -> ScanResult:
    """Queue every reminder due now or overdue and not yet queued (every 15 minutes)."""
    with job_context(app), get_db(app).transaction(immediate=True) as session:
        return scan(session, now)


def deliver_outbox(app: Flask, now: datetime | None = None) -> DeliveryResult:
    """Send the queued messages that are due, retrying failures with backoff (every minute)."""
    with job_context(app):
        return deliver(get_db(app), now)


def weekly_digest(app: Flask, now: datetime | None = None) -> DigestResult:
    """Bundle the week's held reminders into one digest per person (Monday morning)."""
    with job_context(app), get_db(app).transaction(immediate=True) as session:
        return compose_digests(session, now)
