"""The scheduler process: one active per database, the rest on standby.

``secretariat scheduler`` runs APScheduler 3 in its own process, never inside web workers.
Before scheduling anything it takes a lock: a PostgreSQL advisory lock (held by one open
connection, so it is released when the process dies, on any host), or on SQLite an exclusive
lock on a file beside the database. A second process waits on standby and takes over when
the first stops.

Catching up: a scheduler that was down runs the scan, the delivery and the digest once when
it starts (each only acts on what is due), and the daily jobs when their last run is more
than a day old. APScheduler's coalescing and misfire grace then keep one late run per job
instead of replaying every missed tick.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from secretariat.db import get_db, make_engine, utcnow
from secretariat.notifications.models import JobRun, SchedulerHeartbeat

log = logging.getLogger("secretariat.scheduler")

#: The advisory lock's key: any fixed 64-bit number shared by every scheduler process.
ADVISORY_LOCK_KEY = 0x5EC2E7A2_1A7E_0001


def runner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# --- the lock -------------------------------------------------------------------------------


class SchedulerLock(Protocol):
    def try_acquire(self) -> bool: ...

    def still_held(self) -> bool: ...

    def release(self) -> None: ...


class AdvisoryLock:
    """A PostgreSQL session-level advisory lock held on a dedicated connection."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.connection: Connection | None = None

    def try_acquire(self) -> bool:
        connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = connection.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
            )
        except DBAPIError:
            connection.close()
            raise
        if got:
            self.connection = connection
            return True
        connection.close()
        return False

    def still_held(self) -> bool:
        if self.connection is None:
            return False
        try:
            held = self.connection.scalar(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND pid = pg_backend_pid() AND granted "
                    "AND ((classid::bigint << 32) | objid::bigint) = :key"
                ),
                {"key": ADVISORY_LOCK_KEY},
            )
        except SQLAlchemyError:
            return False
        return bool(held)

    def release(self) -> None:
        connection, self.connection = self.connection, None
        if connection is None:
            return
        try:
            connection.scalar(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
        except SQLAlchemyError:
            pass  # the connection is gone, and the lock with it
        finally:
            connection.close()


class FileLock:
    """An exclusive ``flock`` on a file: released by the kernel when the process dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: Any = None

    def try_acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 - held open for the process's life
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(runner_name() + "\n")
        handle.flush()
        self.handle = handle
        return True

    def still_held(self) -> bool:
        return self.handle is not None

    def release(self) -> None:
        handle, self.handle = self.handle, None
        if handle is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            handle.close()


def lock_for(app: Flask) -> SchedulerLock:
    engine = get_db(app).engine
    if engine.dialect.name == "postgresql":
        # Its own connection with TCP keepalives: if this host vanishes, the server notices
        # within about a minute and frees the lock for a standby (default: two hours).
        lock_engine = make_engine(
            app.config["DATABASE_URL"],
            poolclass=NullPool,
            connect_args={
                "keepalives": 1,
                "keepalives_idle": 30,
                "keepalives_interval": 10,
                "keepalives_count": 3,
            },
        )
        return AdvisoryLock(lock_engine)
    database = engine.url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        return FileLock(Path(database).with_name(Path(database).name + ".scheduler.lock"))
    return FileLock(Path(app.config["INSTANCE_PATH"]) / "scheduler.lock")


# --- jobs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobSpec:
    name: str
    function: Callable[[Flask], object]
    trigger: BaseTrigger
    #: Seconds a run may start late and still run (then it is coalesced into one).
    grace: int
    #: Run once at start (the job itself only acts on what is due).
    at_start: bool = False
    #: Run at start when the last run is older than this.
    catch_up_after: timedelta | None = None


def _participation_refresh(app: Flask) -> object:
    from secretariat.participation.jobs import refresh_provisional_scores

    years = refresh_provisional_scores(app)
    return "computed " + (", ".join(map(str, years)) or "nothing (no provisional year)")


def _expire_agreements(app: Flask) -> object:
    from secretariat.agreements.jobs import expire_agreements

    return f"{expire_agreements(app)} agreements recorded as expired"


def job_specs(app: Flask) -> list[JobSpec]:
    from secretariat.notifications.jobs import deliver_outbox, scan_reminders, weekly_digest

    zone = ZoneInfo(app.config["TIMEZONE"])
    hour = app.config["REMINDER_HOUR"]
    day = timedelta(days=1)
    return [
        JobSpec("reminders.scan", scan_reminders, IntervalTrigger(minutes=15), 15 * 60, True),
        JobSpec(
            "digest.weekly",
            weekly_digest,
            CronTrigger(day_of_week="mon", hour=hour, minute=0, timezone=zone),
            24 * 3600,
            True,
        ),
        JobSpec("outbox.deliver", deliver_outbox, IntervalTrigger(minutes=1), 5 * 60, True),
        JobSpec(
            "participation.refresh",
            _participation_refresh,
            CronTrigger(hour=2, minute=30, timezone=zone),
            12 * 3600,
            catch_up_after=day,
        ),
        JobSpec(
            "agreements.expire",
            _expire_agreements,
            CronTrigger(hour=0, minute=5, timezone=zone),
            12 * 3600,
            catch_up_after=day,
        ),
    ]


def record_run(app: Flask, name: str, function: Callable[[Flask], object]) -> object:
    """Run a job and record its start, end, outcome and runner (errors are recorded, raised)."""
    db = get_db(app)
    with app.app_context(), db.transaction(immediate=True) as session:
        run = session.get(JobRun, name) or JobRun(name=name)
        run.last_started_at = utcnow()
        run.last_runner = runner_name()
        session.add(run)
    ok, error, outcome = True, None, None
    try:
        outcome = function(app)
    except Exception as exc:
        ok, error = False, f"{type(exc).__name__}: {exc}"
        raise
    finally:
        with app.app_context(), db.transaction(immediate=True) as session:
            run = session.get(JobRun, name) or JobRun(name=name)
            run.last_finished_at = utcnow()
            run.last_ok = ok
            run.last_error = error
            run.last_result = str(outcome)[:500] if ok else None
            session.add(run)
    return outcome


def run_job(app: Flask, spec: JobSpec) -> None:
    """Run one scheduled job; a failure is logged and recorded, and the scheduler goes on."""
    try:
        outcome = record_run(app, spec.name, spec.function)
    except Exception:  # noqa: BLE001 - one failing run must not stop the scheduler
        log.exception("job %s failed", spec.name)
    else:
        log.info("job %s: %s", spec.name, outcome)


def beat(app: Flask, started_at: datetime) -> None:
    with app.app_context(), get_db(app).transaction(immediate=True) as session:
        heartbeat = session.get(SchedulerHeartbeat, 1)
        if heartbeat is None:
            heartbeat = SchedulerHeartbeat(id=1)
            session.add(heartbeat)
        heartbeat.runner = runner_name()
        heartbeat.started_at = started_at
        heartbeat.beat_at = utcnow()


def _first_runs(app: Flask, specs: list[JobSpec], now: datetime) -> dict[str, datetime | None]:
    """When each job first runs: now when it catches up, else at its trigger's next time."""
    with app.app_context(), get_db(app).transaction(immediate=True) as session:
        last = {run.name: run.last_started_at for run in session.query(JobRun)}
    first: dict[str, datetime | None] = {}
    for position, spec in enumerate(specs):
        previous = last.get(spec.name)
        stale = spec.catch_up_after is not None and (
            previous is None or now - previous >= spec.catch_up_after
        )
        # In the order listed, a few seconds apart: the scan queues before delivery sends.
        first[spec.name] = now + timedelta(seconds=3 * position) if spec.at_start or stale else None
    return first


def build_scheduler(app: Flask) -> BackgroundScheduler:
    zone = ZoneInfo(app.config["TIMEZONE"])
    # SQLite has one writer at a time, and a transaction that reads before it writes fails at
    # once when another one writes: run its jobs one after the other.
    workers = 1 if get_db(app).engine.dialect.name == "sqlite" else 3
    scheduler = BackgroundScheduler(
        timezone=zone,
        executors={"default": ThreadPoolExecutor(workers)},
        job_defaults={"coalesce": True, "max_instances": 1},
    )
    specs = job_specs(app)
    first = _first_runs(app, specs, utcnow())
    for spec in specs:
        options: dict[str, Any] = {}
        if first[spec.name] is not None:
            options["next_run_time"] = first[spec.name]
        scheduler.add_job(
            run_job,
            spec.trigger,
            args=(app, spec),
            id=spec.name,
            name=spec.name,
            misfire_grace_time=spec.grace,
            coalesce=True,
            max_instances=1,
            **options,
        )
    return scheduler


def run_scheduler(app: Flask, stop: threading.Event) -> int:
    """Wait for the lock, then run the jobs until ``stop`` is set; return an exit status."""
    lock = lock_for(app)
    poll = app.config["SCHEDULER_STANDBY_POLL_SECONDS"]
    announced = False
    while True:
        try:
            acquired = lock.try_acquire()
        except DBAPIError as exc:
            log.error("cannot reach the database to take the scheduler lock: %s", exc)
            acquired = False
        if acquired:
            break
        if not announced:
            log.info("another scheduler is active; %s stands by", runner_name())
            announced = True
        if stop.wait(poll):
            return 0
    started = utcnow()
    log.info("scheduler %s active", runner_name())
    status = 0
    try:
        beat(app, started)
        scheduler = build_scheduler(app)
        scheduler.start()
        try:
            while not stop.wait(app.config["SCHEDULER_HEARTBEAT_SECONDS"]):
                if not lock.still_held():
                    log.error("the scheduler lock was lost (database connection closed); stopping")
                    status = 1
                    break
                try:
                    beat(app, started)
                except DBAPIError as exc:
                    log.error("heartbeat failed: %s", exc)
        finally:
            scheduler.shutdown(wait=True)
    finally:
        lock.release()
        log.info("scheduler %s stopped", runner_name())
    return status
