"""The agreement operations: validation, lifecycle, renewal, expiry and obligations."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import product

import pytest
from sqlalchemy import select

from secretariat.agreements import services
from secretariat.agreements.models import (
    Agreement,
    AgreementChange,
    AgreementKind,
    AgreementStatus,
    ChangeKind,
    Obligation,
    PartyKind,
)
from secretariat.agreements.services import AgreementData, ObligationData, PartyRef
from secretariat.clock import network_today
from secretariat.db import utcnow
from secretariat.followups.models import FollowUp, FollowUpStatus, Priority
from secretariat.members.services import ValidationFailed
from secretariat.permissions import OutOfScope
from tests.agreements.conftest import days, fresh, shown, table_counts, today
from tests.agreements.factories import SECRETARIAT, AgreementFactory
from tests.factories import MemberFactory, UserFactory, WorkingGroupFactory
from tests.partners.factories import PartnerFactory

S = AgreementStatus
SECRETARIAT_REF = PartyRef(PartyKind.SECRETARIAT)


def member_ref(member) -> PartyRef:
    return PartyRef(PartyKind.MEMBER, member.id)


def partner_ref(partner) -> PartyRef:
    return PartyRef(PartyKind.PARTNER, partner.id)


def agreement_data(owner, parties=None, **overrides) -> AgreementData:
    """A valid draft MoU between the secretariat and a new member, with overrides."""
    values = {
        "kind": AgreementKind.MOU,
        "title": "Heat resilience MoU",
        "owner_id": owner.id,
        "parties": parties
        if parties is not None
        else [SECRETARIAT_REF, member_ref(MemberFactory())],
    }
    values.update(overrides)
    return AgreementData(**values)


def refused(db, call, *args, **kwargs) -> dict[str, str]:
    """Run a service that must refuse; return its errors and check that nothing was written."""
    before = table_counts(db)
    with pytest.raises(ValidationFailed) as caught:
        call(db, *args, **kwargs)
    db.expire_all()
    assert table_counts(db) == before
    return caught.value.errors


def history(db, agreement) -> list[tuple[ChangeKind, S | None, S | None, str | None]]:
    """The agreement's history, oldest first."""
    return [
        (c.kind, c.from_status, c.to_status, c.detail)
        for c in db.scalars(
            select(AgreementChange)
            .where(AgreementChange.agreement_id == agreement.id)
            .order_by(AgreementChange.id)
        )
    ]


# -- entering an agreement -----------------------------------------------------------------


def test_cohort_mou_with_members_partner_and_secretariat(db, staff):
    cities = [MemberFactory(name=name) for name in ("Lisbon", "Porto", "Braga")]
    bank = PartnerFactory(name="Green Bank")
    group = WorkingGroupFactory()
    parties = [SECRETARIAT_REF, *(member_ref(c) for c in cities), partner_ref(bank)]
    data = agreement_data(
        staff,
        parties,
        title="  Cohort   2027  MoU ",
        summary="  Share data.\r\nMeet twice a year.  ",
        group_id=group.id,
        signed_on=days(-10),
        expires_on=days(700),
        renewal_notice_days=60,
        status=S.SIGNED,
    )

    agreement = services.create_agreement(db, staff, data)

    agreement = fresh(db, agreement)
    assert agreement.title == "Cohort 2027 MoU"
    assert agreement.summary == "Share data.\nMeet twice a year."
    assert agreement.status is S.SIGNED
    assert agreement.group_id == group.id
    assert agreement.owner_id == staff.id
    assert agreement.created_by_id == staff.id
    assert [(p.kind, p.position) for p in agreement.parties] == [
        (PartyKind.SECRETARIAT, 0),
        (PartyKind.MEMBER, 1),
        (PartyKind.MEMBER, 2),
        (PartyKind.MEMBER, 3),
        (PartyKind.PARTNER, 4),
    ]
    assert [p.member.name for p in agreement.parties[1:4]] == ["Lisbon", "Porto", "Braga"]
    assert agreement.parties[4].partner.name == "Green Bank"
    assert history(db, agreement) == [(ChangeKind.CREATED, None, S.SIGNED, None)]


def test_agreement_between_two_members_without_the_secretariat(db, staff):
    a, b = MemberFactory(), MemberFactory()
    agreement = services.create_agreement(
        db, staff, agreement_data(staff, [member_ref(a), member_ref(b)])
    )
    assert [p.member_id for p in agreement.parties] == [a.id, b.id]
    assert not any(p.is_secretariat for p in agreement.parties)


def test_entered_as_active_takes_effect_from_its_signature(db, staff):
    agreement = services.create_agreement(
        db, staff, agreement_data(staff, signed_on=days(-30), status=S.ACTIVE)
    )
    assert agreement.status is S.ACTIVE
    assert agreement.effective_from == days(-30)


def test_expiry_before_signature_is_refused(db, staff):
    errors = refused(
        db,
        services.create_agreement,
        staff,
        agreement_data(staff, signed_on=date(2026, 3, 10), expires_on=date(2026, 3, 9)),
    )
    assert errors == {
        "expires_on": "The agreement cannot expire (Mar 9, 2026) before it is signed "
        "(Mar 10, 2026)."
    }


