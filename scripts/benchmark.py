"""Time the key pages on a large generated network (`make bench`); measures, asserts nothing.

Builds a fresh SQLite database in a temporary folder (or uses SECRETARIAT_DATABASE_URL),
runs the migrations, generates the scale data with `secretariat seed scale`, signs in as
staff with the Flask test client and requests each page several times. Prints, per page, the
median and slowest time and the number of SQL statements per request (counted with a
before_cursor_execute listener; transaction control such as BEGIN is left out).

    .venv/bin/python scripts/benchmark.py [--members 1000] [--exchanges 3000] [--events 200]
        [--agreements 300] [--follow-ups 3000] [--cycles 3] [--commitments 3000]

It also times the participation computation of last year and this year (what the nightly
job does); `--members 20000` measures it at the size of the largest networks.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from flask import Flask
from sqlalchemy import event, func, literal, select

from secretariat.accounts import services as accounts
from secretariat.accounts.models import Role
from secretariat.agreements.models import AgreementParty
from secretariat.app import create_app
from secretariat.cli import alembic_config, main
from secretariat.db import get_db
from secretariat.events.models import Invitation
from secretariat.exchanges.models import PeerExchange
from secretariat.groups.models import GroupMembership, WorkingGroup
from secretariat.indicators.models import Indicator
from secretariat.members.models import Member
from secretariat.participation.models import ParticipationScore, ScoreEvidence, ScoringScheme
from secretariat.reporting.models import CycleState, ReportingCycle, Submission
from secretariat.scale import STAFF_EMAIL

PASSWORD = "benchmark-password"  # noqa: S105 - a throw-away account in a throw-away database
#: Statements that manage the transaction rather than read or write data.
NOT_COUNTED = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--exchanges", type=int, default=3000)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--agreements", type=int, default=300)
    parser.add_argument("--follow-ups", type=int, default=3000)
    parser.add_argument("--cycles", type=int, default=3, help="yearly reporting cycles")
    parser.add_argument("--commitments", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5, help="timed requests per page")
    return parser.parse_args()


def build_app(folder: Path, url: str) -> Flask:
    return create_app(
        {
            "DATABASE_URL": url,
            "INSTANCE_PATH": str(folder),
            "OUTBOX_PATH": str(folder / "outbox"),
            "UPLOAD_PATH": str(folder / "uploads"),
            "SMTP_URL": None,
            "SECRET_KEY": "benchmark-only-secret-key",
            "ENV": "development",
            # Sign-in is not what is measured: no CSRF token to scrape, cheap password hashing.
            "WTF_CSRF_ENABLED": False,
            "PASSWORD_HASH_TIME_COST": 1,
            "PASSWORD_HASH_MEMORY_COST": 1024,
            "PASSWORD_HASH_PARALLELISM": 1,
        }
    )


def generate(app: Flask, args: argparse.Namespace) -> None:
    options = ["--members", str(args.members), "--exchanges", str(args.exchanges)]
    options += ["--agreements", str(args.agreements), "--follow-ups", str(args.follow_ups)]
    options += ["--events", str(args.events), "--seed", str(args.seed)]
    options += ["--cycles", str(args.cycles), "--commitments", str(args.commitments)]
    started = time.perf_counter()
    result = app.test_cli_runner().invoke(main, ["seed", "scale", *options])
    elapsed = time.perf_counter() - started
    output = result.output.strip()
    if result.exit_code == 0:
        print(f"{output}\nGenerated in {elapsed:.1f} s.\n")
    elif "already has" in output:
        print(f"{output}\nMeasuring the data already in the database.\n")
    else:
        print(output, file=sys.stderr)
        if result.exception is not None:
            raise result.exception
        sys.exit(result.exit_code)


def compute_participation(app: Flask) -> None:
    """Time the participation computation of last year and this year, as the nightly job does."""
    from secretariat.clock import network_today
    from secretariat.participation import services as participation

    with app.app_context():
        this_year = network_today().year
    for year in (this_year - 1, this_year):
        with app.app_context(), get_db(app).transaction() as session:
            scheme = participation.scheme_for_year(session, year) or participation.create_scheme(
                session, None, year
            )
        if scheme.is_final:
            print(f"Participation {year} is final: not computed again.")
            continue
        with app.app_context(), counting_statements(app) as counter:
            started = time.perf_counter()
            with get_db(app).transaction() as session:
                scheme = participation.scheme_for_year(session, year)
                assert scheme is not None
                result = participation.compute(session, None, scheme)
            elapsed = time.perf_counter() - started
        print(
            f"Participation {year}: {result.members} members measured, {result.evidence} "
            f"evidence records, in {elapsed:.2f} s and {counter[0]} statements (committed)."
        )
    print()


def scan_and_deliver(app: Flask) -> None:
    """Time a reminder scan over the generated network and one delivery pass (to .eml files)."""
    from secretariat.notifications import services as reminders
    from secretariat.notifications.jobs import deliver_outbox, job_context, scan_reminders

    # A first scan over generated history skips (and logs) every reminder of the look-back
    # window older than the maximum lateness: count them, do not print each.
    logging.getLogger("secretariat.notifications").setLevel(logging.ERROR)

    with job_context(app), counting_statements(app) as counter:
        started = time.perf_counter()
        with get_db(app).transaction() as session:
            planned = reminders.plan(session)
        elapsed = time.perf_counter() - started
    print(
        f"Reminder dry run: {len(planned)} reminders due in the look-back window, in "
        f"{elapsed:.2f} s and {counter[0]} statements."
    )
    with counting_statements(app) as counter:
        started = time.perf_counter()
        scanned = scan_reminders(app)
        elapsed = time.perf_counter() - started
    print(f"Reminder scan: {scanned}, in {elapsed:.2f} s and {counter[0]} statements.")
    started = time.perf_counter()
    delivered = deliver_outbox(app)
    print(f"Delivery (to .eml files): {delivered}, in {time.perf_counter() - started:.2f} s.")
    started = time.perf_counter()
    again = scan_reminders(app)
    print(f"Second scan (nothing new): {again}, in {time.perf_counter() - started:.2f} s.\n")


def staff_with_password(app: Flask) -> str:
    """The generator's staff account, given a password (created when the data was already there)."""
    with app.app_context(), get_db(app).transaction() as session:
        user = accounts.get_user_by_email(session, STAFF_EMAIL)
        if user is None:
            user = accounts.create_user(
                session, accounts.UserData(email=STAFF_EMAIL, name="Scale Staff", role=Role.STAFF)
            )
        accounts.set_password(user, PASSWORD)
    return STAFF_EMAIL


