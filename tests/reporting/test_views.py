"""The staff's reporting pages, through real requests: the cycle list, the cycle form, open,
close and delete, the review of a submission (verify, return, reopen), who may reach them,
and a whole cycle run from creation to a reopened submission."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from secretariat.clock import network_today
from secretariat.indicators.models import Level, ValueType
from secretariat.members.models import MemberStatus
from secretariat.reporting import services
from secretariat.reporting.models import (
    Audience,
    CycleState,
    ReportingCycle,
    Submission,
    SubmissionAction,
    SubmissionStatus,
)
from secretariat.reporting.services import SubmissionInput, ValueInput
from tests.factories import (
    ContactFactory,
    GroupMembershipFactory,
    IndicatorFactory,
    MemberFactory,
    ReportingCycleFactory,
    UserFactory,
    WorkingGroupFactory,
)
from tests.followups.factories import field_error, focal_point, fresh, rows, section, text


def days(n: int) -> date:
    """The network's day ``n`` days from today (negative: in the past)."""
    return network_today() + timedelta(days=n)


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


@pytest.fixture
def staff(db):
    return UserFactory(name="Sofia Staff")


@pytest.fixture
def signed_in(staff, auth):
    auth.login(staff)
    return staff


def open_cycle(db, staff, members, indicators, optional=(), **fields) -> ReportingCycle:
    """A cycle asking the chosen members for the indicators (some ``optional``), opened; it
    takes submissions today unless the dates say otherwise."""
    fields.setdefault("opens_on", days(-10))
    fields.setdefault("due_on", days(10))
    cycle = ReportingCycleFactory(audience=Audience.CHOSEN, **fields)
    data = services.CycleData(
        name=cycle.name,
        period=cycle.period,
        opens_on=cycle.opens_on,
        due_on=cycle.due_on,
        grace_until=cycle.grace_until,
        audience=Audience.CHOSEN,
        member_ids=[m.id for m in members],
        indicator_ids=[i.id for i in indicators],
        optional_indicator_ids=[i.id for i in optional],
    )
    services.update_cycle(db, staff, cycle, data)
    services.open_cycle(db, staff, cycle)
    return cycle


def submit(db, cycle, member, values: dict, *, now: datetime | None = None) -> Submission:
    """The member's focal point submits these values ({indicator: "typed"})."""
    user = focal_point(member)
    data = SubmissionInput(values={i.id: ValueInput(raw=raw) for i, raw in values.items()})
    return services.save_submission(db, user, cycle, member, data, submit=True, now=now)


def post(client, url: str, data: dict | None = None):
    return client.post(url, data=data or {})


def flashes(client, response) -> str:
    """The page a redirect leads to, where its flashed messages are shown."""
    assert response.status_code == 302, response.get_data(as_text=True)
    return text(client.get(response.headers["Location"]))


def cycle_form(**overrides) -> dict:
    data = {
        "name": "Annual report 2025",
        "period": "2025",
        "opens_on": days(1).isoformat(),
        "due_on": days(60).isoformat(),
        "grace_until": "",
        "audience": "all_active",
        "group_id": "",
        "instructions": "Report last year's figures.",
    }
    data.update(overrides)
    return data


def cycle_count(db) -> int:
    return db.scalar(select(func.count()).select_from(ReportingCycle))


# -- the list -------------------------------------------------------------------------------


def test_cycle_list_shows_dates_state_and_rates(db, client, signed_in):
    ghg = IndicatorFactory()
    members = MemberFactory.create_batch(4)
    cycle = open_cycle(db, signed_in, members, [ghg], grace_until=days(20))
    submit(db, cycle, members[0], {ghg: "10"})
    ReportingCycleFactory(name="Next year", period="2026")
    page = text(client.get("/reporting/"))
    assert "<h1>Reporting cycles</h1>" in page
    table = rows(page)
    assert table[0][:3] == ["Next year", "2026", "Draft"]
    assert table[0][6] == "—"
    name, period, state, _opens, _due, _grace, asked, rate, on_time, to_verify = table[1]
    assert (name, period, state) == (cycle.name, "2025", "Open")
    assert (asked, rate, on_time, to_verify) == ("4", "25%", "25%", "1")
    assert f'href="/reporting/{cycle.id}"' in page
    assert 'href="/reporting/new"' in page


def test_cycle_list_empty(db, client, signed_in):
    page = text(client.get("/reporting/"))
    assert "No reporting cycles yet" in page


