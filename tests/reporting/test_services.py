"""Reporting services: cycles, submissions, locking and reopening, prefill, large changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from secretariat.groups.models import GroupStatus
from secretariat.indicators.models import Aggregation, Level, ValueType
from secretariat.indicators.services import Value
from secretariat.members.models import MemberStatus
from secretariat.members.services import ValidationFailed
from secretariat.permissions import OutOfScope
from secretariat.reporting import services
from secretariat.reporting.models import (
    Audience,
    CycleMember,
    CycleState,
    ReportingCycle,
    Submission,
    SubmissionAction,
    SubmissionEvent,
    SubmissionStatus,
    SubmissionValue,
    ValueSource,
)
from secretariat.reporting.services import (
    CycleData,
    CycleError,
    SubmissionInput,
    SubmissionInvalid,
    ValueInput,
)
from tests.factories import (
    GroupMembershipFactory,
    IndicatorFactory,
    MemberFactory,
    ReportingCycleFactory,
    UserFactory,
    WorkingGroupFactory,
)
from tests.reporting.conftest import days, fresh, hand_submission, open_cycle_for, past_cycle

# -- helpers --------------------------------------------------------------------------------------


def cycle_data(indicators, **overrides) -> CycleData:
    values = {
        "name": "Annual report 2025",
        "period": "2025",
        "opens_on": date(2026, 3, 1),
        "due_on": date(2026, 5, 31),
        "indicator_ids": [i.id for i in indicators],
    }
    values.update(overrides)
    return CycleData(**values)


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def refused(db, staff, data: CycleData) -> dict[str, str]:
    """The errors of a create that must fail; checks that nothing was written."""
    before = count(db, ReportingCycle)
    with pytest.raises(ValidationFailed) as caught:
        services.create_cycle(db, staff, data)
    assert count(db, ReportingCycle) == before
    return caught.value.errors


def typed(pairs: dict, *, confirmed=(), comment: str = "") -> SubmissionInput:
    """A submission form: indicator -> what was typed; ``confirmed`` lists ticked indicators."""
    ticked = {i.id for i in confirmed}
    return SubmissionInput(
        values={i.id: ValueInput(raw=raw, confirmed=i.id in ticked) for i, raw in pairs.items()},
        general_comment=comment,
    )


def stored(db, cycle, member) -> dict[int, SubmissionValue]:
    db.expire_all()
    submission = services.find_submission(db, cycle, member.id)
    assert submission is not None
    return {v.indicator_id: v for v in submission.values}


def actions(submission: Submission) -> list[SubmissionAction]:
    """The submission's history, oldest first."""
    return [e.action for e in reversed(submission.history)]


# -- validating a cycle ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": "   "}, "name", "Name the cycle, for example “Annual report 2025”."),
        ({"name": "x" * 256}, "name", "Use at most 255 characters."),
        ({"name": "Annual\u202ereport"}, "name", "Remove the invisible control characters"),
        (
            {"period": "2025-X"},
            "period",
            "Write the period as a year (2025), a half (2025-H1) or a quarter (2025-Q3).",
        ),
        ({"period": ""}, "period", "Write the period as a year (2025)"),
        ({"opens_on": None}, "opens_on", "Enter the day the cycle opens."),
        ({"due_on": None}, "due_on", "Enter the due date."),
        (
            {"opens_on": date(2026, 6, 1), "due_on": date(2026, 5, 31)},
            "due_on",
            "The due date cannot be before the opening date.",
        ),
        (
            {"grace_until": date(2026, 5, 30)},
            "grace_until",
            "The grace period must end on or after the due date.",
        ),
        ({"audience": Audience.GROUP}, "group_id", "Choose the working group asked to report."),
        ({"audience": Audience.CHOSEN}, "member_ids", "Choose at least one member."),
        (
            {"audience": Audience.CHOSEN, "member_ids": [987654]},
            "member_ids",
            "Choose members from the list.",
        ),
        ({"indicator_ids": []}, "indicator_ids", "Choose the indicators to ask for."),
        ({"indicator_ids": [987654]}, "indicator_ids", "Choose indicators from the list."),
        ({"audience": "everyone"}, "audience", "Choose who is asked to report."),
    ],
)
def test_cycle_validation_messages(db, staff, overrides, field, message):
    indicator = IndicatorFactory()
    errors = refused(db, staff, cycle_data([indicator], **overrides))
    assert message in errors[field]


def test_cycle_name_must_be_unique_but_may_be_kept(db, staff):
    indicator = IndicatorFactory()
    existing = ReportingCycleFactory(name="Annual report 2025")
    errors = refused(db, staff, cycle_data([indicator], name="  Annual   report 2025 "))
    assert errors == {"name": "Another cycle already has this name."}
    # The cycle itself keeps its name when edited.
    services.update_cycle(
        db, staff, existing, cycle_data([indicator], instructions="Report by May.")
    )
    assert fresh(db, existing).instructions == "Report by May."


def test_every_problem_is_reported_at_once(db, staff):
    errors = refused(
        db,
        staff,
        CycleData(
            name="",
            period="20-25",
            opens_on=date(2026, 6, 1),
            due_on=date(2026, 5, 1),
            audience=Audience.GROUP,
            indicator_ids=[],
        ),
    )
    assert set(errors) == {"name", "period", "due_on", "group_id", "indicator_ids"}


def test_a_closed_group_cannot_be_asked(db, staff):
    group = WorkingGroupFactory(status=GroupStatus.CLOSED)
    errors = refused(
        db, staff, cycle_data([IndicatorFactory()], audience=Audience.GROUP, group_id=group.id)
    )
    assert errors == {"group_id": "This working group is closed."}


def test_network_level_indicators_are_not_asked_of_members(db, staff):
    network = IndicatorFactory(level=Level.NETWORK)
    errors = refused(db, staff, cycle_data([IndicatorFactory(), network]))
    assert errors == {
        "indicator_ids": (
            "Network-level indicators are recorded by the secretariat, not asked of members."
        )
    }


def test_retired_indicators_are_not_asked(db, staff):
    retired = IndicatorFactory(is_active=False)
    errors = refused(db, staff, cycle_data([IndicatorFactory(), retired]))
    assert errors == {"indicator_ids": "Retired indicators cannot be asked for."}


def test_unreadable_fields_from_the_form_are_kept(db, staff):
    errors = refused(
        db,
        staff,
        cycle_data([IndicatorFactory()], due_on=None, unreadable={"due_on": "Not a valid date."}),
    )
    assert errors == {"due_on": "Not a valid date."}


# -- creating and changing a cycle ----------------------------------------------------------------


def test_create_a_cycle(db, staff):
    first, second, optional = IndicatorFactory(), IndicatorFactory(), IndicatorFactory()
    cycle = services.create_cycle(
        db,
        staff,
        cycle_data(
            [second, first, optional, first],
            name="  Annual   report 2025 ",
            period=" 2025-h1 ",
            grace_until=date(2026, 6, 15),
            optional_indicator_ids=[optional.id],
            instructions="Use last year's method.\r\n",
        ),
    )
    cycle = fresh(db, cycle)
    assert cycle.name == "Annual report 2025"
    assert cycle.period == "2025-H1"
    assert cycle.state is CycleState.DRAFT
    assert cycle.audience is Audience.ALL_ACTIVE
    assert (cycle.opens_on, cycle.due_on, cycle.grace_until) == (
        date(2026, 3, 1),
        date(2026, 5, 31),
        date(2026, 6, 15),
    )
    assert cycle.instructions == "Use last year's method."
    assert cycle.created_by_id == staff.id
    assert [(ci.indicator_id, ci.position, ci.is_required) for ci in cycle.indicators] == [
        (second.id, 1, True),
        (first.id, 2, True),
        (optional.id, 3, False),
    ]
    assert cycle.members == []


