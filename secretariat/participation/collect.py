"""Gather a year's evidence in SQL, one set-based statement per criterion.

Each statement copies the records behind a criterion (events invited to, cycles asked, ...) of
every scored member into ``participation_evidence``; the counts that scores are built from are
then one ``GROUP BY`` over those rows, so a score and the evidence shown for it always agree.
The number of statements does not depend on the number of members.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    Integer,
    String,
    and_,
    case,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import Select

from secretariat.clock import network_zone
from secretariat.commitments.models import Commitment, CommitmentStatus, CommitmentUpdate
from secretariat.db import UTCDateTime
from secretariat.events.models import Attendance, Event, Invitation
from secretariat.exchanges.models import ExchangeStatus, PeerExchange
from secretariat.followups.models import FollowUp, FollowUpStatus
from secretariat.groups.models import GroupMembership, GroupRole, WorkingGroup
from secretariat.members.models import Contact, Member, MemberStatus, MemberStatusChange
from secretariat.participation.models import (
    CriterionKind,
    EvidenceKind,
    LeftOut,
    ScoreEvidence,
)
from secretariat.participation.scoring import Counts
from secretariat.reporting.models import (
    CycleIndicator,
    CycleMember,
    CycleState,
    ReportingCycle,
    Submission,
    SubmissionValue,
)

_EVIDENCE = ScoreEvidence.__table__
_COLUMNS = [
    "scheme_id",
    "member_id",
    "criterion",
    "item_kind",
    "item_id",
    "title",
    "at",
    "on_date",
    "counted",
    "extra",
    "part",
    "whole",
    "detail",
]
_STILL_MEMBERS = (MemberStatus.ACTIVE, MemberStatus.SUSPENDED)
_FORMER_MEMBERS = (MemberStatus.LAPSED, MemberStatus.EXITED)


@dataclass(frozen=True)
class Window:
    """The year being measured, and the moment it is measured at."""

    year: int
    #: When the computation runs; later events and deadlines are not judged yet.
    now: datetime
    #: The network's calendar day at ``now``.
    today: date

    @property
    def first_day(self) -> date:
        return date(self.year, 1, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, 12, 31)

    @property
    def starts_at(self) -> datetime:
        """Midnight of 1 January in the network's zone, in UTC."""
        return datetime(self.year, 1, 1, tzinfo=network_zone()).astimezone(UTC)

    @property
    def ends_at(self) -> datetime:
        """Midnight of the next 1 January in the network's zone, in UTC (excluded)."""
        return datetime(self.year + 1, 1, 1, tzinfo=network_zone()).astimezone(UTC)

    @property
    def reference_day(self) -> date:
        """The day states are judged on: today during the year, its last day afterwards."""
        return min(self.today, self.last_day)

    @property
    def judged_until(self) -> datetime:
        """Events are judged once they have started, and only within the year."""
        return min(self.now, self.ends_at)


def scored_members(window: Window) -> Select:
    """Members measured in the year: members during (part of) it, not applicants."""
    left_during_or_after = exists().where(
        MemberStatusChange.member_id == Member.id,
        MemberStatusChange.to_status == Member.status,
        MemberStatusChange.changed_at >= window.starts_at,
    )
    return select(Member.id, Member.region_id, Member.joined_on).where(
        or_(
            Member.status.in_(_STILL_MEMBERS),
            and_(Member.status.in_(_FORMER_MEMBERS), left_during_or_after),
        ),
        or_(Member.joined_on.is_(None), Member.joined_on <= window.last_day),
    )


