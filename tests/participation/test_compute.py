"""Computing a year's scores from the records: every criterion and condition, worked out by
hand on small networks, plus idempotence, query counts, the command and the nightly job.

Year 2025 is measured on 1 February 2026 (``NOW_2025``) unless a test says otherwise; the
network's zone is UTC unless ``app_overrides`` changes it.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from secretariat.clock import network_today
from secretariat.commitments.models import CommitmentStatus
from secretariat.exchanges.models import ExchangeStatus
from secretariat.followups.models import FollowUpStatus
from secretariat.groups.models import GroupRole
from secretariat.members.models import MemberStatus
from secretariat.participation import jobs, services
from secretariat.participation.models import (
    ConditionKind,
    ConditionResult,
    ConditionsOutcome,
    CriterionKind,
    EvidenceKind,
    LeftOut,
    Level,
    ParticipationScore,
    SchemeAction,
    SchemeEvent,
    ScoreCondition,
    ScoreCriterion,
    ScoreEvidence,
)
from secretariat.reporting.models import CycleMember, CycleState, SubmissionStatus
from tests.factories import (
    ContactFactory,
    GroupMembershipFactory,
    IndicatorFactory,
    PeerExchangeFactory,
    WorkingGroupFactory,
)
from tests.participation.conftest import (
    NOW_2025,
    at,
    attend,
    commitment,
    compute,
    condition_results,
    cycle,
    event,
    evidence,
    follow_up,
    invite,
    lines,
    member,
    new_scheme,
    points,
    row_count,
    scheme_data,
    scores,
    status_change,
    submit,
)

D = Decimal
K = CriterionKind
C = ConditionKind
MET, MISSED, NA = ConditionResult.MET, ConditionResult.MISSED, ConditionResult.NOT_APPLICABLE
#: A moment in the middle of 2025, for what is "not yet due".
MID_2025 = datetime(2025, 7, 1, 12, tzinfo=UTC)


def actions(db, scheme) -> list[SchemeAction]:
    """The year's history, oldest first."""
    return list(
        db.scalars(
            select(SchemeEvent.action)
            .where(SchemeEvent.scheme_id == scheme.id)
            .order_by(SchemeEvent.id)
        )
    )


def comments(db, scheme) -> list[str | None]:
    return list(
        db.scalars(
            select(SchemeEvent.comment)
            .where(SchemeEvent.scheme_id == scheme.id)
            .order_by(SchemeEvent.id)
        )
    )


# --- the reference network ----------------------------------------------------------------


def build_network(db, staff, region) -> SimpleNamespace:
    """Four scored members touching every criterion and condition, and three never scored.

    The expected figures are worked out in ``test_scores_of_a_small_network``.
    """
    n = SimpleNamespace()
    n.a = member(region, name="Lisbon")
    n.b = member(region, name="Porto")
    n.c = member(region, name="Braga")
    n.d = member(region, name="Faro")
    status_change(db, n.d, MemberStatus.LAPSED, at(2025, 9, 1))  # left during 2025: scored
    n.applicant = member(region, name="Applicant", status=MemberStatus.APPLICANT, joined_on=None)
    n.exited = member(region, name="Exited")
    status_change(db, n.exited, MemberStatus.EXITED, at(2024, 6, 1))  # gone before 2025
    n.newcomer = member(region, name="Newcomer", joined_on=date(2026, 3, 1))

    # Events: four held in 2025, one cancelled, one in 2024 (UTC), one in 2026.
    n.e1, n.e2, n.e3, n.e4 = (
        event(at(2025, 3, 10)),
        event(at(2025, 6, 10)),
        event(at(2025, 9, 10)),
        event(at(2025, 11, 10)),
    )
    n.cancelled = event(at(2025, 5, 1), cancelled=True)
    n.e2024 = event(at(2024, 12, 31, 23))
    n.e2026 = event(at(2026, 1, 15))
    for e, attended in (
        (n.e1, True),
        (n.e2, True),
        (n.e3, True),
        (n.e4, False),
        (n.cancelled, True),
        (n.e2024, True),
        (n.e2026, None),
    ):
        invite(db, e, n.a, attended)
    invite(db, n.e1, n.b, False)
    invite(db, n.e2, n.b)
    invite(db, n.e1, n.d)
    invite(db, n.e4, n.d, True)
    invite(db, n.e1, n.applicant, True)
    invite(db, n.e1, n.exited, True)
    invite(db, n.e1, n.newcomer, True)

    # Reporting: two cycles due in 2025, a draft one, one due in 2026.
    i1, i2, i3, i4 = (IndicatorFactory() for _ in range(4))
    n.c1 = cycle(db, [i1, i2], [n.a, n.b], due_on=date(2025, 4, 30))
    n.c2 = cycle(db, [i3, i4], [n.a, n.b], due_on=date(2025, 10, 31))
    n.draft = cycle(db, [i1], [n.a, n.c], due_on=date(2025, 6, 30), state=CycleState.DRAFT)
    n.c2026 = cycle(db, [i1], [n.a, n.c], due_on=date(2026, 3, 31), state=CycleState.OPEN)
    submit(db, n.c1, n.a, {i1: 5, i2: 7})
    submit(db, n.c2, n.a, {i3: 1, i4: None}, is_late=True)
    submit(db, n.c1, n.b, {i1: 3, i2: 4})

    # Commitments.
    S = CommitmentStatus
    n.k1 = commitment(
        db,
        n.a,
        S.ACHIEVED,
        created_at=at(2024, 5, 1),
        updates=[(at(2025, 4, 1), S.IN_PROGRESS), (at(2026, 1, 10), S.ACHIEVED)],
    )
    n.k2 = commitment(
        db,
        n.a,
        S.PLANNED,
        created_at=at(2025, 2, 1),
        freshness_months=12,
        evidence_stale_on=date(2026, 6, 1),
    )
    n.k3 = commitment(
        db,
        n.a,
        S.IN_PROGRESS,
        updates=[(at(2025, 8, 1), S.DROPPED), (at(2026, 1, 5), S.IN_PROGRESS)],
    )
    n.k4 = commitment(db, n.a, S.PLANNED, created_at=at(2026, 1, 10))
    n.k5 = commitment(db, n.b, S.DROPPED)
    n.k6 = commitment(
        db,
        n.c,
        S.ACHIEVED,
        updates=[(at(2025, 5, 1), S.ACHIEVED)],
        freshness_months=12,
        evidence_stale_on=date(2025, 1, 1),
    )

    # Working groups.
    n.g1, n.g2, n.g3, n.g_old = (WorkingGroupFactory() for _ in range(4))
    R = GroupRole
    GroupMembershipFactory(group=n.g1, member=n.a, role=R.LEAD, joined_on=date(2023, 1, 1))
    GroupMembershipFactory(group=n.g2, member=n.a, role=R.MEMBER, joined_on=date(2025, 4, 1))
    GroupMembershipFactory(group=n.g3, member=n.a, role=R.OBSERVER, joined_on=date(2024, 1, 1))
    GroupMembershipFactory(
        group=n.g_old,
        member=n.a,
        role=R.MEMBER,
        joined_on=date(2022, 1, 1),
        left_on=date(2024, 12, 31),
    )
    GroupMembershipFactory(group=n.g3, member=n.b, role=R.OBSERVER, joined_on=date(2024, 1, 1))
    GroupMembershipFactory(group=n.g1, member=n.c, role=R.MEMBER, joined_on=date(2025, 10, 1))
    GroupMembershipFactory(group=n.g2, member=n.c, role=R.MEMBER, joined_on=date(2026, 1, 10))

    # Peer exchanges.
    X = ExchangeStatus
    n.x1 = PeerExchangeFactory(from_member=n.a, to_member=n.b, occurred_on=date(2025, 5, 12))
    n.x2 = PeerExchangeFactory(from_member=n.c, to_member=n.a, occurred_on=date(2025, 9, 1))
    PeerExchangeFactory(
        from_member=n.a, to_member=n.c, occurred_on=date(2025, 10, 1), status=X.PROPOSED
    )
    PeerExchangeFactory(
        from_member=n.b, to_member=n.c, occurred_on=date(2025, 10, 2), status=X.REJECTED
    )
    PeerExchangeFactory(from_member=n.c, to_member=n.d, occurred_on=date(2024, 12, 31))

    # Follow-ups.
    F = FollowUpStatus
    follow_up(n.a, staff, date(2025, 3, 1), F.DONE, date(2025, 2, 28))  # on time
    follow_up(n.a, staff, date(2025, 5, 1), F.DONE, date(2025, 5, 10))  # late
    follow_up(n.a, staff, date(2025, 6, 1), F.CANCELLED)  # not counted
    follow_up(n.a, staff, date(2025, 7, 1))  # overdue, still open
    follow_up(n.a, staff, date(2026, 1, 15))  # due in 2026
    follow_up(n.c, staff, date(2025, 8, 1), F.DONE, date(2025, 8, 1))  # on the due day

    # Primary focal points on 31 December 2025.
    ContactFactory(member=n.a, is_primary=True, active_from=date(2021, 1, 1))
    ContactFactory(
        member=n.b, is_primary=True, active_from=date(2021, 1, 1), active_to=date(2025, 6, 30)
    )
    ContactFactory(member=n.b, is_primary=False, active_from=date(2021, 1, 1))
    ContactFactory(member=n.c, is_primary=True, active_from=date(2026, 1, 15))
    return n


