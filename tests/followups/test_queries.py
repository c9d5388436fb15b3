"""Read models of the follow-up pages: my follow-ups, the list's filters, counts by owner."""

from __future__ import annotations

import pytest

from secretariat.followups import queries
from secretariat.followups.models import FollowUpStatus, Priority, SourceKind
from tests.factories import EventFactory, MemberFactory, UserFactory, WorkingGroupFactory
from tests.followups.factories import FollowUpFactory, days, focal_point, today


@pytest.fixture
def staff(db):
    return UserFactory(name="Sofia Staff")


def names(follow_ups) -> list[str]:
    return [f.title for f in follow_ups]


# -- my follow-ups --------------------------------------------------------------------------


def test_my_follow_ups_for_staff_in_sections_and_order(db, staff):
    for title, due, extra in (
        ("later", 30, {}),
        ("due in a week", 7, {}),
        ("due today", 0, {}),
        ("overdue by a day", -1, {}),
        ("overdue by a week", -7, {}),
        ("due in 8 days", 8, {}),
        ("due today, high", 0, {"priority": Priority.HIGH}),
        ("in progress, overdue", -2, {"status": FollowUpStatus.IN_PROGRESS}),
        ("done yesterday", -5, {"status": FollowUpStatus.DONE, "completed_on": days(-1)}),
        (
            "cancelled today",
            5,
            {"status": FollowUpStatus.CANCELLED, "completed_on": today()},
        ),
        ("done long ago", -90, {"status": FollowUpStatus.DONE, "completed_on": days(-45)}),
    ):
        FollowUpFactory(title=title, owner=staff, due_on=days(due), **extra)
    FollowUpFactory(title="someone else's", owner=UserFactory(), due_on=days(-3))

    mine = queries.my_follow_ups(db, staff, today())
    assert names(mine.overdue) == ["overdue by a week", "in progress, overdue", "overdue by a day"]
    assert names(mine.due_soon) == ["due today, high", "due today", "due in a week"]
    assert names(mine.later) == ["due in 8 days", "later"]
    assert names(mine.closed) == ["cancelled today", "done yesterday"]
    assert mine.pending == 8


def test_my_follow_ups_for_a_focal_point_include_their_members(db, staff):
    focal = focal_point()
    FollowUpFactory(title="own", owner=focal, member=focal.member, due_on=days(3))
    FollowUpFactory(
        title="staff's, about the member", owner=staff, member=focal.member, due_on=days(-1)
    )
    FollowUpFactory(
        title="staff's, about another", owner=staff, member=MemberFactory(), due_on=days(-2)
    )
    FollowUpFactory(title="staff's, about nobody", owner=staff, due_on=days(-2))
    colleague = focal_point(focal.member)
    FollowUpFactory(title="colleague's", owner=colleague, member=focal.member, due_on=days(20))

    mine = queries.my_follow_ups(db, focal, today())
    assert names(mine.overdue) == ["staff's, about the member"]
    assert names(mine.due_soon) == ["own"]
    assert names(mine.later) == ["colleague's"]


def test_a_funder_has_no_follow_ups(db, staff):
    FollowUpFactory(owner=staff, due_on=days(-1))
    mine = queries.my_follow_ups(db, UserFactory(funder_user=True), today())
    assert (mine.overdue, mine.due_soon, mine.later, mine.closed) == ([], [], [], [])
    summary = queries.pending_summary(db, UserFactory(funder_user=True), today())
    assert (summary.overdue, summary.due_soon, summary.pending) == (0, 0, 0)


def test_pending_summary_counts_like_my_follow_ups(db, staff):
    for due in (-3, -1, 0, 7, 8, 40):
        FollowUpFactory(owner=staff, due_on=days(due))
    FollowUpFactory(owner=staff, due_on=days(-3), status=FollowUpStatus.DONE, completed_on=today())
    summary = queries.pending_summary(db, staff, today())
    assert (summary.overdue, summary.due_soon, summary.pending) == (2, 2, 6)


# -- the list -------------------------------------------------------------------------------


@pytest.fixture
def listed(db, staff):
    """Follow-ups of every kind: staff's, a focal point's, with every source and status."""
    focal = focal_point()
    other_member = MemberFactory()
    event, group = EventFactory(), WorkingGroupFactory()
    FollowUpFactory(title="a: event", owner=staff, event=event, due_on=days(20))
    FollowUpFactory(title="b: group, overdue", owner=staff, group=group, due_on=days(-2))
    FollowUpFactory(title="c: focal's", owner=focal, member=focal.member, due_on=days(5))
    FollowUpFactory(
        title="d: about focal's member", owner=staff, member=focal.member, due_on=days(1)
    )
    FollowUpFactory(title="e: other member", owner=staff, member=other_member, due_on=days(2))
    FollowUpFactory(
        title="f: done",
        owner=staff,
        status=FollowUpStatus.DONE,
        completed_on=today(),
        due_on=days(-10),
    )
    FollowUpFactory(
        title="g: in progress",
        owner=focal,
        member=focal.member,
        status=FollowUpStatus.IN_PROGRESS,
        due_on=days(9),
    )
    return focal, other_member


