"""Fixtures and builders shared by the participation tests.

Everything is dated explicitly (year 2025 measured on 1 February 2026 by default) so that
the expected scores worked out by hand in the tests do not depend on the day the suite runs.
Override ``app_overrides`` in a module or test (e.g. ``{"TIMEZONE": "Asia/Tokyo"}``) to
change settings.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import factory
import pytest
from sqlalchemy import func, select

from secretariat.commitments.models import CommitmentStatus, CommitmentUpdate
from secretariat.events.models import Attendance, AttendanceSource, Invitation
from secretariat.events.models import Audience as EventAudience
from secretariat.followups.models import FollowUp, FollowUpStatus, Priority, Recurrence
from secretariat.members.models import MemberStatus, MemberStatusChange
from secretariat.participation import services
from secretariat.participation.models import (
    ConditionKind,
    ConditionResult,
    CriterionKind,
    ParticipationScore,
    ScoreCondition,
    ScoreCriterion,
    ScoreEvidence,
    ScoringScheme,
)
from secretariat.reporting.models import (
    Audience,
    CycleIndicator,
    CycleMember,
    CycleState,
    ReportingCycle,
    Submission,
    SubmissionStatus,
    SubmissionValue,
    ValueSource,
)
from tests.factories import (
    Base,
    CommitmentFactory,
    EventFactory,
    MemberFactory,
    ReportingCycleFactory,
    TermFactory,
    UserFactory,
)

#: The moment year 2025 is measured at in most tests: every 2025 deadline has passed.
NOW_2025 = datetime(2026, 2, 1, 12, tzinfo=UTC)


@pytest.fixture
def staff(db):
    return UserFactory(name="Sofia Staff")


@pytest.fixture
def admin(db):
    return UserFactory(name="Ada Admin", admin=True)


@pytest.fixture
def focal(db):
    return UserFactory(focal_point=True)


@pytest.fixture
def region(db):
    """One region for the members of a test (saves a term per member)."""
    return TermFactory(label="Europe")


# --- builders -----------------------------------------------------------------------------


def at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    """An aware UTC moment."""
    return datetime(year, month, day, hour, tzinfo=UTC)


def member(region=None, **fields):
    """A member (active, joined in 2020 unless told otherwise)."""
    if region is not None:
        fields["region"] = region
    return MemberFactory(**fields)


def status_change(db, member, to_status: MemberStatus, changed_at: datetime) -> None:
    """The member's status set to ``to_status`` at ``changed_at``, with its history row."""
    db.add(
        MemberStatusChange(
            member_id=member.id,
            from_status=member.status,
            to_status=to_status,
            reason="Test",
            changed_at=changed_at,
        )
    )
    member.status = to_status
    db.flush()


def event(starts_at: datetime, *, cancelled: bool = False, **fields):
    return EventFactory(
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        cancelled_at=starts_at if cancelled else None,
        **fields,
    )


def invite(db, event, member, attended: bool | None = None) -> Invitation:
    """``member`` invited to ``event``; ``attended`` records an attendance row (True/False)."""
    invitation = Invitation(event_id=event.id, member_id=member.id, audience=EventAudience.CHOSEN)
    db.add(invitation)
    if attended is not None:
        attend(db, event, member, attended)
    db.flush()
    return invitation


def attend(db, event, member, attended: bool = True) -> None:
    db.add(
        Attendance(
            event_id=event.id,
            member_id=member.id,
            contact_id=None,
            attended=attended,
            source=AttendanceSource.MANUAL,
        )
    )
    db.flush()


def cycle(
    db,
    indicators: Iterable,
    members: Iterable = (),
    *,
    due_on: date,
    state: CycleState = CycleState.CLOSED,
    opens_on: date | None = None,
) -> ReportingCycle:
    """A cycle asking ``members`` for ``indicators``, due on ``due_on``."""
    row = ReportingCycleFactory(
        period=str(due_on.year),
        state=state,
        opens_on=opens_on or due_on.replace(day=1),
        due_on=due_on,
        audience=Audience.CHOSEN,
    )
    row.indicators = [
        CycleIndicator(indicator_id=i.id, position=n) for n, i in enumerate(indicators, start=1)
    ]
    row.members = [CycleMember(member_id=m.id) for m in members]
    db.flush()
    return row


def submit(
    db,
    cycle: ReportingCycle,
    member,
    answers: dict | None = None,
    *,
    is_late: bool = False,
    status: SubmissionStatus = SubmissionStatus.SUBMITTED,
    submitted_at: datetime | None = None,
) -> Submission:
    """The member's submission: ``answers`` maps indicators to a number or None (empty)."""
    submitted = status is not SubmissionStatus.DRAFT
    moment = submitted_at or datetime.combine(cycle.due_on, time(9), tzinfo=UTC)
    row = Submission(
        cycle=cycle,
        member=member,
        status=status,
        first_submitted_at=moment if submitted else None,
        submitted_at=moment if submitted else None,
        is_late=is_late if submitted else None,
    )
    for indicator, answer in (answers or {}).items():
        row.values.append(
            SubmissionValue(
                indicator_id=indicator.id,
                source=ValueSource.ENTERED,
                number_value=None if answer is None else Decimal(answer),
                comment=None if answer is not None else "Not measured yet",
            )
        )
    db.add(row)
    db.flush()
    return row


