"""Working-group services: validation, closing and reopening, memberships and their history."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from secretariat.groups import services
from secretariat.groups.models import GroupMembership, GroupRole, GroupStatus, WorkingGroup
from secretariat.groups.services import GroupData, ValidationFailed
from secretariat.members.models import MemberStatus
from secretariat.permissions import OutOfScope
from secretariat.vocabularies.models import Vocabulary
from tests.factories import (
    GroupMembershipFactory,
    MemberFactory,
    TermFactory,
    UserFactory,
    WorkingGroupFactory,
)
from tests.groups.conftest import memberships_of, table_counts, today


def group_data(**overrides) -> GroupData:
    values = {"name": "Transport", "slug": "transport"}
    values.update(overrides)
    return GroupData(**values)


def refused(call, *args) -> dict[str, str]:
    """Run a service that must refuse; return its errors by field."""
    with pytest.raises(ValidationFailed) as caught:
        call(*args)
    return caught.value.errors


# -- create and update ---------------------------------------------------------------------


def test_create_group_with_every_field(db, staff):
    theme = TermFactory(vocabulary=Vocabulary.THEME, label="Mobility")
    lead = UserFactory(admin=True)
    data = group_data(
        name="  Clean   Transport ",
        slug=" Clean-Transport ",
        theme_id=theme.id,
        description="Buses, bicycles\r\nand trams.\r\n",
        started_on=date(2023, 3, 1),
        staff_lead_id=lead.id,
    )
    group = services.create_group(db, staff, data)
    db.expire_all()
    saved = db.get(WorkingGroup, group.id)
    assert saved.name == "Clean Transport"
    assert saved.slug == "clean-transport"
    assert saved.theme == theme
    assert saved.description == "Buses, bicycles\nand trams."
    assert saved.started_on == date(2023, 3, 1)
    assert saved.staff_lead == lead
    assert saved.status is GroupStatus.ACTIVE
    assert saved.closed_on is None


def test_create_group_starts_today_by_default(db, staff):
    group = services.create_group(db, staff, group_data(description="   "))
    assert group.started_on == today()
    assert group.description is None
    assert group.theme_id is None and group.staff_lead_id is None


@pytest.mark.parametrize("name", ["", "   ", "\t\n"])
def test_name_is_required(db, staff, name):
    errors = refused(services.create_group, db, staff, group_data(name=name))
    assert errors == {"name": "Enter the group's name."}
    assert table_counts(db) == (0, 0)


def test_name_has_at_most_255_characters(db, staff):
    errors = refused(services.create_group, db, staff, group_data(name="x" * 256))
    assert set(errors) == {"name"}
    assert services.create_group(db, staff, group_data(name="x" * 255)).name == "x" * 255


@pytest.mark.parametrize("name", ["TRANSPORT", "transport", "  Transport  ", "tRaNsPoRt"])
def test_name_is_unique_whatever_the_case(db, staff, name):
    WorkingGroupFactory(name="Transport", slug="transport-1")
    errors = refused(services.create_group, db, staff, group_data(name=name, slug="other"))
    assert errors == {"name": "Another group is already called “Transport”."}
    assert table_counts(db) == (1, 0)


def test_name_is_unique_whatever_the_case_beyond_ascii(db, staff):
    WorkingGroupFactory(name="Économie circulaire", slug="economie")
    errors = refused(
        services.create_group, db, staff, group_data(name="ÉCONOMIE CIRCULAIRE", slug="other")
    )
    assert set(errors) == {"name"}


def test_a_group_may_change_the_case_of_its_own_name(db, staff):
    group = WorkingGroupFactory(name="Air quality", slug="air-quality")
    services.update_group(db, staff, group, group_data(name="Air Quality", slug="air-quality"))
    assert group.name == "Air Quality"


@pytest.mark.parametrize(
    "slug",
    ["air quality", "air--quality", "-air", "air-", "air_quality", "qualité", "air/quality"],
)
def test_slug_format(db, staff, slug):
    errors = refused(services.create_group, db, staff, group_data(slug=slug))
    assert errors == {
        "slug": "Use lower-case letters, digits and single hyphens, e.g. “air-quality”."
    }


def test_slug_is_required(db, staff):
    errors = refused(services.create_group, db, staff, group_data(slug="  "))
    assert set(errors) == {"slug"}


def test_slug_has_at_most_100_characters(db, staff):
    assert set(refused(services.create_group, db, staff, group_data(slug="a" * 101))) == {"slug"}
    assert services.create_group(db, staff, group_data(slug="a" * 100)).slug == "a" * 100


def test_slug_is_lowered(db, staff):
    assert services.create_group(db, staff, group_data(slug="Air-Quality-2")).slug == (
        "air-quality-2"
    )


@pytest.mark.parametrize("slug", ["new", "NEW", "import", "export"])
def test_reserved_slugs_are_refused(db, staff, slug):
    errors = refused(services.create_group, db, staff, group_data(slug=slug))
    assert errors == {"slug": f"“{slug.lower()}” is reserved; choose another short name."}


def test_slug_is_unique(db, staff):
    other = WorkingGroupFactory(slug="transport")
    errors = refused(services.create_group, db, staff, group_data(slug="Transport"))
    assert errors == {"slug": "Another group already uses this short name."}
    group = WorkingGroupFactory(slug="mobility")
    errors = refused(services.update_group, db, staff, group, group_data(slug="transport"))
    assert set(errors) == {"slug"}
    assert group.slug == "mobility" and other.slug == "transport"


def test_theme_must_be_a_theme_term(db, staff):
    region = TermFactory(vocabulary=Vocabulary.REGION, label="Europe")
    tier = TermFactory(vocabulary=Vocabulary.TIER, label="Full")
    for theme_id in (region.id, tier.id, 999_999):
        errors = refused(services.create_group, db, staff, group_data(theme_id=theme_id))
        assert errors == {"theme_id": "Choose a theme from the list."}
    theme = TermFactory(vocabulary=Vocabulary.THEME, label="Energy")
    assert services.create_group(db, staff, group_data(theme_id=theme.id)).theme == theme


def test_staff_lead_must_be_active_staff(db, staff):
    refusals = [
        UserFactory(focal_point=True),
        UserFactory(funder_user=True),
        UserFactory(is_active=False),
        UserFactory(admin=True, is_active=False),
    ]
    for user in refusals:
        errors = refused(services.create_group, db, staff, group_data(staff_lead_id=user.id))
        assert errors == {"staff_lead_id": "Choose an active member of the secretariat staff."}
    errors = refused(services.create_group, db, staff, group_data(staff_lead_id=999_999))
    assert set(errors) == {"staff_lead_id"}
    assert table_counts(db) == (0, 0)
    admin = UserFactory(admin=True)
    group = services.create_group(db, staff, group_data(staff_lead_id=admin.id))
    assert group.staff_lead_id == admin.id
    services.update_group(db, staff, group, group_data(staff_lead_id=staff.id))
    db.expire_all()
    assert db.get(WorkingGroup, group.id).staff_lead == staff


def test_a_group_keeps_its_former_staff_lead(db, staff):
    former = UserFactory(is_active=False)
    group = WorkingGroupFactory(name="Heritage", slug="heritage", staff_lead=former)
    data = group_data(name="Heritage", slug="heritage", staff_lead_id=former.id)
    services.update_group(db, staff, group, data)
    assert group.staff_lead_id == former.id
    other = WorkingGroupFactory(name="Other", slug="other")
    data = group_data(name="Other", slug="other", staff_lead_id=former.id)
    assert set(refused(services.update_group, db, staff, other, data)) == {"staff_lead_id"}
    assert other.staff_lead_id is None


def test_start_is_not_in_the_future(db, staff):
    tomorrow = today() + timedelta(days=1)
    errors = refused(services.create_group, db, staff, group_data(started_on=tomorrow))
    assert errors == {"started_on": "A group's start is a date no later than today."}
    assert services.create_group(db, staff, group_data(started_on=today())).started_on == today()


def test_every_problem_is_reported_at_once_and_nothing_is_written(db, staff):
    WorkingGroupFactory(name="Transport", slug="transport-group")
    region = TermFactory(vocabulary=Vocabulary.REGION)
    data = group_data(
        name="transport",
        slug="new",
        theme_id=region.id,
        staff_lead_id=UserFactory(focal_point=True).id,
        started_on=today() + timedelta(days=3),
    )
    errors = refused(services.create_group, db, staff, data)
    assert set(errors) == {"name", "slug", "theme_id", "staff_lead_id", "started_on"}
    assert table_counts(db) == (1, 0)


def test_update_group(db, staff):
    group = WorkingGroupFactory(name="Transport", slug="transport", started_on=date(2022, 1, 1))
    theme = TermFactory(vocabulary=Vocabulary.THEME, label="Mobility")
    data = group_data(
        name="Mobility",
        slug="mobility",
        theme_id=theme.id,
        description="Moving people.",
        started_on=date(2021, 6, 1),
    )
    services.update_group(db, staff, group, data)
    db.expire_all()
    saved = db.get(WorkingGroup, group.id)
    assert (saved.name, saved.slug, saved.theme, saved.description, saved.started_on) == (
        "Mobility",
        "mobility",
        theme,
        "Moving people.",
        date(2021, 6, 1),
    )


def test_update_refuses_a_start_after_the_closure(db, staff):
    group = WorkingGroupFactory(
        status=GroupStatus.CLOSED, started_on=date(2022, 1, 1), closed_on=date(2023, 1, 1)
    )
    data = group_data(name=group.name, slug=group.slug, started_on=date(2023, 2, 1))
    errors = refused(services.update_group, db, staff, group, data)
    assert set(errors) == {"started_on"}
    db.expire_all()
    assert db.get(WorkingGroup, group.id).started_on == date(2022, 1, 1)


def test_update_refuses_a_start_after_a_member_joined(db, staff):
    group = WorkingGroupFactory(started_on=date(2022, 1, 1))
    GroupMembershipFactory(group=group, joined_on=date(2022, 3, 1))
    data = group_data(name=group.name, slug=group.slug, started_on=date(2022, 4, 1))
    errors = refused(services.update_group, db, staff, group, data)
    assert set(errors) == {"started_on"}
    services.update_group(
        db, staff, group, group_data(name=group.name, slug=group.slug, started_on=date(2022, 3, 1))
    )
    assert group.started_on == date(2022, 3, 1)


def test_only_staff_manage_groups(db):
    focal = UserFactory(focal_point=True)
    funder = UserFactory(funder_user=True)
    group = WorkingGroupFactory()
    membership = GroupMembershipFactory(group=group)
    member = MemberFactory()
    for user in (focal, funder):
        with pytest.raises(OutOfScope):
            services.create_group(db, user, group_data())
        with pytest.raises(OutOfScope):
            services.update_group(db, user, group, group_data())
        with pytest.raises(OutOfScope):
            services.close_group(db, user, group, today())
        with pytest.raises(OutOfScope):
            services.reopen_group(db, user, group)
        with pytest.raises(OutOfScope):
            services.add_members(db, user, group, [member.id], GroupRole.MEMBER, today())
        with pytest.raises(OutOfScope):
            services.change_role(db, user, membership, GroupRole.LEAD, today())
        with pytest.raises(OutOfScope):
            services.remove_member(db, user, membership, today())
    assert table_counts(db) == (1, 1)
    assert group.name != "Transport" and group.status is GroupStatus.ACTIVE
    assert membership.left_on is None and membership.role is GroupRole.MEMBER


# -- close and reopen ----------------------------------------------------------------------


def test_close_group_ends_current_memberships_on_the_closing_day(db, staff):
    group = WorkingGroupFactory(started_on=date(2022, 1, 1))
    current = [GroupMembershipFactory(group=group, joined_on=date(2022, 2, 1)) for _ in range(3)]
    past = GroupMembershipFactory(
        group=group, joined_on=date(2022, 1, 1), left_on=date(2022, 6, 30)
    )
    closing = date(2024, 5, 31)
    assert services.close_group(db, staff, group, closing) == 3
    db.expire_all()
    saved = db.get(WorkingGroup, group.id)
    assert saved.status is GroupStatus.CLOSED
    assert saved.closed_on == closing
    assert [db.get(GroupMembership, m.id).left_on for m in current] == [closing] * 3
    assert db.get(GroupMembership, past.id).left_on == date(2022, 6, 30)


def test_close_group_today_and_on_its_first_day(db, staff):
    assert services.close_group(db, staff, WorkingGroupFactory(), today()) == 0
    group = WorkingGroupFactory(started_on=date(2022, 1, 1))
    GroupMembershipFactory(group=group, joined_on=date(2022, 1, 1))
    assert services.close_group(db, staff, group, date(2022, 1, 1)) == 1


@pytest.mark.parametrize(
    ("closed_on", "message"),
    [
        (None, "Enter the day the group closed."),
        (date(2021, 12, 31), "The group started on"),
        (None, "Record the closure on the day it happens"),
        (date(2022, 2, 28), "A member joined on"),
    ],
    ids=["missing", "before-start", "future", "before-a-member-joined"],
)
def test_close_group_refuses(db, staff, closed_on, message, request):
    if request.node.callspec.id == "future":
        closed_on = today() + timedelta(days=1)
    group = WorkingGroupFactory(started_on=date(2022, 1, 1))
    membership = GroupMembershipFactory(group=group, joined_on=date(2022, 3, 1))
    errors = refused(services.close_group, db, staff, group, closed_on)
    assert set(errors) == {"closed_on"}
    assert errors["closed_on"].startswith(message)
    db.expire_all()
    assert db.get(WorkingGroup, group.id).status is GroupStatus.ACTIVE
    assert db.get(WorkingGroup, group.id).closed_on is None
    assert db.get(GroupMembership, membership.id).left_on is None


def test_a_closed_group_cannot_be_closed_again(db, staff):
    group = WorkingGroupFactory(status=GroupStatus.CLOSED, closed_on=date(2023, 1, 1))
    errors = refused(services.close_group, db, staff, group, today())
    assert errors == {"closed_on": "The group is already closed."}
    assert group.closed_on == date(2023, 1, 1)


def test_reopen_group(db, staff):
    group = WorkingGroupFactory(started_on=date(2022, 1, 1))
    membership = GroupMembershipFactory(group=group, joined_on=date(2022, 1, 1))
    services.close_group(db, staff, group, date(2023, 1, 1))
    services.reopen_group(db, staff, group)
    db.expire_all()
    saved = db.get(WorkingGroup, group.id)
    assert saved.status is GroupStatus.ACTIVE and saved.closed_on is None
    # Former members do not come back by themselves.
    assert db.get(GroupMembership, membership.id).left_on == date(2023, 1, 1)
    errors = refused(services.reopen_group, db, staff, saved)
    assert errors == {"status": "The group is not closed."}


# -- add members ---------------------------------------------------------------------------


@pytest.fixture
def group(db):
    return WorkingGroupFactory(name="Transport", slug="transport", started_on=date(2022, 1, 1))


def test_add_members(db, staff, group):
    members = [
        MemberFactory(status=MemberStatus.ACTIVE),
        MemberFactory(status=MemberStatus.APPLICANT),
        MemberFactory(status=MemberStatus.SUSPENDED),
    ]
    ids = [m.id for m in members]
    added = services.add_members(db, staff, group, ids, GroupRole.OBSERVER, date(2023, 4, 1))
    assert sorted(m.member_id for m in added) == sorted(ids)
    db.expire_all()
    rows = db.scalars(select(GroupMembership).where(GroupMembership.group_id == group.id)).all()
    assert sorted(r.member_id for r in rows) == sorted(ids)
    assert {(r.role, r.joined_on, r.left_on) for r in rows} == {
        (GroupRole.OBSERVER, date(2023, 4, 1), None)
    }


def test_add_members_on_the_first_day_and_today(db, staff, group):
    first, second = MemberFactory(), MemberFactory()
    services.add_members(db, staff, group, [first.id], GroupRole.LEAD, date(2022, 1, 1))
    services.add_members(db, staff, group, [second.id], GroupRole.MEMBER, today())
    assert table_counts(db) == (1, 2)


def test_add_members_is_all_or_none(db, staff, group):
    inside = MemberFactory(name="Lisbon")
    GroupMembershipFactory(group=group, member=inside)
    newcomer = MemberFactory(name="Porto")
    errors = refused(
        services.add_members,
        db,
        staff,
        group,
        [newcomer.id, inside.id],
        GroupRole.MEMBER,
        today(),
    )
    assert errors == {"member_ids": "Already in the group: Lisbon."}
    assert memberships_of(db, group, newcomer) == []
    assert table_counts(db) == (1, 1)


@pytest.mark.parametrize("status", [MemberStatus.LAPSED, MemberStatus.EXITED])
def test_lapsed_and_exited_members_cannot_join(db, staff, group, status):
    gone = MemberFactory(name="Gone City", status=status)
    fine = MemberFactory(name="Fine City")
    errors = refused(
        services.add_members, db, staff, group, [fine.id, gone.id], GroupRole.MEMBER, today()
    )
    assert errors == {"member_ids": "Lapsed or exited members cannot join: Gone City."}
    assert table_counts(db) == (1, 0)


@pytest.mark.parametrize("case", ["missing", "before-start", "future"])
def test_add_members_refuses_the_joining_day(db, staff, group, case):
    joined_on = {
        "missing": None,
        "before-start": date(2021, 12, 31),
        "future": today() + timedelta(days=1),
    }[case]
    member = MemberFactory()
    errors = refused(
        services.add_members, db, staff, group, [member.id], GroupRole.MEMBER, joined_on
    )
    assert set(errors) == {"joined_on"}
    assert table_counts(db) == (1, 0)


def test_add_members_needs_members_from_the_list(db, staff, group):
    errors = refused(services.add_members, db, staff, group, [], GroupRole.MEMBER, today())
    assert errors == {"member_ids": "Choose at least one member."}
    member = MemberFactory()
    errors = refused(
        services.add_members, db, staff, group, [member.id, 999_999], GroupRole.MEMBER, today()
    )
    assert errors == {"member_ids": "Choose members from the list."}
    assert table_counts(db) == (1, 0)


def test_a_closed_group_takes_no_members(db, staff, group):
    services.close_group(db, staff, group, date(2023, 1, 1))
    member = MemberFactory()
    errors = refused(
        services.add_members, db, staff, group, [member.id], GroupRole.MEMBER, date(2022, 6, 1)
    )
    assert errors == {"member_ids": "The group is closed; reopen it before adding members."}
    assert table_counts(db) == (1, 0)


# -- roles, leaving, rejoining -------------------------------------------------------------


def test_change_role_keeps_the_history(db, staff, group):
    member = MemberFactory()
    membership = GroupMembershipFactory(group=group, member=member, joined_on=date(2022, 2, 1))
    successor = services.change_role(db, staff, membership, GroupRole.LEAD, date(2023, 9, 1))
    assert successor.id != membership.id
    rows = memberships_of(db, group, member)
    assert [(r.role, r.joined_on, r.left_on) for r in rows] == [
        (GroupRole.MEMBER, date(2022, 2, 1), date(2023, 9, 1)),
        (GroupRole.LEAD, date(2023, 9, 1), None),
    ]
    services.change_role(db, staff, rows[1], GroupRole.OBSERVER, today())
    rows = memberships_of(db, group, member)
    assert [(r.role, r.left_on) for r in rows] == [
        (GroupRole.MEMBER, date(2023, 9, 1)),
        (GroupRole.LEAD, today()),
        (GroupRole.OBSERVER, None),
    ]


def test_change_role_on_the_joining_day_edits_in_place(db, staff, group):
    member = MemberFactory()
    membership = GroupMembershipFactory(group=group, member=member, joined_on=date(2023, 5, 2))
    same = services.change_role(db, staff, membership, GroupRole.LEAD, date(2023, 5, 2))
    assert same.id == membership.id
    rows = memberships_of(db, group, member)
    assert [(r.id, r.role, r.joined_on, r.left_on) for r in rows] == [
        (membership.id, GroupRole.LEAD, date(2023, 5, 2), None)
    ]


@pytest.mark.parametrize("case", ["same-role", "missing", "future", "before-joining", "ended"])
def test_change_role_refuses(db, staff, group, case):
    member = MemberFactory(name="Lisbon")
    left_on = date(2023, 1, 1) if case == "ended" else None
    membership = GroupMembershipFactory(
        group=group, member=member, joined_on=date(2022, 6, 1), left_on=left_on
    )
    role, on, field, message = {
        "same-role": (GroupRole.MEMBER, today(), "role", "Lisbon already has this role."),
        "missing": (GroupRole.LEAD, None, "changed_on", "Enter the date."),
        "future": (
            GroupRole.LEAD,
            today() + timedelta(days=1),
            "changed_on",
            "Record the change on the day it happens, not in advance.",
        ),
        "before-joining": (
            GroupRole.LEAD,
            date(2022, 5, 31),
            "changed_on",
            "Lisbon joined on 2022-06-01, after this date.",
        ),
        "ended": (GroupRole.LEAD, today(), "changed_on", "This membership has already ended."),
    }[case]
    errors = refused(services.change_role, db, staff, membership, role, on)
    assert set(errors) == {field}
    if case != "before-joining":  # the date's format depends on the locale
        assert errors[field] == message
    rows = memberships_of(db, group, member)
    assert [(r.role, r.left_on) for r in rows] == [(GroupRole.MEMBER, left_on)]


def test_remove_member_keeps_the_row(db, staff, group):
    member = MemberFactory()
    membership = GroupMembershipFactory(group=group, member=member, joined_on=date(2022, 2, 1))
    services.remove_member(db, staff, membership, date(2024, 2, 29))
    rows = memberships_of(db, group, member)
    assert [(r.id, r.role, r.joined_on, r.left_on) for r in rows] == [
        (membership.id, GroupRole.MEMBER, date(2022, 2, 1), date(2024, 2, 29))
    ]
    assert not rows[0].is_current


@pytest.mark.parametrize("case", ["missing", "future", "before-joining", "ended"])
def test_remove_member_refuses(db, staff, group, case):
    member = MemberFactory()
    left_on = date(2023, 1, 1) if case == "ended" else None
    membership = GroupMembershipFactory(
        group=group, member=member, joined_on=date(2022, 6, 1), left_on=left_on
    )
    on = {
        "missing": None,
        "future": today() + timedelta(days=1),
        "before-joining": date(2022, 5, 31),
        "ended": today(),
    }[case]
    errors = refused(services.remove_member, db, staff, membership, on)
    assert set(errors) == {"left_on"}
    assert [r.left_on for r in memberships_of(db, group, member)] == [left_on]


def test_remove_member_on_the_joining_day(db, staff, group):
    membership = GroupMembershipFactory(group=group, joined_on=date(2022, 6, 1))
    services.remove_member(db, staff, membership, date(2022, 6, 1))
    assert membership.left_on == date(2022, 6, 1)


def test_a_member_can_rejoin_after_leaving(db, staff, group):
    member = MemberFactory()
    membership = GroupMembershipFactory(group=group, member=member, joined_on=date(2022, 2, 1))
    services.remove_member(db, staff, membership, date(2023, 1, 31))
    services.add_members(db, staff, group, [member.id], GroupRole.LEAD, date(2023, 1, 31))
    rows = memberships_of(db, group, member)
    assert [(r.role, r.joined_on, r.left_on) for r in rows] == [
        (GroupRole.MEMBER, date(2022, 2, 1), date(2023, 1, 31)),
        (GroupRole.LEAD, date(2023, 1, 31), None),
    ]
    errors = refused(services.add_members, db, staff, group, [member.id], GroupRole.MEMBER, today())
    assert set(errors) == {"member_ids"}


def test_rejoining_cannot_overlap_the_former_membership(db, staff, group):
    member = MemberFactory()
    GroupMembershipFactory(
        group=group, member=member, joined_on=date(2022, 2, 1), left_on=date(2023, 1, 31)
    )
    errors = refused(
        services.add_members, db, staff, group, [member.id], GroupRole.MEMBER, date(2022, 6, 1)
    )
    assert set(errors) == {"joined_on"}
    assert len(memberships_of(db, group, member)) == 1


def test_a_member_rejoins_a_reopened_group(db, staff, group):
    member = MemberFactory()
    services.add_members(db, staff, group, [member.id], GroupRole.MEMBER, date(2022, 3, 1))
    services.close_group(db, staff, group, date(2023, 3, 1))
    services.reopen_group(db, staff, group)
    services.add_members(db, staff, group, [member.id], GroupRole.MEMBER, date(2024, 1, 1))
    rows = memberships_of(db, group, member)
    assert [(r.joined_on, r.left_on) for r in rows] == [
        (date(2022, 3, 1), date(2023, 3, 1)),
        (date(2024, 1, 1), None),
    ]


def test_one_current_membership_per_member_and_group(db, group):
    member = MemberFactory()
    GroupMembershipFactory(group=group, member=member, joined_on=date(2022, 1, 1))
    with pytest.raises(IntegrityError), db.begin_nested():
        db.add(
            GroupMembership(
                group=group, member=member, role=GroupRole.LEAD, joined_on=date(2022, 2, 1)
            )
        )
        db.flush()
    # Past memberships are history: as many as needed, next to the current one.
    for year in (2019, 2020):
        db.add(
            GroupMembership(
                group=group,
                member=member,
                role=GroupRole.MEMBER,
                joined_on=date(year, 1, 1),
                left_on=date(year, 12, 31),
            )
        )
    # The same member may be current in another group.
    db.add(
        GroupMembership(
            group=WorkingGroupFactory(),
            member=member,
            role=GroupRole.MEMBER,
            joined_on=date(2022, 1, 1),
        )
    )
    db.flush()
    assert len(memberships_of(db, group, member)) == 3