def _row(
    scheme_id: int,
    member_id,
    criterion: CriterionKind,
    item_kind: EvidenceKind,
    item_id,
    title,
    *,
    at=None,
    on_date=None,
    counted=None,
    extra=None,
    part=None,
    whole=None,
    detail=None,
) -> list:
    def typed(value, type_):
        return null().cast(type_) if value is None else value

    return [
        literal(scheme_id, Integer),
        member_id,
        literal(criterion.value, String),
        literal(item_kind.value, String),
        item_id,
        func.substr(title, 1, 500),
        typed(at, UTCDateTime()),
        typed(on_date, Date),
        literal(False, Boolean) if counted is None else counted,
        literal(False, Boolean) if extra is None else extra,
        typed(part, Integer),
        typed(whole, Integer),
        typed(detail, String),
    ]


def _insert(session: Session, query: Select) -> None:
    session.execute(insert(_EVIDENCE).from_select(_COLUMNS, query))


def _joined_by(session: Session, window: Window, members, starts_at):
    """Whether ``starts_at`` (UTC) is on or after the member's joining day, a calendar day in
    the network's zone. The joining days that fall in the year (at most 366) are turned into
    UTC instants here, so that the comparison in SQL is exact on both databases."""
    joined_on = members.c.joined_on
    days = session.scalars(
        select(joined_on)
        .where(joined_on >= window.first_day, joined_on <= window.last_day)
        .distinct()
    ).all()
    if not days:
        return literal(True, Boolean)
    zone = network_zone()
    instants = {
        day: datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC) for day in days
    }
    starts = case(
        *((joined_on == day, literal(at, UTCDateTime())) for day, at in instants.items()),
        else_=null(),
    )
    return or_(joined_on.is_(None), joined_on < window.first_day, starts_at >= starts)


def collect_attendance(session: Session, scheme_id: int, window: Window, members) -> None:
    """Events held in the year (up to now) that the member was invited to after joining."""
    attended = exists().where(
        Attendance.event_id == Event.id,
        Attendance.member_id == Invitation.member_id,
        Attendance.attended.is_(True),
    )
    query = (
        select(
            *_row(
                scheme_id,
                Invitation.member_id,
                CriterionKind.ATTENDANCE,
                EvidenceKind.EVENT,
                Event.id,
                Event.title,
                at=Event.starts_at,
                counted=attended,
            )
        )
        .join(Event, Event.id == Invitation.event_id)
        .join(members, members.c.id == Invitation.member_id)
        .where(
            Event.cancelled_at.is_(None),
            Event.starts_at >= window.starts_at,
            Event.starts_at < window.judged_until,
            _joined_by(session, window, members, Event.starts_at),
        )
    )
    _insert(session, query)


def _asked_cycles(window: Window):
    """Cycles due in the year, once their due day has passed or the member submitted."""
    return and_(
        ReportingCycle.state != CycleState.DRAFT,
        ReportingCycle.due_on >= window.first_day,
        ReportingCycle.due_on <= window.last_day,
        or_(ReportingCycle.due_on < window.today, Submission.first_submitted_at.is_not(None)),
    )


def collect_reporting(
    session: Session,
    scheme_id: int,
    window: Window,
    members,
    criteria: tuple[CriterionKind, ...] = (
        CriterionKind.REPORTING_ON_TIME,
        CriterionKind.COMPLETENESS,
    ),
) -> None:
    """Cycles due in the year the member was asked in: on time, and indicators answered."""
    submitted = Submission.first_submitted_at.is_not(None)
    requested = (
        select(func.count(CycleIndicator.id))
        .where(CycleIndicator.cycle_id == ReportingCycle.id)
        .scalar_subquery()
    )
    answered = (
        select(func.count(SubmissionValue.id))
        .join(CycleIndicator, CycleIndicator.indicator_id == SubmissionValue.indicator_id)
        .where(
            SubmissionValue.submission_id == Submission.id,
            CycleIndicator.cycle_id == ReportingCycle.id,
            or_(
                SubmissionValue.number_value.is_not(None),
                SubmissionValue.bool_value.is_not(None),
                SubmissionValue.text_value.is_not(None),
            ),
        )
        .scalar_subquery()
    )
    for criterion in criteria:
        query = (
            select(
                *_row(
                    scheme_id,
                    CycleMember.member_id,
                    criterion,
                    EvidenceKind.CYCLE,
                    ReportingCycle.id,
                    ReportingCycle.name,
                    on_date=ReportingCycle.due_on,
                    counted=and_(submitted, Submission.is_late.is_(False)),
                    extra=submitted,
                    part=case((submitted, answered), else_=0),
                    whole=requested,
                    detail=Submission.status,
                )
            )
            .join(ReportingCycle, ReportingCycle.id == CycleMember.cycle_id)
            .join(members, members.c.id == CycleMember.member_id)
            .outerjoin(
                Submission,
                and_(
                    Submission.cycle_id == CycleMember.cycle_id,
                    Submission.member_id == CycleMember.member_id,
                ),
            )
            .where(_asked_cycles(window))
        )
        _insert(session, query)