def pages(app: Flask) -> list[tuple[str, str]]:
    """(label, path) of the pages to time; the single-record pages are the largest records."""
    with app.app_context(), get_db(app).transaction() as session:
        degree = func.count(PeerExchange.id)
        member = (
            session.execute(
                select(Member.slug, degree)
                .join(
                    PeerExchange,
                    (PeerExchange.from_member_id == Member.id)
                    | (PeerExchange.to_member_id == Member.id),
                )
                .group_by(Member.id)
                .order_by(degree.desc(), Member.id)
                .limit(1)
            ).first()
            or session.execute(select(Member.slug, literal(0)).limit(1)).first()
        )
        size = func.count(GroupMembership.id)
        group = session.execute(
            select(WorkingGroup.slug, size)
            .join(GroupMembership, GroupMembership.group_id == WorkingGroup.id)
            .where(GroupMembership.left_on.is_(None))
            .group_by(WorkingGroup.id)
            .order_by(size.desc(), WorkingGroup.id)
            .limit(1)
        ).first()
        parties = func.count(AgreementParty.id)
        biggest_agreement = session.execute(
            select(AgreementParty.agreement_id, parties)
            .group_by(AgreementParty.agreement_id)
            .order_by(parties.desc(), AgreementParty.agreement_id)
            .limit(1)
        ).first()
        open_cycle = session.scalar(
            select(ReportingCycle.id).where(ReportingCycle.state == CycleState.OPEN).limit(1)
        )
        submission = session.scalar(
            select(Submission.id)
            .where(Submission.cycle_id == open_cycle, Submission.submitted_at.is_not(None))
            .order_by(Submission.id)
            .limit(1)
        )
        indicator = session.scalar(select(Indicator.id).order_by(Indicator.id).limit(1))
        invited = func.count(Invitation.id)
        busiest_event = session.execute(
            select(Invitation.event_id, invited)
            .group_by(Invitation.event_id)
            .order_by(invited.desc(), Invitation.event_id)
            .limit(1)
        ).first()
    result = [("dashboard", "/"), ("member list", "/members/")]
    if member is not None:
        result.append((f"member ({member[1] or 0} exchanges)", f"/members/{member[0]}"))
    result.append(("group list", "/groups/"))
    if group is not None:
        result.append((f"group ({group[1]} current members)", f"/groups/{group[0]}"))
    result.append(("event list", "/events/"))
    if busiest_event is not None:
        result.append((f"event ({busiest_event[1]} invitations)", f"/events/{busiest_event[0]}"))
    result += [
        ("network graph", "/network"),
        ("GraphML export", "/network/graph.graphml"),
        ("exchange list", "/exchanges/"),
        ("partner list", "/partners/"),
        ("agreement list", "/agreements/"),
        ("agreements expiring within 90 days", "/agreements/?expiring=90"),
    ]
    if biggest_agreement is not None:
        result.append(
            (f"agreement ({biggest_agreement[1]} parties)", f"/agreements/{biggest_agreement[0]}")
        )
    result += [
        ("my follow-ups", "/follow-ups/"),
        ("all pending follow-ups", "/follow-ups/all"),
        ("follow-up overview", "/follow-ups/overview"),
        ("reporting cycles", "/reporting/"),
    ]
    if open_cycle is not None:
        result.append(("open cycle's dashboard", f"/reporting/{open_cycle}"))
        result.append(("its CSV export", f"/reporting/{open_cycle}/export.csv"))
    if submission is not None:
        result.append(("a submission's review page", f"/reporting/submissions/{submission}"))
    result.append(("indicator list", "/indicators/"))
    if indicator is not None:
        result.append(("an indicator (roll-up, values)", f"/indicators/{indicator}"))
    result.append(("commitments", "/commitments/"))
    with app.app_context(), get_db(app).transaction() as session:
        year = session.scalar(select(func.max(ScoringScheme.year)))
        scored = (
            session.execute(
                select(ParticipationScore.member_id, func.count(ScoreEvidence.id))
                .join(ScoringScheme, ScoringScheme.id == ParticipationScore.scheme_id)
                .join(
                    ScoreEvidence,
                    (ScoreEvidence.scheme_id == ParticipationScore.scheme_id)
                    & (ScoreEvidence.member_id == ParticipationScore.member_id),
                )
                .where(ScoringScheme.year == year)
                .group_by(ParticipationScore.member_id)
                .order_by(func.count(ScoreEvidence.id).desc(), ParticipationScore.member_id)
                .limit(1)
            ).first()
            if year is not None
            else None
        )
    if year is not None:
        result += [
            ("participation overview", f"/participation/{year}"),
            ("participation scores", f"/participation/{year}/scores"),
            ("members at risk", f"/participation/{year}/at-risk"),
            ("regional recognition", f"/participation/{year}/recognition"),
        ]
        if scored is not None:
            result.append(
                (
                    f"scorecard ({scored[1]} evidence records)",
                    f"/participation/{year}/members/{scored[0]}",
                )
            )
    return result


