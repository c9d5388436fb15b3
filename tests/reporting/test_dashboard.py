"""The cycle dashboard: rates overall and by region on hand-built data, who is still to report
and how to reach them, the review queues, and a bounded number of queries whatever the size."""

from __future__ import annotations

import re

import pytest

from secretariat.indicators.models import ValueType
from secretariat.reporting import services
from secretariat.reporting.models import (
    Audience,
    CycleIndicator,
    CycleMember,
    CycleState,
    Submission,
    SubmissionStatus,
)
from secretariat.reporting.services import SubmissionInput, ValueInput
from tests.factories import (
    ContactFactory,
    IndicatorFactory,
    MemberFactory,
    ReportingCycleFactory,
    TermFactory,
    UserFactory,
)
from tests.followups.factories import focal_point, rows, section, text
from tests.reporting.test_views import days, noon, open_cycle, submit


@pytest.fixture
def staff(db):
    return UserFactory(name="Sofia Staff")


@pytest.fixture
def signed_in(staff, auth):
    auth.login(staff)
    return staff


def cards(page: str) -> dict[str, str]:
    """The figures of the rates section, by their caption's first words."""
    found = re.findall(
        r'<article><span class="figure">(.*?)</span>(.*?)</article>', section(page, "rates-title")
    )
    return {caption.split(" (")[0]: figure for figure, caption in found}


@pytest.fixture
def hand_built(db, staff):
    """Four members asked: two on time (one verified), one late (returned), one with a draft."""
    africa, europe = TermFactory(label="Africa"), TermFactory(label="Europe")
    ghg = IndicatorFactory(code="GHG")
    on_time = MemberFactory(name="Accra", region=africa)
    on_the_day = MemberFactory(name="Banjul", region=africa)
    late = MemberFactory(name="Cork", region=europe)
    drafting = MemberFactory(name="Dublin", region=europe)
    cycle = open_cycle(
        db,
        staff,
        [on_time, on_the_day, late, drafting],
        [ghg],
        opens_on=days(-30),
        due_on=days(-10),
    )
    verified = submit(db, cycle, on_time, {ghg: "1"}, now=noon(days(-20)))
    services.verify_submission(db, staff, verified)
    # The last hours of the due day still count as on time.
    submit(db, cycle, on_the_day, {ghg: "2"}, now=noon(days(-10)).replace(hour=23, minute=59))
    returned = submit(db, cycle, late, {ghg: "3"}, now=noon(days(-5)))
    services.return_submission(db, staff, returned, "Wrong unit.")
    services.save_submission(
        db,
        focal_point(drafting),
        cycle,
        drafting,
        SubmissionInput(values={ghg.id: ValueInput(raw="4")}),
        submit=False,
    )
    return cycle


def test_rates_on_hand_built_data(db, client, signed_in, hand_built):
    page = text(client.get(f"/reporting/{hand_built.id}"))
    assert cards(page) == {
        "members asked": "4",
        "reporting rate": "75%",
        "on-time rate": "50%",
        "to verify": "1",
        "verified": "1",
        "returned": "1",
        "drafts": "1",
    }
    assert "reporting rate (3 reported)" in page
    assert "on-time rate (2 on time)" in page
    assert rows(section(page, "regions-title")) == [
        ["Africa", "2", "2", "100%", "2", "100%"],
        ["Europe", "2", "1", "50%", "0", "0%"],
    ]


def test_review_queues_and_members_still_to_report(db, client, signed_in, hand_built):
    page = text(client.get(f"/reporting/{hand_built.id}"))
    to_verify = rows(section(page, "to-verify-title"))
    assert [r[0] for r in to_verify] == ["Banjul"]
    assert to_verify[0][2] == "On time"
    returned = rows(section(page, "returned-title"))
    assert [(r[0], r[2]) for r in returned] == [("Cork", "Wrong unit.")]
    missing = rows(section(page, "not-submitted-title"))
    assert [r[:2] for r in missing] == [["Cork", "Returned for changes"], ["Dublin", "Draft"]]