@pytest.fixture
def network(db, staff, region):
    return build_network(db, staff, region)


def test_scores_of_a_small_network(db, network):
    n = network
    scheme = new_scheme(db)

    result = compute(db, scheme)

    by_member = scores(db, scheme)
    # Applicant, exited in 2024, joined in 2026: never scored.
    assert set(by_member) == {n.a.id, n.b.id, n.c.id, n.d.id}

    # Lisbon:
    #   attendance: e1-e4 (cancelled, 2024 and 2026 events out), attended 3: 75 % -> 100
    #   on time: c1 on time, c2 late: 50 % -> 50
    #   completeness: c1 2/2 + c2 1/2 (one empty answer) = 3/4: 75 % -> 75
    #   commitments: k1 (updated in 2025, in progress at year end) and k2 (planned, no update);
    #     k3 dropped at year end, k4 made in 2026: (50 + 50) / 2 = 50 -> 50
    #   groups: lead g1 + member g2 (+ observer g3, not counted; g_old left in 2024):
    #     2 + 1 bonus = 3 >= 2 -> 100
    #   exchanges: gave x1, received x2 (proposed, rejected not counted): 2 of 4 -> 50
    #   follow-ups: on time, late, open and overdue (cancelled and 2026 out): 1/3 -> 33.33
    #   total: (100*25 + 50*20 + 75*10 + 50*15 + 100*10 + 50*10 + 33.33*10) / 100
    #        = 6833.3 / 100 = 68.33 -> active
    assert points(db, scheme, n.a) == {
        K.ATTENDANCE: D(100),
        K.REPORTING_ON_TIME: D(50),
        K.COMPLETENESS: D(75),
        K.COMMITMENTS: D(50),
        K.WORKING_GROUPS: D(100),
        K.EXCHANGES: D(50),
        K.FOLLOW_UPS: D("33.33"),
    }
    a = by_member[n.a.id]
    assert (a.total, a.level, a.weight_used) == (D("68.33"), Level.ACTIVE, 100)

    # Porto:
    #   attendance: e1 (recorded as absent) and e2 (no record): 0 % -> 0
    #   on time: c1 yes, c2 never submitted (due and passed): 50 % -> 50
    #   completeness: (2 + 0) / (2 + 2) = 50 % -> 50
    #   commitments: the only one is dropped -> left out
    #   groups: observer only -> 0; exchanges: received x1 -> 1 of 4 -> 25
    #   follow-ups: none -> left out
    #   total: (0*25 + 50*20 + 50*10 + 0*10 + 25*10) / 75 = 1750 / 75 = 23.33 -> at risk
    b_lines = lines(db, scheme, n.b)
    assert {k: line.points for k, line in b_lines.items()} == {
        K.ATTENDANCE: D(0),
        K.REPORTING_ON_TIME: D(50),
        K.COMPLETENESS: D(50),
        K.COMMITMENTS: None,
        K.WORKING_GROUPS: D(0),
        K.EXCHANGES: D(25),
        K.FOLLOW_UPS: None,
    }
    assert b_lines[K.COMMITMENTS].left_out is LeftOut.NO_COMMITMENTS
    assert b_lines[K.FOLLOW_UPS].left_out is LeftOut.NO_FOLLOW_UPS
    b = by_member[n.b.id]
    assert (b.total, b.level, b.weight_used) == (D("23.33"), Level.AT_RISK, 75)

    # Braga:
    #   not invited, asked in no counted cycle (draft, 2026): attendance and reporting out
    #   commitments: k6 updated in 2025, achieved: (100 + 100) / 2 -> 100
    #   groups: member of g1 (joined October 2025; g2 only in 2026): 1 of 2 -> 50
    #   exchanges: gave x2 (x5 was in 2024): 1 -> 25; follow-ups: done on the due day -> 100
    #   total: (100*15 + 50*10 + 25*10 + 100*10) / 45 = 3250 / 45 = 72.22 -> active
    c_lines = lines(db, scheme, n.c)
    assert {k: line.points for k, line in c_lines.items()} == {
        K.ATTENDANCE: None,
        K.REPORTING_ON_TIME: None,
        K.COMPLETENESS: None,
        K.COMMITMENTS: D(100),
        K.WORKING_GROUPS: D(50),
        K.EXCHANGES: D(25),
        K.FOLLOW_UPS: D(100),
    }
    assert c_lines[K.ATTENDANCE].left_out is LeftOut.NOT_INVITED
    assert c_lines[K.REPORTING_ON_TIME].left_out is LeftOut.NOT_ASKED
    assert c_lines[K.COMPLETENESS].left_out is LeftOut.NOT_ASKED
    c = by_member[n.c.id]
    assert (c.total, c.level, c.weight_used) == (D("72.22"), Level.ACTIVE, 45)

    # Faro (lapsed in September 2025):
    #   attendance: e1 (no record) and e4 (attended): 50 % -> 50 * 100 / 75 = 66.67
    #   groups 0, exchanges 0 (x5 was in 2024); everything else left out
    #   total: (66.67*25 + 0*10 + 0*10) / 45 = 1666.75 / 45 = 37.04 -> at risk
    assert points(db, scheme, n.d) == {
        K.ATTENDANCE: D("66.67"),
        K.REPORTING_ON_TIME: None,
        K.COMPLETENESS: None,
        K.COMMITMENTS: None,
        K.WORKING_GROUPS: D(0),
        K.EXCHANGES: D(0),
        K.FOLLOW_UPS: None,
    }
    d = by_member[n.d.id]
    assert (d.total, d.level, d.weight_used) == (D("37.04"), Level.AT_RISK, 45)

    # Evidence: Lisbon 4 events + 2 + 2 cycles + 2 commitments + 3 groups + 2 exchanges
    # + 3 follow-ups = 18; Porto 2 + 2 + 2 + 1 + 1 = 8; Braga 1 + 1 + 1 + 1 = 4; Faro 2.
    assert result == services.ComputeResult(members=4, scored=4, evidence=32)
    assert row_count(db, ScoreEvidence, scheme) == 32
    assert row_count(db, ScoreCriterion, scheme) == 4 * 7
    assert row_count(db, ScoreCondition, scheme) == 4 * 4
    assert all(row.region_id == n.a.region_id for row in by_member.values())
    # computed_at is when the scores were written (the wall clock), not the moment measured.
    assert scheme.computed_at is not None and not scheme.scores_out_of_date
    assert actions(db, scheme) == [SchemeAction.CREATED, SchemeAction.COMPUTED]


