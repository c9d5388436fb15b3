"""Outbox delivery over a real SMTP server: outages, leases, retries, refusals and digests."""

from __future__ import annotations

import email
import socket
from datetime import timedelta
from email.utils import parseaddr

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from secretariat.db import get_db
from secretariat.followups.models import FollowUpStatus
from secretariat.notifications import services
from secretariat.notifications.delivery import backoff, claim
from secretariat.notifications.models import (
    Category,
    DeliveryMode,
    Notification,
    NotificationStatus,
    ReminderRule,
    RuleKind,
)
from tests.factories import UserFactory
from tests.followups.factories import FollowUpFactory
from tests.notifications.conftest import LONG_AGO, at, html_of, text_of

S = NotificationStatus


@pytest.fixture
def due_follow_ups(db, base_day):
    """Three follow-ups due on ``base_day`` for three owners; only the "due today" rule on."""
    for rule in db.scalars(select(ReminderRule)):
        rule.enabled = (rule.kind, rule.offset_days) == (RuleKind.FOLLOW_UP_DUE, 0)
    owners = [UserFactory(email=f"owner{n}@example.org") for n in range(3)]
    items = [
        FollowUpFactory(owner=o, due_on=base_day, created_at=LONG_AGO, title=f"Task {n}")
        for n, o in enumerate(owners)
    ]
    db.flush()
    return items


def dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_smtp_down_keeps_messages_queued_then_delivers_each_once(
    app, db, run, mailbox, base_day, due_follow_ups
):
    working = app.config["SMTP_URL"]
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{dead_port()}"
    now = at(base_day, 9)
    run.scan(now)
    result = run.deliver(now)
    assert (result.sent, result.retrying, result.failed) == (0, 3, 0)
    assert mailbox.messages == []
    queued = run.notifications()
    assert {n.status for n in queued} == {S.QUEUED}
    assert {n.attempts for n in queued} == {1}
    assert {n.next_attempt_at for n in queued} == {now + timedelta(minutes=1)}
    assert all("cannot reach" in n.last_error for n in queued)

    # Still down a minute later: the second attempt waits twice as long.
    run.deliver(now + timedelta(minutes=1))
    assert {n.attempts for n in run.notifications()} == {2}
    assert {n.next_attempt_at for n in run.notifications()} == {now + timedelta(minutes=3)}
    # Not due yet: nothing is tried.
    assert run.deliver(now + timedelta(minutes=2)).retrying == 0

    app.config["SMTP_URL"] = working
    result = run.deliver(now + timedelta(minutes=3))
    assert result.sent == 3
    for n in range(3):
        assert len(mailbox.to(f"owner{n}@example.org")) == 1
    assert {n.status for n in run.notifications()} == {S.SENT}
    assert all(n.last_error is None and n.sent_at for n in run.notifications())
    # Nothing is sent twice by later passes or scans.
    run.cycle(now + timedelta(minutes=4))
    run.cycle(now + timedelta(hours=2))
    assert len(mailbox.messages) == 3


def test_failing_for_a_day_marks_failed_and_an_admin_retry_sends_it(
    app, db, run, mailbox, base_day, due_follow_ups
):
    working = app.config["SMTP_URL"]
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{dead_port()}"
    start = at(base_day, 9)
    run.scan(start)
    moment, attempts = start, 0
    while moment < start + timedelta(hours=30):
        run.deliver(moment)
        attempts += 1
        if {n.status for n in run.notifications()} == {S.FAILED}:
            break
        moment = min(n.next_attempt_at for n in run.notifications())
    failed = run.notifications()
    assert {n.status for n in failed} == {S.FAILED}
    assert start + timedelta(hours=24) <= moment < start + timedelta(hours=30)
    assert 10 <= attempts <= 16  # exponential, not one try a minute
    assert "24 hours" in failed[0].reason

    app.config["SMTP_URL"] = working
    admin = UserFactory(admin=True)
    services.retry(db, admin, failed[0], now=moment)
    assert services.retry_all_failed(db, admin, now=moment) == 2
    db.flush()
    assert run.deliver(moment).sent == 3
    assert len(mailbox.messages) == 3
    with pytest.raises(services.RuleError):
        services.retry(db, admin, run.notifications()[0])  # sent: nothing to retry


