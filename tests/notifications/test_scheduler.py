"""The scheduler process: one active per database, standby take-over, catch-up, job records."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from secretariat.cli import alembic_config
from secretariat.db import make_engine
from secretariat.notifications.models import (
    JobRun,
    Notification,
    NotificationStatus,
    ReminderRule,
    RuleKind,
)
from secretariat.notifications.scheduler import (
    AdvisoryLock,
    FileLock,
    JobSpec,
    build_scheduler,
    job_specs,
    lock_for,
    run_job,
)
from tests import factories
from tests.conftest import TEST_DATABASE_URL
from tests.followups.factories import FollowUpFactory
from tests.notifications.conftest import LONG_AGO

SECRETARIAT = Path(sys.executable).with_name("secretariat")


def wait_until(predicate, timeout: float = 30.0, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


# --- locks ----------------------------------------------------------------------------------


def test_a_file_lock_admits_one_holder_at_a_time(tmp_path):
    first, second = (
        FileLock(tmp_path / "db.scheduler.lock"),
        FileLock(tmp_path / "db.scheduler.lock"),
    )
    assert first.try_acquire()
    assert not second.try_acquire()
    assert first.still_held()
    first.release()
    assert second.try_acquire()
    assert str(os.getpid()) in (tmp_path / "db.scheduler.lock").read_text()
    second.release()


@pytest.mark.skipif(
    not (TEST_DATABASE_URL or "").startswith("postgresql"), reason="PostgreSQL advisory lock"
)
def test_an_advisory_lock_admits_one_holder_and_dies_with_its_connection():
    engines = [make_engine(TEST_DATABASE_URL) for _ in range(2)]
    try:
        first, second = AdvisoryLock(engines[0]), AdvisoryLock(engines[1])
        assert first.try_acquire()
        assert not second.try_acquire()
        assert first.still_held()
        # The holder's connection dies (a crashed process): the lock goes with it.
        assert first.connection is not None
        first.connection.invalidate()
        assert not first.still_held()
        assert wait_until(second.try_acquire, timeout=5)
        second.release()
        first.release()
    finally:
        for engine in engines:
            engine.dispose()


def test_the_lock_follows_the_database(app, tmp_path):
    lock = lock_for(app)
    if TEST_DATABASE_URL and TEST_DATABASE_URL.startswith("postgresql"):
        assert isinstance(lock, AdvisoryLock)
    else:
        assert isinstance(lock, FileLock)
        assert lock.path.name.endswith(".db.scheduler.lock")


# --- jobs -----------------------------------------------------------------------------------


def test_the_jobs_and_their_schedules(app):
    app.config["TIMEZONE"] = "Europe/Lisbon"
    scheduler = build_scheduler(app)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {
        "reminders.scan",
        "outbox.deliver",
        "digest.weekly",
        "participation.refresh",
        "agreements.expire",
    }
    assert jobs["reminders.scan"].trigger.interval == timedelta(minutes=15)
    assert jobs["outbox.deliver"].trigger.interval == timedelta(minutes=1)
    digest = jobs["digest.weekly"].trigger
    assert str(digest.timezone) == "Europe/Lisbon"
    fields = {f.name: str(f) for f in digest.fields}
    assert (fields["day_of_week"], fields["hour"], fields["minute"]) == ("mon", "8", "0")
    for job in jobs.values():
        assert job.coalesce is True
        assert job.max_instances == 1
        assert job.misfire_grace_time >= 5 * 60


def test_daily_jobs_catch_up_at_start_only_when_a_run_was_missed(app, db):
    now = datetime.now(UTC)
    db.add(JobRun(name="participation.refresh", last_started_at=now - timedelta(hours=3)))
    db.add(JobRun(name="agreements.expire", last_started_at=now - timedelta(days=2)))
    db.flush()
    scheduler = build_scheduler(app)
    scheduler.start(paused=True)
    try:
        runs = {job.id: job.next_run_time for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)
    soon = now + timedelta(minutes=1)
    for job_id in ("reminders.scan", "outbox.deliver", "digest.weekly", "agreements.expire"):
        assert runs[job_id] <= soon, job_id
    assert runs["participation.refresh"] > soon  # ran 3 hours ago: waits for tonight


def test_run_job_records_success_and_failure(app, db):
    def works(_app):
        return "3 queued"

    def breaks(_app):
        raise RuntimeError("database unreachable")

    run_job(app, JobSpec("test.works", works, None, 60))  # type: ignore[arg-type]
    run_job(app, JobSpec("test.breaks", breaks, None, 60))  # type: ignore[arg-type]
    db.expire_all()
    ok, broken = db.get(JobRun, "test.works"), db.get(JobRun, "test.breaks")
    assert (ok.last_ok, ok.last_result, ok.last_error) == (True, "3 queued", None)
    assert ok.last_runner.endswith(f":{os.getpid()}")
    assert broken.last_ok is False
    assert broken.last_error == "RuntimeError: database unreachable"


def test_job_specs_call_the_features_jobs(app, db):
    specs = {spec.name: spec for spec in job_specs(app)}
    assert specs["participation.refresh"].function(app).startswith("computed")
    assert specs["agreements.expire"].function(app) == "0 agreements recorded as expired"


# --- the CLI --------------------------------------------------------------------------------


def test_run_once_scans_and_delivers(app, cli, db, mailbox):
    app.config["REMINDER_HOUR"] = 0  # today's reminders have fallen due whatever the hour
    owner = factories.UserFactory(email="cron@example.org")
    FollowUpFactory(owner=owner, due_on=datetime.now(UTC).date(), created_at=LONG_AGO)
    for rule in db.scalars(select(ReminderRule)):
        rule.enabled = (rule.kind, rule.offset_days) == (RuleKind.FOLLOW_UP_DUE, 0)
    db.flush()
    dry = cli("reminders", "dry-run")
    assert "send" in dry.output and "follow_up_due" in dry.output
    assert "cron@example.org" in dry.output
    assert db.scalar(select(Notification.id)) is None  # the dry run queued nothing
    result = cli("reminders", "run-once")
    db.expire_all()
    assert db.get(JobRun, "outbox.deliver").last_ok is True  # cron runs are recorded too
    assert "Scan: 1 queued" in result.output
    assert "Delivery: 1 sent" in result.output
    assert len(mailbox.to("cron@example.org")) == 1
    again = cli("reminders", "run-once")
    assert "Scan: 0 queued" in again.output
    assert len(mailbox.to("cron@example.org")) == 1
    assert "Nothing is due" in cli("reminders", "dry-run").output


# --- two real scheduler processes -----------------------------------------------------------


@pytest.fixture
def scheduler_database(tmp_path):
    """A database of its own, committed to by the scheduler processes (not the test's)."""
    if TEST_DATABASE_URL and TEST_DATABASE_URL.startswith("postgresql"):
        admin = make_engine(TEST_DATABASE_URL)
        with admin.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS scheduler_test CASCADE"))
            conn.execute(text("CREATE SCHEMA scheduler_test"))
        separator = "&" if "?" in TEST_DATABASE_URL else "?"
        url = f"{TEST_DATABASE_URL}{separator}options=-csearch_path%3Dscheduler_test"
    else:
        admin = None
        url = f"sqlite:///{tmp_path / 'scheduler.db'}"
    command.upgrade(alembic_config(url), "head")
    yield url
    if admin is not None:
        with admin.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS scheduler_test CASCADE"))
        admin.dispose()


class Process:
    def __init__(self, url: str, smtp_port: int, folder: Path, name: str) -> None:
        self.log = folder / f"{name}.log"
        env = {
            **os.environ,
            "SECRETARIAT_DATABASE_URL": url,
            "SECRETARIAT_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
            "SECRETARIAT_INSTANCE_PATH": str(folder / name),
            "SECRETARIAT_TIMEZONE": "UTC",
            "SECRETARIAT_REMINDER_HOUR": "0",
            "SECRETARIAT_SCHEDULER_STANDBY_POLL_SECONDS": "1",
            "SECRETARIAT_SCHEDULER_HEARTBEAT_SECONDS": "1",
            "SECRETARIAT_BASE_URL": "http://secretariat.example",
        }
        env.pop("SECRETARIAT_TEST_DATABASE_URL", None)
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                [str(SECRETARIAT), "scheduler"], env=env, stdout=out, stderr=subprocess.STDOUT
            )

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


