"""Helpers of the indicator tests: reported values built row by row, and reading pages.

The other page readers (text, section, rows, field_error) are in tests/followups/factories.py.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from secretariat.indicators.models import Indicator
from secretariat.members.models import Member
from secretariat.reporting.models import (
    CycleIndicator,
    CycleMember,
    CycleState,
    ReportingCycle,
    Submission,
    SubmissionStatus,
    SubmissionValue,
    ValueSource,
)
from tests.factories import ReportingCycleFactory

#: When the hand-built submissions were made, unless a test says otherwise.
SUBMITTED_AT = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
_REPORTED = (SubmissionStatus.SUBMITTED, SubmissionStatus.VERIFIED)


def open_cycle(period: str = "2025", **kwargs) -> ReportingCycle:
    """An open cycle on the period (its members and indicators are added as values come)."""
    return ReportingCycleFactory(period=period, state=CycleState.OPEN, **kwargs)


def report(
    db,
    cycle: ReportingCycle,
    member: Member,
    indicator: Indicator,
    value: Decimal | int | str | bool | None,
    *,
    status: SubmissionStatus = SubmissionStatus.SUBMITTED,
    submitted_at: datetime | None = None,
    comment: str | None = None,
) -> SubmissionValue:
    """The member's value of the indicator in the cycle, in a submission of the given status.

    A number (int, Decimal or numeric string) goes to ``number_value``, a bool to
    ``bool_value``, other text to ``text_value``; None leaves the answer empty.
    """
    submission = db.scalar(
        select(Submission).where(Submission.cycle_id == cycle.id, Submission.member_id == member.id)
    )
    if submission is None:
        reported = status in _REPORTED
        moment = submitted_at or SUBMITTED_AT
        submission = Submission(
            cycle=cycle,
            member=member,
            status=status,
            submitted_at=moment if reported else None,
            first_submitted_at=moment if reported else None,
        )
        db.add(submission)
        if (
            db.scalar(
                select(CycleMember).where(
                    CycleMember.cycle_id == cycle.id, CycleMember.member_id == member.id
                )
            )
            is None
        ):
            db.add(CycleMember(cycle=cycle, member=member))
    if (
        db.scalar(
            select(CycleIndicator).where(
                CycleIndicator.cycle_id == cycle.id, CycleIndicator.indicator_id == indicator.id
            )
        )
        is None
    ):
        db.add(CycleIndicator(cycle=cycle, indicator=indicator))
    row = SubmissionValue(submission=submission, indicator=indicator, source=ValueSource.ENTERED)
    if isinstance(value, bool):
        row.bool_value = value
    elif isinstance(value, int | Decimal):
        row.number_value = Decimal(value)
    elif isinstance(value, str):
        try:
            row.number_value = Decimal(value)
        except ArithmeticError:
            row.text_value = value
    row.comment = comment
    db.add(row)
    db.flush()
    return row


def report_many(db, indicator: Indicator, values: list, period: str = "2025", members=None):
    """One cycle on the period where each new member (or the given ones) reported a value."""
    from tests.factories import MemberFactory

    cycle = open_cycle(period)
    members = members or [MemberFactory() for _value in values]
    for member, value in zip(members, values, strict=True):
        report(db, cycle, member, indicator, value)
    return cycle, members


def later(minutes: int) -> datetime:
    return SUBMITTED_AT + timedelta(minutes=minutes)


# -- reading pages ------------------------------------------------------------------------


def input_value(page: str, field_id: str) -> str | None:
    """The value of the text input with this id, as the page shows it."""
    match = re.search(rf'<input[^>]*id="{field_id}"[^>]*>', page)
    assert match, f"no input {field_id}"
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else None
