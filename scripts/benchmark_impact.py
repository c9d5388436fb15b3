"""Time an impact report on a generated network (`make bench-impact`); measures, asserts nothing.

Builds a throw-away SQLite database (or uses SECRETARIAT_DATABASE_URL), generates a network
with `secretariat seed scale`, computes this year's participation, and creates a programme
covering every active member with its indicators and a few published stories. Then times,
several times each: computing the figures (with the number of SQL statements), rendering the
PDF, the XLSX data pack and the HTML document, publishing (figures + PDF, once per version)
and serving a published version's cached PDF.

    .venv/bin/python scripts/benchmark_impact.py [--members 100] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from alembic import command
from sqlalchemy import event, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchmark import NOT_COUNTED, build_app, generate  # noqa: E402

from secretariat.accounts import services as accounts  # noqa: E402
from secretariat.cli import alembic_config  # noqa: E402
from secretariat.clock import network_today  # noqa: E402
from secretariat.db import get_db, utcnow  # noqa: E402
from secretariat.funding import services as funding  # noqa: E402
from secretariat.funding.models import Coverage  # noqa: E402
from secretariat.impact import render, services, snapshot  # noqa: E402
from secretariat.impact.models import ImpactReport  # noqa: E402
from secretariat.indicators.models import Indicator  # noqa: E402
from secretariat.members.models import Member, MemberStatus  # noqa: E402
from secretariat.participation import services as participation  # noqa: E402
from secretariat.scale import STAFF_EMAIL  # noqa: E402
from secretariat.stories.models import Story, StoryMember, StoryStatus  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--stories", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    # The rest of the network in proportion to its members, as in `make bench`.
    args.exchanges = args.members * 3
    args.events = max(10, args.members // 5)
    args.agreements = max(10, args.members // 3)
    args.follow_ups = args.members * 3
    args.cycles = 3
    args.commitments = args.members * 3
    return args


def arrange(app, args) -> int:  # type: ignore[no-untyped-def]
    """The programme, its stories and a draft report of this year; the report's id."""
    today = network_today()
    with app.app_context(), get_db(app).transaction() as session:
        year = today.year
        staff = accounts.get_user_by_email(session, STAFF_EMAIL)
        assert staff is not None
        scheme = participation.scheme_for_year(session, year) or participation.create_scheme(
            session, None, year
        )
        participation.compute(session, None, scheme)
        indicators = session.scalars(select(Indicator.id).limit(6)).all()
        programme = funding.create_programme(
            session,
            None,
            funding.ProgrammeData(
                name="Benchmark programme",
                starts_on=date(year - 1, 1, 1),
                ends_on=date(year + 1, 12, 31),
                coverage=Coverage.ALL,
                indicators=[(indicator_id, "100") for indicator_id in indicators],
            ),
        )
        members = session.scalars(
            select(Member.id).where(Member.status == MemberStatus.ACTIVE).limit(args.stories * 2)
        ).all()
        for n in range(args.stories):
            story = Story(
                title=f"Story {n + 1}: a city's cooling plan",
                narrative="## What changed\n\n" + "A paragraph of the story. " * 60,
                quote="We could not have done it alone.",
                quote_attribution="A mayor",
                status=StoryStatus.PUBLISHED,
                published_at=utcnow(),
                members=[StoryMember(member_id=m) for m in members[n * 2 : n * 2 + 2]],
            )
            session.add(story)
        report = services.create_report(session, None, programme.id, str(year))
        session.flush()
        services.update_report(
            session,
            staff,
            report,
            services.ReportText(
                title=report.title,
                introduction="An introduction. " * 40,
                story_ids=[s.id for s in services.choosable_stories(session, report)],
            ),
        )
        covered = len(funding.covered_member_ids(session, programme))
        print(f"Programme covering {covered} members, {args.stories} stories.\n")
        return report.id


def timed(label: str, repeat: int, action: Callable[[], object], statements: list[int]) -> None:
    times, counts = [], []
    for _ in range(repeat):
        before = len(statements)
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
        counts.append(len(statements) - before)
    print(
        f"{label:42} median {statistics.median(times):6.2f} s   slowest {max(times):6.2f} s"
        f"   {counts[-1]:4d} statements"
    )


def main_() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="secretariat-bench-impact-") as tmp:
        folder = Path(tmp)
        url = os.environ.get("SECRETARIAT_DATABASE_URL") or f"sqlite:///{folder / 'bench.db'}"
        app = build_app(folder, url)
        command.upgrade(alembic_config(url), "head")
        generate(app, args)
        report_id = arrange(app, args)
        statements: list[int] = []

        def count(conn, cursor, statement, *rest) -> None:  # type: ignore[no-untyped-def]
            if not statement.lstrip().upper().startswith(NOT_COUNTED):
                statements.append(1)

        engine = get_db(app).engine
        event.listen(engine, "before_cursor_execute", count)
        repeat = max(1, args.repeat)
        with app.app_context(), get_db(app).transaction() as session:
            report = session.get(ImpactReport, report_id)
            assert report is not None
            snap = snapshot.for_report(session, report)
            timed("Figures and snapshot", repeat, lambda: snapshot.for_report(session, report),
                  statements)  # fmt: skip
            timed("PDF from the snapshot", repeat, lambda: render.pdf(snap, draft=True),
                  statements)  # fmt: skip
            timed("XLSX data pack", repeat, lambda: render.xlsx(snap), statements)
            timed("HTML document", repeat, lambda: render.document(snap, draft=True), statements)
            pdf = render.pdf(snap, draft=True)
            print(f"\nThe PDF has {len(pdf):,} bytes.")
            started = time.perf_counter()
            version = services.publish(session, None, report)
            print(
                f"Publishing (figures, snapshot, PDF): {time.perf_counter() - started:.2f} s"
            )
            timed("A published version's PDF (cached)", repeat,
                  lambda: services.version_pdf(version), statements)  # fmt: skip
        event.remove(engine, "before_cursor_execute", count)
        engine.dispose()


if __name__ == "__main__":
    main_()