def test_members_not_yet_submitted_with_their_focal_points(db, client, signed_in, staff):
    ghg = IndicatorFactory()
    with_contact = MemberFactory(name="Aalborg")
    ContactFactory(
        member=with_contact, name="Ane Berg", email="ane@aalborg.example", is_primary=True
    )
    ContactFactory(member=with_contact, name="Not primary", email="other@aalborg.example")
    left = MemberFactory(name="Bergen")
    ContactFactory(
        member=left, name="Gone", email="gone@bergen.example", is_primary=True, active_to=days(-1)
    )
    done = MemberFactory(name="Cadiz")
    ContactFactory(member=done, email="fp@cadiz.example", is_primary=True)
    cycle = open_cycle(db, staff, [with_contact, left, done], [ghg])
    submit(db, cycle, done, {ghg: "1"})
    page = text(client.get(f"/reporting/{cycle.id}"))
    missing = section(page, "not-submitted-title")
    assert rows(missing) == [
        ["Aalborg", "Not started", "Ane Berg", "ane@aalborg.example"],
        ["Bergen", "Not started", "None recorded", "—"],
    ]
    assert 'href="mailto:ane@aalborg.example"' in missing
    form_link = f'href="/reporting/{cycle.id}/members/{with_contact.id}/submission"'
    assert form_link in missing
    assert "Not yet submitted (2)" in page
    # One address per member still to report, ready for a single reminder.
    assert re.search(r'<textarea id="missing-emails"[^>]*>ane@aalborg.example</textarea>', page)
    assert "mailto:?bcc=ane%40aalborg.example" in page
    assert "gone@bergen.example" not in page
    assert "other@aalborg.example" not in page
    assert "fp@cadiz.example" not in page
    assert "/reopen" not in page  # the cycle still takes submissions


def test_reopen_links_once_the_cycle_no_longer_takes_submissions(db, client, signed_in, staff):
    member = MemberFactory(name="Evora")
    cycle = open_cycle(
        db, staff, [member], [IndicatorFactory()], due_on=days(-3), grace_until=days(-1)
    )
    page = text(client.get(f"/reporting/{cycle.id}"))
    assert "no longer takes submissions" in page
    reopen = f'href="/reporting/{cycle.id}/members/{member.id}/reopen"'
    assert reopen in section(page, "not-submitted-title")
    services.close_cycle(db, staff, cycle)
    assert reopen in text(client.get(f"/reporting/{cycle.id}"))


def test_the_not_submitted_list_is_paginated(db, client, signed_in, staff):
    members = [MemberFactory(name=f"Town {n:03d}") for n in range(55)]
    cycle = open_cycle(db, staff, members, [IndicatorFactory()])
    first = text(client.get(f"/reporting/{cycle.id}"))
    assert len(rows(section(first, "not-submitted-title"))) == 50
    assert "Page 1 of 2" in first
    assert f'href="/reporting/{cycle.id}?page=2"' in first
    second = text(client.get(f"/reporting/{cycle.id}?page=2"))
    assert [r[0] for r in rows(section(second, "not-submitted-title"))] == [
        f"Town {n:03d}" for n in range(50, 55)
    ]
    # A page beyond the last shows the last; garbage shows the first.
    assert "Town 054" in text(client.get(f"/reporting/{cycle.id}?page=9"))
    assert "Town 000" in text(client.get(f"/reporting/{cycle.id}?page=x"))


def test_the_review_queue_pages_keep_the_other_lists_page(db, client, signed_in, staff):
    members = [MemberFactory(name=f"Town {n:03d}") for n in range(52)]
    cycle = open_cycle(db, staff, members, [IndicatorFactory()])
    for member in members:
        db.add(
            Submission(
                cycle=cycle,
                member=member,
                status=SubmissionStatus.SUBMITTED,
                submitted_at=noon(days(-1)),
                first_submitted_at=noon(days(-1)),
                is_late=False,
            )
        )
    db.flush()
    first = text(client.get(f"/reporting/{cycle.id}?page=1"))
    assert len(rows(section(first, "to-verify-title"))) == 50
    assert f'href="/reporting/{cycle.id}?page=1&verify_page=2#to-verify-title"' in first
    second = text(client.get(f"/reporting/{cycle.id}?verify_page=2"))
    assert [r[0] for r in rows(section(second, "to-verify-title"))] == ["Town 050", "Town 051"]