def test_expiry_before_effect_is_refused(db, staff):
    errors = refused(
        db,
        services.create_agreement,
        staff,
        agreement_data(
            staff,
            signed_on=date(2026, 3, 1),
            effective_from=date(2026, 4, 1),
            expires_on=date(2026, 3, 31),
        ),
    )
    assert errors == {
        "expires_on": "The agreement cannot expire (Mar 31, 2026) before it takes effect "
        "(Apr 1, 2026)."
    }


def test_expiry_on_the_signature_day_is_accepted(db, staff):
    agreement = services.create_agreement(
        db, staff, agreement_data(staff, signed_on=days(-1), expires_on=days(-1))
    )
    assert agreement.expires_on == agreement.signed_on


@pytest.mark.parametrize("kind", ["member", "partner", "secretariat"])
def test_party_listed_twice_is_refused_by_name(db, staff, kind):
    lisbon = MemberFactory(name="Lisbon")
    bank = PartnerFactory(name="Green Bank")
    twice = {
        "member": (member_ref(lisbon), "Lisbon"),
        "partner": (partner_ref(bank), "Green Bank"),
        "secretariat": (SECRETARIAT_REF, "The secretariat"),
    }[kind]
    parties = [SECRETARIAT_REF, member_ref(lisbon), partner_ref(bank)]
    if kind != "secretariat":
        parties.remove(twice[0])
    parties += [twice[0], twice[0]] if kind != "secretariat" else [twice[0]]

    errors = refused(db, services.create_agreement, staff, agreement_data(staff, parties))

    assert errors == {"parties": f"{twice[1]} is listed twice; list each party once."}


@pytest.mark.parametrize("count", [0, 1])
def test_fewer_than_two_parties_is_refused(db, staff, count):
    parties = [SECRETARIAT_REF][:count]
    errors = refused(db, services.create_agreement, staff, agreement_data(staff, parties))
    assert errors == {
        "parties": "An agreement has at least two parties: choose the members, partners or the "
        "secretariat who sign it."
    }


def test_unknown_member_or_partner_is_refused(db, staff):
    errors = refused(
        db,
        services.create_agreement,
        staff,
        agreement_data(staff, [SECRETARIAT_REF, PartyRef(PartyKind.MEMBER, 999_999)]),
    )
    assert errors == {"parties": "One of the members chosen does not exist."}
    errors = refused(
        db,
        services.create_agreement,
        staff,
        agreement_data(staff, [SECRETARIAT_REF, PartyRef(PartyKind.PARTNER, 999_999)]),
    )
    assert errors == {"parties": "One of the partners chosen does not exist."}


def test_archived_partner_cannot_be_added_but_stays_on_edit(db, staff):
    bank = PartnerFactory(name="Green Bank", archived_at=utcnow())
    errors = refused(
        db,
        services.create_agreement,
        staff,
        agreement_data(staff, [SECRETARIAT_REF, partner_ref(bank)]),
    )
    assert errors == {"parties": "Green Bank is archived; restore the partner before adding it."}

    agreement = AgreementFactory(parties=[SECRETARIAT, bank])
    data = services.renewal_data(agreement)
    data.title = "Renamed"
    services.update_agreement(db, staff, agreement, data)
    assert fresh(db, agreement).title == "Renamed"


def test_every_problem_is_reported_at_once(db, staff):
    focal = UserFactory(focal_point=True)
    data = AgreementData(
        kind=None,
        title="  ",
        owner_id=focal.id,
        parties=[SECRETARIAT_REF],
        summary="Fine\u202etext",
        group_id=999_999,
        signed_on=days(1),
        renewal_notice_days=-1,
    )
    errors = refused(db, services.create_agreement, staff, data)
    assert errors == {
        "kind": "Choose the kind of agreement.",
        "title": "Enter the agreement's title.",
        "summary": "Remove the invisible control characters from the summary.",
        "owner_id": "Choose the member of staff who looks after the agreement.",
        "group_id": "Choose a working group from the list.",
        "renewal_notice_days": "Enter a number of days between 0 and 3,650.",
        "signed_on": "Record the signature once it has happened.",
        "parties": "An agreement has at least two parties: choose the members, partners or the "
        "secretariat who sign it.",
    }


@pytest.mark.parametrize("title", ["MoU\x00", "MoU \u202egnp.exe", "Mo\x1bU"])
def test_control_characters_in_the_title_are_refused(db, staff, title):
    errors = refused(db, services.create_agreement, staff, agreement_data(staff, title=title))
    assert errors == {"title": "Remove the invisible control characters from the title."}


def test_over_long_title_is_refused(db, staff):
    errors = refused(db, services.create_agreement, staff, agreement_data(staff, title="x" * 301))
    assert errors == {"title": "Use at most 300 characters."}


def test_deactivated_owner_is_refused_for_a_new_agreement(db, staff):
    gone = UserFactory(name="Gone Person", is_active=False)
    errors = refused(db, services.create_agreement, staff, agreement_data(staff, owner_id=gone.id))
    assert errors == {"owner_id": "Gone Person's account is deactivated; choose someone else."}


