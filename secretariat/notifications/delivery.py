"""Outbox delivery: claim due rows, send them, mark them; at least once, never lost.

Each row goes through three short transactions: the claim (a conditional update, with
``SKIP LOCKED`` on PostgreSQL so that concurrent passes take different rows), the send, and
the mark. A process that dies between claim and mark leaves the row ``sending`` with a lease;
when the lease runs out the next pass claims it again. The message may then go out twice
(the server accepted it but we died before marking): delivery is at least once.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from secretariat.db import Database, utcnow
from secretariat.mail import Mailer, MailError, build_message
from secretariat.notifications.models import Notification, NotificationStatus
from secretariat.notifications.services import no_longer_wanted

log = logging.getLogger(__name__)

S = NotificationStatus

#: The first retry waits a minute, each next one twice as long, never more than six hours.
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)


def _deliverable(now: datetime):  # type: ignore[no-untyped-def]
    return or_(
        and_(Notification.status == S.QUEUED, Notification.next_attempt_at <= now),
        and_(Notification.status == S.SENDING, Notification.lease_until < now),
    )


def claim(session: Session, now: datetime, limit: int) -> tuple[str, list[int]]:
    """Take up to ``limit`` due rows for this pass; return the claim token and their ids."""
    token = uuid.uuid4().hex
    lease = timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])
    candidates = (
        select(Notification.id)
        .where(_deliverable(now))
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Lock the batch first, skipping rows another pass holds; a LIMIT subquery inside the
        # UPDATE may be evaluated more than once and take more rows than asked.
        chosen = list(session.scalars(candidates.with_for_update(skip_locked=True)))
        if not chosen:
            return token, []
        which = Notification.id.in_(chosen)
    else:
        # SQLite: one UPDATE statement is atomic (one writer at a time).
        which = Notification.id.in_(candidates.scalar_subquery())
    # The outer condition repeats the inner one: a row another pass claimed in between
    # no longer matches and is left alone (the conditional update is the claim).
    session.execute(
        update(Notification)
        .where(which, _deliverable(now))
        .values(
            status=S.SENDING,
            lease_until=now + lease,
            claim_token=token,
            attempts=Notification.attempts + 1,
            last_attempt_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Notification)
        .where(Notification.claim_token == token, Notification.first_attempt_at.is_(None))
        .values(first_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    ids = list(
        session.scalars(
            select(Notification.id)
            .where(Notification.claim_token == token)
            .order_by(Notification.next_attempt_at, Notification.id)
        )
    )
    return token, ids


@dataclass
class DeliveryResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0

    def __str__(self) -> str:
        return (
            f"{self.sent} sent, {self.retrying} to retry, {self.failed} failed, "
            f"{self.cancelled} no longer needed"
        )

    def add(self, other: DeliveryResult) -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.cancelled += other.cancelled


def _mark(session: Session, notification_id: int, token: str, **values: object) -> bool:
    """Record the outcome if the claim is still ours (a lease that ran out may have moved)."""
    result = session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.claim_token == token)
        .values(lease_until=None, claim_token=None, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _failure(notification: Notification, error: MailError, now: datetime) -> dict:
    retry_for = timedelta(hours=current_app.config["OUTBOX_RETRY_HOURS"])
    started = notification.first_attempt_at or now
    if error.permanent:
        return {
            "status": S.FAILED,
            "last_error": str(error),
            "reason": _("The mail server refused the message for good."),
        }
    if now - started >= retry_for:
        return {
            "status": S.FAILED,
            "last_error": str(error),
            "reason": _(
                "Still failing after %(hours)s hours of retries.",
                hours=current_app.config["OUTBOX_RETRY_HOURS"],
            ),
        }
    return {
        "status": S.QUEUED,
        "last_error": str(error),
        "next_attempt_at": now + backoff(notification.attempts),
    }


def _renew(session: Session, notification_id: int, token: str, until: datetime) -> bool:
    """Extend our claim on a row before sending it; False when another pass took it over."""
    result = session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.claim_token == token)
        .values(lease_until=until)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def deliver_batch(db: Database, now: datetime | None = None) -> DeliveryResult:
    """Claim one batch of due rows and send them; return what happened."""
    at = now or utcnow()
    started = time.monotonic()
    lease = timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])
    result = DeliveryResult()
    with db.transaction(immediate=True) as session:
        token, ids = claim(session, at, current_app.config["OUTBOX_BATCH_SIZE"])
    if not ids:
        return result
    with db.transaction() as session:
        rows = list(
            session.scalars(
                select(Notification)
                .where(Notification.id.in_(ids))
                .order_by(Notification.next_attempt_at, Notification.id)
            )
        )
        gone = no_longer_wanted(session, [n for n in rows if n.subject_kind != "digest"], at)
        for notification in rows:
            session.expunge(notification)
    connection_error: MailError | None = None
    with Mailer() as mailer:
        for notification in rows:
            # The pass's clock: ``at`` plus the time the batch has taken so far.
            moment = at + timedelta(seconds=time.monotonic() - started)
            with db.transaction(immediate=True) as session:
                ours = _renew(session, notification.id, token, moment + lease)
            if not ours:
                log.warning("notification %s: claim taken over by another pass", notification.id)
                continue
            # Outcomes are dated at the batch's instant: retries wait from the pass's start.
            outcome = _attempt(mailer, notification, gone, connection_error, at)
            if outcome.pop("connection_error", None) is not None:
                connection_error = outcome.pop("error")
            outcome.pop("error", None)
            if outcome["status"] is S.SENT:
                result.sent += 1
            elif outcome["status"] is S.FAILED:
                result.failed += 1
            elif outcome["status"] is S.QUEUED:
                result.retrying += 1
            else:
                result.cancelled += 1
            with db.transaction(immediate=True) as session:
                if not _mark(session, notification.id, token, **outcome):
                    log.warning(
                        "notification %s: claim lost before marking (lease ran out); "
                        "it may be sent again",
                        notification.id,
                    )
    return result


def _attempt(
    mailer: Mailer,
    notification: Notification,
    gone: dict[int, str],
    connection_error: MailError | None,
    moment: datetime,
) -> dict:
    """Send one claimed row (or not) and return the values that record the outcome."""
    if notification.id in gone:
        return {"status": S.CANCELLED, "reason": gone[notification.id]}
    if connection_error is not None:
        # The server is unreachable: the rest of the batch waits like the first.
        return _failure(notification, connection_error, moment)
    try:
        message = build_message(
            _address(notification),
            notification.subject,
            notification.body_text,
            notification.body_html,
            headers=_headers(notification),
        )
        mailer.send(message)
    except MailError as error:
        log.warning("delivery of notification %s failed: %s", notification.id, error)
        outcome = _failure(notification, error, moment)
        if error.connection:
            outcome.update(connection_error=True, error=error)
        return outcome
    except Exception as exc:  # noqa: BLE001 - one bad row (a full disk...) must not stall the rest
        log.exception("delivery of notification %s failed", notification.id)
        return _failure(notification, MailError(f"{type(exc).__name__}: {exc}"), moment)
    return {
        "status": S.SENT,
        "sent_at": moment,
        "message_id": message["Message-ID"],
        "last_error": None,
    }


def deliver(db: Database, now: datetime | None = None, batches: int = 20) -> DeliveryResult:
    """Send what is due, batch after batch, until nothing is left (or ``batches`` ran)."""
    total = DeliveryResult()
    for _round in range(batches):
        result = deliver_batch(db, now)
        total.add(result)
        if result.sent + result.retrying + result.failed + result.cancelled == 0:
            break
        if result.retrying and not result.sent:
            break  # the server is down: wait for the next pass
    return total


def _address(notification: Notification) -> str:
    name = notification.recipient_name
    if not name:
        return notification.recipient_email
    try:
        return str(Address(display_name=name, addr_spec=notification.recipient_email))
    except (ValueError, IndexError):
        return notification.recipient_email


def _headers(notification: Notification) -> dict:
    headers = {
        "Auto-Submitted": "auto-generated",
        "X-Secretariat-Notification": str(notification.id),
    }
    if notification.language:
        headers["Content-Language"] = notification.language
    return headers