def commitment(db, member, status=CommitmentStatus.PLANNED, *, created_at=None, updates=(), **kw):
    """A commitment (made on 1 March 2024 unless told) with progress ``updates``: (moment,
    status) pairs. ``created_at`` defaults to now on the model: always set it here."""
    row = CommitmentFactory(
        member=member, status=status, created_at=created_at or at(2024, 3, 1), **kw
    )
    for moment, update_status in updates:
        db.add(
            CommitmentUpdate(
                commitment_id=row.id,
                status=update_status,
                narrative="Progress",
                created_at=moment,
            )
        )
    db.flush()
    return row


class FollowUpFactory(Base):
    class Meta:
        model = FollowUp

    title = factory.Sequence(lambda n: f"Follow-up {n}")
    owner = factory.SubFactory(UserFactory)
    due_on = date(2025, 6, 30)
    priority = Priority.NORMAL
    status = FollowUpStatus.OPEN
    recurrence = Recurrence.NONE
    series_start = factory.LazyAttribute(lambda o: o.due_on)


def follow_up(member, owner, due_on: date, status=FollowUpStatus.OPEN, completed_on=None):
    return FollowUpFactory(
        member=member, owner=owner, due_on=due_on, status=status, completed_on=completed_on
    )


# --- reading the results ------------------------------------------------------------------


def new_scheme(db, year: int = 2025) -> ScoringScheme:
    """The year's scheme with the default method (or a copy of an earlier year's)."""
    return services.create_scheme(db, None, year)


def compute(db, scheme: ScoringScheme, now: datetime = NOW_2025):
    return services.compute(db, None, scheme, now=now)


def scores(db, scheme) -> dict[int, ParticipationScore]:
    """Each scored member's row, by member id."""
    rows = db.scalars(select(ParticipationScore).where(ParticipationScore.scheme_id == scheme.id))
    return {row.member_id: row for row in rows}


def lines(db, scheme, member) -> dict[CriterionKind, ScoreCriterion]:
    """The member's breakdown, by criterion."""
    rows = db.scalars(
        select(ScoreCriterion).where(
            ScoreCriterion.scheme_id == scheme.id, ScoreCriterion.member_id == member.id
        )
    )
    return {row.kind: row for row in rows}


def points(db, scheme, member) -> dict[CriterionKind, Decimal | None]:
    """The member's points by criterion (None when left out)."""
    return {kind: row.points for kind, row in lines(db, scheme, member).items()}


def condition_results(db, scheme, member) -> dict[ConditionKind, ConditionResult]:
    rows = db.scalars(
        select(ScoreCondition).where(
            ScoreCondition.scheme_id == scheme.id, ScoreCondition.member_id == member.id
        )
    )
    return {row.kind: row.result for row in rows}


def evidence(db, scheme, member, criterion: CriterionKind) -> list[ScoreEvidence]:
    return list(
        db.scalars(
            select(ScoreEvidence)
            .where(
                ScoreEvidence.scheme_id == scheme.id,
                ScoreEvidence.member_id == member.id,
                ScoreEvidence.criterion == criterion,
            )
            .order_by(ScoreEvidence.item_id)
        )
    )


def row_count(db, model, scheme) -> int:
    return db.scalar(select(func.count()).select_from(model).where(model.scheme_id == scheme.id))


def scheme_data(scheme: ScoringScheme, **changes) -> services.SchemeData:
    """The scheme's current method as a form would send it; ``changes`` overrides figures:
    ``attendance={"weight": "30"}`` for a criterion, ``leading_from="85"``, ``conditions=...``.
    """
    criteria = {}
    for criterion in scheme.criteria:
        values = {
            "weight": str(criterion.weight),
            "floor": str(criterion.floor),
            "target": str(criterion.target),
            "bonus": "" if criterion.bonus is None else str(criterion.bonus),
        }
        values.update(changes.pop(criterion.kind.value, {}))
        criteria[criterion.kind] = services.CriterionInput(**values)
    fields = {
        "leading_from": str(scheme.leading_from),
        "active_from": str(scheme.active_from),
        "engaged_from": str(scheme.engaged_from),
        "recognition_size": str(scheme.recognition_size),
        "conditions": {condition.kind for condition in scheme.conditions},
    }
    fields.update(changes)
    return services.SchemeData(criteria=criteria, **fields)