_PROGRESSING = (CommitmentStatus.ACHIEVED, CommitmentStatus.IN_PROGRESS)


def collect_commitments(session: Session, scheme_id: int, window: Window, members) -> None:
    """Commitments made by the end of the year: updated during it, and their progress.

    A commitment's status is the one of its last update made by the end of the year (its
    current status when it has none); dropped commitments are not counted.
    """
    status_then = func.coalesce(
        select(CommitmentUpdate.status)
        .where(
            CommitmentUpdate.commitment_id == Commitment.id,
            CommitmentUpdate.created_at < window.ends_at,
        )
        .order_by(CommitmentUpdate.created_at.desc(), CommitmentUpdate.id.desc())
        .limit(1)
        .scalar_subquery(),
        Commitment.status,
    ).label("status_then")
    updated = exists().where(
        CommitmentUpdate.commitment_id == Commitment.id,
        CommitmentUpdate.created_at >= window.starts_at,
        CommitmentUpdate.created_at < window.ends_at,
    )
    inner = (
        select(
            Commitment.id,
            Commitment.member_id,
            Commitment.title,
            Commitment.target_on,
            updated.label("updated"),
            status_then,
        )
        .join(members, members.c.id == Commitment.member_id)
        .where(Commitment.created_at < window.ends_at)
        .subquery()
    )
    query = select(
        *_row(
            scheme_id,
            inner.c.member_id,
            CriterionKind.COMMITMENTS,
            EvidenceKind.COMMITMENT,
            inner.c.id,
            inner.c.title,
            on_date=inner.c.target_on,
            counted=inner.c.updated,
            extra=inner.c.status_then.in_(_PROGRESSING),
            detail=inner.c.status_then,
        )
    ).where(inner.c.status_then != CommitmentStatus.DROPPED)
    _insert(session, query)


def _group_overlaps_year(window: Window):
    return and_(
        GroupMembership.joined_on <= window.last_day,
        or_(GroupMembership.left_on.is_(None), GroupMembership.left_on >= window.first_day),
    )


_TAKES_PART = (GroupRole.LEAD, GroupRole.MEMBER)


def collect_groups(session: Session, scheme_id: int, window: Window, members) -> None:
    """Working groups the member belonged to during the year; observers are listed, not
    counted, and a lead (co-chair) role is the second measure."""
    active = func.max(case((GroupMembership.role.in_(_TAKES_PART), 1), else_=0))
    lead = func.max(case((GroupMembership.role == GroupRole.LEAD, 1), else_=0))
    inner = (
        select(
            GroupMembership.member_id,
            WorkingGroup.id.label("group_id"),
            WorkingGroup.name,
            func.min(GroupMembership.joined_on).label("joined_on"),
            active.label("active"),
            lead.label("lead"),
        )
        .join(WorkingGroup, WorkingGroup.id == GroupMembership.group_id)
        .join(members, members.c.id == GroupMembership.member_id)
        .where(_group_overlaps_year(window))
        .group_by(GroupMembership.member_id, WorkingGroup.id, WorkingGroup.name)
        .subquery()
    )
    query = select(
        *_row(
            scheme_id,
            inner.c.member_id,
            CriterionKind.WORKING_GROUPS,
            EvidenceKind.GROUP,
            inner.c.group_id,
            inner.c.name,
            on_date=inner.c.joined_on,
            counted=inner.c.active == 1,
            extra=inner.c.lead == 1,
            detail=case(
                (inner.c.lead == 1, literal(GroupRole.LEAD.value)),
                (inner.c.active == 1, literal(GroupRole.MEMBER.value)),
                else_=literal(GroupRole.OBSERVER.value),
            ),
        )
    )
    _insert(session, query)