def test_breakdown_lines_and_evidence_of_a_member(db, network):
    n = network
    scheme = new_scheme(db)
    compute(db, scheme)

    a = lines(db, scheme, n.a)
    summary = {k: (x.items, x.hits, x.extra, x.measured, x.weight) for k, x in a.items()}
    assert summary == {
        K.ATTENDANCE: (4, 3, 0, D(75), 25),
        # hits: submitted on time; extra: submitted at all
        K.REPORTING_ON_TIME: (2, 1, 2, D(50), 20),
        # completeness shows the indicators answered (hits) and requested (extra)
        K.COMPLETENESS: (2, 3, 4, D(75), 10),
        # hits: updated in 2025; extra: achieved or in progress at year end
        K.COMMITMENTS: (2, 1, 1, D(50), 15),
        # hits: groups taken part in; extra: lead roles
        K.WORKING_GROUPS: (3, 2, 1, D(3), 10),
        # extra: exchanges given
        K.EXCHANGES: (2, 2, 1, D(2), 10),
        K.FOLLOW_UPS: (3, 1, 0, D("33.3333"), 10),
    }

    events = evidence(db, scheme, n.a, K.ATTENDANCE)
    assert {(e.item_id, e.counted) for e in events} == {
        (n.e1.id, True),
        (n.e2.id, True),
        (n.e3.id, True),
        (n.e4.id, False),
    }
    assert {e.item_kind for e in events} == {EvidenceKind.EVENT}
    assert events[0].at == n.e1.starts_at

    commitments = evidence(db, scheme, n.a, K.COMMITMENTS)
    assert [(e.item_id, e.counted, e.extra, e.detail) for e in commitments] == [
        (n.k1.id, True, True, "in_progress"),  # the status at year end, not today's
        (n.k2.id, False, False, "planned"),
    ]

    groups = evidence(db, scheme, n.a, K.WORKING_GROUPS)
    assert [(e.item_id, e.counted, e.extra, e.detail) for e in groups] == [
        (n.g1.id, True, True, "lead"),
        (n.g2.id, True, False, "member"),
        (n.g3.id, False, False, "observer"),
    ]

    cycles = evidence(db, scheme, n.a, K.COMPLETENESS)
    assert [(e.item_id, e.part, e.whole, e.on_date) for e in cycles] == [
        (n.c1.id, 2, 2, date(2025, 4, 30)),
        (n.c2.id, 1, 2, date(2025, 10, 31)),
    ]

    exchanges = evidence(db, scheme, n.a, K.EXCHANGES)
    assert [(e.item_id, e.extra, e.title) for e in exchanges] == [
        (n.x1.id, True, "Porto"),  # given: titled by the other side
        (n.x2.id, False, "Braga"),
    ]


def test_conditions_of_a_small_network(db, network):
    n = network
    scheme = new_scheme(db)
    compute(db, scheme)

    # Lisbon: primary focal point in office, both cycles submitted (one late), attended e1,
    # its ongoing commitment under a freshness rule is stale only from June 2026.
    assert condition_results(db, scheme, n.a) == {
        C.PRIMARY_FOCAL_POINT: MET,
        C.ANNUAL_SUBMISSION: MET,
        C.EVENT_ATTENDED: MET,
        C.EVIDENCE_FRESH: MET,
    }
    # Porto: its primary focal point left in June 2025 (a non-primary contact does not
    # count), c2 never submitted, attended nothing; no freshness rule.
    assert condition_results(db, scheme, n.b) == {
        C.PRIMARY_FOCAL_POINT: MISSED,
        C.ANNUAL_SUBMISSION: MISSED,
        C.EVENT_ATTENDED: MISSED,
        C.EVIDENCE_FRESH: NA,
    }
    # Braga: primary focal point only from 2026, no cycle, no event; its stale commitment is
    # achieved, so no longer under the rule.
    assert condition_results(db, scheme, n.c) == {
        C.PRIMARY_FOCAL_POINT: MISSED,
        C.ANNUAL_SUBMISSION: NA,
        C.EVENT_ATTENDED: MISSED,
        C.EVIDENCE_FRESH: NA,
    }
    # Faro: no focal point, attended e4.
    assert condition_results(db, scheme, n.d) == {
        C.PRIMARY_FOCAL_POINT: MISSED,
        C.ANNUAL_SUBMISSION: NA,
        C.EVENT_ATTENDED: MET,
        C.EVIDENCE_FRESH: NA,
    }
    outcomes = {
        member_id: (row.conditions_outcome, row.conditions_missed)
        for member_id, row in scores(db, scheme).items()
    }
    assert outcomes == {
        n.a.id: (ConditionsOutcome.MEETS, 0),
        n.b.id: (ConditionsOutcome.NOT_MET, 3),
        n.c.id: (ConditionsOutcome.NOT_MET, 2),
        n.d.id: (ConditionsOutcome.WARNING, 1),
    }