# -- the cycle form -------------------------------------------------------------------------


def test_new_cycle_form_lists_member_indicators_and_members(db, client, signed_in):
    IndicatorFactory(code="GHG", name="Emissions")
    IndicatorFactory(code="NET", level=Level.NETWORK)
    IndicatorFactory(code="OLD", is_active=False)
    MemberFactory(name="Zagreb")
    MemberFactory(name="Aarhus")
    page = text(client.get("/reporting/new"))
    assert "<h1>New reporting cycle</h1>" in page
    assert "GHG · Emissions" in page
    assert "NET" not in page and "OLD" not in page
    assert 'name="optional_indicator_ids"' in page
    assert 'size="15"' in page
    assert page.index(">Aarhus<") < page.index(">Zagreb<")
    assert f'value="{network_today().isoformat()}"' in page  # opens today by default


def test_new_cycle_starts_from_the_last_cycle_indicators(db, client, signed_in, staff):
    kept, optional, dropped = IndicatorFactory(), IndicatorFactory(), IndicatorFactory()
    last = open_cycle(db, staff, [MemberFactory()], [kept, optional, dropped])
    last.indicators[1].is_required = False
    dropped.is_active = False
    db.flush()
    page = text(client.get("/reporting/new"))
    assert f'id="indicator-{kept.id}" name="indicator_ids" value="{kept.id}" checked' in page
    assert (
        f'id="optional-{optional.id}" name="optional_indicator_ids" value="{optional.id}" checked'
        in page
    )
    assert f'value="{dropped.id}" checked' not in page


def test_create_cycle(db, client, signed_in):
    ghg, trees = IndicatorFactory(code="GHG"), IndicatorFactory(code="TREES")
    response = post(
        client,
        "/reporting/new",
        cycle_form(
            indicator_ids=[str(ghg.id), str(trees.id)], optional_indicator_ids=[str(trees.id)]
        ),
    )
    cycle = db.scalar(select(ReportingCycle))
    assert response.headers["Location"] == f"/reporting/{cycle.id}"
    assert cycle.name == "Annual report 2025"
    assert cycle.state is CycleState.DRAFT
    assert cycle.audience is Audience.ALL_ACTIVE
    assert cycle.due_on == days(60)
    assert [(ci.indicator.code, ci.is_required) for ci in cycle.indicators] == [
        ("GHG", True),
        ("TREES", False),
    ]
    assert cycle.created_by_id == signed_in.id
    assert "is ready as a draft" in flashes(client, response)


def test_create_cycle_for_chosen_members_and_for_a_group(db, client, signed_in):
    ghg = IndicatorFactory()
    a, b = MemberFactory(), MemberFactory()
    group = WorkingGroupFactory()
    post(
        client,
        "/reporting/new",
        cycle_form(
            audience="chosen", member_ids=[str(a.id), str(b.id)], indicator_ids=[str(ghg.id)]
        ),
    )
    post(
        client,
        "/reporting/new",
        cycle_form(
            name="Group report",
            audience="group",
            group_id=str(group.id),
            indicator_ids=[str(ghg.id)],
        ),
    )
    chosen = db.scalar(select(ReportingCycle).where(ReportingCycle.name == "Annual report 2025"))
    assert sorted(cm.member_id for cm in chosen.members) == sorted([a.id, b.id])
    by_group = db.scalar(select(ReportingCycle).where(ReportingCycle.name == "Group report"))
    assert by_group.audience is Audience.GROUP and by_group.group_id == group.id


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"due_on": days(0).isoformat()}, "due_on", "The due date cannot be before the opening"),
        (
            {"grace_until": days(30).isoformat()},
            "grace_until",
            "The grace period must end on or after the due date",
        ),
        ({"opens_on": "next monday"}, "opens_on", "Enter a date, e.g. 2027-03-15."),
        ({"due_on": "31/31/2025"}, "due_on", "Enter a date, e.g. 2027-03-15."),
        ({"due_on": ""}, "due_on", "Enter the due date."),
        ({"name": "  "}, "name", "Name the cycle"),
        ({"period": "last year"}, "period", "Write the period as a year"),
        ({"audience": "chosen"}, "member_ids", "Choose at least one member."),
        (
            {"audience": "chosen", "member_ids": ["x1"]},
            "member_ids",
            "Choose members from the list.",
        ),
        ({"audience": "group"}, "group_id", "Choose the working group asked to report."),
        ({"audience": "everyone"}, "audience", "Choose who is asked from the list."),
        ({"indicator_ids": []}, "indicator_ids", "Choose the indicators to ask for."),
        ({"indicator_ids": ["999999"]}, "indicator_ids", "Choose indicators from the list."),
    ],
)
def test_create_cycle_refuses_bad_input_and_keeps_what_was_typed(
    db, client, signed_in, overrides, field, message
):
    ghg = IndicatorFactory()
    data = cycle_form(indicator_ids=[str(ghg.id)], instructions="Kept as typed")
    data.update(overrides)
    response = post(client, "/reporting/new", data)
    assert response.status_code == 200
    page = text(response)
    assert message in field_error(page, field)
    assert "Please correct the following" in page
    assert "Kept as typed" in page
    assert f'value="{data["name"]}"' in page or field == "name"
    for typed in ("opens_on", "due_on"):
        if data[typed]:
            assert f'value="{data[typed]}"' in page
    if field != "indicator_ids" and data.get("indicator_ids"):
        assert f'value="{ghg.id}" checked' in page
    assert cycle_count(db) == 0