def test_create_a_cycle_for_chosen_members_and_for_a_group(db, staff):
    indicator = IndicatorFactory()
    a, b = MemberFactory(), MemberFactory()
    chosen = services.create_cycle(
        db,
        staff,
        cycle_data(
            [indicator],
            audience=Audience.CHOSEN,
            member_ids=[b.id, a.id, b.id],
            group_id=99,
        ),
    )
    chosen = fresh(db, chosen)
    assert sorted(cm.member_id for cm in chosen.members) == sorted([a.id, b.id])
    assert chosen.group_id is None

    group = WorkingGroupFactory()
    for_group = services.create_cycle(
        db,
        staff,
        cycle_data(
            [indicator],
            name="Group report",
            audience="group",  # as a form may hand it over
            group_id=group.id,
            member_ids=[a.id],
        ),
    )
    for_group = fresh(db, for_group)
    assert for_group.audience is Audience.GROUP
    assert for_group.group_id == group.id
    assert for_group.members == []


def test_only_staff_manage_cycles(db, focal):
    with pytest.raises(OutOfScope):
        services.create_cycle(db, focal, cycle_data([IndicatorFactory()]))
    cycle = ReportingCycleFactory()
    for operation in (services.open_cycle, services.close_cycle, services.delete_cycle):
        with pytest.raises(OutOfScope):
            operation(db, focal, cycle)
    assert fresh(db, cycle).state is CycleState.DRAFT


def test_update_a_draft_cycle_changes_everything(db, staff):
    old, new = IndicatorFactory(), IndicatorFactory()
    member = MemberFactory()
    cycle = services.create_cycle(db, staff, cycle_data([old]))
    services.update_cycle(
        db,
        staff,
        cycle,
        cycle_data(
            [new, old],
            name="Annual report 2025 (revised)",
            period="2025-Q4",
            audience=Audience.CHOSEN,
            member_ids=[member.id],
            optional_indicator_ids=[old.id],
        ),
    )
    cycle = fresh(db, cycle)
    assert cycle.name == "Annual report 2025 (revised)"
    assert cycle.period == "2025-Q4"
    assert cycle.audience is Audience.CHOSEN
    assert [(ci.indicator_id, ci.is_required) for ci in cycle.indicators] == [
        (new.id, True),
        (old.id, False),
    ]
    assert [cm.member_id for cm in cycle.members] == [member.id]

    # Back to all active members: the chosen list goes.
    services.update_cycle(db, staff, cycle, cycle_data([new]))
    cycle = fresh(db, cycle)
    assert cycle.audience is Audience.ALL_ACTIVE
    assert cycle.members == []
    assert [ci.indicator_id for ci in cycle.indicators] == [new.id]


def test_an_open_cycle_changes_only_name_dates_and_instructions(db, staff):
    asked, other = MemberFactory(), MemberFactory()
    indicator, another = IndicatorFactory(), IndicatorFactory()
    cycle = open_cycle_for(db, staff, [asked], [indicator], opens_on=days(-5), due_on=days(5))
    services.update_cycle(
        db,
        staff,
        cycle,
        cycle_data(
            [another],
            name="Renamed",
            period="2030",
            opens_on=days(-6),
            due_on=days(20),
            grace_until=days(30),
            instructions="New instructions",
            audience=Audience.CHOSEN,
            member_ids=[other.id],
        ),
    )
    cycle = fresh(db, cycle)
    assert cycle.name == "Renamed"
    assert (cycle.opens_on, cycle.due_on, cycle.grace_until) == (days(-6), days(20), days(30))
    assert cycle.instructions == "New instructions"
    # What was asked of whom, and for which period, stays.
    assert cycle.period == "2025"
    assert cycle.state is CycleState.OPEN
    assert [ci.indicator_id for ci in cycle.indicators] == [indicator.id]
    assert [cm.member_id for cm in cycle.members] == [asked.id]


def test_an_open_cycle_still_validates_its_dates_and_ignores_a_missing_period(db, staff):
    cycle = open_cycle_for(db, staff, [MemberFactory()])
    with pytest.raises(ValidationFailed) as caught:
        services.update_cycle(
            db,
            staff,
            cycle,
            cycle_data([], name=cycle.name, opens_on=days(1), due_on=days(-1), period=""),
        )
    # The period and the indicators are not the form's business any more.
    assert caught.value.errors == {"due_on": "The due date cannot be before the opening date."}
    assert fresh(db, cycle).due_on == days(10)


def test_a_closed_cycle_cannot_be_changed(db, staff):
    cycle = open_cycle_for(db, staff, [MemberFactory()])
    services.close_cycle(db, staff, cycle)
    with pytest.raises(CycleError) as caught:
        services.update_cycle(db, staff, cycle, cycle_data([], name="Renamed"))
    assert "closed" in caught.value.message
    assert fresh(db, cycle).name != "Renamed"


# -- opening, closing and deleting ----------------------------------------------------------------


def test_open_for_all_active_members(db, staff):
    active = [MemberFactory(), MemberFactory()]
    for status in (
        MemberStatus.SUSPENDED,
        MemberStatus.LAPSED,
        MemberStatus.APPLICANT,
        MemberStatus.EXITED,
    ):
        MemberFactory(status=status)
    cycle = services.create_cycle(db, staff, cycle_data([IndicatorFactory()]))
    assert services.open_cycle(db, staff, cycle) == 2
    cycle = fresh(db, cycle)
    assert cycle.state is CycleState.OPEN
    assert cycle.opened_at is not None
    assert sorted(cm.member_id for cm in cycle.members) == sorted(m.id for m in active)


def test_open_for_a_group_asks_its_current_members_only(db, staff):
    group = WorkingGroupFactory()
    stays, joins_later = MemberFactory(), MemberFactory()
    GroupMembershipFactory(group=group, member=stays)
    GroupMembershipFactory(group=group, member=MemberFactory(), left_on=date(2023, 6, 30))
    GroupMembershipFactory(group=WorkingGroupFactory(), member=MemberFactory())
    cycle = services.create_cycle(
        db, staff, cycle_data([IndicatorFactory()], audience=Audience.GROUP, group_id=group.id)
    )
    # Membership as it stands when the cycle opens counts, not when it was prepared.
    GroupMembershipFactory(group=group, member=joins_later)
    assert services.open_cycle(db, staff, cycle) == 2
    asked = db.scalars(select(CycleMember.member_id).where(CycleMember.cycle_id == cycle.id))
    assert sorted(asked) == sorted([stays.id, joins_later.id])


def test_open_for_chosen_members(db, staff):
    a, b = MemberFactory(), MemberFactory(status=MemberStatus.SUSPENDED)
    MemberFactory()
    cycle = services.create_cycle(
        db,
        staff,
        cycle_data([IndicatorFactory()], audience=Audience.CHOSEN, member_ids=[a.id, b.id]),
    )
    assert services.open_cycle(db, staff, cycle) == 2
    cycle = fresh(db, cycle)
    assert sorted(cm.member_id for cm in cycle.members) == sorted([a.id, b.id])