def snapshot(db, scheme) -> dict:
    """Every result row of the year, without ids or timestamps, as sorted tuples."""

    def rows(model, *columns):
        found = db.execute(select(*columns).where(model.scheme_id == scheme.id)).all()
        return sorted(tuple(str(value) for value in row) for row in found)

    return {
        "scores": rows(
            ParticipationScore,
            ParticipationScore.member_id,
            ParticipationScore.total,
            ParticipationScore.level,
            ParticipationScore.conditions_outcome,
            ParticipationScore.weight_used,
        ),
        "lines": rows(
            ScoreCriterion,
            ScoreCriterion.member_id,
            ScoreCriterion.kind,
            ScoreCriterion.items,
            ScoreCriterion.hits,
            ScoreCriterion.extra,
            ScoreCriterion.measured,
            ScoreCriterion.points,
            ScoreCriterion.left_out,
        ),
        "conditions": rows(
            ScoreCondition, ScoreCondition.member_id, ScoreCondition.kind, ScoreCondition.result
        ),
        "evidence": rows(
            ScoreEvidence,
            ScoreEvidence.member_id,
            ScoreEvidence.criterion,
            ScoreEvidence.item_id,
            ScoreEvidence.counted,
            ScoreEvidence.extra,
            ScoreEvidence.part,
            ScoreEvidence.whole,
        ),
    }


def test_computing_again_replaces_the_rows(db, network):
    scheme = new_scheme(db)
    first = compute(db, scheme)
    before = snapshot(db, scheme)

    second = compute(db, scheme)

    assert second == first
    assert snapshot(db, scheme) == before
    assert len(before["scores"]) == row_count(db, ParticipationScore, scheme) == 4
    assert row_count(db, ScoreEvidence, scheme) == 32
    assert actions(db, scheme) == [SchemeAction.CREATED] + [SchemeAction.COMPUTED] * 2
    assert comments(db, scheme)[-1] == "4 members measured."


def test_evidence_rows_add_up_to_the_breakdown(db, network):
    scheme = new_scheme(db)
    compute(db, scheme)

    trail = db.scalars(select(ScoreEvidence).where(ScoreEvidence.scheme_id == scheme.id)).all()
    items = Counter((e.member_id, e.criterion) for e in trail)
    counted = Counter((e.member_id, e.criterion) for e in trail if e.counted)
    extra = Counter((e.member_id, e.criterion) for e in trail if e.extra)
    part, whole = Counter(), Counter()
    for e in trail:
        part[(e.member_id, e.criterion)] += e.part or 0
        whole[(e.member_id, e.criterion)] += e.whole or 0
    checked = 0
    for line in db.scalars(select(ScoreCriterion).where(ScoreCriterion.scheme_id == scheme.id)):
        key = (line.member_id, line.kind)
        assert line.items == items[key], key
        if line.kind is K.COMPLETENESS:
            assert (line.hits, line.extra) == (part[key], whole[key]), key
        else:
            assert (line.hits, line.extra) == (counted[key], extra[key]), key
        checked += 1
    assert checked == 28


# --- scored members -----------------------------------------------------------------------


def test_who_is_scored(db, region):
    active = member(region)
    suspended = member(region, status=MemberStatus.SUSPENDED)
    lapsed_in_year = member(region)
    status_change(db, lapsed_in_year, MemberStatus.LAPSED, at(2025, 1, 1, 0))  # first moment
    exited_later = member(region)
    status_change(db, exited_later, MemberStatus.EXITED, at(2026, 1, 20))
    lapsed_before = member(region)
    status_change(db, lapsed_before, MemberStatus.LAPSED, at(2024, 12, 31, 23))
    lapsed_no_history = member(region, status=MemberStatus.LAPSED)
    member(region, status=MemberStatus.APPLICANT)
    joined_last_day = member(region, joined_on=date(2025, 12, 31))
    member(region, joined_on=date(2026, 1, 1))
    no_join_day = member(region, joined_on=None)
    scheme = new_scheme(db)

    result = compute(db, scheme)

    assert set(scores(db, scheme)) == {
        active.id,
        suspended.id,
        lapsed_in_year.id,
        exited_later.id,
        joined_last_day.id,
        no_join_day.id,
    }
    assert lapsed_before.id not in scores(db, scheme)
    assert lapsed_no_history.id not in scores(db, scheme)
    # Nothing to measure at all: every criterion left out, no total, no level.
    assert result == services.ComputeResult(members=6, scored=0, evidence=0)
    row = scores(db, scheme)[active.id]
    assert (row.total, row.level, row.weight_used) == (None, None, 0)


# --- attendance ---------------------------------------------------------------------------


def test_invitations_before_joining_do_not_count(db, region):
    newcomer = member(region, joined_on=date(2025, 7, 1))
    veteran = member(region)
    march = event(at(2025, 3, 10))
    join_day = event(at(2025, 7, 1, 9))
    september = event(at(2025, 9, 10))
    for m in (newcomer, veteran):
        invite(db, march, m, True)
        invite(db, join_day, m, False)
        invite(db, september, m, True)
    scheme = new_scheme(db)

    compute(db, scheme)

    # The newcomer: the join day's event and September's, attended 1: 50 % of a target of
    # 75 -> 66.67. The veteran: 2 of 3: 66.6667 % -> 66.6667 * 100 / 75 = 88.89.
    new_line = lines(db, scheme, newcomer)[K.ATTENDANCE]
    assert (new_line.items, new_line.hits, new_line.points) == (2, 1, D("66.67"))
    assert [e.item_id for e in evidence(db, scheme, newcomer, K.ATTENDANCE)] == sorted(
        [join_day.id, september.id]
    )
    old_line = lines(db, scheme, veteran)[K.ATTENDANCE]
    assert (old_line.items, old_line.hits, old_line.points) == (3, 2, D("88.89"))
    # Only attendance had data (no cycles, groups, exchanges in the network): total = points.
    assert scores(db, scheme)[newcomer.id].total == D("66.67")


@pytest.mark.parametrize(
    ("app_overrides", "starts_at", "counted"),
    [
        # 09:00 on 1 June in Kiritimati (UTC+14) is 19:00 on 31 May UTC: the join day.
        ({"TIMEZONE": "Pacific/Kiritimati"}, at(2025, 5, 31, 19), True),
        # 20:00 on 31 May in Pago Pago (UTC-11) is 07:00 on 1 June UTC: before joining.
        ({"TIMEZONE": "Pacific/Pago_Pago"}, at(2025, 6, 1, 7), False),
    ],
    ids=["Kiritimati", "Pago_Pago"],
)
def test_joined_on_is_a_day_in_the_network_zone(db, region, starts_at, counted):
    newcomer = member(region, joined_on=date(2025, 6, 1))
    invite(db, event(at(2025, 9, 10)), newcomer, True)
    invite(db, event(starts_at), newcomer, False)
    scheme = new_scheme(db)

    compute(db, scheme)

    # Counted: 1 of 2 events attended; not counted: 1 of 1.
    assert lines(db, scheme, newcomer)[K.ATTENDANCE].items == (2 if counted else 1)