def test_create_cycle_refuses_a_network_indicator_and_a_duplicate_name(db, client, signed_in):
    network = IndicatorFactory(level=Level.NETWORK)
    ReportingCycleFactory(name="Annual report 2025")
    page = text(post(client, "/reporting/new", cycle_form(indicator_ids=[str(network.id)])))
    assert "Network-level indicators are recorded by the secretariat" in field_error(
        page, "indicator_ids"
    )
    assert "Another cycle already has this name." in field_error(page, "name")
    assert cycle_count(db) == 1


def test_a_retired_indicator_posted_is_shown_with_its_refusal(db, client, signed_in):
    retired = IndicatorFactory(code="OLD", is_active=False)
    page = text(post(client, "/reporting/new", cycle_form(indicator_ids=[str(retired.id)])))
    assert "Retired indicators cannot be asked for." in field_error(page, "indicator_ids")
    assert "OLD · " in page and "(retired)" in page
    assert f'value="{retired.id}" checked' in page
    assert cycle_count(db) == 0


def test_edit_a_draft_changes_everything(db, client, signed_in):
    old, new = IndicatorFactory(), IndicatorFactory()
    cycle = ReportingCycleFactory(opens_on=days(1), due_on=days(30))
    cycle.indicators = []
    db.flush()
    page = text(client.get(f"/reporting/{cycle.id}/edit"))
    assert f"Edit “{cycle.name}”" in page
    assert f'value="{cycle.period}"' in page
    response = post(
        client,
        f"/reporting/{cycle.id}/edit",
        cycle_form(
            name="Renamed",
            period="2026",
            indicator_ids=[str(new.id)],
            optional_indicator_ids=[str(new.id)],
        ),
    )
    assert response.headers["Location"] == f"/reporting/{cycle.id}"
    cycle = fresh(db, cycle)
    assert (cycle.name, cycle.period) == ("Renamed", "2026")
    assert [(ci.indicator_id, ci.is_required) for ci in cycle.indicators] == [(new.id, False)]
    assert old.id not in [ci.indicator_id for ci in cycle.indicators]


def test_edit_an_open_cycle_changes_only_name_dates_and_instructions(db, client, signed_in, staff):
    ghg, other = IndicatorFactory(code="GHG"), IndicatorFactory(code="OTHER")
    members = MemberFactory.create_batch(2)
    cycle = open_cycle(db, staff, members, [ghg])
    page = text(client.get(f"/reporting/{cycle.id}/edit"))
    assert "Only its name, dates and instructions can still change." in page
    assert 'name="period"' not in page and 'name="audience"' not in page
    assert 'name="indicator_ids"' not in page
    assert "2 members were asked when the cycle opened." in page
    assert "GHG ·" in page
    response = post(
        client,
        f"/reporting/{cycle.id}/edit",
        cycle_form(
            name="Renamed",
            period="1999",
            due_on=days(40).isoformat(),
            audience="all_active",
            indicator_ids=[str(other.id)],
            instructions="New words",
        ),
    )
    assert response.status_code == 302
    cycle = fresh(db, cycle)
    assert (cycle.name, cycle.due_on, cycle.instructions) == ("Renamed", days(40), "New words")
    assert cycle.period == "2025"
    assert cycle.audience is Audience.CHOSEN
    assert [ci.indicator_id for ci in cycle.indicators] == [ghg.id]