def test_open_refuses_an_empty_audience(db, staff):
    group = WorkingGroupFactory()
    GroupMembershipFactory(group=group, member=MemberFactory(), left_on=date(2024, 1, 1))
    cycle = services.create_cycle(
        db, staff, cycle_data([IndicatorFactory()], audience=Audience.GROUP, group_id=group.id)
    )
    with pytest.raises(CycleError) as caught:
        services.open_cycle(db, staff, cycle)
    assert caught.value.message == "Nobody would be asked to report: the audience has no members."
    cycle = fresh(db, cycle)
    assert cycle.state is CycleState.DRAFT
    assert cycle.members == []


def test_open_with_no_active_member_is_refused(db, staff):
    MemberFactory(status=MemberStatus.LAPSED)
    cycle = services.create_cycle(db, staff, cycle_data([IndicatorFactory()]))
    with pytest.raises(CycleError):
        services.open_cycle(db, staff, cycle)
    assert fresh(db, cycle).state is CycleState.DRAFT


def test_open_refuses_a_cycle_that_is_not_a_draft(db, staff):
    cycle = open_cycle_for(db, staff, [MemberFactory()])
    with pytest.raises(CycleError) as caught:
        services.open_cycle(db, staff, cycle)
    assert caught.value.message == "Only a draft cycle can be opened."
    assert count(db, CycleMember) == 1


def test_open_refuses_an_indicator_retired_since_preparing(db, staff):
    indicator = IndicatorFactory(code="GHG-PC")
    MemberFactory()
    cycle = services.create_cycle(db, staff, cycle_data([indicator]))
    indicator.is_active = False
    db.flush()
    with pytest.raises(CycleError) as caught:
        services.open_cycle(db, staff, cycle)
    assert "GHG-PC" in caught.value.message
    assert fresh(db, cycle).state is CycleState.DRAFT


def test_open_refuses_an_indicator_made_network_level_since_preparing(db, staff):
    indicator = IndicatorFactory(code="MEMBERS-WITH-PLAN")
    MemberFactory()
    cycle = services.create_cycle(db, staff, cycle_data([indicator]))
    indicator.level = Level.NETWORK
    db.flush()
    with pytest.raises(CycleError) as caught:
        services.open_cycle(db, staff, cycle)
    assert caught.value.message == (
        "Network-level indicators are not asked of members: MEMBERS-WITH-PLAN."
    )
    assert fresh(db, cycle).state is CycleState.DRAFT


def test_open_refuses_a_cycle_without_indicators(db, staff):
    MemberFactory()
    cycle = ReportingCycleFactory()
    with pytest.raises(CycleError):
        services.open_cycle(db, staff, cycle)
    assert fresh(db, cycle).state is CycleState.DRAFT


def test_close_an_open_cycle(db, staff):
    cycle = open_cycle_for(db, staff, [MemberFactory()])
    services.close_cycle(db, staff, cycle)
    cycle = fresh(db, cycle)
    assert cycle.state is CycleState.CLOSED
    assert cycle.closed_at is not None
    with pytest.raises(CycleError) as caught:
        services.close_cycle(db, staff, cycle)
    assert caught.value.message == "Only an open cycle can be closed."


def test_a_draft_cycle_cannot_be_closed(db, staff):
    cycle = ReportingCycleFactory()
    with pytest.raises(CycleError):
        services.close_cycle(db, staff, cycle)
    assert fresh(db, cycle).state is CycleState.DRAFT


def test_delete_only_a_draft_cycle(db, staff):
    draft = services.create_cycle(
        db,
        staff,
        cycle_data([IndicatorFactory()], audience=Audience.CHOSEN, member_ids=[MemberFactory().id]),
    )
    services.delete_cycle(db, staff, draft)
    assert count(db, ReportingCycle) == 0
    assert count(db, CycleMember) == 0

    opened = open_cycle_for(db, staff, [MemberFactory()])
    with pytest.raises(CycleError) as caught:
        services.delete_cycle(db, staff, opened)
    assert caught.value.message == "Only a draft cycle can be deleted."
    services.close_cycle(db, staff, opened)
    with pytest.raises(CycleError):
        services.delete_cycle(db, staff, opened)
    assert count(db, ReportingCycle) == 1


# -- saving and submitting ------------------------------------------------------------------------


@pytest.fixture
def kinds(db):
    """One indicator of each type of value."""
    return {
        "number": IndicatorFactory(code="GHG", value_type=ValueType.NUMBER, min_value=Decimal(0)),
        "percentage": IndicatorFactory(
            code="RENEW", value_type=ValueType.PERCENTAGE, unit=None, aggregation=Aggregation.MEAN
        ),
        "yes_no": IndicatorFactory(
            code="PLAN", value_type=ValueType.YES_NO, aggregation=Aggregation.COUNT_YES
        ),
        "choice": IndicatorFactory(
            code="STAGE",
            value_type=ValueType.CHOICE,
            choices=["Drafted", "Adopted"],
            aggregation=Aggregation.NONE,
        ),
        "text": IndicatorFactory(
            code="NOTE", value_type=ValueType.TEXT, aggregation=Aggregation.NONE
        ),
    }


@pytest.fixture
def cycle(db, staff, focal, kinds):
    """An open cycle asking Lisbon (the focal point's member) for every kind of value.

    The text indicator is optional.
    """
    return open_cycle_for(db, staff, [focal.member], kinds.values(), optional=[kinds["text"]])


def complete(kinds, **overrides) -> SubmissionInput:
    answers = {
        "number": "1,250.5",
        "percentage": "42",
        "yes_no": "Yes",
        "choice": "adopted",
        "text": "  Council   vote in May ",
    }
    answers.update(overrides)
    return typed({kinds[k]: raw for k, raw in answers.items()})


def test_save_a_draft(db, focal, cycle, kinds):
    submission = services.save_submission(
        db, focal, cycle, focal.member, complete(kinds, text=""), submit=False
    )
    assert submission.status is SubmissionStatus.DRAFT
    assert submission.first_submitted_at is None
    assert submission.submitted_at is None
    assert submission.is_late is None
    rows = stored(db, cycle, focal.member)
    assert rows[kinds["number"].id].number_value == Decimal("1250.5")
    assert rows[kinds["percentage"].id].number_value == Decimal("42")
    assert rows[kinds["yes_no"].id].bool_value is True
    assert rows[kinds["choice"].id].text_value == "Adopted"
    assert kinds["text"].id not in rows
    assert {row.source for row in rows.values()} == {ValueSource.ENTERED}
    submission = fresh(db, submission)
    assert actions(submission) == [SubmissionAction.SAVED]
    assert submission.history[0].actor_id == focal.id


def test_saving_again_replaces_values_and_removes_cleared_ones(db, focal, cycle, kinds):
    services.save_submission(db, focal, cycle, focal.member, complete(kinds), submit=False)
    data = complete(kinds, number="99", text="")
    data.values[kinds["choice"].id].comment = "Adopted on 3 May."
    data.values[kinds["choice"].id].evidence_url = "https://lisbon.example/decision"
    data.general_comment = "Figures from the city's statistics office.\r\n"
    services.save_submission(db, focal, cycle, focal.member, data, submit=False)
    rows = stored(db, cycle, focal.member)
    assert rows[kinds["number"].id].number_value == Decimal("99")
    assert kinds["text"].id not in rows
    assert rows[kinds["choice"].id].comment == "Adopted on 3 May."
    assert rows[kinds["choice"].id].evidence_url == "https://lisbon.example/decision"
    submission = services.find_submission(db, cycle, focal.member.id)
    assert submission.general_comment == "Figures from the city's statistics office."
    assert count(db, Submission) == 1