def test_a_year_without_events(db, staff, region):
    a = member(region)
    b = member(region)
    held_2024 = event(at(2024, 11, 5))
    cancelled = event(at(2025, 4, 2), cancelled=True)
    invite(db, held_2024, a, True)
    invite(db, cancelled, a, True)
    PeerExchangeFactory(from_member=a, to_member=b, occurred_on=date(2025, 5, 1))
    commitment(
        db,
        a,
        CommitmentStatus.IN_PROGRESS,
        updates=[(at(2025, 3, 1), CommitmentStatus.IN_PROGRESS)],
    )
    follow_up(a, staff, date(2025, 3, 1), FollowUpStatus.DONE, date(2025, 2, 20))
    scheme = new_scheme(db)

    result = compute(db, scheme)

    for m in (a, b):
        line = lines(db, scheme, m)[K.ATTENDANCE]
        assert (line.left_out, line.measured, line.points, line.items) == (
            LeftOut.NO_EVENTS,
            None,
            None,
            0,
        )
        assert evidence(db, scheme, m, K.ATTENDANCE) == []
        assert condition_results(db, scheme, m)[C.EVENT_ATTENDED] is NA
        # No cycle and no group in the network either.
        assert lines(db, scheme, m)[K.REPORTING_ON_TIME].left_out is LeftOut.NO_CYCLES
        assert lines(db, scheme, m)[K.COMPLETENESS].left_out is LeftOut.NO_CYCLES
        assert lines(db, scheme, m)[K.WORKING_GROUPS].left_out is LeftOut.NO_GROUPS
    # a: exchanges 1 of 4 -> 25, commitments (100 + 100) / 2 -> 100, follow-ups 1/1 -> 100;
    #    weights renormalised over 10 + 15 + 10: (250 + 1500 + 1000) / 35 = 78.57 -> active
    # b: exchanges (received) 1 -> 25, the only criterion with data: 25.00 -> at risk
    row_a, row_b = scores(db, scheme)[a.id], scores(db, scheme)[b.id]
    assert (row_a.total, row_a.weight_used, row_a.level) == (D("78.57"), 35, Level.ACTIVE)
    assert (row_b.total, row_b.weight_used, row_b.level) == (D("25.00"), 10, Level.AT_RISK)
    assert result == services.ComputeResult(members=2, scored=2, evidence=4)


def test_events_after_now_are_not_judged_yet(db, region):
    a = member(region)
    invite(db, event(at(2025, 3, 1)), a, True)
    invite(db, event(at(2025, 7, 1, 14)), a)  # later today
    invite(db, event(at(2025, 10, 1)), a)
    scheme = new_scheme(db)

    compute(db, scheme, now=MID_2025)

    line = lines(db, scheme, a)[K.ATTENDANCE]
    assert (line.items, line.hits, line.points) == (1, 1, D(100))


# --- working groups, exchanges, follow-ups, commitments -----------------------------------


def test_working_groups_lead_bonus_and_observers(db, admin, region):
    lead, two_groups, observer, promoted, outside = (member(region) for _ in range(5))
    g1, g2 = WorkingGroupFactory(), WorkingGroupFactory()
    R = GroupRole
    GroupMembershipFactory(group=g1, member=lead, role=R.LEAD)
    GroupMembershipFactory(group=g1, member=two_groups, role=R.MEMBER)
    GroupMembershipFactory(group=g2, member=two_groups, role=R.MEMBER)
    GroupMembershipFactory(group=g1, member=observer, role=R.OBSERVER)
    GroupMembershipFactory(group=g2, member=observer, role=R.OBSERVER)
    # An observer who became co-chair in April: one group, with the lead role.
    GroupMembershipFactory(group=g2, member=promoted, role=R.OBSERVER, left_on=date(2025, 3, 31))
    GroupMembershipFactory(group=g2, member=promoted, role=R.LEAD, joined_on=date(2025, 4, 1))
    GroupMembershipFactory(group=g1, member=outside, left_on=date(2024, 12, 31))
    GroupMembershipFactory(group=g2, member=outside, joined_on=date(2026, 1, 2))
    scheme = new_scheme(db)

    compute(db, scheme)

    # Default target 2, bonus 1: lead 1 + 1 = 2 -> 100; two groups 2 -> 100;
    # observer 0 -> 0; promoted 1 + 1 -> 100; outside the year: 0 -> 0.
    def summary(m):
        line = lines(db, scheme, m)[K.WORKING_GROUPS]
        return line.items, line.hits, line.extra, line.measured, line.points

    assert summary(lead) == (1, 1, 1, D(2), D(100))
    assert summary(two_groups) == (2, 2, 0, D(2), D(100))
    assert summary(observer) == (2, 0, 0, D(0), D(0))
    assert summary(promoted) == (1, 1, 1, D(2), D(100))
    assert summary(outside) == (0, 0, 0, D(0), D(0))
    assert [e.detail for e in evidence(db, scheme, observer, K.WORKING_GROUPS)] == [
        "observer",
        "observer",
    ]

    # A bonus of 0.5 for a lead role: lead 1.5 of 2 -> 75; two groups still 100.
    services.update_scheme(db, admin, scheme, scheme_data(scheme, working_groups={"bonus": "0.5"}))
    compute(db, scheme)
    assert summary(lead) == (1, 1, 1, D("1.5"), D(75))
    assert summary(promoted) == (1, 1, 1, D("1.5"), D(75))
    assert summary(two_groups) == (2, 2, 0, D(2), D(100))


def test_observers_alone_leave_groups_out_for_everyone(db, region):
    a, b = member(region), member(region)
    group = WorkingGroupFactory()
    GroupMembershipFactory(group=group, member=a, role=GroupRole.OBSERVER)
    GroupMembershipFactory(group=group, member=b, left_on=date(2024, 6, 30))
    scheme = new_scheme(db)

    compute(db, scheme)

    for m in (a, b):
        line = lines(db, scheme, m)[K.WORKING_GROUPS]
        assert (line.left_out, line.points) == (LeftOut.NO_GROUPS, None)