def test_status_requirements_when_entering(db, staff):
    assert refused(
        db, services.create_agreement, staff, agreement_data(staff, status=S.SIGNED)
    ) == {"signed_on": "Enter the day it was signed."}
    assert refused(
        db,
        services.create_agreement,
        staff,
        agreement_data(staff, status=S.ACTIVE, signed_on=days(-5), effective_from=days(3)),
    ) == {"effective_from": f"It takes effect on {shown(days(3))}: record it as signed until then."}
    assert refused(
        db,
        services.create_agreement,
        staff,
        agreement_data(staff, status=S.ACTIVE, signed_on=days(-50), expires_on=days(-1)),
    ) == {"expires_on": "This expiry day has passed: an active agreement expires in the future."}
    for status in (S.EXPIRED, S.TERMINATED, S.RENEWED):
        assert refused(
            db,
            services.create_agreement,
            staff,
            agreement_data(staff, status=status, signed_on=days(-5)),
        ) == {"status": "A new agreement starts as a draft, in negotiation, signed or active."}


def test_only_staff_enter_agreements(db, focal):
    with pytest.raises(OutOfScope):
        services.create_agreement(db, focal, agreement_data(focal))


# -- editing -------------------------------------------------------------------------------


def test_parties_of_a_signed_agreement_are_fixed(db, staff):
    agreement = AgreementFactory(signed=True)
    data = services.renewal_data(agreement)
    data.signed_on = agreement.signed_on
    data.parties = [*data.parties, member_ref(MemberFactory())]
    errors = refused(db, services.update_agreement, staff, agreement, data)
    assert errors == {
        "parties": "The parties of a signed agreement are fixed; start a renewal to change them."
    }


def test_parties_of_a_draft_can_change(db, staff):
    lisbon, porto = MemberFactory(), MemberFactory()
    agreement = AgreementFactory(parties=[SECRETARIAT, lisbon])
    data = services.renewal_data(agreement)
    data.parties = [member_ref(porto), SECRETARIAT_REF]
    services.update_agreement(db, staff, agreement, data)
    agreement = fresh(db, agreement)
    assert [(p.member_id, p.position) for p in agreement.parties] == [(porto.id, 0), (None, 1)]
    assert history(db, agreement)[-1][0] is ChangeKind.EDITED


def test_party_with_obligations_cannot_be_removed(db, staff):
    lisbon, porto = MemberFactory(), MemberFactory()
    agreement = AgreementFactory(parties=[SECRETARIAT, lisbon, porto], owner=staff)
    services.add_obligation(
        db, staff, agreement, ObligationData("Report", agreement.parties[1].id, days(30))
    )
    data = services.renewal_data(agreement)
    data.parties = [SECRETARIAT_REF, member_ref(porto)]
    errors = refused(db, services.update_agreement, staff, agreement, data)
    assert errors == {
        "parties": "A party you removed has obligations under this agreement; "
        "change or remove those obligations first."
    }


@pytest.mark.parametrize("status", [S.TERMINATED, S.RENEWED])
def test_terminated_or_renewed_agreement_cannot_be_edited(db, staff, status):
    agreement = AgreementFactory(active=True, status=status)
    errors = refused(
        db, services.update_agreement, staff, agreement, services.renewal_data(agreement)
    )
    assert errors == {
        "status": "A terminated or renewed agreement is kept as it was; it cannot change."
    }


def test_edit_keeps_a_deactivated_owner(db, staff):
    gone = UserFactory(is_active=False)
    agreement = AgreementFactory(owner=gone)
    data = services.renewal_data(agreement)
    data.title = "Still theirs"
    services.update_agreement(db, staff, agreement, data)
    assert fresh(db, agreement).owner_id == gone.id


# -- lifecycle -----------------------------------------------------------------------------

ALLOWED = {
    S.DRAFT: {S.NEGOTIATING, S.SIGNED, S.TERMINATED},
    S.NEGOTIATING: {S.SIGNED, S.TERMINATED},
    S.SIGNED: {S.ACTIVE, S.TERMINATED},
    S.ACTIVE: {S.TERMINATED},
    S.EXPIRED: set(),
    S.TERMINATED: set(),
    S.RENEWED: set(),
}
NAMES = {s: s.value for s in S}


def in_status(status: S) -> Agreement:
    """An agreement stored in ``status``, with the dates that status implies."""
    dates = {}
    if status not in (S.DRAFT, S.NEGOTIATING):
        dates = {"signed_on": days(-60), "effective_from": days(-50)}
    if status is S.SIGNED:
        dates["effective_from"] = None
    if status is S.EXPIRED:
        dates["expires_on"] = days(-5)
    if status is S.TERMINATED:
        dates.update(terminated_on=days(-2), termination_reason="Funding ended.")
    return AgreementFactory(status=status, **dates)


def expected_refusal(agreement: Agreement, target: S) -> str:
    current = agreement.status_on(today())
    if target is S.RENEWED:
        return (
            "An agreement is renewed when its successor comes into force: use “Renew” to "
            "prepare the successor."
        )
    if current is S.EXPIRED and target is not S.EXPIRED:
        return (
            f"This agreement expired on {shown(agreement.expires_on)}; renew it or correct its "
            "expiry day."
        )
    if target is S.EXPIRED and agreement.status is S.ACTIVE:
        return "This agreement has no expiry day; terminate it to end it."
    return f"An agreement cannot go from {NAMES[current]} to {NAMES[target]}."