def test_a_comment_alone_is_kept_without_a_value(db, focal, cycle, kinds):
    data = complete(kinds, text="")
    data.values[kinds["text"].id].comment = "No council meeting this year."
    services.save_submission(db, focal, cycle, focal.member, data, submit=False)
    row = stored(db, cycle, focal.member)[kinds["text"].id]
    assert row.is_empty
    assert row.comment == "No council meeting this year."


def test_submit(db, focal, cycle, kinds):
    moment = datetime.now(UTC).replace(microsecond=0)
    submission = services.save_submission(
        db, focal, cycle, focal.member, complete(kinds), submit=True, now=moment
    )
    submission = fresh(db, submission)
    assert submission.status is SubmissionStatus.SUBMITTED
    assert submission.submitted_at == moment
    assert submission.first_submitted_at == moment
    assert submission.submitted_by_id == focal.id
    assert submission.is_late is False
    assert stored(db, cycle, focal.member)[kinds["text"].id].text_value == "Council vote in May"
    assert actions(submission) == [SubmissionAction.SUBMITTED]


def test_timeliness_is_judged_on_the_first_submission(db, staff, focal, kinds):
    cycle = open_cycle_for(
        db, staff, [focal.member], [kinds["number"]], opens_on=days(-20), due_on=days(-1)
    )
    first = datetime.now(UTC) - timedelta(days=5)  # before the due day ended
    services.save_submission(
        db, focal, cycle, focal.member, typed({kinds["number"]: "10"}), submit=True, now=first
    )
    submission = services.find_submission(db, cycle, focal.member.id)
    services.return_submission(db, staff, submission, "Check the unit: tonnes, not kilograms.")
    later = datetime.now(UTC)  # after the due day: late if judged now
    services.save_submission(
        db, focal, cycle, focal.member, typed({kinds["number"]: "11"}), submit=True, now=later
    )
    submission = fresh(db, submission)
    assert submission.status is SubmissionStatus.SUBMITTED
    assert submission.first_submitted_at == first
    assert submission.submitted_at == later
    assert submission.is_late is False
    assert services.is_late(cycle, later)
    assert actions(submission) == [
        SubmissionAction.SUBMITTED,
        SubmissionAction.RETURNED,
        SubmissionAction.SUBMITTED,
    ]


def test_a_late_first_submission_stays_late(db, staff, focal, kinds):
    cycle = open_cycle_for(
        db, staff, [focal.member], [kinds["number"]], opens_on=days(-20), due_on=days(-2)
    )
    services.save_submission(
        db, focal, cycle, focal.member, typed({kinds["number"]: "10"}), submit=True
    )
    submission = services.find_submission(db, cycle, focal.member.id)
    assert submission.is_late is True
    services.return_submission(db, staff, submission, "Add the source.")
    services.save_submission(
        db, focal, cycle, focal.member, typed({kinds["number"]: "10"}), submit=True
    )
    assert fresh(db, submission).is_late is True


def test_an_empty_required_indicator_blocks_submit_but_not_a_draft(db, focal, cycle, kinds):
    data = complete(kinds, number="  ", text="")
    with pytest.raises(SubmissionInvalid) as caught:
        services.save_submission(db, focal, cycle, focal.member, data, submit=True)
    assert caught.value.problems.errors == {
        kinds["number"].id: "This indicator is required: enter a value."
    }
    assert count(db, Submission) == 0
    # A draft keeps what was typed, however incomplete; the optional one may stay empty.
    services.save_submission(db, focal, cycle, focal.member, data, submit=False)
    assert set(stored(db, cycle, focal.member)) == {
        kinds[k].id for k in ("percentage", "yes_no", "choice")
    }


def test_indicators_left_out_of_the_form_count_as_empty(db, focal, cycle, kinds):
    with pytest.raises(SubmissionInvalid) as caught:
        services.save_submission(
            db, focal, cycle, focal.member, typed({kinds["number"]: "5"}), submit=True
        )
    assert set(caught.value.problems.errors) == {
        kinds[k].id for k in ("percentage", "yes_no", "choice")
    }


BAD_VALUES = [
    ("number", "twelve", "Enter a number, such as 1250 or 12.5."),
    ("number", "-3", "Enter at least 0."),
    ("number", "1e30", "This number is too large."),
    ("percentage", "140", "A percentage is between 0 and 100."),
    ("percentage", "-1", "A percentage is between 0 and 100."),
    ("yes_no", "maybe", "Answer yes or no."),
    ("choice", "Rejected", "Choose one of: Drafted, Adopted."),
    ("text", "x" * 501, "Use at most 500 characters."),
]


@pytest.mark.parametrize(("kind", "raw", "message"), BAD_VALUES)
@pytest.mark.parametrize("submit", [False, True])
def test_a_bad_value_writes_nothing(db, focal, cycle, kinds, kind, raw, message, submit):
    with pytest.raises(SubmissionInvalid) as caught:
        services.save_submission(
            db, focal, cycle, focal.member, complete(kinds, **{kind: raw}), submit=submit
        )
    assert caught.value.problems.errors == {kinds[kind].id: message}
    assert count(db, Submission) == 0
    assert count(db, SubmissionValue) == 0
    assert count(db, SubmissionEvent) == 0


@pytest.mark.parametrize(("kind", "raw", "message"), BAD_VALUES)
def test_a_bad_value_leaves_the_saved_draft_unchanged(db, focal, cycle, kinds, kind, raw, message):
    services.save_submission(db, focal, cycle, focal.member, complete(kinds), submit=False)
    before = {
        i: (v.number_value, v.bool_value, v.text_value)
        for i, v in stored(db, cycle, focal.member).items()
    }
    # A good change beside the bad value must not be kept either.
    changed = complete(kinds, **{"yes_no": "no", kind: raw})
    changed.general_comment = "This must not be kept"
    with pytest.raises(SubmissionInvalid):
        services.save_submission(db, focal, cycle, focal.member, changed, submit=False)
    after = {
        i: (v.number_value, v.bool_value, v.text_value)
        for i, v in stored(db, cycle, focal.member).items()
    }
    assert after == before
    submission = services.find_submission(db, cycle, focal.member.id)
    assert submission.general_comment is None
    assert actions(submission) == [SubmissionAction.SAVED]


def test_every_bad_value_is_reported_by_indicator(db, focal, cycle, kinds):
    data = complete(kinds, number="abc", percentage="140", yes_no="maybe", choice="Perhaps")
    data.values[kinds["text"].id].evidence_url = "ftp://files.example/report.pdf"
    data.general_comment = "bad\x00comment"
    with pytest.raises(SubmissionInvalid) as caught:
        services.save_submission(db, focal, cycle, focal.member, data, submit=True)
    errors = caught.value.problems.errors
    assert set(errors) == {0} | {i.id for i in kinds.values()}
    assert errors[kinds["text"].id] == "Enter a web address starting with https://."
    assert errors[0] == "Keep the comment under 5,000 characters."
    assert count(db, Submission) == 0


def test_a_value_comment_that_is_too_long_is_refused(db, focal, cycle, kinds):
    data = complete(kinds)
    data.values[kinds["number"].id].comment = "x" * 5001
    with pytest.raises(SubmissionInvalid) as caught:
        services.save_submission(db, focal, cycle, focal.member, data, submit=False)
    assert list(caught.value.problems.errors) == [kinds["number"].id]


def test_yes_no_and_number_spellings(db, focal, cycle, kinds):
    services.save_submission(
        db,
        focal,
        cycle,
        focal.member,
        complete(kinds, yes_no="n", number="1\u00a0250", percentage="12.5%"),
        submit=True,
    )
    rows = stored(db, cycle, focal.member)
    assert rows[kinds["yes_no"].id].bool_value is False
    assert rows[kinds["number"].id].number_value == Decimal("1250")
    assert rows[kinds["percentage"].id].number_value == Decimal("12.5")


