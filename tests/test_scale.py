"""The scale generator makes valid data, the same rules the services enforce, and says so."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from secretariat.clock import network_today
from secretariat.commitments.models import Commitment
from secretariat.db import utcnow
from secretariat.events.models import Attendance, Event, Invitation, Registration
from secretariat.exchanges.models import ExchangeStatus, PeerExchange
from secretariat.groups.models import GroupMembership, WorkingGroup
from secretariat.groups.services import JOINABLE_STATUSES
from secretariat.indicators.services import Value, input_text, parse_value
from secretariat.members.models import (
    Contact,
    ContactRole,
    Member,
    MemberStatus,
    MemberStatusChange,
)
from secretariat.members.services import RESERVED_SLUGS, SLUG_PATTERN, fold
from secretariat.reporting.models import CycleState, ReportingCycle, Submission, SubmissionValue
from secretariat.reporting.queries import cycle_rates
from secretariat.vocabularies.models import Vocabulary


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def test_generates_a_valid_network_and_refuses_a_second_run(db, cli):
    result = cli("seed", "scale", "--members", "30", "--exchanges", "60", "--events", "5")

    assert result.exit_code == 0, result.output
    assert "30 members" in result.output and "60 confirmed peer exchanges" in result.output
    today = utcnow().date()

    members = list(db.scalars(select(Member)))
    assert len(members) == 30
    assert len({m.slug for m in members}) == 30
    for member in members:
        assert SLUG_PATTERN.match(member.slug) and member.slug not in RESERVED_SLUGS
        assert member.search_name == fold(member.name)
        assert (member.annual_fee is None) == (member.fee_currency is None)
    assert count(db, MemberStatusChange) == 30

    contacts = list(db.scalars(select(Contact)))
    per_member = Counter(c.member_id for c in contacts)
    assert set(per_member) == {m.id for m in members}
    assert all(2 <= n <= 4 for n in per_member.values())
    primaries = [c for c in contacts if c.is_primary]
    assert sorted(c.member_id for c in primaries) == sorted(m.id for m in members)
    assert all(c.role is ContactRole.FOCAL_POINT and c.is_current(today) for c in primaries)
    assert all(c.active_to is None or c.active_to >= c.active_from for c in contacts)

    exchanges = list(db.scalars(select(PeerExchange)))
    assert len(exchanges) == 60
    assert all(e.from_member_id != e.to_member_id for e in exchanges)
    assert all(e.status is ExchangeStatus.CONFIRMED and e.occurred_on <= today for e in exchanges)

    groups = {g.id: g for g in db.scalars(select(WorkingGroup))}
    memberships = list(db.scalars(select(GroupMembership)))
    assert groups and memberships
    status = {m.id: m.status for m in members}
    current = Counter((m.group_id, m.member_id) for m in memberships if m.left_on is None)
    assert max(current.values()) == 1
    for membership in memberships:
        assert groups[membership.group_id].started_on <= membership.joined_on <= today
        assert membership.left_on is None or membership.joined_on <= membership.left_on
        assert status[membership.member_id] in JOINABLE_STATUSES

    assert count(db, Event) == 5
    invited = {(i.event_id, i.member_id) for i in db.scalars(select(Invitation))}
    assert invited
    contact_member = {c.id: c.member_id for c in contacts}
    for row in db.scalars(select(Attendance)):
        assert (row.event_id, row.member_id) in invited
        assert contact_member[row.contact_id] == row.member_id
    for row in db.scalars(select(Registration)):
        assert (row.event_id, row.member_id) in invited

    again = cli("seed", "scale", "--members", "30")

    assert again.exit_code != 0
    assert "already has 30 members" in again.output and "--force" in again.output
    assert count(db, Member) == 30


def test_force_adds_to_a_network_with_members(db, cli):
    cli("seed", "scale", "--members", "10", "--exchanges", "5", "--events", "1")

    result = cli("seed", "scale", "--members", "10", "--force")

    assert result.exit_code == 0, result.output
    slugs = list(db.scalars(select(Member.slug)))
    assert len(slugs) == len(set(slugs)) == 20
    assert count(db, WorkingGroup) == 6


def test_reporting_cycles_hold_values_the_services_would_accept(db, cli):
    result = cli("seed", "scale", "--members", "25", "--cycles", "2", "--commitments", "40")

    assert result.exit_code == 0, result.output
    assert "2 reporting cycles" in result.output and "40 commitments" in result.output
    today = network_today()
    for commitment in db.scalars(select(Commitment)):
        assert commitment.category.vocabulary is Vocabulary.COMMITMENT_CATEGORY
        # The services keep the staleness day: the generator must agree with them.
        assert commitment.evidence_stale_on == commitment.stale_on(today)
    cycles = list(db.scalars(select(ReportingCycle).order_by(ReportingCycle.period)))
    assert [c.state for c in cycles] == [CycleState.CLOSED, CycleState.OPEN]
    assert cycles[0].period < cycles[1].period
    active = db.scalar(
        select(func.count()).select_from(Member).where(Member.status == MemberStatus.ACTIVE)
    )
    for cycle in cycles:
        assert len(cycle.indicators) == 15
        assert len(cycle.members) == active
        rates = cycle_rates(db, cycle.id)
        assert 0 < rates.reported <= rates.asked == active
    for value in db.scalars(select(SubmissionValue)):
        shown = input_text(Value(value.number_value, value.bool_value, value.text_value))
        assert parse_value(value.indicator, shown) == Value(
            value.number_value, value.bool_value, value.text_value
        )
    submitted = db.scalars(select(Submission).where(Submission.first_submitted_at.is_not(None)))
    for submission in submitted:
        assert submission.is_late == (
            submission.first_submitted_at.date() > submission.cycle.due_on
        )
