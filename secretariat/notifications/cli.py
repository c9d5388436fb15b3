"""`secretariat scheduler` and `secretariat reminders ...`."""

from __future__ import annotations

import logging
import signal
import sys
import threading

import click
from flask import current_app
from flask.cli import with_appcontext

from secretariat.db import get_db
from secretariat.notifications.jobs import (
    deliver_outbox,
    job_context,
    scan_reminders,
    weekly_digest,
)
from secretariat.notifications.scheduler import record_run, run_scheduler
from secretariat.notifications.services import Action, plan


def _log_to_stderr() -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(
            level=logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )


@click.command("scheduler")
@with_appcontext
def scheduler() -> None:
    """Run the scheduled jobs (reminders, outbox, digest, nightly jobs) in this process.

    Run exactly one per deployment beside the web workers; extra ones stand by and take over
    when the active one stops. Stop with Ctrl-C or SIGTERM.
    """
    _log_to_stderr()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    stop = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        logging.getLogger("secretariat.scheduler").info("signal %s: stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    sys.exit(run_scheduler(app, stop))


@click.group("reminders")
def reminders() -> None:
    """Scan for due reminders and deliver the outbox without the scheduler process."""


@reminders.command("run-once")
@with_appcontext
def reminders_run_once() -> None:
    """One scan, the weekly digest if it is due, and one delivery pass (for cron)."""
    _log_to_stderr()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    # Recorded like the scheduler's runs: the outbox page shows them, and admins are not
    # told that reminders stopped while cron runs this.
    scanned = record_run(app, "reminders.scan", scan_reminders)
    click.echo(f"Scan: {scanned}.")
    digests = record_run(app, "digest.weekly", weekly_digest)
    click.echo(f"Digest: {digests}.")
    delivered = record_run(app, "outbox.deliver", deliver_outbox)
    click.echo(f"Delivery: {delivered}.")


@reminders.command("dry-run")
@with_appcontext
def reminders_dry_run() -> None:
    """List what a scan would queue now, without queuing or sending anything."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    lines = []
    # plan() only reads: the transaction has nothing to commit.
    with job_context(app), get_db(app).transaction() as session:
        for item in plan(session):
            if item.action == Action.ALREADY:
                continue
            who = item.recipient.email if item.recipient else "(nobody to send it to)"
            due = item.due
            lines.append(
                f"{item.action:8} {due.rule.kind.value:26} {due.rule.offset_days:+4}d "
                f"{due.subject_kind}:{due.subject_id} due {due.due_at:%Y-%m-%d %H:%M}Z -> {who}"
            )
    if not lines:
        click.echo("Nothing is due that has not been queued already.")
    for line in lines:
        click.echo(line)