@pytest.fixture
def past_grace(db, staff, focal, kinds):
    """A cycle asking Lisbon for one number: due 10 days ago, its grace period ended yesterday."""
    return open_cycle_for(
        db,
        staff,
        [focal.member],
        [kinds["number"]],
        opens_on=days(-30),
        due_on=days(-10),
        grace_until=days(-1),
    )


# -- locking --------------------------------------------------------------------------------------


def submit_all(db, actor, cycle, member, kinds, **kwargs):
    return services.save_submission(
        db, actor, cycle, member, complete(kinds), submit=True, **kwargs
    )


def test_a_focal_point_cannot_change_a_submitted_report(db, focal, cycle, kinds):
    submit_all(db, focal, cycle, focal.member, kinds)
    for submit in (False, True):
        with pytest.raises(CycleError) as caught:
            services.save_submission(
                db, focal, cycle, focal.member, complete(kinds, number="1"), submit=submit
            )
        assert caught.value.message.startswith("Submitted: the secretariat will review it.")
    assert stored(db, cycle, focal.member)[kinds["number"].id].number_value == Decimal("1250.5")


def test_a_focal_point_cannot_change_a_verified_report(db, staff, focal, cycle, kinds):
    submission = submit_all(db, focal, cycle, focal.member, kinds)
    services.verify_submission(db, staff, submission)
    with pytest.raises(CycleError) as caught:
        services.save_submission(db, focal, cycle, focal.member, complete(kinds), submit=False)
    assert caught.value.message == "Verified by the secretariat."


def test_closing_locks_drafts_and_missing_submissions(db, staff, focal, kinds):
    other = UserFactory(focal_point=True)
    cycle = open_cycle_for(db, staff, [focal.member, other.member], [kinds["number"]])
    services.save_submission(
        db, focal, cycle, focal.member, typed({kinds["number"]: "5"}), submit=False
    )
    services.close_cycle(db, staff, cycle)
    for user in (focal, other):
        for submit in (False, True):
            with pytest.raises(CycleError) as caught:
                services.save_submission(
                    db, user, cycle, user.member, typed({kinds["number"]: "6"}), submit=submit
                )
            assert caught.value.message == (
                "This cycle is closed. Ask the secretariat to reopen your submission."
            )
    assert stored(db, cycle, focal.member)[kinds["number"].id].number_value == Decimal("5")
    assert services.find_submission(db, cycle, other.member.id) is None


def test_after_the_grace_period_nothing_is_taken(db, staff, focal, kinds, past_grace):
    cycle = past_grace
    with pytest.raises(CycleError) as caught:
        services.save_submission(
            db, focal, cycle, focal.member, typed({kinds["number"]: "5"}), submit=True
        )
    assert caught.value.message.startswith("The time for submissions is over.")
    assert count(db, Submission) == 0


def test_during_the_grace_period_a_submission_is_taken_and_late(db, staff, focal, kinds):
    cycle = open_cycle_for(
        db,
        staff,
        [focal.member],
        [kinds["number"]],
        opens_on=days(-30),
        due_on=days(-1),
        grace_until=days(3),
    )
    submission = services.save_submission(
        db, focal, cycle, focal.member, typed({kinds["number"]: "5"}), submit=True
    )
    assert submission.status is SubmissionStatus.SUBMITTED
    assert submission.is_late is True


def test_nothing_is_taken_before_the_opening_day(db, staff, focal, kinds):
    cycle = open_cycle_for(
        db, staff, [focal.member], [kinds["number"]], opens_on=days(2), due_on=days(30)
    )
    with pytest.raises(CycleError) as caught:
        services.save_submission(
            db, focal, cycle, focal.member, typed({kinds["number"]: "5"}), submit=False
        )
    assert caught.value.message.startswith("This cycle opens on")
    assert count(db, Submission) == 0


def test_staff_can_edit_after_closing(db, staff, focal, cycle, kinds):
    submit_all(db, focal, cycle, focal.member, kinds)
    services.close_cycle(db, staff, cycle)
    submission = services.save_submission(
        db, staff, cycle, focal.member, complete(kinds, number="1250"), submit=False
    )
    assert submission.status is SubmissionStatus.SUBMITTED
    assert stored(db, cycle, focal.member)[kinds["number"].id].number_value == Decimal("1250")
    submission = fresh(db, submission)
    assert actions(submission) == [SubmissionAction.SUBMITTED, SubmissionAction.EDITED_BY_STAFF]
    assert submission.history[0].actor_id == staff.id
    # Staff's corrections go through the same checks.
    with pytest.raises(SubmissionInvalid):
        services.save_submission(
            db, staff, cycle, focal.member, complete(kinds, percentage="140"), submit=False
        )


def test_staff_can_fill_in_a_missing_report_after_closing(db, staff, focal, cycle, kinds):
    services.close_cycle(db, staff, cycle)
    moment = datetime.now(UTC).replace(microsecond=0)
    submission = submit_all(db, staff, cycle, focal.member, kinds, now=moment)
    assert submission.status is SubmissionStatus.SUBMITTED
    assert submission.submitted_by_id == staff.id
    assert submission.first_submitted_at == moment
    # Closed before its due date: timeliness is judged on the due date, not on closing.
    assert submission.is_late is False


def test_nobody_saves_in_a_draft_cycle(db, staff, focal, kinds):
    cycle = services.create_cycle(
        db,
        staff,
        cycle_data([kinds["number"]], audience=Audience.CHOSEN, member_ids=[focal.member.id]),
    )
    # Chosen members are listed while the cycle is prepared, but not asked yet.
    with pytest.raises(OutOfScope):
        services.save_submission(
            db, focal, cycle, focal.member, typed({kinds["number"]: "5"}), submit=False
        )
    with pytest.raises(CycleError) as caught:
        services.save_submission(
            db, staff, cycle, focal.member, typed({kinds["number"]: "5"}), submit=False
        )
    assert caught.value.message == "This cycle has not been opened yet."
    assert count(db, Submission) == 0


# -- reviewing: verify and return -----------------------------------------------------------------


def test_verify_a_submitted_report(db, staff, focal, cycle, kinds):
    submission = submit_all(db, focal, cycle, focal.member, kinds)
    services.verify_submission(db, staff, submission)
    submission = fresh(db, submission)
    assert submission.status is SubmissionStatus.VERIFIED
    assert submission.reviewed_by_id == staff.id
    assert submission.reviewed_at is not None
    assert actions(submission) == [SubmissionAction.SUBMITTED, SubmissionAction.VERIFIED]


def test_verify_only_a_submitted_report(db, staff, focal, cycle, kinds):
    submission = services.save_submission(
        db, focal, cycle, focal.member, complete(kinds), submit=False
    )
    with pytest.raises(CycleError) as caught:
        services.verify_submission(db, staff, submission)
    assert caught.value.message == "Only a submitted report can be verified."
    services.save_submission(db, focal, cycle, focal.member, complete(kinds), submit=True)
    services.verify_submission(db, staff, submission)
    with pytest.raises(CycleError):
        services.verify_submission(db, staff, submission)
    services.return_submission(db, staff, submission, "Fix the unit.")
    with pytest.raises(CycleError):
        services.verify_submission(db, staff, submission)
    assert fresh(db, submission).status is SubmissionStatus.RETURNED