def test_exchanges_given_and_received_count_unconfirmed_do_not(db, region):
    a, b, c = member(region), member(region), member(region)
    X = ExchangeStatus
    given = PeerExchangeFactory(from_member=a, to_member=b, occurred_on=date(2025, 1, 1))
    received = PeerExchangeFactory(from_member=b, to_member=a, occurred_on=date(2025, 12, 31))
    PeerExchangeFactory(from_member=a, to_member=c, occurred_on=date(2025, 6, 1), status=X.PROPOSED)
    PeerExchangeFactory(from_member=c, to_member=a, occurred_on=date(2025, 6, 2), status=X.REJECTED)
    PeerExchangeFactory(from_member=a, to_member=b, occurred_on=date(2024, 12, 31))
    PeerExchangeFactory(from_member=a, to_member=b, occurred_on=date(2026, 1, 1))
    scheme = new_scheme(db)

    compute(db, scheme)

    # a and b: 2 each (one given, one received) of a target of 4 -> 50; c: 0 -> 0.
    for m in (a, b):
        line = lines(db, scheme, m)[K.EXCHANGES]
        assert (line.items, line.extra, line.measured, line.points) == (2, 1, D(2), D(50))
    assert [(e.item_id, e.extra) for e in evidence(db, scheme, a, K.EXCHANGES)] == [
        (given.id, True),
        (received.id, False),
    ]
    line = lines(db, scheme, c)[K.EXCHANGES]
    assert (line.items, line.measured, line.points, line.left_out) == (0, D(0), D(0), None)


def test_no_confirmed_exchange_leaves_exchanges_out(db, region):
    a, b = member(region), member(region)
    PeerExchangeFactory(
        from_member=a, to_member=b, occurred_on=date(2025, 6, 1), status=ExchangeStatus.PROPOSED
    )
    PeerExchangeFactory(from_member=a, to_member=b, occurred_on=date(2024, 6, 1))
    scheme = new_scheme(db)

    compute(db, scheme)

    for m in (a, b):
        assert lines(db, scheme, m)[K.EXCHANGES].left_out is LeftOut.NO_EXCHANGES


def test_follow_ups_on_time_late_cancelled_and_not_yet_due(db, staff, region):
    a, b = member(region), member(region)
    F = FollowUpStatus
    follow_up(a, staff, date(2025, 3, 1), F.DONE, date(2025, 3, 1))  # on the day: hit
    follow_up(a, staff, date(2025, 4, 1), F.DONE, date(2025, 4, 2))  # a day late
    follow_up(a, staff, date(2025, 5, 1), F.CANCELLED)  # not counted
    follow_up(a, staff, date(2025, 6, 15), F.IN_PROGRESS)  # overdue
    follow_up(a, staff, date(2025, 7, 1))  # due today: not judged yet
    follow_up(a, staff, date(2025, 9, 1))  # not yet due
    follow_up(a, staff, date(2025, 10, 1), F.DONE, date(2025, 6, 20))  # done early: hit
    follow_up(a, staff, date(2024, 12, 31), F.DONE, date(2025, 1, 5))  # due in 2024
    follow_up(b, staff, date(2025, 2, 1), F.DONE, date(2025, 1, 31))
    follow_up(b, staff, date(2025, 11, 1), F.CANCELLED)
    scheme = new_scheme(db)

    compute(db, scheme, now=MID_2025)

    # a: 4 counted (3 Mar, 1 Apr, 15 Jun, 1 Oct), 2 on time: 50 % -> 50.
    line = lines(db, scheme, a)[K.FOLLOW_UPS]
    assert (line.items, line.hits, line.measured, line.points) == (4, 2, D(50), D(50))
    assert sorted(e.on_date for e in evidence(db, scheme, a, K.FOLLOW_UPS)) == [
        date(2025, 3, 1),
        date(2025, 4, 1),
        date(2025, 6, 15),
        date(2025, 10, 1),
    ]
    # b: its cancelled follow-up is not counted: 1 of 1 -> 100.
    line = lines(db, scheme, b)[K.FOLLOW_UPS]
    assert (line.items, line.hits, line.points) == (1, 1, D(100))


def test_commitments_status_at_year_end_and_dropped_ones(db, region):
    a, b = member(region), member(region)
    S = CommitmentStatus
    k_updated = commitment(db, a, S.IN_PROGRESS, updates=[(at(2025, 3, 1), S.IN_PROGRESS)])
    commitment(db, a, S.DROPPED)  # dropped: not counted
    commitment(  # dropped at the end of 2025, revived in 2026: not counted
        db, a, S.IN_PROGRESS, updates=[(at(2025, 6, 1), S.DROPPED), (at(2026, 1, 3), S.IN_PROGRESS)]
    )
    k_achieved = commitment(  # achieved in 2025, dropped in 2026: counted as achieved
        db, a, S.DROPPED, updates=[(at(2025, 5, 1), S.ACHIEVED), (at(2026, 1, 2), S.DROPPED)]
    )
    k_quiet = commitment(  # last update in 2024: in progress, not updated in 2025
        db, a, S.IN_PROGRESS, updates=[(at(2024, 11, 1), S.IN_PROGRESS)]
    )
    k_late = commitment(db, a, S.PLANNED, created_at=at(2025, 12, 31, 23))
    commitment(db, a, S.PLANNED, created_at=at(2026, 1, 1, 0))  # made after the year
    commitment(db, b, S.DROPPED, updates=[(at(2025, 2, 1), S.DROPPED)])
    scheme = new_scheme(db)

    compute(db, scheme)

    # a: 4 counted; updated in 2025: 2 (50 %); achieved or in progress: 3 (75 %);
    #    (50 + 75) / 2 = 62.5 -> 62.50 points.
    line = lines(db, scheme, a)[K.COMMITMENTS]
    assert (line.items, line.hits, line.extra, line.measured, line.points) == (
        4,
        2,
        3,
        D("62.5"),
        D("62.50"),
    )
    assert [(e.item_id, e.detail) for e in evidence(db, scheme, a, K.COMMITMENTS)] == [
        (k_updated.id, "in_progress"),
        (k_achieved.id, "achieved"),
        (k_quiet.id, "in_progress"),
        (k_late.id, "planned"),
    ]
    # b: its only commitment was dropped.
    assert lines(db, scheme, b)[K.COMMITMENTS].left_out is LeftOut.NO_COMMITMENTS


# --- reporting ----------------------------------------------------------------------------