def test_edit_an_open_cycle_refuses_bad_dates(db, client, signed_in, staff):
    cycle = open_cycle(db, staff, [MemberFactory()], [IndicatorFactory()])
    response = post(
        client,
        f"/reporting/{cycle.id}/edit",
        cycle_form(name="Renamed", opens_on=days(5).isoformat(), due_on=days(1).isoformat()),
    )
    page = text(response)
    assert "The due date cannot be before the opening date." in field_error(page, "due_on")
    assert 'value="Renamed"' in page
    assert fresh(db, cycle).name != "Renamed"


def test_a_closed_cycle_cannot_be_edited(db, client, signed_in, staff):
    cycle = open_cycle(db, staff, [MemberFactory()], [IndicatorFactory()])
    services.close_cycle(db, staff, cycle)
    name = cycle.name
    response = client.get(f"/reporting/{cycle.id}/edit")
    assert "This cycle is closed." in flashes(client, response)
    response = post(client, f"/reporting/{cycle.id}/edit", cycle_form(name="Renamed"))
    assert response.headers["Location"] == f"/reporting/{cycle.id}"
    assert fresh(db, cycle).name == name


def test_unknown_cycles_are_404(db, client, signed_in):
    for url in ("/reporting/999", "/reporting/999/edit", "/reporting/99999999999999"):
        assert client.get(url).status_code == 404
    for url in ("/reporting/999/open", "/reporting/999/close", "/reporting/999/delete"):
        assert post(client, url).status_code == 404
    assert client.get("/reporting/999/export.csv").status_code == 404
    assert client.get("/reporting/1/export.pdf").status_code == 404
    assert client.get("/reporting/submissions/999").status_code == 404
    assert client.get("/reporting/999/members/1/reopen").status_code == 404


# -- open, close, delete --------------------------------------------------------------------


def test_open_a_draft_asks_the_audience(db, client, signed_in):
    group = WorkingGroupFactory()
    in_group = GroupMembershipFactory(group=group).member
    GroupMembershipFactory(group=group, left_on=days(-1))
    MemberFactory()
    cycle = ReportingCycleFactory(audience=Audience.GROUP, group=group)
    services.update_cycle(
        db,
        signed_in,
        cycle,
        services.CycleData(
            name=cycle.name,
            period="2025",
            opens_on=days(0),
            due_on=days(30),
            audience=Audience.GROUP,
            group_id=group.id,
            indicator_ids=[IndicatorFactory().id],
        ),
    )
    page = text(client.get(f"/reporting/{cycle.id}"))
    assert "Opening the cycle now would ask 1 member to report" in page
    response = post(client, f"/reporting/{cycle.id}/open")
    assert "is open: 1 member is asked to report." in flashes(client, response)
    cycle = fresh(db, cycle)
    assert cycle.state is CycleState.OPEN
    assert [cm.member_id for cm in cycle.members] == [in_group.id]


def test_open_refuses_a_cycle_without_indicators_or_already_open(db, client, signed_in, staff):
    MemberFactory()
    empty = ReportingCycleFactory()
    response = post(client, f"/reporting/{empty.id}/open")
    assert "Choose the indicators to ask for before opening" in flashes(client, response)
    assert fresh(db, empty).state is CycleState.DRAFT
    opened = open_cycle(db, staff, [MemberFactory()], [IndicatorFactory()])
    response = post(client, f"/reporting/{opened.id}/open")
    assert "Only a draft cycle can be opened." in flashes(client, response)


def test_close_locks_and_refuses_twice(db, client, signed_in, staff):
    cycle = open_cycle(db, staff, [MemberFactory()], [IndicatorFactory()])
    response = post(client, f"/reporting/{cycle.id}/close")
    assert "is closed: its submissions are locked." in flashes(client, response)
    assert fresh(db, cycle).state is CycleState.CLOSED
    response = post(client, f"/reporting/{cycle.id}/close")
    assert "Only an open cycle can be closed." in flashes(client, response)
    draft = ReportingCycleFactory()
    response = post(client, f"/reporting/{draft.id}/close")
    assert "Only an open cycle can be closed." in flashes(client, response)
    assert fresh(db, draft).state is CycleState.DRAFT