@pytest.mark.parametrize("verified_first", [False, True])
def test_return_a_report_with_a_comment(db, staff, focal, cycle, kinds, verified_first):
    submission = submit_all(db, focal, cycle, focal.member, kinds)
    if verified_first:
        services.verify_submission(db, staff, submission)
    services.return_submission(db, staff, submission, "  Check the unit:\r\ntonnes.  ")
    submission = fresh(db, submission)
    assert submission.status is SubmissionStatus.RETURNED
    assert submission.return_comment == "Check the unit:\ntonnes."
    assert submission.reviewed_by_id == staff.id
    # The cycle still takes submissions: nothing is reopened, the focal point just fixes it.
    assert submission.is_reopened is False
    latest = submission.history[0]
    assert (latest.action, latest.comment, latest.actor_id) == (
        SubmissionAction.RETURNED,
        "Check the unit:\ntonnes.",
        staff.id,
    )
    # The focal point fixes it and submits again.
    services.save_submission(
        db, focal, cycle, focal.member, complete(kinds, number="1.2505"), submit=True
    )
    assert fresh(db, submission).status is SubmissionStatus.SUBMITTED


@pytest.mark.parametrize("comment", [None, "", "   \n  "])
def test_return_requires_a_comment(db, staff, focal, cycle, kinds, comment):
    submission = submit_all(db, focal, cycle, focal.member, kinds)
    with pytest.raises(ValidationFailed) as caught:
        services.return_submission(db, staff, submission, comment)
    assert caught.value.errors == {"comment": "Say what the member should fix."}
    submission = fresh(db, submission)
    assert submission.status is SubmissionStatus.SUBMITTED
    assert actions(submission) == [SubmissionAction.SUBMITTED]


def test_return_only_a_submitted_or_verified_report(db, staff, focal, cycle, kinds):
    submission = services.save_submission(
        db, focal, cycle, focal.member, complete(kinds), submit=False
    )
    with pytest.raises(CycleError) as caught:
        services.return_submission(db, staff, submission, "Fix it.")
    assert caught.value.message == "Only a submitted or verified report can be returned."
    services.save_submission(db, focal, cycle, focal.member, complete(kinds), submit=True)
    services.return_submission(db, staff, submission, "Fix it.")
    with pytest.raises(CycleError):
        services.return_submission(db, staff, submission, "Fix it again.")


def test_returning_after_the_deadline_lets_the_member_fix_it(db, staff, focal, kinds, past_grace):
    cycle = past_grace
    submission = services.save_submission(
        db,
        staff,
        cycle,
        focal.member,
        typed({kinds["number"]: "5"}),
        submit=True,
        now=datetime.now(UTC) - timedelta(days=12),
    )
    services.return_submission(db, staff, submission, "Wrong unit.")
    assert fresh(db, submission).is_reopened is True
    services.save_submission(
        db, focal, cycle, focal.member, typed({kinds["number"]: "0.005"}), submit=True
    )
    submission = fresh(db, submission)
    assert submission.status is SubmissionStatus.SUBMITTED
    assert submission.is_reopened is False
    assert submission.is_late is False


def test_focal_points_cannot_review(db, focal, cycle, kinds):
    submission = submit_all(db, focal, cycle, focal.member, kinds)
    with pytest.raises(OutOfScope):
        services.verify_submission(db, focal, submission)
    with pytest.raises(OutOfScope):
        services.return_submission(db, focal, submission, "Looks wrong")
    with pytest.raises(OutOfScope):
        services.reopen_submission(db, focal, cycle, focal.member, "Please")
    assert fresh(db, submission).status is SubmissionStatus.SUBMITTED


# -- reopening ------------------------------------------------------------------------------------


def test_reopen_a_closed_cycles_submission(db, staff, focal, cycle, kinds):
    submission = submit_all(db, focal, cycle, focal.member, kinds)
    services.close_cycle(db, staff, cycle)
    reopened = services.reopen_submission(
        db, staff, cycle, focal.member, "The council corrected its figures."
    )
    assert reopened.id == submission.id
    submission = fresh(db, submission)
    assert submission.is_reopened is True
    assert submission.status is SubmissionStatus.RETURNED
    assert submission.return_comment == "The council corrected its figures."
    latest = submission.history[0]
    assert (latest.action, latest.comment, latest.actor_id) == (
        SubmissionAction.REOPENED,
        "The council corrected its figures.",
        staff.id,
    )
    # The focal point may change it now, although the cycle is closed.
    services.save_submission(
        db, focal, cycle, focal.member, complete(kinds, number="1300"), submit=False
    )
    assert fresh(db, submission).is_reopened is True
    services.save_submission(
        db, focal, cycle, focal.member, complete(kinds, number="1300"), submit=True
    )
    submission = fresh(db, submission)
    assert submission.status is SubmissionStatus.SUBMITTED
    assert submission.is_reopened is False
    assert stored(db, cycle, focal.member)[kinds["number"].id].number_value == Decimal("1300")
    assert actions(submission) == [
        SubmissionAction.SUBMITTED,
        SubmissionAction.REOPENED,
        SubmissionAction.SAVED,
        SubmissionAction.SUBMITTED,
    ]
    # Submitted again: locked again.
    with pytest.raises(CycleError):
        services.save_submission(db, focal, cycle, focal.member, complete(kinds), submit=False)


def test_reopen_a_member_who_never_started(db, staff, focal, kinds):
    cycle = open_cycle_for(
        db, staff, [focal.member], kinds.values(), opens_on=days(-30), due_on=days(-5)
    )
    services.close_cycle(db, staff, cycle)
    submission = services.reopen_submission(db, staff, cycle, focal.member, "Was on leave.")
    assert submission.status is SubmissionStatus.DRAFT
    assert submission.is_reopened is True
    services.save_submission(db, focal, cycle, focal.member, complete(kinds), submit=True)
    assert fresh(db, submission).is_late is True


def test_reopen_a_draft_after_the_grace_period(db, staff, focal, kinds, past_grace):
    cycle = past_grace
    services.save_submission(
        db, staff, cycle, focal.member, typed({kinds["number"]: "5"}), submit=False
    )
    submission = services.reopen_submission(db, staff, cycle, focal.member, "Server outage.")
    assert submission.status is SubmissionStatus.DRAFT
    services.save_submission(
        db, focal, cycle, focal.member, typed({kinds["number"]: "6"}), submit=False
    )
    assert stored(db, cycle, focal.member)[kinds["number"].id].number_value == Decimal("6")


@pytest.mark.parametrize("comment", [None, "", "  "])
def test_reopen_requires_a_reason(db, staff, focal, cycle, kinds, comment):
    submission = submit_all(db, focal, cycle, focal.member, kinds)
    services.close_cycle(db, staff, cycle)
    with pytest.raises(ValidationFailed) as caught:
        services.reopen_submission(db, staff, cycle, focal.member, comment)
    assert caught.value.errors == {"comment": "Say why this submission is reopened."}
    submission = fresh(db, submission)
    assert submission.is_reopened is False
    assert submission.status is SubmissionStatus.SUBMITTED


def test_reopen_refuses_while_the_cycle_takes_submissions(db, staff, focal, cycle, kinds):
    submission = submit_all(db, focal, cycle, focal.member, kinds)
    with pytest.raises(CycleError) as caught:
        services.reopen_submission(db, staff, cycle, focal.member, "Please")
    assert caught.value.message.startswith("The cycle still takes submissions")
    assert fresh(db, submission).is_reopened is False