def test_backoff_doubles_up_to_six_hours():
    assert [backoff(n) for n in (1, 2, 3)] == [timedelta(minutes=m) for m in (1, 2, 4)]
    assert backoff(20) == timedelta(hours=6)


def test_a_claim_abandoned_mid_delivery_is_retried_after_the_lease(
    app, db, run, mailbox, base_day, due_follow_ups
):
    now = at(base_day, 9)
    run.scan(now)
    # A delivery pass claims the rows and dies before sending (or before marking).
    with get_db(app).transaction() as session:
        _token, ids = claim(session, now, 10)
    assert len(ids) == 3
    db.expire_all()
    assert {n.status for n in run.notifications()} == {S.SENDING}
    # Within the lease (5 minutes) no other pass touches them.
    assert run.deliver(now + timedelta(minutes=4)).sent == 0
    assert mailbox.messages == []
    result = run.deliver(now + timedelta(minutes=5, seconds=1))
    assert result.sent == 3
    assert len(mailbox.messages) == 3
    assert {n.attempts for n in run.notifications()} == {2}
    assert run.deliver(now + timedelta(minutes=20)).sent == 0


def test_a_claim_taken_over_after_its_lease_is_not_marked_by_the_slow_pass(
    app, db, run, mailbox, base_day, due_follow_ups
):
    from secretariat.notifications.delivery import _mark

    now = at(base_day, 9)
    run.scan(now)
    with get_db(app).transaction() as session:
        slow_token, ids = claim(session, now, 10)
    run.deliver(now + timedelta(minutes=6))  # took over and sent them
    with get_db(app).transaction() as session:
        assert not _mark(session, ids[0], slow_token, status=S.QUEUED)
    db.expire_all()
    assert {n.status for n in run.notifications()} == {S.SENT}


def test_two_passes_claim_different_rows(app, db, run, base_day, due_follow_ups):
    now = at(base_day, 9)
    run.scan(now)
    with get_db(app).transaction() as session:
        first_token, first = claim(session, now, 2)
    with get_db(app).transaction() as session:
        second_token, second = claim(session, now, 2)
    assert len(first) == 2 and len(second) == 1
    assert not set(first) & set(second)
    assert first_token != second_token


class _Refusing:
    """An SMTP server that refuses one address for good and another for now."""

    def __init__(self) -> None:
        self.received: list = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.startswith("owner0@"):
            return "550 5.1.1 No such user"
        if address.startswith("owner1@"):
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.received.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted"


def test_a_permanent_refusal_fails_at_once_and_a_temporary_one_retries(
    app, db, run, base_day, due_follow_ups
):
    handler = _Refusing()
    port = dead_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"
        now = at(base_day, 9)
        run.scan(now)
        result = run.deliver(now)
    finally:
        controller.stop()
    assert (result.sent, result.retrying, result.failed) == (1, 1, 1)
    by_owner = {n.recipient_email: n for n in run.notifications()}
    assert by_owner["owner0@example.org"].status is S.FAILED
    assert "550" in by_owner["owner0@example.org"].last_error
    assert "refused the message for good" in by_owner["owner0@example.org"].reason
    assert by_owner["owner1@example.org"].status is S.QUEUED
    assert by_owner["owner2@example.org"].status is S.SENT
    assert [parseaddr(m["To"])[1] for m in handler.received] == ["owner2@example.org"]