def test_delete_a_draft_only(db, client, signed_in, staff):
    opened = open_cycle(db, staff, [MemberFactory()], [IndicatorFactory()])
    draft = ReportingCycleFactory(name="Mistake")
    response = post(client, f"/reporting/{draft.id}/delete")
    assert response.headers["Location"] == "/reporting/"
    assert "The draft cycle “Mistake” is deleted." in flashes(client, response)
    assert db.scalar(select(ReportingCycle.id).where(ReportingCycle.id == draft.id)) is None
    response = post(client, f"/reporting/{opened.id}/delete")
    assert "Only a draft cycle can be deleted." in flashes(client, response)
    assert fresh(db, opened).state is CycleState.OPEN


def test_buttons_follow_the_state(db, client, signed_in, staff):
    draft = ReportingCycleFactory()
    page = text(client.get(f"/reporting/{draft.id}"))
    assert f'action="/reporting/{draft.id}/open"' in page
    assert f'action="/reporting/{draft.id}/delete"' in page
    assert f'href="/reporting/{draft.id}/edit"' in page
    assert f"/reporting/{draft.id}/close" not in page
    opened = open_cycle(db, staff, [MemberFactory()], [IndicatorFactory()])
    page = text(client.get(f"/reporting/{opened.id}"))
    assert f'action="/reporting/{opened.id}/close"' in page
    assert f"/reporting/{opened.id}/open" not in page
    assert f"/reporting/{opened.id}/delete" not in page
    assert f'href="/reporting/{opened.id}/export.csv"' in page
    assert f'href="/reporting/{opened.id}/export.xlsx"' in page
    services.close_cycle(db, staff, opened)
    page = text(client.get(f"/reporting/{opened.id}"))
    assert f"/reporting/{opened.id}/close" not in page
    assert f"/reporting/{opened.id}/edit" not in page


# -- the review of one submission -----------------------------------------------------------


def test_review_page_shows_values_previous_values_and_history(db, client, signed_in, staff):
    member = MemberFactory(name="Lisbon")
    ghg = IndicatorFactory(code="GHG", name="Emissions", unit="t")
    plan = IndicatorFactory(code="PLAN", name="Has a plan", value_type=ValueType.YES_NO, unit=None)
    last = open_cycle(
        db, staff, [member], [ghg, plan], period="2024", opens_on=days(-400), due_on=days(-300)
    )
    submit(db, last, member, {ghg: "1000", plan: "no"}, now=noon(days(-310)))
    cycle = open_cycle(db, staff, [member], [ghg, plan], due_on=days(-1), grace_until=days(5))
    db_user = focal_point(member)
    data = SubmissionInput(
        values={
            ghg.id: ValueInput(raw="1000", comment="Same as before"),
            plan.id: ValueInput(raw="yes", evidence_url="https://lisbon.example/plan.pdf"),
        },
        general_comment="All good",
    )
    submission = services.save_submission(db, db_user, cycle, member, data, submit=True)
    page = text(client.get(f"/reporting/submissions/{submission.id}"))
    assert f"<h1>Lisbon — {cycle.name}</h1>" in page
    assert 'status-submitted">Submitted</strong>' in page
    values = rows(section(page, "values-title"))
    assert values[0] == [
        "GHG · Emissions",
        "1,000 t",
        "1,000 t (2024)",
        "Unchanged from last cycle",
        "Same as before",
    ]
    assert values[1][:4] == ["PLAN · Has a plan", "Yes", "No (2024)", "Entered"]
    assert 'href="https://lisbon.example/plan.pdf"' in page
    assert "All good" in page
    assert 'status-overdue">Late<' in page  # after the due day, in the grace period
    history = rows(section(page, "history-title"))
    assert history[0][1:3] == ["Submitted", db_user.name]
    assert f'action="/reporting/submissions/{submission.id}/verify"' in page
    assert f'action="/reporting/submissions/{submission.id}/return"' in page
    assert f'href="/reporting/{cycle.id}/members/{member.id}/submission"' in page
    assert "Edit on the member’s behalf" in page
    assert "/reopen" not in page  # the cycle still takes submissions


