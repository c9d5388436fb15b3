"""Deadlines are the end of a day in the network's time zone, not in UTC.

A cycle due on 31 May 2026 takes on-time submissions until 23:59:59 on that day where the
network is: in Tokyo (UTC+9) that is 14:59:59 UTC on 31 May, in São Paulo (UTC-3) 02:59:59 UTC
on 1 June.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from secretariat.clock import network_today
from secretariat.reporting import queries, services
from secretariat.reporting.models import CycleState, Submission, SubmissionStatus
from secretariat.reporting.services import CycleData, CycleError, SubmissionInput, ValueInput
from tests.factories import IndicatorFactory, MemberFactory, ReportingCycleFactory
from tests.reporting.conftest import fresh, open_cycle_for

DUE = date(2026, 5, 31)
TOKYO = "Asia/Tokyo"
SAO_PAULO = "America/Sao_Paulo"


def local(zone: str, *parts: int) -> datetime:
    """An instant given as a wall-clock time in ``zone``."""
    return datetime(*parts, tzinfo=ZoneInfo(zone))


def zone(name: str) -> dict:
    return {"TIMEZONE": name}


def answer(indicator, raw: str = "10") -> SubmissionInput:
    return SubmissionInput(values={indicator.id: ValueInput(raw=raw)})


LAST_SECOND_TOKYO = local(TOKYO, 2026, 5, 31, 23, 59, 59)
MIDNIGHT_TOKYO = local(TOKYO, 2026, 6, 1, 0, 0, 0)
LAST_SECOND_SAO_PAULO = local(SAO_PAULO, 2026, 5, 31, 23, 59, 59)
MIDNIGHT_SAO_PAULO = local(SAO_PAULO, 2026, 6, 1, 0, 0, 0)


@pytest.mark.parametrize(
    ("app_overrides", "instant", "late"),
    [
        (zone(TOKYO), LAST_SECOND_TOKYO, False),
        (zone(TOKYO), LAST_SECOND_TOKYO + timedelta(microseconds=999_999), False),
        (zone(TOKYO), MIDNIGHT_TOKYO, True),
        (zone(SAO_PAULO), LAST_SECOND_SAO_PAULO, False),
        (zone(SAO_PAULO), MIDNIGHT_SAO_PAULO, True),
    ],
    ids=["tokyo-last-second", "tokyo-last-microsecond", "tokyo-midnight", "sp-last", "sp-midnight"],
)
def test_late_exactly_after_the_end_of_the_due_day_locally(db, app_overrides, instant, late):
    cycle = ReportingCycleFactory(due_on=DUE)
    assert services.is_late(cycle, instant) is late
    # The same instant written in UTC is judged the same way: only the zone setting matters.
    assert services.is_late(cycle, instant.astimezone(UTC)) is late


@pytest.mark.parametrize(
    ("app_overrides", "instant", "late_in_utc"),
    [
        # 15:00 UTC on 31 May: still the due day in UTC, already 1 June in Tokyo.
        (zone("UTC"), MIDNIGHT_TOKYO, False),
        # 02:59:59 UTC on 1 June: past the due day in UTC, still 31 May in São Paulo.
        (zone("UTC"), LAST_SECOND_SAO_PAULO, True),
    ],
    ids=["tokyo-midnight", "sp-last-second"],
)
def test_judged_in_utc_the_same_instants_give_the_other_answer(
    db, app_overrides, instant, late_in_utc
):
    cycle = ReportingCycleFactory(due_on=DUE)
    assert services.is_late(cycle, instant) is late_in_utc


@pytest.mark.parametrize(
    ("app_overrides", "last_second", "midnight"),
    [
        (zone(TOKYO), LAST_SECOND_TOKYO, MIDNIGHT_TOKYO),
        (zone(SAO_PAULO), LAST_SECOND_SAO_PAULO, MIDNIGHT_SAO_PAULO),
    ],
    ids=["tokyo", "sao-paulo"],
)
def test_submissions_at_the_boundary_are_stored_on_time_and_late(
    db, staff, app_overrides, last_second, midnight
):
    indicator = IndicatorFactory()
    on_time, late = MemberFactory(), MemberFactory()
    cycle = open_cycle_for(
        db, staff, [on_time, late], [indicator], opens_on=date(2026, 3, 1), due_on=DUE
    )
    first = services.save_submission(
        db, staff, cycle, on_time, answer(indicator), submit=True, now=last_second
    )
    second = services.save_submission(
        db, staff, cycle, late, answer(indicator), submit=True, now=midnight
    )
    first, second = fresh(db, first), fresh(db, second)
    assert (first.is_late, second.is_late) == (False, True)
    # Stored in UTC, the same instants.
    assert first.first_submitted_at == last_second
    assert first.first_submitted_at.utcoffset() == timedelta(0)
    assert second.first_submitted_at == midnight
    rates = queries.cycle_rates(db, cycle.id)
    assert (rates.asked, rates.reported, rates.on_time) == (2, 2, 1)


@pytest.mark.parametrize(
    ("app_overrides", "name"), [(zone(TOKYO), TOKYO), (zone(SAO_PAULO), SAO_PAULO)]
)
def test_the_grace_period_ends_at_local_midnight(db, staff, focal, app_overrides, name):
    indicator = IndicatorFactory()
    cycle = open_cycle_for(
        db,
        staff,
        [focal.member],
        [indicator],
        opens_on=date(2026, 3, 1),
        due_on=DUE,
        grace_until=date(2026, 6, 7),
    )
    after = local(name, 2026, 6, 8, 0, 0, 0)
    with pytest.raises(CycleError):
        services.save_submission(
            db, focal, cycle, focal.member, answer(indicator), submit=True, now=after
        )
    assert services.find_submission(db, cycle, focal.member.id) is None
    last_second = local(name, 2026, 6, 7, 23, 59, 59)
    submission = services.save_submission(
        db, focal, cycle, focal.member, answer(indicator), submit=True, now=last_second
    )
    assert submission.status is SubmissionStatus.SUBMITTED
    assert submission.is_late is True


@pytest.mark.parametrize(
    ("app_overrides", "name"), [(zone(TOKYO), TOKYO), (zone(SAO_PAULO), SAO_PAULO)]
)
def test_the_cycle_takes_submissions_from_local_midnight_of_the_opening_day(
    db, staff, focal, app_overrides, name
):
    indicator = IndicatorFactory()
    cycle = open_cycle_for(
        db, staff, [focal.member], [indicator], opens_on=date(2026, 3, 1), due_on=DUE
    )
    with pytest.raises(CycleError) as caught:
        services.save_submission(
            db,
            focal,
            cycle,
            focal.member,
            answer(indicator),
            submit=False,
            now=local(name, 2026, 2, 28, 23, 59, 59),
        )
    assert caught.value.message.startswith("This cycle opens on")
    services.save_submission(
        db,
        focal,
        cycle,
        focal.member,
        answer(indicator),
        submit=False,
        now=local(name, 2026, 3, 1, 0, 0, 0),
    )
    assert services.find_submission(db, cycle, focal.member.id) is not None


@pytest.mark.parametrize("app_overrides", [zone(TOKYO)])
def test_moving_the_due_date_judges_timeliness_again(db, staff, app_overrides):
    indicator = IndicatorFactory()
    first, second = MemberFactory(), MemberFactory()
    cycle = open_cycle_for(
        db, staff, [first, second], [indicator], opens_on=date(2026, 3, 1), due_on=DUE
    )
    services.save_submission(
        db, staff, cycle, first, answer(indicator), submit=True, now=LAST_SECOND_TOKYO
    )
    services.save_submission(
        db,
        staff,
        cycle,
        second,
        answer(indicator),
        submit=True,
        now=local(TOKYO, 2026, 6, 5, 23, 59, 59),
    )
    assert queries.cycle_rates(db, cycle.id).on_time == 1

    def move_due_date(day: date) -> None:
        services.update_cycle(
            db,
            staff,
            cycle,
            CycleData(name=cycle.name, period=cycle.period, opens_on=cycle.opens_on, due_on=day),
        )

    # The deadline is extended to 5 June: both came in time.
    move_due_date(date(2026, 6, 5))
    assert queries.cycle_rates(db, cycle.id).on_time == 2
    # Brought forward to 30 May (Tokyo's day): both are late.
    move_due_date(date(2026, 5, 30))
    assert queries.cycle_rates(db, cycle.id).on_time == 0
    assert {s.is_late for s in db.scalars(select(Submission))} == {True}


@pytest.mark.parametrize("app_overrides", [zone(TOKYO)])
def test_the_network_day_follows_the_setting(db, app_overrides):
    assert network_today(MIDNIGHT_TOKYO) == date(2026, 6, 1)
    assert MIDNIGHT_TOKYO.astimezone(UTC).date() == date(2026, 5, 31)


# -- which days take submissions ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grace_until", "day", "takes"),
    [
        (None, date(2026, 2, 28), False),
        (None, date(2026, 3, 1), True),
        (None, date(2026, 4, 15), True),
        (None, DUE, True),
        # Without a grace period, late submissions are taken until the cycle is closed.
        (None, DUE + timedelta(days=1), True),
        (None, date(2027, 12, 31), True),
        (date(2026, 6, 7), DUE + timedelta(days=1), True),
        (date(2026, 6, 7), date(2026, 6, 7), True),
        (date(2026, 6, 7), date(2026, 6, 8), False),
        (DUE, DUE, True),
        (DUE, DUE + timedelta(days=1), False),
    ],
)
def test_takes_submissions(db, grace_until, day, takes):
    cycle = ReportingCycleFactory(
        state=CycleState.OPEN, opens_on=date(2026, 3, 1), due_on=DUE, grace_until=grace_until
    )
    assert services.takes_submissions(cycle, day) is takes


@pytest.mark.parametrize("state", [CycleState.DRAFT, CycleState.CLOSED])
def test_only_an_open_cycle_takes_submissions(db, state):
    cycle = ReportingCycleFactory(state=state, opens_on=date(2026, 3, 1), due_on=DUE)
    assert not services.takes_submissions(cycle, date(2026, 4, 1))
