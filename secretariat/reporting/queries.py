"""Read models for reporting pages: cycle lists, rates, who is missing, what to verify, exports.

Rates are counted in SQL. The reporting rate is the share of members asked who have submitted
at least once (a returned report still counts as reported); the on-time rate is the share of
members asked whose first submission came by the end of the due day in the network's zone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from secretariat.indicators.models import Indicator
from secretariat.indicators.services import display, plain
from secretariat.members.models import Contact, Member
from secretariat.pagination import Page, clamp
from secretariat.reporting.models import (
    CycleIndicator,
    CycleMember,
    CycleState,
    ReportingCycle,
    Submission,
    SubmissionEvent,
    SubmissionStatus,
    SubmissionValue,
)
from secretariat.vocabularies.models import Term


@dataclass
class Rates:
    asked: int
    reported: int
    on_time: int
    verified: int = 0
    to_verify: int = 0
    returned: int = 0
    drafts: int = 0

    @property
    def reporting_rate(self) -> float | None:
        return self.reported / self.asked if self.asked else None

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.asked if self.asked else None


@dataclass
class RegionRates:
    region: str | None
    rates: Rates


@dataclass
class CycleRow:
    cycle: ReportingCycle
    rates: Rates


def _rate_columns():  # type: ignore[no-untyped-def]
    reported = Submission.first_submitted_at.is_not(None)
    return (
        func.count(CycleMember.id).label("asked"),
        func.count(case((reported, 1))).label("reported"),
        func.count(case((and_(reported, Submission.is_late.is_(False)), 1))).label("on_time"),
        func.count(case((Submission.status == SubmissionStatus.VERIFIED, 1))).label("verified"),
        func.count(case((Submission.status == SubmissionStatus.SUBMITTED, 1))).label("to_verify"),
        func.count(case((Submission.status == SubmissionStatus.RETURNED, 1))).label("returned"),
        func.count(case((Submission.status == SubmissionStatus.DRAFT, 1))).label("drafts"),
    )


def _asked_with_submission():  # type: ignore[no-untyped-def]
    return (
        select(*_rate_columns())
        .select_from(CycleMember)
        .outerjoin(
            Submission,
            and_(
                Submission.cycle_id == CycleMember.cycle_id,
                Submission.member_id == CycleMember.member_id,
            ),
        )
    )


def _rates(row) -> Rates:  # type: ignore[no-untyped-def]
    return Rates(
        asked=row.asked,
        reported=row.reported,
        on_time=row.on_time,
        verified=row.verified,
        to_verify=row.to_verify,
        returned=row.returned,
        drafts=row.drafts,
    )


def cycle_list(session: Session) -> list[CycleRow]:
    """Every cycle, newest period first, with its rates (two queries)."""
    cycles = list(
        session.scalars(
            select(ReportingCycle).order_by(
                ReportingCycle.period.desc(), ReportingCycle.opens_on.desc()
            )
        )
    )
    stats = {
        row.cycle_id: _rates(row)
        for row in session.execute(
            _asked_with_submission()
            .add_columns(CycleMember.cycle_id)
            .group_by(CycleMember.cycle_id)
        )
    }
    return [CycleRow(c, stats.get(c.id, Rates(0, 0, 0))) for c in cycles]


def cycle_rates(session: Session, cycle_id: int) -> Rates:
    row = session.execute(_asked_with_submission().where(CycleMember.cycle_id == cycle_id)).one()
    return _rates(row)


def rates_by_region(session: Session, cycle_id: int) -> list[RegionRates]:
    """The rates per network region, in the regions' own order (members without one last)."""
    rows = session.execute(
        _asked_with_submission()
        .add_columns(Term.label.label("region"), Term.position.label("position"))
        .join(Member, Member.id == CycleMember.member_id)
        .outerjoin(Term, Term.id == Member.region_id)
        .where(CycleMember.cycle_id == cycle_id)
        .group_by(Term.id, Term.label, Term.position)
    ).all()
    rows = sorted(rows, key=lambda row: (row.region is None, row.position or 0, row.region or ""))
    return [RegionRates(row.region, _rates(row)) for row in rows]