def test_verify(db, client, signed_in, staff):
    member = MemberFactory(name="Porto")
    ghg = IndicatorFactory()
    cycle = open_cycle(db, staff, [member], [ghg])
    submission = submit(db, cycle, member, {ghg: "5"})
    response = post(client, f"/reporting/submissions/{submission.id}/verify")
    assert response.headers["Location"] == f"/reporting/{cycle.id}#to-verify-title"
    assert "The report of Porto is verified." in flashes(client, response)
    submission = fresh(db, submission)
    assert submission.status is SubmissionStatus.VERIFIED
    assert submission.reviewed_by_id == signed_in.id
    response = post(client, f"/reporting/submissions/{submission.id}/verify")
    assert "Only a submitted report can be verified." in flashes(client, response)
    page = text(client.get(f"/reporting/submissions/{submission.id}"))
    assert "/verify" not in page
    assert "/return" in page  # a verified report can still be returned


def test_return_needs_a_comment_and_keeps_it(db, client, signed_in, staff):
    member = MemberFactory(name="Braga")
    ghg = IndicatorFactory()
    cycle = open_cycle(db, staff, [member], [ghg])
    submission = submit(db, cycle, member, {ghg: "5"})
    response = post(client, f"/reporting/submissions/{submission.id}/return", {"comment": "  "})
    assert response.status_code == 200
    page = text(response)
    assert "Say what the member should fix." in field_error(page, "comment")
    assert "Please correct the following" in page
    assert fresh(db, submission).status is SubmissionStatus.SUBMITTED
    response = post(
        client,
        f"/reporting/submissions/{submission.id}/return",
        {"comment": "The emissions look ten times too low."},
    )
    assert "The report of Braga is returned with your comment." in flashes(client, response)
    submission = fresh(db, submission)
    assert submission.status is SubmissionStatus.RETURNED
    assert submission.return_comment == "The emissions look ten times too low."
    page = text(client.get(f"/reporting/submissions/{submission.id}"))
    assert rows(section(page, "history-title"))[0][1:] == [
        "Returned for fixes",
        "Sofia Staff",
        "The emissions look ten times too low.",
    ]
    response = post(client, f"/reporting/submissions/{submission.id}/return", {"comment": "Again"})
    assert "Only a submitted or verified report can be returned." in flashes(client, response)


def test_return_keeps_a_too_long_comment_typed(db, client, signed_in, staff):
    member = MemberFactory()
    ghg = IndicatorFactory()
    submission = submit(db, open_cycle(db, staff, [member], [ghg]), member, {ghg: "5"})
    long = "x" * 5001
    page = text(post(client, f"/reporting/submissions/{submission.id}/return", {"comment": long}))
    assert "Keep it under 5,000 characters." in field_error(page, "comment")
    assert long in page
    assert fresh(db, submission).status is SubmissionStatus.SUBMITTED


# -- reopening ------------------------------------------------------------------------------


def test_reopen_asks_for_a_reason(db, client, signed_in, staff):
    member = MemberFactory(name="Faro")
    ghg = IndicatorFactory()
    cycle = open_cycle(db, staff, [member], [ghg])
    submission = submit(db, cycle, member, {ghg: "7"})
    services.close_cycle(db, staff, cycle)
    page = text(client.get(f"/reporting/{cycle.id}/members/{member.id}/reopen"))
    assert "<h1>Reopen the submission of Faro</h1>" in page
    assert "Reopening sends it back to them as returned" in page
    response = post(client, f"/reporting/{cycle.id}/members/{member.id}/reopen", {"comment": ""})
    assert "Say why this submission is reopened." in field_error(text(response), "comment")
    assert fresh(db, submission).is_reopened is False
    response = post(
        client,
        f"/reporting/{cycle.id}/members/{member.id}/reopen",
        {"comment": "The mayor's office sent corrected figures."},
    )
    assert response.headers["Location"] == f"/reporting/submissions/{submission.id}"
    assert "The submission of Faro is reopened" in flashes(client, response)
    submission = fresh(db, submission)
    assert submission.is_reopened is True
    assert submission.status is SubmissionStatus.RETURNED
    assert submission.history[0].action is SubmissionAction.REOPENED


def test_reopen_a_member_who_never_started(db, client, signed_in, staff):
    member = MemberFactory()
    cycle = open_cycle(
        db, staff, [member], [IndicatorFactory()], due_on=days(-2), grace_until=days(-1)
    )
    page = text(client.get(f"/reporting/{cycle.id}"))
    assert f'href="/reporting/{cycle.id}/members/{member.id}/reopen"' in page
    assert "They have not started a report yet." in text(
        client.get(f"/reporting/{cycle.id}/members/{member.id}/reopen")
    )
    post(client, f"/reporting/{cycle.id}/members/{member.id}/reopen", {"comment": "Late, agreed."})
    submission = db.scalar(select(Submission).where(Submission.member_id == member.id))
    assert submission.is_reopened and submission.status is SubmissionStatus.DRAFT