@pytest.mark.parametrize(
    ("current", "target"),
    [(c, t) for c, t in product(S, S) if t not in ALLOWED[c]],
    ids=lambda s: s.value,
)
def test_invalid_transition_is_refused_with_a_clear_message(db, staff, current, target):
    agreement = in_status(current)
    assert target not in services.allowed_transitions(agreement, today())

    errors = refused(
        db, services.change_status, staff, agreement, target, reason="Because.", on=None
    )

    assert errors == {"status": expected_refusal(agreement, target)}
    assert fresh(db, agreement).status is current


@pytest.mark.parametrize(
    ("current", "target"),
    [(c, t) for c in S for t in sorted(ALLOWED[c])],
    ids=lambda s: s.value,
)
def test_valid_transition(db, staff, current, target):
    agreement = in_status(current)
    assert target in services.allowed_transitions(agreement, today())

    services.change_status(db, staff, agreement, target, reason="  Talks stopped.\r\n")

    agreement = fresh(db, agreement)
    assert agreement.status is target
    assert history(db, agreement)[-1] == (ChangeKind.STATUS, current, target, "Talks stopped.")
    if target is S.SIGNED:
        assert agreement.signed_on == today()
    if target is S.ACTIVE:
        assert agreement.effective_from == agreement.signed_on
    if target is S.TERMINATED:
        assert agreement.terminated_on == today()
        assert agreement.termination_reason == "Talks stopped."


def test_allowed_transitions_are_in_lifecycle_order(db):
    assert services.allowed_transitions(in_status(S.DRAFT), today()) == [
        S.NEGOTIATING,
        S.SIGNED,
        S.TERMINATED,
    ]


def test_active_agreement_can_only_be_recorded_expired_after_its_last_day(db, staff):
    running = AgreementFactory(active=True, expires_on=today())
    assert services.allowed_transitions(running, today()) == [S.TERMINATED]
    errors = refused(db, services.change_status, staff, running, S.EXPIRED)
    assert errors == {
        "status": f"This agreement is in force until {shown(today())}; it expires after that day."
    }

    past = AgreementFactory(active=True, expires_on=days(-1))
    assert services.allowed_transitions(past, today()) == [S.EXPIRED]
    services.change_status(db, staff, past, S.EXPIRED)
    assert fresh(db, past).status is S.EXPIRED


def test_signature_day_rules(db, staff):
    agreement = AgreementFactory(expires_on=days(-10))
    errors = refused(db, services.change_status, staff, agreement, S.SIGNED, on=days(1))
    assert errors == {"on": "Record the change on the day it happens, not in advance."}
    errors = refused(db, services.change_status, staff, agreement, S.SIGNED, on=days(-5))
    assert errors == {
        "on": f"The agreement expires on {shown(days(-10))}, before this signature day; "
        "correct the expiry first."
    }
    services.change_status(db, staff, agreement, S.SIGNED, on=days(-12))
    assert fresh(db, agreement).signed_on == days(-12)


def test_note_on_a_move_is_checked_like_a_reason(db, staff):
    agreement = AgreementFactory()
    errors = refused(
        db, services.change_status, staff, agreement, S.NEGOTIATING, reason="First\x1b round"
    )
    assert errors == {"reason": "Remove the invisible control characters from the reason."}


def test_signature_needs_two_parties(db, staff):
    agreement = AgreementFactory(parties=[SECRETARIAT])
    errors = refused(db, services.change_status, staff, agreement, S.SIGNED)
    assert errors == {"status": "Add the parties before recording the signature."}


def test_activation_day_rules(db, staff):
    agreement = AgreementFactory(signed=True, signed_on=days(-10))
    errors = refused(db, services.change_status, staff, agreement, S.ACTIVE, on=days(-11))
    assert errors == {"on": f"It was signed on {shown(days(-10))}; it cannot take effect earlier."}
    errors = refused(db, services.change_status, staff, agreement, S.ACTIVE, on=days(2))
    assert errors == {"on": "Record the change on the day it happens, not in advance."}
    services.change_status(db, staff, agreement, S.ACTIVE, on=days(-3))
    assert fresh(db, agreement).effective_from == days(-3)


def test_activation_waits_for_a_future_effective_day(db, staff):
    """Signed now, in force next month: putting it into force today is refused."""
    agreement = AgreementFactory(signed=True, signed_on=days(-10), effective_from=days(20))
    errors = refused(db, services.change_status, staff, agreement, S.ACTIVE)
    assert errors == {"on": f"It takes effect on {shown(days(20))}; put it into force on that day."}
    assert fresh(db, agreement).effective_from == days(20)
    # Brought forward explicitly, it may start today.
    services.change_status(db, staff, agreement, S.ACTIVE, on=today())
    assert fresh(db, agreement).effective_from == today()


def test_activation_after_the_expiry_day_is_refused(db, staff):
    agreement = AgreementFactory(signed=True, signed_on=days(-100), expires_on=days(-1))
    errors = refused(db, services.change_status, staff, agreement, S.ACTIVE, on=days(-50))
    assert errors == {
        "on": f"Its expiry day, {shown(days(-1))}, has passed; correct it or renew the agreement."
    }


