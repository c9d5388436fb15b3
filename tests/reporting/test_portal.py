"""The focal-point portal: "your reports", the home page with the open cycle and the commitments
to update, the staff home's reporting figures; who may reach the form; and query counts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from secretariat.commitments.models import CommitmentStatus, CommitmentUpdate
from secretariat.db import utcnow
from secretariat.reporting import services
from secretariat.reporting.models import CycleState, Submission, SubmissionStatus
from tests.factories import (
    CommitmentFactory,
    EventFactory,
    IndicatorFactory,
    InvitationFactory,
    MemberFactory,
    ReportingCycleFactory,
    UserFactory,
)
from tests.groups.conftest import section, text
from tests.reporting.conftest import days, open_cycle_for
from tests.reporting.test_form import counts, url

# -- helpers ----------------------------------------------------------------------------------


def typed(indicators, raw: str = "10") -> services.SubmissionInput:
    return services.SubmissionInput({i.id: services.ValueInput(raw) for i in indicators})


def submit(db, actor, cycle, member, indicators, raw: str = "10", **kwargs) -> Submission:
    return services.save_submission(
        db, actor, cycle, member, typed(indicators, raw), submit=True, **kwargs
    )


def statements(count_queries, client, path: str) -> list[str]:
    with count_queries() as counter:
        response = client.get(path)
    assert response.status_code == 200, path
    return counter.statements


def assert_same_count(small: list[str], large: list[str]) -> None:
    assert len(small) == len(large), "\n\n".join(large)


def stale_commitment(member, title: str, **fields):
    """An ongoing commitment last touched 200 days ago: it needs an update."""
    return CommitmentFactory(
        member=member,
        title=title,
        status=CommitmentStatus.IN_PROGRESS,
        created_at=utcnow() - timedelta(days=200),
        **fields,
    )


# -- "your reports" ---------------------------------------------------------------------------


def test_mine_lists_the_members_cycles_with_their_status(
    db, client, auth, staff, focal, other_focal
):
    indicator = IndicatorFactory()
    both = [focal.member, other_focal.member]
    past = open_cycle_for(
        db,
        staff,
        both,
        [indicator],
        period="2024",
        opens_on=days(-400),
        due_on=days(-370),
        name="Annual report 2024",
    )
    submit(db, focal, past, focal.member, [indicator], now=utcnow() - timedelta(days=360))
    services.close_cycle(db, staff, past)
    current = open_cycle_for(db, staff, both, [indicator], name="Annual report 2025")
    open_cycle_for(db, staff, [other_focal.member], [indicator], name="Porto only")
    ReportingCycleFactory(name="Still a draft")
    auth.login(focal)
    page = text(client.get("/reporting/mine"))
    assert "<h1>Your reports</h1>" in page
    assert "Porto only" not in page and "Still a draft" not in page
    rows = re.findall(r"<tr>\s*<td>(.*?)</tr>", page, re.S)
    assert len(rows) == 2
    plain = [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]
    assert plain[0].startswith("Annual report 2025 (2025)")
    assert "Not started" in plain[0] and "10 days left" in plain[0]
    assert plain[1].startswith("Annual report 2024 (2024) Closed")
    assert "Submitted" in plain[1] and "Late" in plain[1]
    assert f'href="{url(current, focal.member)}"' in page
    assert f'href="{url(past, focal.member)}"' in page


def test_mine_for_a_member_never_asked(db, client, auth, focal):
    auth.login(focal)
    page = text(client.get("/reporting/mine"))
    assert "Your member has not been asked to report yet." in page


def test_staff_are_sent_to_the_cycle_list(client, auth, staff):
    auth.login(staff)
    response = client.get("/reporting/mine")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/reporting/")


# -- who may reach the form -------------------------------------------------------------------


@pytest.fixture
def cycle(db, staff, focal, other_focal):
    return open_cycle_for(
        db, staff, [focal.member, other_focal.member], [IndicatorFactory(name="GHG emissions")]
    )


def form_of(cycle, raw: str = "12", action: str = "submit") -> dict:
    return {f"value-{cycle.indicators[0].indicator_id}": raw, "action": action}


def test_a_focal_point_cannot_reach_another_members_form(
    db, client, auth, focal, other_focal, cycle
):
    submit(db, focal, cycle, focal.member, [cycle.indicators[0].indicator], raw="7")
    before = counts(db)
    auth.login(other_focal)
    assert client.get(url(cycle, focal.member)).status_code == 404
    for action in ("save", "submit"):
        response = client.post(url(cycle, focal.member), data=form_of(cycle, "99", action))
        assert response.status_code == 404
    assert counts(db) == before
    # Not even a trace of Lisbon's values on the 404 page.
    page = text(client.get(url(cycle, focal.member)))
    assert "GHG emissions" not in page and "Lisbon" not in page
    # Their own form is fine.
    assert client.get(url(cycle, other_focal.member)).status_code == 200


def test_the_form_is_404_when_the_member_is_not_asked(db, client, auth, staff, focal, other_focal):
    porto_only = open_cycle_for(db, staff, [other_focal.member], [IndicatorFactory()])
    auth.login(focal)
    assert client.get(url(porto_only, focal.member)).status_code == 404
    assert client.post(url(porto_only, focal.member), data=form_of(porto_only)).status_code == 404
    assert counts(db) == (0, 0, 0)
    # Staff neither: the member is not part of the cycle.
    auth.logout()
    auth.login(staff)
    assert client.get(url(porto_only, focal.member)).status_code == 404
    assert client.post(url(porto_only, focal.member), data=form_of(porto_only)).status_code == 404
    assert counts(db) == (0, 0, 0)


def test_the_form_is_404_for_a_draft_or_missing_cycle(db, client, auth, staff, focal):
    draft = ReportingCycleFactory()
    for user in (focal, staff):
        auth.login(user)
        assert client.get(url(draft, focal.member)).status_code == 404
        assert (
            client.get(
                f"/reporting/{draft.id + 100}/members/{focal.member.id}/submission"
            ).status_code
            == 404
        )
        assert (
            client.get(f"/reporting/{2**40}/members/{focal.member.id}/submission").status_code
            == 404
        )
        assert client.get(f"/reporting/{draft.id}/members/{2**40}/submission").status_code == 404
        auth.logout()


def test_funders_and_visitors_cannot_reach_the_form(db, client, auth, focal, cycle):
    response = client.get(url(cycle, focal.member))
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    assert client.post(url(cycle, focal.member), data=form_of(cycle)).status_code == 302
    auth.login(UserFactory(funder_user=True))
    assert client.get(url(cycle, focal.member)).status_code == 404
    assert client.post(url(cycle, focal.member), data=form_of(cycle)).status_code == 404
    assert client.get("/reporting/mine").status_code == 404
    assert counts(db) == (0, 0, 0)


# -- the focal point's home -------------------------------------------------------------------


def test_home_puts_the_open_cycle_with_its_form_first(db, client, auth, staff, focal, cycle):
    stale = stale_commitment(focal.member, "Climate action plan")
    CommitmentFactory(member=focal.member, title="Fresh pledge", status=CommitmentStatus.PLANNED)
    CommitmentFactory(
        member=focal.member,
        title="Done long ago",
        status=CommitmentStatus.ACHIEVED,
        created_at=utcnow() - timedelta(days=400),
    )
    stale_commitment(MemberFactory(), "Someone else's")
    event = EventFactory(title="Heat webinar")
    InvitationFactory(event=event, member=focal.member)
    auth.login(focal)
    page = text(client.get("/"))
    # The report comes first, then the commitments, then what was there before.
    order = [
        page.index('id="reporting-title"'),
        page.index('id="commitments-title"'),
        page.index('id="events-title"'),
        page.index('id="contacts-title"'),
    ]
    assert order == sorted(order)
    report = section(page, "reporting-title")
    assert f"Your report: {cycle.name}" in report
    assert "10 days left" in report and "Not started" in report
    assert f'<form method="post" action="{url(cycle, focal.member)}" novalidate>' in report
    indicator_id = cycle.indicators[0].indicator_id
    assert f'name="value-{indicator_id}"' in report
    assert 'name="action" value="save"' in report and 'name="action" value="submit"' in report
    commitments = section(page, "commitments-title")
    assert f'<a href="/commitments/{stale.id}">Climate action plan</a>' in commitments
    assert f'href="/commitments/{stale.id}/update">Add an update</a>' in commitments
    assert "never updated since" in commitments
    assert "Fresh pledge" not in commitments and "Done long ago" not in commitments
    assert "Someone else" not in commitments
    assert "Heat webinar" in section(page, "events-title")
    assert "Own Focal" in section(page, "contacts-title")
    # Posting the embedded form saves the report.
    response = client.post(url(cycle, focal.member), data=form_of(cycle, "12", "save"))
    assert response.status_code == 302
    page = text(client.get("/"))
    assert re.search(rf'name="value-{indicator_id}" value="12"', page)
    assert "Draft" in section(page, "reporting-title")


def test_home_after_submitting_lists_the_cycle_without_a_form(
    db, client, auth, staff, focal, cycle
):
    later = open_cycle_for(db, staff, [focal.member], [IndicatorFactory()], due_on=days(30))
    submit(db, focal, cycle, focal.member, [cycle.indicators[0].indicator])
    auth.login(focal)
    report = section(text(client.get("/")), "reporting-title")
    # The later cycle can still be filled in: it gets the form; the submitted one is listed.
    assert f"Your report: {later.name}" in report
    assert f'action="{url(later, focal.member)}"' in report
    assert f'action="{url(cycle, focal.member)}"' not in report
    assert re.search(
        rf'href="{url(cycle, focal.member)}">{cycle.name}</a>.*?Submitted', report, re.S
    )
    submit(db, focal, later, focal.member, [later.indicators[0].indicator])
    report = section(text(client.get("/")), "reporting-title")
    assert "<form" not in report
    assert "Reporting cycles open" in report


def test_home_without_open_cycles_or_stale_commitments(db, client, auth, focal):
    auth.login(focal)
    page = text(client.get("/"))
    assert 'id="reporting-title"' not in page
    assert "Your commitments are up to date." in section(page, "commitments-title")


# -- the staff home ---------------------------------------------------------------------------


def test_staff_home_shows_open_cycles_with_rates_and_updates_to_verify(
    db, client, auth, staff, focal, other_focal
):
    indicator = IndicatorFactory()
    third = MemberFactory(name="Braga")
    cycle = open_cycle_for(
        db,
        staff,
        [focal.member, other_focal.member, third],
        [indicator],
        opens_on=days(-20),
        due_on=days(-1),
        name="Annual report 2025",
    )
    submit(db, focal, cycle, focal.member, [indicator], now=utcnow() - timedelta(days=3))
    submit(db, other_focal, cycle, other_focal.member, [indicator])  # late
    closed = open_cycle_for(db, staff, [focal.member], [indicator], name="Old cycle")
    services.close_cycle(db, staff, closed)
    commitment = CommitmentFactory(member=focal.member)
    for verified in (False, False, True):
        db.add(
            CommitmentUpdate(
                commitment=commitment,
                status=CommitmentStatus.IN_PROGRESS,
                narrative="Progress.",
                is_verified=verified,
            )
        )
    db.flush()
    auth.login(staff)
    reporting = section(text(client.get("/")), "reporting-title")
    assert "Old cycle" not in reporting
    row = re.search(r"<tr>\s*<td>(.*?)</tr>", reporting, re.S).group(1)
    cells = [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in row.split("</td>")][:5]
    assert cells[0] == "Annual report 2025"
    assert cells[2] == "67% (2 of 3)"
    assert cells[3] == "33%"
    assert cells[4] == "2"
    assert f'href="/reporting/{cycle.id}"' in reporting
    assert '<a href="/commitments/">2 commitment updates awaiting verification</a>' in reporting


def test_staff_home_without_open_cycles(db, client, auth, staff):
    auth.login(staff)
    reporting = section(text(client.get("/")), "reporting-title")
    assert "No reporting cycle is open." in reporting
    assert "No commitment update awaits verification." in reporting


# -- query counts -----------------------------------------------------------------------------


def reporting_world(db, staff, focal, *, others: int, indicators: int, commitments: int):
    """Lisbon and ``others`` members asked in an open cycle of ``indicators`` indicators, with
    last year's values for each, and ``commitments`` of Lisbon's needing an update."""
    asked = IndicatorFactory.create_batch(indicators)
    members = [focal.member, *MemberFactory.create_batch(others)]
    previous = open_cycle_for(
        db, staff, members, asked, period="2024", opens_on=days(-400), due_on=days(-370)
    )
    for member in members[:20]:
        submit(db, staff, previous, member, asked, raw="100")
    services.close_cycle(db, staff, previous)
    cycle = open_cycle_for(db, staff, members, asked)
    for member in members[1:20]:
        submit(db, staff, cycle, member, asked, raw="110")
    # Lisbon's draft, half filled in.
    services.save_submission(
        db, focal, cycle, focal.member, typed(asked[: indicators // 2], "120"), submit=False
    )
    for n in range(commitments):
        stale_commitment(focal.member, f"Pledge {n}")
    db.flush()
    return cycle


@pytest.mark.parametrize("page", ["form", "home", "mine"])
def test_portal_pages_issue_a_bounded_number_of_queries(
    db, client, auth, staff, count_queries, page
):
    small_focal = UserFactory(focal_point=True)
    small = reporting_world(db, staff, small_focal, others=10, indicators=3, commitments=2)
    large_focal = UserFactory(focal_point=True)
    large = reporting_world(db, staff, large_focal, others=200, indicators=30, commitments=20)
    paths = {
        "form": (url(small, small_focal.member), url(large, large_focal.member)),
        "home": ("/", "/"),
        "mine": ("/reporting/mine", "/reporting/mine"),
    }[page]
    auth.login(small_focal)
    client.get("/")  # shows, and so clears, the welcome message
    few = statements(count_queries, client, paths[0])
    auth.logout()
    auth.login(large_focal)
    client.get("/")
    many = statements(count_queries, client, paths[1])
    assert_same_count(few, many)
    assert len(many) <= {"form": 10, "home": 20, "mine": 4}[page]


def test_staff_form_on_behalf_issues_a_bounded_number_of_queries(
    db, client, auth, staff, count_queries
):
    small_focal = UserFactory(focal_point=True)
    small = reporting_world(db, staff, small_focal, others=10, indicators=3, commitments=0)
    large_focal = UserFactory(focal_point=True)
    large = reporting_world(db, staff, large_focal, others=200, indicators=30, commitments=0)
    auth.login(staff)
    client.get("/")
    few = statements(count_queries, client, url(small, small_focal.member))
    many = statements(count_queries, client, url(large, large_focal.member))
    assert_same_count(few, many)


def test_staff_home_issues_a_bounded_number_of_queries(db, client, auth, staff, count_queries):
    indicator = IndicatorFactory()
    members = MemberFactory.create_batch(10)
    cycle = open_cycle_for(db, staff, members, [indicator])
    auth.login(staff)
    client.get("/")
    few = statements(count_queries, client, "/")
    more = MemberFactory.create_batch(190)
    for _n in range(4):
        extra = open_cycle_for(db, staff, members + more, [indicator])
        for member in more[:30]:
            submit(db, staff, extra, member, [indicator])
    for member in members:
        submit(db, staff, cycle, member, [indicator])
    many = statements(count_queries, client, "/")
    assert_same_count(few, many)
    assert cycle.state is CycleState.OPEN
    assert (
        db.scalar(
            select(func.count())
            .select_from(Submission)
            .where(Submission.status == SubmissionStatus.SUBMITTED)
        )
        == 130
    )