def listing(db, user, **filters) -> list[str]:
    page = queries.follow_up_page(db, user, queries.FollowUpFilters(**filters), today(), 1, 50)
    assert page.total == len(page.items)
    return names(page.items)


def test_list_filters_for_staff(db, staff, listed):
    focal, other_member = listed
    assert listing(db, staff) == [
        "b: group, overdue",
        "d: about focal's member",
        "e: other member",
        "c: focal's",
        "g: in progress",
        "a: event",
    ]
    assert listing(db, staff, show="overdue") == ["b: group, overdue"]
    assert listing(db, staff, show="done") == ["f: done"]
    assert listing(db, staff, show="in_progress") == ["g: in progress"]
    assert len(listing(db, staff, show="all")) == 7
    assert listing(db, staff, owner_id=focal.id) == ["c: focal's", "g: in progress"]
    assert listing(db, staff, member_id=other_member.id) == ["e: other member"]
    assert listing(db, staff, source=SourceKind.EVENT) == ["a: event"]
    assert listing(db, staff, source=SourceKind.GROUP) == ["b: group, overdue"]
    assert listing(db, staff, source=SourceKind.AGREEMENT) == []
    assert "a: event" not in listing(db, staff, source=SourceKind.NONE)


def test_list_is_scoped_for_a_focal_point(db, staff, listed):
    focal, other_member = listed
    assert listing(db, focal) == ["d: about focal's member", "c: focal's", "g: in progress"]
    # Filters cannot widen the scope.
    assert listing(db, focal, member_id=other_member.id) == []
    assert listing(db, focal, owner_id=staff.id, show="all") == ["d: about focal's member"]
    other_focal = focal_point()
    assert listing(db, other_focal, show="all") == []


def test_list_pages(db, staff):
    for i in range(7):
        FollowUpFactory(title=f"item {i}", owner=staff, due_on=days(i))
    filters = queries.FollowUpFilters()
    first = queries.follow_up_page(db, staff, filters, today(), 1, 3)
    last = queries.follow_up_page(db, staff, filters, today(), 99, 3)
    assert (first.total, first.pages, names(first.items)) == (7, 3, ["item 0", "item 1", "item 2"])
    assert (last.page, names(last.items)) == (3, ["item 6"])


# -- counts by owner ------------------------------------------------------------------------


def test_counts_by_owner(db, staff):
    busy = UserFactory(name="Busy Staff")
    focal = focal_point()
    idle = UserFactory(name="Idle Staff")
    for due in (-10, -1, 0, 7, 8, 30):
        FollowUpFactory(owner=staff, due_on=days(due))
    for due in (-5, -4, -3, 3):
        FollowUpFactory(owner=busy, due_on=days(due))
    FollowUpFactory(owner=busy, due_on=days(-30), status=FollowUpStatus.DONE, completed_on=today())
    FollowUpFactory(
        owner=focal, member=focal.member, due_on=days(2), status=FollowUpStatus.IN_PROGRESS
    )
    FollowUpFactory(
        owner=idle, due_on=days(-3), status=FollowUpStatus.CANCELLED, completed_on=today()
    )

    counts = [
        (c.owner.name, c.overdue, c.due_soon, c.pending)
        for c in queries.counts_by_owner(db, today())
    ]
    assert counts == [
        ("Busy Staff", 3, 1, 4),
        ("Sofia Staff", 2, 2, 6),
        (focal.name, 0, 1, 1),
    ]


# -- a record's follow-ups ------------------------------------------------------------------


def test_follow_ups_for_a_member_in_scope(db, staff):
    focal = focal_point()
    FollowUpFactory(title="pending", owner=staff, member=focal.member, due_on=days(1))
    FollowUpFactory(
        title="closed",
        owner=staff,
        member=focal.member,
        status=FollowUpStatus.DONE,
        completed_on=today(),
    )
    FollowUpFactory(title="another member's", owner=staff, member=MemberFactory())
    pending, closed = queries.follow_ups_for(db, focal, member_id=focal.member_id)
    assert (names(pending), names(closed)) == (["pending"], ["closed"])