def test_termination_rules(db, staff):
    agreement = AgreementFactory(active=True, signed_on=days(-10), effective_from=days(-10))
    assert refused(db, services.change_status, staff, agreement, S.TERMINATED, reason=" ") == {
        "reason": "Say why the agreement ends or the talks stopped."
    }
    assert refused(
        db, services.change_status, staff, agreement, S.TERMINATED, reason="No\u202e"
    ) == {"reason": "Remove the invisible control characters from the reason."}
    assert refused(db, services.change_status, staff, agreement, S.TERMINATED, on=days(1)) == {
        "reason": "Say why the agreement ends or the talks stopped.",
        "on": "Record the change on the day it happens, not in advance.",
    }
    assert refused(
        db, services.change_status, staff, agreement, S.TERMINATED, reason="x", on=days(-11)
    ) == {"on": f"It was signed on {shown(days(-10))}; it cannot end earlier."}
    services.change_status(
        db, staff, agreement, S.TERMINATED, on=days(-1), reason="  The city left.\r\n "
    )
    agreement = fresh(db, agreement)
    assert (agreement.terminated_on, agreement.termination_reason) == (days(-1), "The city left.")


def test_only_staff_move_agreements(db, focal):
    agreement = AgreementFactory(parties=[SECRETARIAT, focal.member])
    with pytest.raises(OutOfScope):
        services.change_status(db, focal, agreement, S.NEGOTIATING)


# -- renewal -------------------------------------------------------------------------------


@pytest.fixture
def old(db, staff):
    """An active agreement expiring in a month, with the secretariat and a member."""
    return AgreementFactory(
        active=True,
        title="Heat MoU 2025",
        owner=staff,
        expires_on=days(30),
        renewal_notice_days=90,
    )


def renewal(db, staff, old, **overrides) -> Agreement:
    data = services.renewal_data(old)
    data.title = overrides.pop("title", "Heat MoU 2027")
    for name, value in overrides.items():
        setattr(data, name, value)
    return services.create_agreement(db, staff, data, renews=old)


def test_renewal_chain(db, staff, old):
    successor = renewal(db, staff, old)

    old, successor = fresh(db, old), fresh(db, successor)
    assert successor.renews_id == old.id
    assert old.renewed_by.id == successor.id
    assert successor.status is S.DRAFT
    assert [PartyRef.of(p) for p in successor.parties] == [PartyRef.of(p) for p in old.parties]
    assert (successor.kind, successor.owner_id, successor.renewal_notice_days) == (
        old.kind,
        old.owner_id,
        90,
    )
    assert old.status is S.ACTIVE, "the old one stays in force until the successor is"
    assert history(db, old)[-1] == (ChangeKind.RENEWAL_STARTED, None, None, "Heat MoU 2027")

    services.change_status(db, staff, successor, S.NEGOTIATING)
    services.change_status(db, staff, successor, S.SIGNED, on=days(-1))
    assert fresh(db, old).status is S.ACTIVE
    services.change_status(db, staff, fresh(db, successor), S.ACTIVE)

    old = fresh(db, old)
    assert old.status is S.RENEWED
    assert old.status_on(today()) is S.RENEWED
    assert history(db, old)[-1] == (ChangeKind.STATUS, S.ACTIVE, S.RENEWED, "Heat MoU 2027")
    assert services.allowed_transitions(old, today()) == []


def test_second_renewal_while_one_is_under_way_is_refused(db, staff, old):
    renewal(db, staff, old)
    errors = refused(db, renewal, staff, fresh(db, old), title="Another try")
    assert errors == {"status": "A renewal is already under way: “Heat MoU 2027”."}


def test_renewal_after_failed_talks_replaces_the_failed_one(db, staff, old):
    failed = renewal(db, staff, old, title="First try")
    services.change_status(db, staff, failed, S.TERMINATED, reason="No budget.")

    second = renewal(db, staff, fresh(db, old), title="Second try")

    old, failed = fresh(db, old), db.get(Agreement, failed.id)
    assert old.renewed_by.id == second.id
    assert failed.renews_id is None
    assert failed.status is S.TERMINATED


def test_renewal_cannot_be_entered_active(db, staff, old):
    errors = refused(db, renewal, staff, old, status=S.ACTIVE, signed_on=days(-1))
    assert errors == {
        "status": "Enter the renewal as a draft, in negotiation or signed; make it active from "
        "its page so the agreement it renews is closed at the same time."
    }


@pytest.mark.parametrize("status", [S.DRAFT, S.NEGOTIATING, S.SIGNED, S.TERMINATED, S.RENEWED])
def test_only_active_or_expired_agreements_are_renewed(db, staff, status):
    agreement = in_status(status)
    errors = refused(db, renewal, staff, agreement)
    assert errors == {"status": "Only an active or expired agreement can be renewed."}


def test_expired_agreement_is_renewed_when_the_successor_comes_into_force(db, staff, old):
    old.expires_on = days(-3)  # past its last day; the daily job has not run yet
    db.flush()
    successor = renewal(db, staff, old, status=S.SIGNED, signed_on=days(-1))
    services.change_status(db, staff, successor, S.ACTIVE)
    old = fresh(db, old)
    assert old.status is S.RENEWED
    assert history(db, old)[-1][1:3] == (S.ACTIVE, S.RENEWED)