def test_message_has_text_and_html_parts_and_headers(
    app, db, run, mailbox, base_day, due_follow_ups
):
    run.cycle(at(base_day, 9))
    message = mailbox.to("owner0@example.org")[0]
    assert message.get_content_type() == "multipart/alternative"
    assert message["Auto-Submitted"] == "auto-generated"
    assert (
        message["Message-ID"]
        == run.notifications(recipient_email="owner0@example.org")[0].message_id
    )
    text, html = text_of(message), html_of(message)
    link = f"http://localhost/follow-ups/{due_follow_ups[0].id}"
    assert link in text and f'href="{link}"' in html
    assert "/notifications/preferences/" in text and "/notifications/preferences/" in html


def test_titles_are_escaped_in_the_html_part(db, run, mailbox, base_day, due_follow_ups):
    due_follow_ups[0].title = "<script>alert(1)</script>"
    db.flush()
    run.cycle(at(base_day, 9))
    html = html_of(mailbox.to("owner0@example.org")[0])
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_without_smtp_messages_are_written_as_eml_files(
    app, db, run, mailbox, base_day, due_follow_ups, tmp_path
):
    app.config["SMTP_URL"] = None
    run.cycle(at(base_day, 9))
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 3
    parsed = [email.message_from_bytes(f.read_bytes()) for f in files]
    assert sorted(parseaddr(m["To"])[1] for m in parsed) == [
        f"owner{n}@example.org" for n in range(3)
    ]
    assert mailbox.messages == []
    assert {n.status for n in run.notifications()} == {S.SENT}


def test_a_follow_up_done_before_delivery_is_cancelled_not_sent(
    db, run, mailbox, base_day, due_follow_ups
):
    run.scan(at(base_day, 9))
    due_follow_ups[1].status = FollowUpStatus.DONE
    db.flush()
    result = run.deliver(at(base_day, 9))
    assert (result.sent, result.cancelled) == (2, 1)
    assert mailbox.to("owner1@example.org") == []
    cancelled = run.notifications(status=S.CANCELLED)
    assert [n.recipient_email for n in cancelled] == ["owner1@example.org"]
    assert "done" in cancelled[0].reason


# --- the weekly digest ----------------------------------------------------------------------


def test_the_weekly_digest_bundles_held_reminders_once(db, run, mailbox, base_day, due_follow_ups):
    second = FollowUpFactory(
        owner=due_follow_ups[0].owner,
        due_on=base_day + timedelta(days=1),
        created_at=LONG_AGO,
        title="Task later",
    )
    for email_address in ("owner0@example.org", "owner1@example.org"):
        services.set_preferences(
            db, email_address, {Category.FOLLOW_UPS: DeliveryMode.DIGEST}, [Category.FOLLOW_UPS]
        )
    run.cycle(at(base_day, 9))  # Wednesday
    run.cycle(at(base_day + timedelta(days=1), 9))
    assert [parseaddr(m["To"])[1] for m in mailbox.messages] == ["owner2@example.org"]
    # owner1's follow-up is done before Monday: it drops out of the digest.
    due_follow_ups[1].status = FollowUpStatus.DONE
    db.flush()

    monday = base_day + timedelta(days=5)
    assert monday.weekday() == 0
    assert run.digest(at(monday, 7, 59)).digests == 0  # before Monday 08:00 it is last week's
    result = run.digest(at(monday, 8))
    assert (result.digests, result.items, result.cancelled) == (1, 2, 1)
    run.deliver(at(monday, 8, 1))
    (digest,) = mailbox.to("owner0@example.org")
    assert digest["Subject"] == "Your weekly summary: 2 reminders"
    body = text_of(digest)
    assert "Due today: Task 0" in body and "Due today: Task later" in body
    assert f"/follow-ups/{second.id}" in body
    assert mailbox.to("owner1@example.org") == []
    # Running again (a restart on Monday, or the next pass) sends no second digest.
    assert run.digest(at(monday, 9)).digests == 0
    run.deliver(at(monday, 9, 1))
    assert len(mailbox.to("owner0@example.org")) == 1
    carried = db.scalars(
        select(Notification).where(Notification.status == S.DIGESTED).order_by(Notification.id)
    ).all()
    assert len(carried) == 2 and len({n.digest_id for n in carried}) == 1