def test_reopen_is_refused_while_the_cycle_takes_submissions(db, client, signed_in, staff):
    member = MemberFactory()
    cycle = open_cycle(db, staff, [member], [IndicatorFactory()])
    page = text(client.get(f"/reporting/{cycle.id}"))
    assert "/reopen" not in page
    response = client.get(f"/reporting/{cycle.id}/members/{member.id}/reopen")
    assert "The cycle still takes submissions" in flashes(client, response)
    response = post(client, f"/reporting/{cycle.id}/members/{member.id}/reopen", {"comment": "Why"})
    assert "The cycle still takes submissions" in flashes(client, response)
    assert db.scalar(select(func.count()).select_from(Submission)) == 0
    draft = ReportingCycleFactory()
    response = client.get(f"/reporting/{draft.id}/members/{member.id}/reopen")
    assert response.status_code == 404  # nobody is asked in a draft


def test_reopen_a_member_not_asked_is_404(db, client, signed_in, staff):
    cycle = open_cycle(db, staff, [MemberFactory()], [IndicatorFactory()])
    services.close_cycle(db, staff, cycle)
    outsider = MemberFactory()
    assert client.get(f"/reporting/{cycle.id}/members/{outsider.id}/reopen").status_code == 404
    response = post(client, f"/reporting/{cycle.id}/members/{outsider.id}/reopen", {"comment": "x"})
    assert response.status_code == 404
    assert db.scalar(select(func.count()).select_from(Submission)) == 0


# -- who may see the pages ------------------------------------------------------------------


def _endpoints(cycle, draft, submission, member) -> list[tuple[str, str, dict]]:
    c, s, m = cycle.id, submission.id, member.id
    return [
        ("GET", "/reporting/", {}),
        ("GET", "/reporting/new", {}),
        ("POST", "/reporting/new", cycle_form(indicator_ids=[])),
        ("GET", f"/reporting/{c}", {}),
        ("GET", f"/reporting/{c}/edit", {}),
        ("POST", f"/reporting/{c}/edit", cycle_form(name="Hijacked")),
        ("POST", f"/reporting/{draft.id}/open", {}),
        ("POST", f"/reporting/{c}/close", {}),
        ("POST", f"/reporting/{draft.id}/delete", {}),
        ("GET", f"/reporting/{c}/export.csv", {}),
        ("GET", f"/reporting/{c}/export.xlsx", {}),
        ("GET", f"/reporting/submissions/{s}", {}),
        ("POST", f"/reporting/submissions/{s}/verify", {}),
        ("POST", f"/reporting/submissions/{s}/return", {"comment": "Fix it"}),
        ("GET", f"/reporting/{c}/members/{m}/reopen", {}),
        ("POST", f"/reporting/{c}/members/{m}/reopen", {"comment": "Because"}),
    ]


@pytest.mark.parametrize("who", ["own_focal_point", "other_focal_point", "funder"])
def test_only_staff_reach_the_reporting_pages(db, client, auth, staff, who):
    member = MemberFactory()
    ghg = IndicatorFactory()
    cycle = open_cycle(db, staff, [member], [ghg], due_on=days(-1))
    submission = submit(db, cycle, member, {ghg: "3"}, now=noon(days(-3)))
    draft = ReportingCycleFactory(name="Draft one")
    draft.indicators = []
    db.flush()
    services.update_cycle(
        db,
        staff,
        draft,
        services.CycleData(
            name="Draft one",
            period="2026",
            opens_on=days(0),
            due_on=days(9),
            indicator_ids=[ghg.id],
        ),
    )
    user = {
        "own_focal_point": lambda: focal_point(member),
        "other_focal_point": lambda: UserFactory(focal_point=True),
        "funder": lambda: UserFactory(funder_user=True),
    }[who]()
    auth.login(user)
    before = (cycle.name, cycle.state, submission.status, cycle_count(db))
    for method, url, data in _endpoints(cycle, draft, submission, member):
        response = client.get(url) if method == "GET" else client.post(url, data=data)
        assert response.status_code == 404, (method, url, response.status_code)
    cycle, submission = fresh(db, cycle), fresh(db, submission)
    assert (cycle.name, cycle.state, submission.status, cycle_count(db)) == before
    assert fresh(db, draft).state is CycleState.DRAFT
    assert submission.history[0].action is SubmissionAction.SUBMITTED
    assert submission.is_reopened is False