def test_recorded_expiry_is_renewed_too(db, staff, old):
    old.expires_on = days(-3)
    db.flush()
    assert services.record_expiries(db) == [old]
    successor = renewal(db, staff, fresh(db, old), status=S.SIGNED, signed_on=days(-1))
    services.change_status(db, staff, successor, S.ACTIVE)
    old = fresh(db, old)
    assert old.status is S.RENEWED
    assert history(db, old)[-1][1:3] == (S.EXPIRED, S.RENEWED)


def test_terminated_predecessor_is_not_marked_renewed(db, staff, old):
    successor = renewal(db, staff, old, status=S.SIGNED, signed_on=days(-1))
    services.change_status(db, staff, old, S.TERMINATED, reason="Replaced early.")
    services.change_status(db, staff, successor, S.ACTIVE)
    assert fresh(db, old).status is S.TERMINATED


# -- expiry --------------------------------------------------------------------------------


def test_status_on_shows_expiry_after_the_last_day():
    agreement = Agreement(status=S.ACTIVE, expires_on=date(2026, 6, 30))
    assert agreement.status_on(date(2026, 6, 30)) is S.ACTIVE
    assert agreement.status_on(date(2026, 7, 1)) is S.EXPIRED
    assert Agreement(status=S.ACTIVE).status_on(date(2099, 1, 1)) is S.ACTIVE
    signed = Agreement(status=S.SIGNED, expires_on=date(2026, 6, 30))
    assert signed.status_on(date(2026, 7, 1)) is S.SIGNED


def test_record_expiries_is_idempotent(db):
    due = AgreementFactory(active=True, expires_on=days(-1))
    last_day = AgreementFactory(active=True, expires_on=today())
    signed = AgreementFactory(signed=True, signed_on=days(-30), expires_on=days(-1))
    open_ended = AgreementFactory(active=True)

    assert [a.id for a in services.record_expiries(db)] == [due.id]
    assert services.record_expiries(db) == []

    assert fresh(db, due).status is S.EXPIRED
    assert history(db, due) == [
        (
            ChangeKind.STATUS,
            S.ACTIVE,
            S.EXPIRED,
            f"Its last day, {shown(days(-1))}, has passed.",
        )
    ]
    assert (
        db.scalar(select(AgreementChange.actor_id).where(AgreementChange.agreement_id == due.id))
        is None
    )
    assert fresh(db, last_day).status is S.ACTIVE
    assert fresh(db, signed).status is S.SIGNED
    assert fresh(db, open_ended).status is S.ACTIVE


# The network's day is not UTC's: at 12:00 UTC it is already tomorrow on Kiritimati (UTC+14);
# at 08:00 UTC it is still yesterday in Pago Pago (UTC-11).
ZONES = [
    ("Pacific/Kiritimati", datetime(2027, 3, 1, 12, 0, tzinfo=UTC), date(2027, 3, 2)),
    ("Pacific/Pago_Pago", datetime(2027, 3, 1, 8, 0, tzinfo=UTC), date(2027, 2, 28)),
]


@pytest.mark.parametrize(
    ("app_overrides", "instant", "network_day"),
    [({"TIMEZONE": zone}, instant, day) for zone, instant, day in ZONES],
    ids=[zone for zone, _i, _d in ZONES],
)
def test_expiry_follows_the_networks_calendar_day(db, staff, instant, network_day):
    utc_day = instant.date()
    assert network_today(instant) == network_day != utc_day
    # Last day in force: the UTC day, and the network's day.
    on_utc_day = AgreementFactory(active=True, expires_on=utc_day)
    on_network_day = AgreementFactory(active=True, expires_on=network_day)

    expired = {a.id for a in services.record_expiries(db, network_today(instant))}

    if network_day > utc_day:  # Kiritimati: the UTC day is over there
        assert on_utc_day.status_on(network_day) is S.EXPIRED
        assert expired == {on_utc_day.id}
    else:  # Pago Pago: the UTC day has not begun there; the network's day is its last
        assert on_network_day.status_on(network_day) is S.ACTIVE
        assert on_network_day.status_on(utc_day) is S.EXPIRED
        assert expired == set()
    assert on_network_day.status_on(network_day) is S.ACTIVE


@pytest.mark.parametrize(
    ("app_overrides", "offset"),
    [({"TIMEZONE": "Pacific/Kiritimati"}, 14), ({"TIMEZONE": "Pacific/Pago_Pago"}, -11)],
    ids=["Kiritimati", "Pago_Pago"],
)
def test_network_today_defaults_to_now_in_the_networks_zone(app, offset):
    before = utcnow()
    day = network_today()
    after = utcnow()
    # Neither zone has summer time: the network's day is the UTC instant shifted by the offset.
    assert day in {
        (before + timedelta(hours=offset)).date(),
        (after + timedelta(hours=offset)).date(),
    }
    assert network_today(before) == (before + timedelta(hours=offset)).date()
    # At any instant, one of the two zones is on another calendar day than UTC.
    assert (network_today(before) != before.date()) == (
        before.hour >= 10 if offset > 0 else before.hour < 11
    )


# -- obligations ---------------------------------------------------------------------------


@pytest.fixture
def signed(db, colleague):
    """A signed agreement owned by a colleague: secretariat, Lisbon and a partner."""
    lisbon = MemberFactory(name="Lisbon")
    bank = PartnerFactory(name="Green Bank")
    return AgreementFactory(
        signed=True,
        signed_on=days(-20),
        owner=colleague,
        parties=[SECRETARIAT, lisbon, bank],
    )