def collect_exchanges(session: Session, scheme_id: int, window: Window, members) -> None:
    """Confirmed exchanges of the year, given (the member shared or hosted) and received."""
    parts = []
    for side, other_side, given in (
        (PeerExchange.from_member_id, PeerExchange.to_member_id, True),
        (PeerExchange.to_member_id, PeerExchange.from_member_id, False),
    ):
        other = aliased(Member)
        parts.append(
            select(
                *_row(
                    scheme_id,
                    side,
                    CriterionKind.EXCHANGES,
                    EvidenceKind.EXCHANGE,
                    PeerExchange.id,
                    other.name,
                    on_date=PeerExchange.occurred_on,
                    counted=literal(True, Boolean),
                    extra=literal(given, Boolean),
                    detail=PeerExchange.exchange_type,
                )
            )
            .join(members, members.c.id == side)
            .join(other, other.id == other_side)
            .where(
                PeerExchange.status == ExchangeStatus.CONFIRMED,
                PeerExchange.occurred_on >= window.first_day,
                PeerExchange.occurred_on <= window.last_day,
            )
        )
    session.execute(insert(_EVIDENCE).from_select(_COLUMNS, union_all(*parts)))


def collect_follow_ups(session: Session, scheme_id: int, window: Window, members) -> None:
    """The member's follow-ups due in the year (once due, or done): closed by the due day."""
    done = FollowUp.status == FollowUpStatus.DONE
    query = (
        select(
            *_row(
                scheme_id,
                FollowUp.member_id,
                CriterionKind.FOLLOW_UPS,
                EvidenceKind.FOLLOW_UP,
                FollowUp.id,
                FollowUp.title,
                on_date=FollowUp.due_on,
                counted=and_(done, FollowUp.completed_on <= FollowUp.due_on),
                detail=FollowUp.status,
            )
        )
        .join(members, members.c.id == FollowUp.member_id)
        .where(
            FollowUp.status != FollowUpStatus.CANCELLED,
            FollowUp.due_on >= window.first_day,
            FollowUp.due_on <= window.last_day,
            or_(FollowUp.due_on < window.today, done),
        )
    )
    _insert(session, query)


COLLECTORS = {
    CriterionKind.ATTENDANCE: collect_attendance,
    CriterionKind.COMMITMENTS: collect_commitments,
    CriterionKind.WORKING_GROUPS: collect_groups,
    CriterionKind.EXCHANGES: collect_exchanges,
    CriterionKind.FOLLOW_UPS: collect_follow_ups,
}


def evidence_counts(session: Session, scheme_id: int) -> dict[tuple[int, CriterionKind], Counts]:
    """Add up the evidence per member and criterion, in SQL."""
    as_int = lambda flag: func.sum(case((flag, 1), else_=0))  # noqa: E731
    rows = session.execute(
        select(
            ScoreEvidence.member_id,
            ScoreEvidence.criterion,
            func.count(ScoreEvidence.id),
            as_int(ScoreEvidence.counted),
            as_int(ScoreEvidence.extra),
            func.coalesce(func.sum(ScoreEvidence.part), 0),
            func.coalesce(func.sum(ScoreEvidence.whole), 0),
        )
        .where(ScoreEvidence.scheme_id == scheme_id)
        .group_by(ScoreEvidence.member_id, ScoreEvidence.criterion)
    )
    return {
        (member_id, kind): Counts(int(items), int(hits), int(extra), int(part), int(whole))
        for member_id, kind, items, hits, extra, part, whole in rows
    }