def test_dates_and_indicators_asked(db, client, signed_in, staff):
    ghg = IndicatorFactory(code="GHG", name="Emissions", unit="t CO2e")
    plan = IndicatorFactory(code="PLAN", name="Plan", value_type=ValueType.YES_NO, unit=None)
    cycle = ReportingCycleFactory(
        opens_on=days(1), due_on=days(30), grace_until=days(40), instructions="Use 2025 data."
    )
    services.update_cycle(
        db,
        staff,
        cycle,
        services.CycleData(
            name=cycle.name,
            period="2025",
            opens_on=days(1),
            due_on=days(30),
            grace_until=days(40),
            indicator_ids=[ghg.id, plan.id],
            optional_indicator_ids=[plan.id],
            instructions="Use 2025 data.",
        ),
    )
    page = text(client.get(f"/reporting/{cycle.id}"))
    assert "end of the day in UTC" in page
    assert "Use 2025 data." in section(page, "instructions-title")
    assert rows(section(page, "indicators-title")) == [
        ["GHG", "Emissions", "t CO2e", "Required"],
        ["PLAN", "Plan", "—", "Optional"],
    ]
    assert "rates-title" not in page  # nobody is asked in a draft


@pytest.mark.parametrize("app_overrides", [{"TIMEZONE": "Pacific/Auckland"}])
def test_the_due_time_is_said_in_the_network_zone(db, client, signed_in, staff, app_overrides):
    cycle = open_cycle(db, staff, [MemberFactory()], [IndicatorFactory()])
    page = text(client.get(f"/reporting/{cycle.id}"))
    assert "end of the day in Pacific/Auckland" in page


# -- queries --------------------------------------------------------------------------------


STATUSES = (
    None,
    SubmissionStatus.DRAFT,
    SubmissionStatus.SUBMITTED,
    SubmissionStatus.VERIFIED,
    SubmissionStatus.RETURNED,
)


def populate(db, cycle, regions, start: int, count: int) -> None:
    """Ask ``count`` more members, each with a primary focal point and a submission in one of
    every status in turn (or none)."""
    for n in range(start, start + count):
        member = MemberFactory(name=f"Member {n:04d}", region=regions[n % len(regions)])
        ContactFactory(member=member, is_primary=True, name=f"Focal {n}")
        db.add(CycleMember(cycle=cycle, member=member))
        status = STATUSES[n % len(STATUSES)]
        if status is not None:
            reported = status is not SubmissionStatus.DRAFT
            db.add(
                Submission(
                    cycle=cycle,
                    member=member,
                    status=status,
                    first_submitted_at=noon(days(-2)) if reported else None,
                    submitted_at=noon(days(-2)) if reported else None,
                    is_late=(n % 2 == 0) if reported else None,
                    return_comment="Fix it" if status is SubmissionStatus.RETURNED else None,
                )
            )
    db.flush()


def test_the_dashboard_runs_the_same_queries_for_10_and_200_members(
    db, client, signed_in, count_queries
):
    regions = [TermFactory(label=label) for label in ("Africa", "Asia", "Europe")]
    cycle = ReportingCycleFactory(
        audience=Audience.CHOSEN, state=CycleState.OPEN, opens_on=days(-5), due_on=days(5)
    )
    for position in range(3):
        db.add(CycleIndicator(cycle=cycle, indicator=IndicatorFactory(), position=position))
    populate(db, cycle, regions, 0, 10)
    url = f"/reporting/{cycle.id}"
    with count_queries() as small:
        assert client.get(url).status_code == 200
    populate(db, cycle, regions, 10, 190)
    with count_queries() as large:
        response = client.get(url)
    assert response.status_code == 200
    assert small.count == large.count, "\n\n".join(large.statements)
    assert large.count <= 14, "\n\n".join(large.statements)
    page = text(response)
    assert cards(page)["members asked"] == "200"
    assert cards(page)["reporting rate"] == "60%"  # submitted, verified, returned: 3 of 5
    assert "Not yet submitted (120)" in page
    assert "To verify (40)" in page


def test_the_cycle_list_runs_the_same_queries_for_few_and_many_cycles(
    db, client, signed_in, count_queries
):
    regions = [TermFactory()]
    for n in range(2):
        populate(db, ReportingCycleFactory(state=CycleState.OPEN), regions, n * 5, 5)
    with count_queries() as small:
        assert client.get("/reporting/").status_code == 200
    for n in range(2, 20):
        populate(db, ReportingCycleFactory(state=CycleState.OPEN), regions, n * 5, 5)
    with count_queries() as large:
        response = client.get("/reporting/")
    assert small.count == large.count, "\n\n".join(large.statements)
    assert len(rows(text(response))) == 20