def test_signed_out_visitors_are_sent_to_sign_in(db, client):
    cycle = ReportingCycleFactory()
    for url in ("/reporting/", f"/reporting/{cycle.id}", f"/reporting/{cycle.id}/export.csv"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/sign-in" in response.headers["Location"]
    assert client.post(f"/reporting/{cycle.id}/delete").status_code == 302
    assert fresh(db, cycle) is not None


# -- a whole cycle --------------------------------------------------------------------------


def test_a_cycle_end_to_end(db, client, signed_in):
    ghg = IndicatorFactory(code="GHG", unit="t")
    plan = IndicatorFactory(code="PLAN", value_type=ValueType.YES_NO, unit=None)
    cities = [MemberFactory(name=name) for name in ("Aveiro", "Beja", "Coimbra", "Douro")]
    for city in cities:
        ContactFactory(member=city, is_primary=True, email=f"fp@{city.name.lower()}.example")
    MemberFactory(name="Suspended", status=MemberStatus.SUSPENDED)

    # Staff create the cycle and open it.
    response = post(
        client,
        "/reporting/new",
        cycle_form(
            opens_on=days(-5).isoformat(),
            due_on=days(20).isoformat(),
            indicator_ids=[str(ghg.id), str(plan.id)],
            optional_indicator_ids=[str(plan.id)],
        ),
    )
    cycle_url = response.headers["Location"]
    assert "is open: 4 members are asked" in flashes(client, post(client, f"{cycle_url}/open"))
    cycle = fresh(db, db.scalar(select(ReportingCycle)))

    # Three focal points submit; the fourth does not.
    first = submit(db, cycle, cities[0], {ghg: "100", plan: "yes"})
    second = submit(db, cycle, cities[1], {ghg: "200"})
    third = submit(db, cycle, cities[2], {ghg: "300", plan: "no"})
    page = text(client.get(cycle_url))
    assert [r[0] for r in rows(section(page, "to-verify-title"))] == ["Aveiro", "Beja", "Coimbra"]
    assert [r[0] for r in rows(section(page, "not-submitted-title"))] == ["Douro"]
    assert "fp@douro.example" in page

    # Staff return one with a comment and verify the rest.
    post(client, f"/reporting/submissions/{second.id}/return", {"comment": "GHG is in kt, not t."})
    for done in (first, third):
        post(client, f"/reporting/submissions/{done.id}/verify")
    page = text(client.get(cycle_url))
    assert "Nothing to verify." in section(page, "to-verify-title")
    assert [r[0] for r in rows(section(page, "returned-title"))] == ["Beja"]
    assert "GHG is in kt, not t." in section(page, "returned-title")
    assert [r[0] for r in rows(section(page, "not-submitted-title"))] == ["Beja", "Douro"]
    cards = section(page, "rates-title")
    assert "75%" in cards and "reporting rate (3 reported)" in cards

    # Staff close the cycle, then reopen one member's submission with a reason.
    assert "its submissions are locked" in flashes(client, post(client, f"{cycle_url}/close"))
    page = text(client.get(cycle_url))
    assert f'href="/reporting/{cycle.id}/members/{cities[3].id}/reopen"' in page
    response = post(
        client,
        f"/reporting/{cycle.id}/members/{cities[3].id}/reopen",
        {"comment": "Douro's officer was on leave."},
    )
    reopened = db.scalar(select(Submission).where(Submission.member_id == cities[3].id))
    assert response.headers["Location"] == f"/reporting/submissions/{reopened.id}"
    assert reopened.is_reopened

    db.expire_all()
    statuses = {
        s.member.name: s.status
        for s in db.scalars(select(Submission).where(Submission.cycle_id == cycle.id))
    }
    assert statuses == {
        "Aveiro": SubmissionStatus.VERIFIED,
        "Beja": SubmissionStatus.RETURNED,
        "Coimbra": SubmissionStatus.VERIFIED,
        "Douro": SubmissionStatus.DRAFT,
    }
    # The reopened member can now submit although the cycle is closed.
    douro = submit(db, cycle, cities[3], {ghg: "400"})
    assert douro.status is SubmissionStatus.SUBMITTED and douro.is_late is False
    assert Decimal(douro.values[0].number_value) == Decimal(400)