def follow_up_of(db, obligation) -> FollowUp:
    db.expire_all()
    return db.get(FollowUp, db.get(Obligation, obligation.id).follow_up_id)


def test_obligation_creates_a_follow_up_for_the_agreement_owner(db, staff, colleague, signed):
    lisbon_party = signed.parties[1]
    obligation = services.add_obligation(
        db,
        staff,
        signed,
        ObligationData(
            "  Send the heat action plan\nwith the council's approval  ",
            lisbon_party.id,
            days(45),
            Priority.HIGH,
        ),
    )

    follow_up = follow_up_of(db, obligation)
    assert follow_up.owner_id == colleague.id, "the agreement's owner, not whoever typed it"
    assert follow_up.created_by_id == staff.id
    assert follow_up.title == "Send the heat action plan"
    assert follow_up.description == "Send the heat action plan\nwith the council's approval"
    assert follow_up.due_on == days(45)
    assert follow_up.member_id == lisbon_party.member_id
    assert follow_up.agreement_id == signed.id
    assert follow_up.priority is Priority.HIGH
    assert follow_up.status is FollowUpStatus.OPEN
    assert history(db, signed)[-1] == (
        ChangeKind.OBLIGATION_ADDED,
        None,
        None,
        "Send the heat action plan",
    )


@pytest.mark.parametrize("party", [0, 2], ids=["secretariat", "partner"])
def test_obligation_of_a_non_member_party_has_no_member(db, staff, signed, party):
    obligation = services.add_obligation(
        db, staff, signed, ObligationData("Host the meeting", signed.parties[party].id, days(5))
    )
    assert follow_up_of(db, obligation).member_id is None


def test_long_first_line_is_shortened_for_the_follow_up(db, staff, signed):
    obligation = services.add_obligation(
        db, staff, signed, ObligationData("x" * 400, signed.parties[0].id, days(5))
    )
    title = follow_up_of(db, obligation).title
    assert len(title) == 300 and title.endswith("…")


def test_obligation_validation(db, staff, signed):
    other = AgreementFactory()
    errors = refused(
        db,
        services.add_obligation,
        staff,
        signed,
        ObligationData(" ", other.parties[0].id, None),
    )
    assert errors == {
        "description": "Say what the party must do.",
        "party_id": "Choose one of the agreement's parties.",
        "due_on": "Enter the day it is due.",
    }
    errors = refused(
        db,
        services.add_obligation,
        staff,
        signed,
        ObligationData("Report\x00", signed.parties[0].id, days(-21)),
    )
    assert errors == {
        "description": "Remove the invisible control characters from the description.",
        "due_on": f"The agreement was signed on {shown(days(-20))}; an obligation falls due on "
        "or after it.",
    }


def test_terminated_agreement_takes_no_obligations(db, staff):
    agreement = in_status(S.TERMINATED)
    errors = refused(
        db,
        services.add_obligation,
        staff,
        agreement,
        ObligationData("Report", agreement.parties[0].id, days(5)),
    )
    assert errors == {"status": "A terminated or renewed agreement takes no new obligations."}


def test_obligation_of_an_agreement_whose_owner_left_is_refused_clearly(db, staff):
    gone = UserFactory(name="Gone Person", is_active=False)
    agreement = AgreementFactory(owner=gone)
    errors = refused(
        db,
        services.add_obligation,
        staff,
        agreement,
        ObligationData("Report", agreement.parties[0].id, days(5)),
    )
    assert errors == {
        "status": "Gone Person, the agreement's owner, is deactivated; give the agreement "
        "another owner first, so that someone follows its obligations up."
    }


def test_owner_change_hands_open_follow_ups_to_the_new_owner(db, staff, colleague, signed):
    first = services.add_obligation(
        db, staff, signed, ObligationData("First", signed.parties[0].id, days(5))
    )
    second = services.add_obligation(
        db, staff, signed, ObligationData("Second", signed.parties[1].id, days(6))
    )
    done = services.add_obligation(
        db, staff, signed, ObligationData("Done", signed.parties[2].id, days(7))
    )
    elsewhere = services.add_obligation(
        db, staff, signed, ObligationData("Elsewhere", signed.parties[2].id, days(8))
    )
    someone = UserFactory()
    for obligation, change in (
        (done, {"status": FollowUpStatus.DONE, "completed_on": today()}),
        (second, {"status": FollowUpStatus.IN_PROGRESS}),
        (elsewhere, {"owner_id": someone.id}),
    ):
        follow_up = follow_up_of(db, obligation)
        for name, value in change.items():
            setattr(follow_up, name, value)
        db.flush()
    signed = fresh(db, signed)

    data = services.renewal_data(signed)
    data.signed_on = signed.signed_on
    data.owner_id = staff.id
    moved = services.update_agreement(db, staff, signed, data)

    assert moved == 2
    assert follow_up_of(db, first).owner_id == staff.id
    assert follow_up_of(db, second).owner_id == staff.id
    assert follow_up_of(db, done).owner_id == colleague.id
    assert follow_up_of(db, elsewhere).owner_id == someone.id