@contextmanager
def counting_statements(app: Flask) -> Iterator[list[int]]:
    """Count the SQL statements run on the app's engine inside the block."""
    counter = [0]

    def before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(NOT_COUNTED):
            counter[0] += 1

    engine = get_db(app).engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", before)


def measure(app: Flask, email: str, targets: list[tuple[str, str]], repeat: int) -> list[tuple]:
    client = app.test_client()
    response = client.post("/sign-in", data={"email": email, "password": PASSWORD})
    if response.status_code != 302:
        sys.exit(f"Could not sign in as {email} (status {response.status_code}).")
    rows = []
    for label, path in targets:
        client.get(path)  # warm-up: templates compiled, caches filled
        timings, statements = [], []
        status = size = 0
        for _ in range(repeat):
            with counting_statements(app) as counter:
                started = time.perf_counter()
                response = client.get(path)
                timings.append((time.perf_counter() - started) * 1000)
            statements.append(counter[0])
            status, size = response.status_code, len(response.get_data())
        rows.append(
            (
                label,
                path,
                status,
                statistics.median(timings),
                max(timings),
                f"{min(statements)}"
                + (f"-{max(statements)}" if max(statements) > min(statements) else ""),
                size / 1024,
            )
        )
    return rows


def print_table(rows: list[tuple], repeat: int) -> None:
    header = ("page", "path", "status", "median ms", "max ms", "queries", "KB")
    width = max(len(r[0]) for r in rows)
    path_width = max(len(r[1]) for r in rows)
    print(
        f"{header[0]:<{width}}  {header[1]:<{path_width}}  {header[2]:>6}  {header[3]:>9}  "
        f"{header[4]:>8}  {header[5]:>7}  {header[6]:>7}"
    )
    for label, path, status, median, slowest, queries, size in rows:
        print(
            f"{label:<{width}}  {path:<{path_width}}  {status:>6}  {median:>9.1f}  "
            f"{slowest:>8.1f}  {queries:>7}  {size:>7.0f}"
        )
    print(f"\n{repeat} timed requests per page after one warm-up; queries per request.")


def main_() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="secretariat-bench-") as tmp:
        folder = Path(tmp)
        url = os.environ.get("SECRETARIAT_DATABASE_URL") or f"sqlite:///{folder / 'bench.db'}"
        shown_url = url.split("@")[-1] if "@" in url else url
        print(
            f"Database {shown_url}; Python {platform.python_version()}, SQLite "
            f"{sqlite3.sqlite_version}, {os.cpu_count()} CPUs, {platform.machine()}."
        )
        app = build_app(folder, url)
        started = time.perf_counter()
        command.upgrade(alembic_config(url), "head")
        print(f"Migrations ran in {time.perf_counter() - started:.2f} s.")
        generate(app, args)
        compute_participation(app)
        scan_and_deliver(app)
        email = staff_with_password(app)
        targets = pages(app)
        print(f"Timing {len(targets)} pages...\n", flush=True)
        rows = measure(app, email, targets, max(1, args.repeat))
        print_table(rows, max(1, args.repeat))
        get_db(app).engine.dispose()


if __name__ == "__main__":
    main_()
