"""The admin's home page warns when reminders are not going out."""

from __future__ import annotations

from datetime import UTC, datetime

from secretariat.notifications.models import (
    Category,
    Notification,
    NotificationStatus,
    SchedulerHeartbeat,
)
from tests.factories import UserFactory


def _failed(db) -> None:
    now = datetime.now(UTC)
    db.add(
        Notification(
            dedup_key="k",
            category=Category.FOLLOW_UPS,
            subject_kind="follow_up",
            subject_id=1,
            occurrence="2027-01-01",
            recipient_email="a@example.org",
            language="en",
            subject="Due today: X",
            body_text="x",
            body_html="x",
            due_at=now,
            status=NotificationStatus.FAILED,
            attempts=12,
            created_at=now,
        )
    )
    db.flush()


def test_admin_home_warns_about_a_stopped_scheduler_and_failed_messages(db, client, auth):
    admin = UserFactory(admin=True)
    _failed(db)
    auth.login(admin)
    page = client.get("/").get_data(as_text=True)
    assert "The scheduler is not running: reminders are not being sent." in page
    assert "1 reminder could not be delivered" in page
    assert "/admin/outbox?status=failed" in page


def test_no_warning_while_the_scheduler_beats_and_nothing_failed(db, client, auth):
    now = datetime.now(UTC)
    db.add(SchedulerHeartbeat(id=1, runner="host:1", started_at=now, beat_at=now))
    db.flush()
    auth.login(UserFactory(admin=True))
    page = client.get("/").get_data(as_text=True)
    assert "scheduler is not running" not in page
    assert "could not be delivered" not in page


def test_staff_do_not_see_the_admins_warning(db, client, auth):
    _failed(db)
    auth.login(UserFactory())
    page = client.get("/").get_data(as_text=True)
    assert "could not be delivered" not in page
    assert "scheduler is not running" not in page


def test_no_warning_when_cron_runs_the_jobs(db, client, auth):
    from secretariat.notifications.models import JobRun

    db.add(JobRun(name="outbox.deliver", last_finished_at=datetime.now(UTC), last_ok=True))
    db.flush()
    auth.login(UserFactory(admin=True))
    assert "scheduler is not running" not in client.get("/").get_data(as_text=True)
    outbox = client.get("/admin/outbox").get_data(as_text=True)
    assert "the jobs are run from cron" in outbox