def test_cycles_late_not_yet_due_and_drafts(db, region):
    m1, m2, m3, m4 = (member(region) for _ in range(4))
    i1, i2, i3, i4, i5 = (IndicatorFactory() for _ in range(5))
    due = cycle(db, [i1, i2], [m1, m2, m3], due_on=date(2025, 4, 30))
    coming = cycle(db, [i3, i4, i5], [m1, m2, m4], due_on=date(2025, 10, 31))
    cycle(db, [i1], [m1, m3, m4], due_on=date(2025, 5, 31), state=CycleState.DRAFT)
    submit(db, due, m1, {i1: 1, i2: 2}, is_late=True)
    submit(db, due, m2, {i1: 1, i2: None})
    submit(db, coming, m2, {i3: 1, i4: 2}, submitted_at=at(2025, 6, 20))
    submit(db, due, m3, {i1: 1}, status=SubmissionStatus.DRAFT)
    submit(db, coming, m4, {i3: 1}, status=SubmissionStatus.DRAFT)
    scheme = new_scheme(db)

    compute(db, scheme, now=MID_2025)

    def summary(m):
        got = lines(db, scheme, m)
        return (
            got[K.REPORTING_ON_TIME].items,
            got[K.REPORTING_ON_TIME].points,
            got[K.COMPLETENESS].points,
            condition_results(db, scheme, m)[C.ANNUAL_SUBMISSION],
        )

    # m1: the due cycle, submitted late (the coming one not submitted: not counted yet);
    #     on time 0/1 -> 0; completeness 2/2 -> 100; submitted everything asked: met.
    assert summary(m1) == (1, D(0), D(100), MET)
    # m2: both (the coming one submitted early, on time): 2/2 -> 100;
    #     completeness (1 + 2) / (2 + 3) = 60 % -> 60.
    assert summary(m2) == (2, D(100), D(60), MET)
    # m3: the due cycle only in draft: 0/1 -> 0, completeness 0/2 -> 0, missed.
    assert summary(m3) == (1, D(0), D(0), MISSED)
    # m4: nothing counted yet (draft cycle ignored, coming one not due, its draft unsent).
    got = lines(db, scheme, m4)
    assert got[K.REPORTING_ON_TIME].left_out is LeftOut.NOT_ASKED
    assert got[K.COMPLETENESS].left_out is LeftOut.NOT_ASKED
    assert condition_results(db, scheme, m4)[C.ANNUAL_SUBMISSION] is NA
    assert [e.detail for e in evidence(db, scheme, m3, K.REPORTING_ON_TIME)] == ["draft"]


def test_only_draft_cycles_leave_reporting_out(db, region):
    a = member(region)
    cycle(db, [IndicatorFactory()], [a], due_on=date(2025, 5, 31), state=CycleState.DRAFT)
    cycle(db, [IndicatorFactory()], [a], due_on=date(2024, 12, 31))
    scheme = new_scheme(db)

    compute(db, scheme)

    got = lines(db, scheme, a)
    assert got[K.REPORTING_ON_TIME].left_out is LeftOut.NO_CYCLES
    assert got[K.COMPLETENESS].left_out is LeftOut.NO_CYCLES
    assert condition_results(db, scheme, a)[C.ANNUAL_SUBMISSION] is NA


# --- conditions ---------------------------------------------------------------------------


def test_conditions_are_judged_on_the_reference_day(db, admin, region):
    """Mid-year the reference day is today; after the year, its last day."""
    fresh_then_stale = member(region)
    ContactFactory(member=fresh_then_stale, is_primary=True, active_from=date(2020, 1, 1))
    commitment(
        db,
        fresh_then_stale,
        CommitmentStatus.OFF_TRACK,
        freshness_months=24,
        evidence_stale_on=date(2025, 12, 31),  # stale on the year's last day
    )
    left_in_august = member(region)
    ContactFactory(
        member=left_in_august,
        is_primary=True,
        active_from=date(2020, 1, 1),
        active_to=date(2025, 8, 31),
    )
    commitment(
        db,
        left_in_august,
        CommitmentStatus.IN_PROGRESS,
        freshness_months=12,
        evidence_stale_on=date(2026, 1, 1),
    )
    commitment(  # achieved: no longer under the freshness rule
        db,
        left_in_august,
        CommitmentStatus.ACHIEVED,
        freshness_months=12,
        evidence_stale_on=date(2024, 1, 1),
    )
    last_day = member(region)
    ContactFactory(
        member=last_day,
        is_primary=True,
        active_from=date(2020, 1, 1),
        active_to=date(2025, 12, 31),
    )
    commitment(  # made after the year: not judged
        db,
        last_day,
        CommitmentStatus.PLANNED,
        created_at=at(2026, 1, 10),
        freshness_months=12,
        evidence_stale_on=date(2025, 1, 1),
    )
    scheme = new_scheme(db)

    def judged(m):
        results = condition_results(db, scheme, m)
        return results[C.PRIMARY_FOCAL_POINT], results[C.EVIDENCE_FRESH]

    compute(db, scheme, now=MID_2025)
    assert judged(fresh_then_stale) == (MET, MET)
    assert judged(left_in_august) == (MET, MET)
    assert judged(last_day) == (MET, NA)

    compute(db, scheme)
    assert judged(fresh_then_stale) == (MET, MISSED)
    assert judged(left_in_august) == (MISSED, MET)
    assert judged(last_day) == (MET, NA)
    # No cycle and no event in 2025: those conditions are not applicable; one missed each.
    row = scores(db, scheme)[fresh_then_stale.id]
    assert (row.conditions_outcome, row.conditions_missed) == (ConditionsOutcome.WARNING, 1)
    assert condition_results(db, scheme, last_day) == {
        C.PRIMARY_FOCAL_POINT: MET,
        C.ANNUAL_SUBMISSION: NA,
        C.EVENT_ATTENDED: NA,
        C.EVIDENCE_FRESH: NA,
    }
    assert scores(db, scheme)[last_day.id].conditions_outcome is ConditionsOutcome.MEETS


def test_only_the_scheme_conditions_are_checked(db, admin, network):
    n = network
    scheme = new_scheme(db)
    services.update_scheme(
        db, admin, scheme, scheme_data(scheme, conditions={C.PRIMARY_FOCAL_POINT})
    )

    compute(db, scheme)

    # Porto missed three conditions with the default method; only one is checked now.
    assert condition_results(db, scheme, n.b) == {C.PRIMARY_FOCAL_POINT: MISSED}
    row = scores(db, scheme)[n.b.id]
    assert (row.conditions_outcome, row.conditions_missed) == (ConditionsOutcome.WARNING, 1)
    assert condition_results(db, scheme, n.a) == {C.PRIMARY_FOCAL_POINT: MET}
    assert row_count(db, ScoreCondition, scheme) == 4


def test_an_event_attended_without_invitation_meets_the_condition(db, region):
    a, b = member(region), member(region)
    held = event(at(2025, 4, 1))
    invite(db, held, b, False)
    attend(db, held, a)  # came without an invitation
    scheme = new_scheme(db)

    compute(db, scheme)

    assert condition_results(db, scheme, a)[C.EVENT_ATTENDED] is MET
    assert lines(db, scheme, a)[K.ATTENDANCE].left_out is LeftOut.NOT_INVITED
    assert condition_results(db, scheme, b)[C.EVENT_ATTENDED] is MISSED


# --- the method's weights -----------------------------------------------------------------