@dataclass
class Missing:
    member: Member
    status: SubmissionStatus | None
    submission_id: int | None
    focal_point_name: str | None
    focal_point_email: str | None


def not_submitted(session: Session, cycle_id: int, today: date, page: int, per_page: int) -> Page:
    """Members asked who have no report with the secretariat (none, a draft, or returned).

    Each comes with their primary focal point's name and e-mail, to chase them.
    """
    primary = aliased(Contact)
    waiting = or_(
        Submission.id.is_(None),
        Submission.status.in_((SubmissionStatus.DRAFT, SubmissionStatus.RETURNED)),
    )
    base = (
        select(CycleMember.member_id)
        .outerjoin(
            Submission,
            and_(
                Submission.cycle_id == CycleMember.cycle_id,
                Submission.member_id == CycleMember.member_id,
            ),
        )
        .where(CycleMember.cycle_id == cycle_id, waiting)
    )
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    page = clamp(page, total, per_page)
    current = and_(
        primary.member_id == Member.id,
        primary.is_primary.is_(True),
        or_(primary.active_to.is_(None), primary.active_to >= today),
    )
    rows = session.execute(
        select(Member, Submission.status, Submission.id, primary.name, primary.email)
        .join(CycleMember, CycleMember.member_id == Member.id)
        .outerjoin(
            Submission,
            and_(Submission.cycle_id == CycleMember.cycle_id, Submission.member_id == Member.id),
        )
        .outerjoin(primary, current)
        .where(CycleMember.cycle_id == cycle_id, waiting)
        .order_by(Member.search_name, Member.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    items = [Missing(m, status, sid, name, email) for m, status, sid, name, email in rows]
    return Page(items, total, page, per_page)


def missing_emails(session: Session, cycle_id: int, today: date) -> list[str]:
    """The primary focal points' addresses of every member still to report (for one e-mail)."""
    waiting = or_(
        Submission.id.is_(None),
        Submission.status.in_((SubmissionStatus.DRAFT, SubmissionStatus.RETURNED)),
    )
    emails = session.scalars(
        select(Contact.email)
        .join(CycleMember, CycleMember.member_id == Contact.member_id)
        .outerjoin(
            Submission,
            and_(
                Submission.cycle_id == CycleMember.cycle_id,
                Submission.member_id == CycleMember.member_id,
            ),
        )
        .where(
            CycleMember.cycle_id == cycle_id,
            waiting,
            Contact.is_primary.is_(True),
            Contact.email.is_not(None),
            or_(Contact.active_to.is_(None), Contact.active_to >= today),
        )
        .order_by(Contact.email)
    )
    return list(dict.fromkeys(emails))


def submissions_with_status(
    session: Session, cycle_id: int, status: SubmissionStatus, page: int, per_page: int
) -> Page:
    """The cycle's submissions in one status, oldest submission first (the review queue)."""
    where = (Submission.cycle_id == cycle_id, Submission.status == status)
    total = session.scalar(select(func.count(Submission.id)).where(*where)) or 0
    page = clamp(page, total, per_page)
    items = list(
        session.scalars(
            select(Submission)
            .where(*where)
            .options(joinedload(Submission.member), joinedload(Submission.submitted_by))
            .order_by(Submission.submitted_at.nulls_last(), Submission.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    return Page(items, total, page, per_page)


def cycle_detail(session: Session, cycle_id: int) -> ReportingCycle | None:
    return session.scalar(
        select(ReportingCycle)
        .where(ReportingCycle.id == cycle_id)
        .options(
            selectinload(ReportingCycle.indicators).joinedload(CycleIndicator.indicator),
            joinedload(ReportingCycle.group),
        )
    )


def submission_detail(session: Session, submission_id: int) -> Submission | None:
    return session.scalar(
        select(Submission)
        .where(Submission.id == submission_id)
        .options(
            joinedload(Submission.member),
            joinedload(Submission.cycle)
            .selectinload(ReportingCycle.indicators)
            .joinedload(CycleIndicator.indicator),
            selectinload(Submission.values),
            selectinload(Submission.history).joinedload(SubmissionEvent.actor),
            joinedload(Submission.submitted_by),
            joinedload(Submission.reviewed_by),
        )
    )


@dataclass
class MemberCycle:
    """A cycle a member is asked to report in, with where their submission stands."""

    cycle: ReportingCycle
    submission: Submission | None


def member_cycles(
    session: Session, member_id: int, *, open_only: bool = False
) -> list[MemberCycle]:
    """The cycles the member is asked to report in, newest first, with their submission."""
    stmt = (
        select(ReportingCycle, Submission)
        .join(CycleMember, CycleMember.cycle_id == ReportingCycle.id)
        .outerjoin(
            Submission,
            and_(Submission.cycle_id == ReportingCycle.id, Submission.member_id == member_id),
        )
        .where(CycleMember.member_id == member_id, ReportingCycle.state != CycleState.DRAFT)
        .order_by(ReportingCycle.due_on.desc(), ReportingCycle.id.desc())
    )
    if open_only:
        stmt = stmt.where(ReportingCycle.state == CycleState.OPEN)
    return [MemberCycle(c, s) for c, s in session.execute(stmt)]


EXPORT_HEADERS = (
    "member",
    "country",
    "region",
    "indicator",
    "indicator_name",
    "unit",
    "period",
    "value",
    "comment",
    "status",
    "submitted_at",
    "late",
)


def export_rows(session: Session, cycle: ReportingCycle) -> Iterator[list[object]]:
    """The cycle's values in long format, one row per member and indicator with a value."""
    region = aliased(Term)
    stmt = (
        select(
            Member.name,
            Member.country,
            region.label,
            Indicator,
            SubmissionValue.number_value,
            SubmissionValue.bool_value,
            SubmissionValue.text_value,
            SubmissionValue.comment,
            Submission.status,
            Submission.submitted_at,
            Submission.is_late,
        )
        .select_from(SubmissionValue)
        .join(Submission, Submission.id == SubmissionValue.submission_id)
        .join(Member, Member.id == Submission.member_id)
        .outerjoin(region, region.id == Member.region_id)
        .join(Indicator, Indicator.id == SubmissionValue.indicator_id)
        .join(
            CycleIndicator,
            and_(
                CycleIndicator.cycle_id == Submission.cycle_id,
                CycleIndicator.indicator_id == Indicator.id,
            ),
        )
        .where(Submission.cycle_id == cycle.id)
        .order_by(Member.search_name, Member.id, CycleIndicator.position)
        .execution_options(yield_per=500)
    )
    for (
        name,
        country,
        region_label,
        indicator,
        number,
        boolean,
        text,
        comment,
        status,
        submitted_at,
        late,
    ) in session.execute(stmt):
        if number is None and boolean is None and text is None:
            continue
        if number is not None:
            # Without the column's six stored decimals: 12.5, not 12.500000.
            value: object = Decimal(plain(number))
        elif boolean is not None:
            value = "yes" if boolean else "no"
        else:
            value = text
        yield [
            name,
            country,
            region_label,
            indicator.code,
            indicator.name,
            indicator.unit,
            cycle.period,
            value,
            comment,
            status.value,
            _iso(submitted_at),
            "" if late is None else ("yes" if late else "no"),
        ]


def _iso(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment is not None else ""


def shown(indicator: Indicator, value: SubmissionValue | None) -> str:
    if value is None:
        return ""
    return display(indicator, value.number_value, value.bool_value, value.text_value)