def test_update_obligation_moves_its_open_follow_up(db, staff, signed):
    obligation = services.add_obligation(
        db, staff, signed, ObligationData("Report", signed.parties[0].id, days(5))
    )
    services.update_obligation(
        db,
        staff,
        obligation,
        ObligationData("Report twice\nin detail", signed.parties[1].id, days(9), Priority.LOW),
    )
    follow_up = follow_up_of(db, obligation)
    assert (follow_up.title, follow_up.due_on, follow_up.series_start) == (
        "Report twice",
        days(9),
        days(9),
    )
    assert follow_up.member_id == signed.parties[1].member_id
    assert follow_up.priority is Priority.LOW
    assert history(db, signed)[-1][0] is ChangeKind.OBLIGATION_CHANGED


def test_update_obligation_leaves_a_closed_follow_up_alone(db, staff, signed):
    obligation = services.add_obligation(
        db, staff, signed, ObligationData("Report", signed.parties[0].id, days(5))
    )
    follow_up_of(db, obligation).status = FollowUpStatus.DONE
    db.flush()
    services.update_obligation(
        db, staff, obligation, ObligationData("Changed", signed.parties[0].id, days(9))
    )
    follow_up = follow_up_of(db, obligation)
    assert (follow_up.title, follow_up.due_on) == ("Report", days(5))
    assert db.get(Obligation, obligation.id).description == "Changed"


def test_update_obligation_validates_everything_first(db, staff, signed):
    obligation = services.add_obligation(
        db, staff, signed, ObligationData("Report", signed.parties[0].id, days(5))
    )
    errors = refused(
        db,
        services.update_obligation,
        staff,
        obligation,
        ObligationData("", signed.parties[0].id, days(9)),
    )
    assert errors == {"description": "Say what the party must do."}
    assert follow_up_of(db, obligation).due_on == days(5)


def test_remove_obligation_cancels_its_open_follow_up(db, staff, signed):
    obligation = services.add_obligation(
        db, staff, signed, ObligationData("Report", signed.parties[0].id, days(5))
    )
    follow_up_id = obligation.follow_up_id

    services.remove_obligation(db, staff, obligation)

    db.expire_all()
    assert db.get(Obligation, obligation.id) is None
    follow_up = db.get(FollowUp, follow_up_id)
    assert follow_up.status is FollowUpStatus.CANCELLED
    assert follow_up.completed_on == today()
    assert follow_up.completion_note == "The obligation was removed from the agreement."
    assert history(db, signed)[-1] == (ChangeKind.OBLIGATION_REMOVED, None, None, "Report")


def test_remove_obligation_keeps_a_done_follow_up_done(db, staff, signed):
    obligation = services.add_obligation(
        db, staff, signed, ObligationData("Report", signed.parties[0].id, days(5))
    )
    follow_up = follow_up_of(db, obligation)
    follow_up.status = FollowUpStatus.DONE
    follow_up.completed_on = days(-1)
    db.flush()
    services.remove_obligation(db, staff, db.get(Obligation, obligation.id))
    follow_up = fresh(db, follow_up)
    assert (follow_up.status, follow_up.completed_on) == (FollowUpStatus.DONE, days(-1))


# -- scope ---------------------------------------------------------------------------------


def test_focal_point_sees_only_their_members_agreements(db, focal):
    own = AgreementFactory(parties=[SECRETARIAT, MemberFactory(), focal.member])
    other = AgreementFactory()
    assert services.visible_agreement(db, focal, own.id) is own
    with pytest.raises(OutOfScope):
        services.visible_agreement(db, focal, other.id)
    with pytest.raises(OutOfScope):
        services.visible_agreement(db, focal, 999_999)


def test_funder_sees_no_agreement(db):
    funder = UserFactory(funder_user=True)
    agreement = AgreementFactory()
    with pytest.raises(OutOfScope):
        services.visible_agreement(db, funder, agreement.id)


def test_party_ref_parse():
    assert PartyRef.parse("secretariat") == SECRETARIAT_REF
    assert PartyRef.parse("member:12") == PartyRef(PartyKind.MEMBER, 12)
    assert PartyRef.parse("partner:3").token == "partner:3"
    for token in ("", "member:", "member:-1", "partner:x", "user:1", "member:1:2"):
        assert PartyRef.parse(token) is None


def test_edit_of_an_active_agreement_checks_the_day_it_took_effect(db, staff):
    """Left empty, "in force from" keeps the recorded day, and the expiry is checked against it."""
    agreement = AgreementFactory(
        active=True, signed_on=date(2025, 3, 10), effective_from=date(2025, 4, 1)
    )
    data = services.renewal_data(agreement)
    data.signed_on = agreement.signed_on
    data.expires_on = date(2025, 3, 20)
    errors = refused(db, services.update_agreement, staff, agreement, data)
    assert errors == {
        "expires_on": "The agreement cannot expire (Mar 20, 2025) before it takes effect "
        "(Apr 1, 2025)."
    }
    data.expires_on = date(2027, 3, 20)
    services.update_agreement(db, staff, agreement, data)
    assert fresh(db, agreement).effective_from == date(2025, 4, 1)


@pytest.mark.parametrize(
    ("network", "shown"),
    [
        ("C40", "C40 secretariat"),
        ("Secretariat", "Secretariat"),
        ("ICLEI Secretariat", "ICLEI Secretariat"),
    ],
)
def test_the_secretariat_is_named_after_the_network(network, shown):
    assert services.secretariat_name(network) == shown