def test_weight_zero_criteria_are_not_computed(db, admin, network):
    n = network
    scheme = new_scheme(db)
    services.update_scheme(
        db,
        admin,
        scheme,
        scheme_data(scheme, follow_ups={"weight": "0"}, exchanges={"weight": "0"}),
    )

    result = compute(db, scheme)

    assert set(lines(db, scheme, n.a)) == set(K) - {K.FOLLOW_UPS, K.EXCHANGES}
    kinds = set(
        db.scalars(select(ScoreEvidence.criterion).where(ScoreEvidence.scheme_id == scheme.id))
    )
    assert not kinds & {K.FOLLOW_UPS, K.EXCHANGES}
    # Lisbon: (100*25 + 50*20 + 75*10 + 50*15 + 100*10) / 80 = 6000 / 80 = 75.00
    row = scores(db, scheme)[n.a.id]
    assert (row.total, row.weight_used, row.level) == (D("75.00"), 80, Level.ACTIVE)
    # 32 evidence rows, less Lisbon's 2 exchanges and 3 follow-ups, Porto's and Braga's
    # exchange and Braga's follow-up.
    assert result.evidence == 32 - 5 - 1 - 2


def test_completeness_at_weight_zero_stores_no_evidence(db, admin, network):
    scheme = new_scheme(db)
    services.update_scheme(db, admin, scheme, scheme_data(scheme, completeness={"weight": "0"}))

    result = compute(db, scheme)

    stored = db.scalar(
        select(func.count())
        .select_from(ScoreEvidence)
        .where(ScoreEvidence.scheme_id == scheme.id, ScoreEvidence.criterion == K.COMPLETENESS)
    )
    # Lisbon and Porto were each asked in 2 cycles: 32 rows less those 4.
    assert (stored, result.evidence) == (0, 28)


# --- scale --------------------------------------------------------------------------------


def add_members(db, region, count, events, groups, due_cycle, indicator, staff, start=0):
    previous = None
    for i in range(start, start + count):
        m = member(region)
        invite(db, events[0], m, True)
        invite(db, events[1], m, i % 2 == 0)
        GroupMembershipFactory(group=groups[i % 2], member=m, role=GroupRole.MEMBER)
        commitment(
            db,
            m,
            CommitmentStatus.IN_PROGRESS,
            updates=[(at(2025, 3, 1), CommitmentStatus.IN_PROGRESS)],
        )
        follow_up(m, staff, date(2025, 5, 1), FollowUpStatus.DONE, date(2025, 4, 1))
        due_cycle.members.append(CycleMember(member_id=m.id))
        db.flush()
        if i % 3:
            submit(db, due_cycle, m, {indicator: i})
        ContactFactory(member=m, is_primary=True)
        if previous is not None:
            PeerExchangeFactory(from_member=previous, to_member=m, occurred_on=date(2025, 8, 1))
        previous = m


def test_query_count_does_not_grow_with_the_members(db, staff, region, count_queries):
    events = [event(at(2025, 2, 1)), event(at(2025, 10, 1))]
    groups = [WorkingGroupFactory(), WorkingGroupFactory()]
    indicator = IndicatorFactory()
    due_cycle = cycle(db, [indicator], [], due_on=date(2025, 6, 30))
    add_members(db, region, 10, events, groups, due_cycle, indicator, staff)
    new_scheme(db)
    db.flush()
    db.expire_all()

    scheme = services.scheme_for_year(db, 2025)
    with count_queries() as small:
        first = compute(db, scheme)

    add_members(db, region, 190, events, groups, due_cycle, indicator, staff, start=10)
    db.flush()
    db.expire_all()
    scheme = services.scheme_for_year(db, 2025)
    with count_queries() as large:
        # A later moment, so that computed_at changes as it did the first time.
        second = compute(db, scheme, now=NOW_2025 + timedelta(days=1))

    assert (first.members, second.members) == (10, 200)
    assert second.evidence > 15 * first.evidence
    assert large.count == small.count, (small.statements, large.statements)
    assert small.count <= 30


# --- the command and the nightly job ------------------------------------------------------


def test_compute_command_creates_the_scheme_and_prints_the_counts(db, cli, staff, region):
    a, b = member(region), member(region)
    member(region, status=MemberStatus.APPLICANT)
    held = event(at(2025, 3, 10))
    invite(db, held, a, True)
    invite(db, event(at(2025, 4, 10), cancelled=True), b, True)

    result = cli("participation", "compute", "--year", "2025")

    assert result.exit_code == 0, result.output
    # a: 1 event attended -> 100, the only criterion with data; b: nothing to measure.
    assert result.output == (
        "Created the 2025 scheme from the last year's (or the defaults).\n"
        "2025: 2 member(s) measured, 1 with a score, 1 evidence record(s).\n"
    )
    db.expire_all()
    scheme = services.scheme_for_year(db, 2025)
    assert scheme is not None and not scheme.is_final
    assert scores(db, scheme)[a.id].total == D(100)
    assert scores(db, scheme)[b.id].total is None
    assert actions(db, scheme) == [SchemeAction.CREATED, SchemeAction.COMPUTED]

    # Again: the scheme exists, nothing is created.
    again = cli("participation", "compute", "--year", "2025")
    assert again.output == "2025: 2 member(s) measured, 1 with a score, 1 evidence record(s).\n"

    db.expire_all()
    services.finalise(db, staff, services.scheme_for_year(db, 2025))
    db.flush()
    refused = cli("participation", "compute", "--year", "2025")

    assert refused.exit_code == 1
    assert "2025 is finalised: reopen it, with a reason, to change it." in refused.output
    db.expire_all()
    assert row_count(db, ParticipationScore, services.scheme_for_year(db, 2025)) == 2


def test_refresh_job_computes_the_provisional_schemes_of_this_year_and_the_last(
    db, app, cli, staff, region
):
    year = network_today().year
    a = member(region)
    invite(db, event(at(year - 1, 3, 10)), a, True)
    older = new_scheme(db, year - 2)
    last = new_scheme(db, year - 1)
    this = new_scheme(db, year)
    services.compute(db, staff, this)
    services.finalise(db, staff, this)
    db.flush()
    final_computed_at = this.computed_at
    events_before = db.scalar(
        select(func.count()).select_from(SchemeEvent).where(SchemeEvent.scheme_id == this.id)
    )

    assert jobs.refresh_provisional_scores(app) == [year - 1]

    db.expire_all()
    assert last.computed_at is not None
    assert scores(db, last)[a.id].total == D(100)
    assert older.computed_at is None
    assert row_count(db, ParticipationScore, older) == 0
    assert this.computed_at == final_computed_at
    assert this.is_final
    assert (
        db.scalar(
            select(func.count()).select_from(SchemeEvent).where(SchemeEvent.scheme_id == this.id)
        )
        == events_before
    )

    # Nightly again (through the command): the same rows, not twice as many.
    assert cli("participation", "refresh").output == f"Computed: {year - 1}.\n"
    db.expire_all()
    assert row_count(db, ParticipationScore, last) == 1
    assert row_count(db, ScoreEvidence, last) == 1


def test_refresh_job_with_nothing_provisional(db, app, cli):
    new_scheme(db, network_today().year - 3)

    assert jobs.refresh_provisional_scores(app) == []
    assert cli("participation", "refresh").output == "No provisional year to compute.\n"