def test_reopen_refuses_before_the_cycle_takes_submissions(db, staff, focal, kinds):
    cycle = open_cycle_for(
        db, staff, [focal.member], [kinds["number"]], opens_on=days(3), due_on=days(30)
    )
    with pytest.raises(CycleError):
        services.reopen_submission(db, staff, cycle, focal.member, "Early start")
    assert count(db, Submission) == 0
    draft = ReportingCycleFactory()
    draft.members = [CycleMember(member_id=focal.member.id)]
    db.flush()
    with pytest.raises(CycleError) as caught:
        services.reopen_submission(db, staff, draft, focal.member, "Early start")
    assert caught.value.message == "This cycle has not been opened yet."


def test_reopen_refuses_a_member_not_asked(db, staff, focal, cycle):
    services.close_cycle(db, staff, cycle)
    with pytest.raises(OutOfScope):
        services.reopen_submission(db, staff, cycle, MemberFactory(), "Please")
    assert count(db, Submission) == 0


def test_closing_clears_reopened_submissions(db, staff, focal, kinds, past_grace):
    cycle = past_grace
    submission = services.reopen_submission(db, staff, cycle, focal.member, "Server outage.")
    assert submission.is_reopened is True
    services.close_cycle(db, staff, cycle)
    # Also on the object already loaded in this session.
    assert submission.is_reopened is False
    assert fresh(db, submission).is_reopened is False
    with pytest.raises(CycleError):
        services.save_submission(
            db, focal, cycle, focal.member, typed({kinds["number"]: "5"}), submit=False
        )


# -- prefill from earlier cycles ------------------------------------------------------------------


def test_previous_values_take_the_latest_earlier_reported_value(db, staff, focal):
    member = focal.member
    a, b, c = IndicatorFactory(), IndicatorFactory(), IndicatorFactory()
    stranger = MemberFactory()
    y2022 = past_cycle(db, [a, b], period="2022", opens_on=date(2023, 3, 1))
    hand_submission(db, y2022, member, {a: 5, b: 7}, status=SubmissionStatus.VERIFIED)
    y2023 = past_cycle(db, [a, b], period="2023", opens_on=date(2024, 3, 1))
    # B was left empty (a comment only) in 2023: the 2022 value is the last one reported.
    hand_submission(db, y2023, member, {a: 10, b: None}, comments={b: "Not measured"})
    returned = past_cycle(db, [a], period="2024", opens_on=date(2025, 3, 1))
    hand_submission(db, returned, member, {a: 99}, status=SubmissionStatus.RETURNED)
    draft = past_cycle(db, [a], period="2024-H2", opens_on=date(2025, 7, 1))
    hand_submission(db, draft, member, {a: 98}, status=SubmissionStatus.DRAFT)
    hand_submission(db, returned, stranger, {a: 777})
    later = past_cycle(db, [a], period="2026", opens_on=date(2027, 3, 1))
    hand_submission(db, later, member, {a: 500})
    same_period = past_cycle(db, [a], period="2025", opens_on=date(2025, 9, 1))
    hand_submission(db, same_period, member, {a: 400})

    current = open_cycle_for(db, staff, [member], [a, b, c], period="2025")
    previous = services.previous_values(db, current, member.id)
    assert set(previous) == {a.id, b.id}
    assert previous[a.id].value.number == Decimal(10)
    assert (previous[a.id].cycle_name, previous[a.id].period) == (y2023.name, "2023")
    assert previous[b.id].value.number == Decimal(7)
    assert previous[b.id].period == "2022"
    # Each member gets their own values only.
    theirs = services.previous_values(db, current, stranger.id)
    assert {i: p.value.number for i, p in theirs.items()} == {a.id: Decimal(777)}


def test_previous_values_of_every_type(db, staff, focal, kinds):
    last = past_cycle(db, kinds.values(), period="2024")
    hand_submission(
        db,
        last,
        focal.member,
        {
            kinds["number"]: Decimal("12.5"),
            kinds["percentage"]: 40,
            kinds["yes_no"]: False,
            kinds["choice"]: "Drafted",
            kinds["text"]: "Budget approved",
        },
        status=SubmissionStatus.VERIFIED,
    )
    current = open_cycle_for(db, staff, [focal.member], kinds.values())
    previous = services.previous_values(db, current, focal.member.id)
    assert {k: previous[i.id].value for k, i in kinds.items()} == {
        "number": Value(number=Decimal("12.5")),
        "percentage": Value(number=Decimal(40)),
        "yes_no": Value(boolean=False),
        "choice": Value(text="Drafted"),
        "text": Value(text="Budget approved"),
    }


def test_kept_values_are_marked_unchanged_and_edits_entered(db, staff, focal, kinds):
    last = past_cycle(db, kinds.values(), period="2024")
    hand_submission(
        db,
        last,
        focal.member,
        {
            kinds["number"]: Decimal("1250.5"),
            kinds["percentage"]: 42,
            kinds["yes_no"]: True,
            kinds["choice"]: "Adopted",
        },
    )
    current = open_cycle_for(db, staff, [focal.member], kinds.values(), optional=[kinds["text"]])
    services.save_submission(
        db,
        focal,
        current,
        focal.member,
        complete(kinds, number="1250.50", percentage="42.0"),
        submit=False,
    )
    sources = {i: row.source for i, row in stored(db, current, focal.member).items()}
    assert sources == {
        kinds["number"].id: ValueSource.UNCHANGED,
        kinds["percentage"].id: ValueSource.UNCHANGED,
        kinds["yes_no"].id: ValueSource.UNCHANGED,
        kinds["choice"].id: ValueSource.UNCHANGED,
        # Nothing reported last time: typed this time.
        kinds["text"].id: ValueSource.ENTERED,
    }
    services.save_submission(
        db,
        focal,
        current,
        focal.member,
        complete(kinds, number="1300", yes_no="no", text=""),
        submit=True,
    )
    sources = {i: row.source for i, row in stored(db, current, focal.member).items()}
    assert sources == {
        kinds["number"].id: ValueSource.ENTERED,
        kinds["percentage"].id: ValueSource.UNCHANGED,
        kinds["yes_no"].id: ValueSource.ENTERED,
        kinds["choice"].id: ValueSource.UNCHANGED,
    }


# -- the large-change warning ---------------------------------------------------------------------


@pytest.fixture
def ghg(db):
    return IndicatorFactory(code="GHG-T", unit="t CO2e")


def last_year(db, member, indicator, number) -> None:
    cycle = past_cycle(db, [indicator], period="2024")
    hand_submission(
        db, cycle, member, {indicator: Decimal(number)}, status=SubmissionStatus.VERIFIED
    )


@pytest.mark.parametrize(
    ("before", "raw", "warned"),
    [
        (100, "151", True),
        (100, "150", False),
        (100, "49", True),
        (100, "50", False),
        (100, "100", False),
        (100, "0", True),
        (-100, "-40", True),
        (0, "1000", False),
    ],
)
def test_a_change_of_more_than_half_must_be_confirmed(db, staff, focal, ghg, before, raw, warned):
    last_year(db, focal.member, ghg, before)
    cycle = open_cycle_for(db, staff, [focal.member], [ghg])
    data = typed({ghg: raw})
    if warned:
        with pytest.raises(SubmissionInvalid) as caught:
            services.save_submission(db, focal, cycle, focal.member, data, submit=True)
        assert caught.value.problems.errors == {}
        assert list(caught.value.problems.warnings) == [ghg.id]
        assert services.find_submission(db, cycle, focal.member.id) is None
    else:
        services.save_submission(db, focal, cycle, focal.member, data, submit=True)
        assert stored(db, cycle, focal.member)[ghg.id].change_confirmed is False