def network_gaps(session: Session, window: Window) -> Mapping[CriterionKind, LeftOut]:
    """Criteria with no data at all in the year, left out for every member."""
    events_held = exists().where(
        Event.cancelled_at.is_(None),
        Event.starts_at >= window.starts_at,
        Event.starts_at < window.judged_until,
    )
    cycles_due = exists().where(
        ReportingCycle.state != CycleState.DRAFT,
        ReportingCycle.due_on >= window.first_day,
        ReportingCycle.due_on <= window.last_day,
    )
    groups_active = exists().where(
        _group_overlaps_year(window), GroupMembership.role.in_(_TAKES_PART)
    )
    exchanges_made = exists().where(
        PeerExchange.status == ExchangeStatus.CONFIRMED,
        PeerExchange.occurred_on >= window.first_day,
        PeerExchange.occurred_on <= window.last_day,
    )
    row = session.execute(
        select(
            events_held.label("events"),
            cycles_due.label("cycles"),
            groups_active.label("groups"),
            exchanges_made.label("exchanges"),
        )
    ).one()
    gaps: dict[CriterionKind, LeftOut] = {}
    if not row.events:
        gaps[CriterionKind.ATTENDANCE] = LeftOut.NO_EVENTS
    if not row.cycles:
        gaps[CriterionKind.REPORTING_ON_TIME] = LeftOut.NO_CYCLES
        gaps[CriterionKind.COMPLETENESS] = LeftOut.NO_CYCLES
    if not row.groups:
        gaps[CriterionKind.WORKING_GROUPS] = LeftOut.NO_GROUPS
    if not row.exchanges:
        gaps[CriterionKind.EXCHANGES] = LeftOut.NO_EXCHANGES
    return gaps


def members_with_primary_focal_point(session: Session, window: Window, members) -> set[int]:
    """Members with a primary focal point in office on the reference day."""
    day = window.reference_day
    rows = session.scalars(
        select(Contact.member_id)
        .join(members, members.c.id == Contact.member_id)
        .where(
            Contact.is_primary.is_(True),
            or_(Contact.active_from.is_(None), Contact.active_from <= day),
            or_(Contact.active_to.is_(None), Contact.active_to >= day),
        )
        .distinct()
    )
    return set(rows)


def members_who_attended(session: Session, window: Window, members) -> set[int]:
    """Members with at least one person at an event held in the year (invited or not)."""
    rows = session.scalars(
        select(Attendance.member_id)
        .join(Event, Event.id == Attendance.event_id)
        .join(members, members.c.id == Attendance.member_id)
        .where(
            Attendance.attended.is_(True),
            Event.cancelled_at.is_(None),
            Event.starts_at >= window.starts_at,
            Event.starts_at < window.judged_until,
        )
        .distinct()
    )
    return set(rows)


def evidence_freshness(session: Session, window: Window, members) -> dict[int, bool]:
    """For members with commitments under a freshness rule: whether all their evidence is
    fresh on the reference day (only commitments still being worked on count)."""
    from secretariat.commitments.models import ONGOING

    stale = func.sum(
        case((Commitment.evidence_stale_on <= window.reference_day, 1), else_=0)
    ).label("stale")
    rows = session.execute(
        select(Commitment.member_id, stale)
        .join(members, members.c.id == Commitment.member_id)
        .where(
            Commitment.evidence_stale_on.is_not(None),
            Commitment.status.in_(ONGOING),
            Commitment.created_at < window.ends_at,
        )
        .group_by(Commitment.member_id)
    )
    return {member_id: not count for member_id, count in rows}