def test_two_scheduler_processes_only_one_acts_and_the_other_takes_over(
    scheduler_database, smtp_server, mailbox, tmp_path
):
    controller, _box = smtp_server
    engine = make_engine(scheduler_database)
    try:
        with Session(engine) as session:
            factories.bind(session)
            owner = factories.UserFactory(email="once@example.org")
            FollowUpFactory(
                owner=owner, due_on=datetime.now(UTC).date(), created_at=LONG_AGO, title="Once"
            )
            session.commit()
            factories.bind(None)

        def runners() -> dict[str, str | None]:
            with Session(engine) as session:
                return {run.name: run.last_runner for run in session.scalars(select(JobRun))}

        first = Process(scheduler_database, controller.port, tmp_path, "first")
        second = None
        try:
            assert wait_until(lambda: len(mailbox.to("once@example.org")) == 1), first.output
            second = Process(scheduler_database, controller.port, tmp_path, "second")
            assert wait_until(lambda: "stands by" in second.output, timeout=30), second.output
            time.sleep(2)  # the standby keeps polling, and does nothing
            first_pid = f":{first.process.pid}"
            assert runners() and all(r.endswith(first_pid) for r in runners().values())

            assert first.stop() == 0
            second_pid = f":{second.process.pid}"
            # The standby takes over and runs the start-up scan and delivery itself...
            assert wait_until(
                lambda: (
                    (runners().get("outbox.deliver") or "").endswith(second_pid)
                    and (runners().get("reminders.scan") or "").endswith(second_pid)
                ),
                timeout=30,
            ), second.output
            # ... which find the reminder already sent: still exactly one e-mail.
            time.sleep(1)
            assert len(mailbox.to("once@example.org")) == 1
            with Session(engine) as session:
                statuses = session.scalars(select(Notification.status)).all()
            assert NotificationStatus.SENT in statuses
            assert statuses.count(NotificationStatus.SENT) == 1
        finally:
            first.stop()
            if second is not None:
                assert second.stop() == 0
        assert "active" in second.output
    finally:
        engine.dispose()
