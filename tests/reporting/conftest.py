"""Fixtures and helpers shared by the reporting tests.

Keep them generic: every test module under tests/reporting may use them. Override
``app_overrides`` in a module (or parametrize it) to change settings such as ``TIMEZONE``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from secretariat.clock import network_today
from secretariat.reporting import services
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
    ContactFactory,
    IndicatorFactory,
    MemberFactory,
    ReportingCycleFactory,
    UserFactory,
)


@pytest.fixture
def staff(db):
    """A secretariat staff user."""
    return UserFactory(name="Sofia Staff")


@pytest.fixture
def focal(db):
    """A focal point of Lisbon, with a current primary contact under the user's own address."""
    user = UserFactory(focal_point=True, member=MemberFactory(name="Lisbon", slug="lisbon"))
    ContactFactory(member=user.member, name="Own Focal", email=user.email, is_primary=True)
    return user


@pytest.fixture
def other_focal(db):
    """A focal point of another member (Porto), for isolation tests."""
    user = UserFactory(focal_point=True, member=MemberFactory(name="Porto", slug="porto"))
    ContactFactory(member=user.member, name="Other Focal", email=user.email, is_primary=True)
    return user


def today() -> date:
    """The network's calendar day now."""
    return network_today()


def days(n: int) -> date:
    """The network's day ``n`` days from today (negative: in the past)."""
    return today() + timedelta(days=n)


def fresh(db, row):
    """The row read again from the database."""
    db.expire_all()
    return db.get(type(row), row.id)


def open_cycle_for(
    db,
    staff,
    members,
    indicators=None,
    *,
    optional=(),
    opens_on: date | None = None,
    due_on: date | None = None,
    grace_until: date | None = None,
    period: str = "2025",
    **fields,
) -> ReportingCycle:
    """An open cycle asking the chosen ``members`` for ``indicators`` (one number by default).

    By default it opened 10 days ago and is due in 10 days, so it takes submissions today.
    ``optional`` lists indicators that may be left empty.
    """
    indicators = list(indicators) if indicators is not None else [IndicatorFactory()]
    optional_ids = {i.id for i in optional}
    cycle = ReportingCycleFactory(
        period=period,
        opens_on=opens_on or days(-10),
        due_on=due_on or days(10),
        grace_until=grace_until,
        audience=Audience.CHOSEN,
        **fields,
    )
    cycle.indicators = [
        CycleIndicator(indicator_id=i.id, position=n, is_required=i.id not in optional_ids)
        for n, i in enumerate(indicators, start=1)
    ]
    cycle.members = [CycleMember(member_id=m.id) for m in members]
    db.flush()
    services.open_cycle(db, staff, cycle)
    return cycle


def past_cycle(
    db,
    indicators,
    members=(),
    *,
    period: str = "2024",
    state: CycleState = CycleState.CLOSED,
    opens_on: date = date(2025, 3, 1),
    due_on: date | None = None,
    **fields,
) -> ReportingCycle:
    """A cycle built by hand (closed by default) asking ``members`` for ``indicators``.

    It is due 91 days after it opens unless ``due_on`` says otherwise.
    """
    cycle = ReportingCycleFactory(
        period=period,
        state=state,
        opens_on=opens_on,
        due_on=due_on or opens_on + timedelta(days=91),
        audience=Audience.CHOSEN,
        **fields,
    )
    cycle.indicators = [
        CycleIndicator(indicator_id=i.id, position=n) for n, i in enumerate(indicators, start=1)
    ]
    cycle.members = [CycleMember(member_id=m.id) for m in members]
    db.flush()
    return cycle


def hand_submission(
    db,
    cycle: ReportingCycle,
    member,
    answers: dict | None = None,
    *,
    status: SubmissionStatus = SubmissionStatus.SUBMITTED,
    submitted_at: datetime | None = None,
    is_late: bool = False,
    comments: dict | None = None,
) -> Submission:
    """A member's submission written directly: ``answers`` maps indicators to values.

    A bool is a yes/no answer, an int or Decimal a number, a str a choice or text, None an
    empty answer (kept only with a comment from ``comments``). The member is added to the
    cycle's audience if needed. Anything but a draft counts as submitted once.
    """
    if not any(cm.member_id == member.id for cm in cycle.members):
        cycle.members.append(CycleMember(member_id=member.id))
    submitted = status is not SubmissionStatus.DRAFT
    moment = submitted_at or datetime.combine(cycle.due_on, time(9), tzinfo=UTC)
    submission = Submission(
        cycle=cycle,
        member=member,
        status=status,
        first_submitted_at=moment if submitted else None,
        submitted_at=moment if submitted else None,
        is_late=is_late if submitted else None,
    )
    comments = comments or {}
    for indicator, answer in (answers or {}).items():
        row = SubmissionValue(
            indicator_id=indicator.id,
            source=ValueSource.ENTERED,
            comment=comments.get(indicator),
        )
        if isinstance(answer, bool):
            row.bool_value = answer
        elif isinstance(answer, int | Decimal):
            row.number_value = Decimal(answer)
        elif isinstance(answer, str):
            row.text_value = answer
        submission.values.append(row)
    db.add(submission)
    db.flush()
    return submission