def test_the_warning_says_how_far_and_from_what(db, staff, focal, ghg):
    last_year(db, focal.member, ghg, 100)
    cycle = open_cycle_for(db, staff, [focal.member], [ghg])
    with pytest.raises(SubmissionInvalid) as caught:
        services.save_submission(db, focal, cycle, focal.member, typed({ghg: "151"}), submit=True)
    assert caught.value.problems.warnings[ghg.id] == (
        "This is 51% away from 2024 (100 t CO2e). Tick the box to confirm the value is right."
    )


def test_a_draft_is_saved_despite_a_large_change(db, staff, focal, ghg):
    last_year(db, focal.member, ghg, 100)
    cycle = open_cycle_for(db, staff, [focal.member], [ghg])
    submission = services.save_submission(
        db, focal, cycle, focal.member, typed({ghg: "300"}), submit=False
    )
    assert submission.status is SubmissionStatus.DRAFT
    row = stored(db, cycle, focal.member)[ghg.id]
    assert (row.number_value, row.change_confirmed) == (Decimal(300), False)
    # Submitting it needs the confirmation...
    with pytest.raises(SubmissionInvalid):
        services.save_submission(db, focal, cycle, focal.member, typed({ghg: "300"}), submit=True)
    assert fresh(db, submission).status is SubmissionStatus.DRAFT
    # ...which is then stored with the value.
    services.save_submission(
        db, focal, cycle, focal.member, typed({ghg: "300"}, confirmed=[ghg]), submit=True
    )
    row = stored(db, cycle, focal.member)[ghg.id]
    assert (row.number_value, row.change_confirmed, row.source) == (
        Decimal(300),
        True,
        ValueSource.ENTERED,
    )
    assert fresh(db, submission).status is SubmissionStatus.SUBMITTED


def test_a_tick_without_a_large_change_is_not_stored(db, staff, focal, ghg):
    last_year(db, focal.member, ghg, 100)
    cycle = open_cycle_for(db, staff, [focal.member], [ghg])
    services.save_submission(
        db, focal, cycle, focal.member, typed({ghg: "110"}, confirmed=[ghg]), submit=True
    )
    assert stored(db, cycle, focal.member)[ghg.id].change_confirmed is False


def test_warnings_and_errors_come_together(db, staff, focal, ghg):
    other = IndicatorFactory(
        value_type=ValueType.PERCENTAGE, unit=None, aggregation=Aggregation.MEAN
    )
    last_year(db, focal.member, ghg, 100)
    cycle = open_cycle_for(db, staff, [focal.member], [ghg, other])
    with pytest.raises(SubmissionInvalid) as caught:
        services.save_submission(
            db, focal, cycle, focal.member, typed({ghg: "500", other: "140"}), submit=True
        )
    assert list(caught.value.problems.errors) == [other.id]
    assert list(caught.value.problems.warnings) == [ghg.id]
    # A draft is still refused for the error, whatever the warning.
    with pytest.raises(SubmissionInvalid):
        services.save_submission(
            db, focal, cycle, focal.member, typed({ghg: "500", other: "140"}), submit=False
        )
    assert services.find_submission(db, cycle, focal.member.id) is None


def test_no_warning_without_a_reported_previous_value(db, staff, focal, ghg):
    draft_last_year = past_cycle(db, [ghg], period="2024")
    hand_submission(db, draft_last_year, focal.member, {ghg: 1}, status=SubmissionStatus.DRAFT)
    cycle = open_cycle_for(db, staff, [focal.member], [ghg])
    services.save_submission(db, focal, cycle, focal.member, typed({ghg: "900"}), submit=True)
    assert stored(db, cycle, focal.member)[ghg.id].number_value == Decimal(900)


# -- focal-point isolation ------------------------------------------------------------------------


def test_a_focal_point_cannot_save_another_members_report(db, staff, focal, other_focal, ghg):
    cycle = open_cycle_for(db, staff, [focal.member, other_focal.member], [ghg])
    for submit in (False, True):
        with pytest.raises(OutOfScope):
            services.save_submission(
                db, focal, cycle, other_focal.member, typed({ghg: "1"}), submit=submit
            )
    assert count(db, Submission) == 0
    # Nor change a report the other member already saved.
    services.save_submission(
        db, other_focal, cycle, other_focal.member, typed({ghg: "2"}), submit=False
    )
    with pytest.raises(OutOfScope):
        services.save_submission(
            db, focal, cycle, other_focal.member, typed({ghg: "1"}), submit=False
        )
    assert stored(db, cycle, other_focal.member)[ghg.id].number_value == Decimal(2)


def test_a_member_not_asked_cannot_report(db, staff, focal, other_focal, ghg):
    cycle = open_cycle_for(db, staff, [other_focal.member], [ghg])
    with pytest.raises(OutOfScope):
        services.save_submission(db, focal, cycle, focal.member, typed({ghg: "1"}), submit=False)
    # Not even staff can file a report for a member the cycle did not ask.
    with pytest.raises(OutOfScope):
        services.save_submission(db, staff, cycle, focal.member, typed({ghg: "1"}), submit=False)
    assert count(db, Submission) == 0


def test_values_for_indicators_not_asked_are_ignored(db, staff, focal, ghg):
    cycle = open_cycle_for(db, staff, [focal.member], [ghg])
    not_asked = IndicatorFactory()
    services.save_submission(
        db, focal, cycle, focal.member, typed({ghg: "1", not_asked: "2"}), submit=True
    )
    assert set(stored(db, cycle, focal.member)) == {ghg.id}


def test_other_roles_cannot_report(db, staff, focal, ghg):
    cycle = open_cycle_for(db, staff, [focal.member], [ghg])
    funder = UserFactory(funder_user=True)
    with pytest.raises(OutOfScope):
        services.save_submission(db, funder, cycle, focal.member, typed({ghg: "1"}), submit=False)
    assert count(db, Submission) == 0


def test_visible_submission_scope(db, staff, focal, other_focal, ghg):
    cycle = open_cycle_for(db, staff, [focal.member, other_focal.member], [ghg])
    own = services.save_submission(db, focal, cycle, focal.member, typed({ghg: "1"}), submit=False)
    theirs = services.save_submission(
        db, other_focal, cycle, other_focal.member, typed({ghg: "2"}), submit=False
    )
    assert services.visible_submission(db, focal, own.id) is own
    assert services.visible_submission(db, staff, theirs.id) is theirs
    with pytest.raises(OutOfScope):
        services.visible_submission(db, focal, theirs.id)
    with pytest.raises(OutOfScope):
        services.visible_submission(db, focal, theirs.id + own.id + 1000)
    with pytest.raises(OutOfScope):
        services.visible_submission(db, UserFactory(funder_user=True), own.id)


def test_can_edit_and_locked_reason(db, staff, focal, ghg):
    cycle = open_cycle_for(db, staff, [focal.member], [ghg], opens_on=days(-5), due_on=days(5))
    today = days(0)
    assert services.can_edit(focal, cycle, None, today)
    assert not services.can_edit(focal, cycle, None, days(-6))
    assert services.locked_reason(cycle, None, days(-6)).startswith("This cycle opens on")
    submission = services.save_submission(
        db, focal, cycle, focal.member, typed({ghg: "1"}), submit=True
    )
    assert not services.can_edit(focal, cycle, submission, today)
    assert services.can_edit(staff, cycle, submission, today)
    draft = ReportingCycleFactory()
    assert not services.can_edit(staff, draft, None, today)
    assert services.locked_reason(draft, None, today) == "This cycle has not been opened yet."