def test_a_digest_missed_on_monday_is_sent_when_the_scheduler_returns(
    db, run, mailbox, base_day, due_follow_ups
):
    services.set_preferences(
        db, "owner0@example.org", {Category.FOLLOW_UPS: DeliveryMode.DIGEST}, [Category.FOLLOW_UPS]
    )
    run.scan(at(base_day, 9))
    # Down from Sunday to Tuesday: the start-up run on Tuesday sends Monday's digest.
    tuesday = base_day + timedelta(days=6)
    assert run.digest(at(tuesday, 10)).digests == 1
    run.deliver(at(tuesday, 10))
    assert len(mailbox.to("owner0@example.org")) == 1


def test_an_unexpected_error_retries_the_row_instead_of_leaving_it_claimed(
    app, db, run, base_day, due_follow_ups, tmp_path
):
    app.config["SMTP_URL"] = None
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the .eml folder should be")
    app.config["OUTBOX_PATH"] = str(blocker)
    result = run.cycle(at(base_day, 9))[1]
    assert result.retrying == 3
    rows = run.notifications()
    assert {n.status for n in rows} == {S.QUEUED}
    assert all(n.lease_until is None and n.claim_token is None for n in rows)
    assert all("Error" in n.last_error for n in rows)


def test_a_contact_who_left_before_delivery_gets_nothing(db, run, mailbox, base_day):
    from secretariat.members.models import ContactRole
    from tests.factories import CommitmentFactory, ContactFactory, MemberFactory

    for rule in db.scalars(select(ReminderRule)):
        rule.enabled = rule.kind is RuleKind.COMMITMENT_STALE
    member = MemberFactory()
    contact = ContactFactory(member=member, email="fp@member.example", role=ContactRole.FOCAL_POINT)
    CommitmentFactory(
        member=member, last_update_at=at(base_day - timedelta(days=180), 10), created_at=LONG_AGO
    )
    run.scan(at(base_day, 9))
    contact.active_to = base_day - timedelta(days=1)
    db.flush()
    assert run.deliver(at(base_day, 9)).cancelled == 1
    assert mailbox.messages == []
    assert "has left" in run.notifications()[0].reason


def test_an_agreement_renewed_or_moved_before_delivery_is_not_reminded(db, run, mailbox, base_day):
    from tests.followups.factories import AgreementFactory

    for rule in db.scalars(select(ReminderRule)):
        rule.enabled = (rule.kind, rule.offset_days) == (RuleKind.AGREEMENT_EXPIRING, -30)
    owner = UserFactory(email="owner@example.org")
    renewed = AgreementFactory(
        owner=owner, expires_on=base_day + timedelta(days=30), created_at=LONG_AGO
    )
    moved = AgreementFactory(
        owner=owner, expires_on=base_day + timedelta(days=30), created_at=LONG_AGO
    )
    run.scan(at(base_day, 9))
    AgreementFactory(owner=owner, renews_id=renewed.id, created_at=LONG_AGO)
    moved.expires_on = base_day + timedelta(days=400)
    db.flush()
    assert run.deliver(at(base_day, 9)).cancelled == 2
    assert mailbox.messages == []
    reasons = " / ".join(n.reason for n in run.notifications())
    assert "expiry date changed" in reasons and "renewal is under way" in reasons


def test_event_reminders_cannot_wait_for_the_digest(db):
    with pytest.raises(services.RuleError) as refused:
        services.set_preferences(
            db, "a@example.org", {Category.EVENTS: DeliveryMode.DIGEST}, [Category.EVENTS]
        )
    assert "cannot wait" in refused.value.errors["events"]
