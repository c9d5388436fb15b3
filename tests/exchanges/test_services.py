"""Exchange services: validation, recording, proposals and their confirmation, and scope."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from secretariat.db import utcnow
from secretariat.exchanges import services
from secretariat.exchanges.models import ExchangeStatus, ExchangeType, PeerExchange
from secretariat.members.models import MemberStatus
from secretariat.members.services import ValidationFailed
from secretariat.permissions import OutOfScope
from secretariat.vocabularies.models import Vocabulary
from tests.exchanges.conftest import exchange_data
from tests.factories import MemberFactory, TermFactory, UserFactory, WorkingGroupFactory


def count(db) -> int:
    return db.scalar(select(func.count()).select_from(PeerExchange))


def refused(db, actor, data) -> dict[str, str]:
    before = count(db)
    with pytest.raises(ValidationFailed) as caught:
        services.record_exchange(db, actor, data)
    assert count(db) == before
    return caught.value.errors


# -- validation ------------------------------------------------------------------------------


def test_a_member_cannot_exchange_with_itself(db, world):
    errors = refused(db, world.staff, exchange_data(world.lisbon, world.lisbon))
    assert errors == {"to_member_id": "A member cannot exchange with itself."}


def test_the_date_cannot_be_in_the_future(db, world):
    tomorrow = services.network_today() + timedelta(days=1)
    errors = refused(
        db, world.staff, exchange_data(world.lisbon, world.nairobi, occurred_on=tomorrow)
    )
    assert errors == {
        "occurred_on": (
            "An exchange is recorded once it has happened; use a date no later than today."
        )
    }


def test_far_future_dates_are_refused_and_today_is_accepted(db, world):
    far = date(2999, 1, 1)
    errors = refused(db, world.staff, exchange_data(world.lisbon, world.nairobi, occurred_on=far))
    assert "occurred_on" in errors
    today = services.network_today()
    exchange = services.record_exchange(
        db, world.staff, exchange_data(world.lisbon, world.nairobi, occurred_on=today)
    )
    assert exchange.occurred_on == today


def test_every_problem_is_reported_at_once(db, world):
    other_vocabulary = TermFactory(vocabulary=Vocabulary.TIER, label="Full")
    data = services.ExchangeData(
        from_member_id=None,
        to_member_id=999_999,
        exchange_type=None,
        occurred_on=None,
        description="   ",
        group_id=999_999,
        theme_id=other_vocabulary.id,
        outcome="x" * 10_001,
        evidence_url="javascript:alert(1)",
    )
    errors = refused(db, world.staff, data)
    assert set(errors) == {
        "from_member_id",
        "to_member_id",
        "exchange_type",
        "occurred_on",
        "description",
        "group_id",
        "theme_id",
        "outcome",
        "evidence_url",
    }
    assert errors["to_member_id"] == "Choose a member from the list."
    assert errors["description"] == "Describe what was exchanged."
    assert errors["evidence_url"] == ("Enter a full web address starting with https:// or http://.")


@pytest.mark.parametrize("url", ["ftp://example.org/report", "www.example.org", "https://"])
def test_the_evidence_link_must_be_a_web_address(db, world, url):
    errors = refused(db, world.staff, exchange_data(world.lisbon, world.nairobi, evidence_url=url))
    assert list(errors) == ["evidence_url"]


def test_text_is_cleaned(db, world):
    exchange = services.record_exchange(
        db,
        world.staff,
        exchange_data(
            world.lisbon,
            world.nairobi,
            description="  Advice\r\non tram priority  ",
            outcome="   ",
            evidence_url="  https://example.org/report  ",
        ),
    )
    assert exchange.description == "Advice\non tram priority"
    assert exchange.outcome is None
    assert exchange.evidence_url == "https://example.org/report"


def test_group_and_theme_are_kept(db, world):
    group = WorkingGroupFactory(name="Transport")
    theme = TermFactory(vocabulary=Vocabulary.THEME, label="Air quality")
    exchange = services.record_exchange(
        db,
        world.staff,
        exchange_data(world.lisbon, world.nairobi, group_id=group.id, theme_id=theme.id),
    )
    assert (exchange.group, exchange.theme) == (group, theme)


# -- recording and proposing -----------------------------------------------------------------


def test_staff_records_a_confirmed_exchange(db, world):
    exchange = services.record_exchange(db, world.staff, exchange_data(world.lisbon, world.nairobi))
    assert exchange.status is ExchangeStatus.CONFIRMED
    assert exchange.proposed_by_member_id is None
    assert exchange.created_by_id == world.staff.id
    assert exchange.decided_by_id == world.staff.id
    assert exchange.decided_at is not None


def test_staff_may_record_an_exchange_with_a_former_member(db, world):
    former = MemberFactory(name="Former City", status=MemberStatus.EXITED)
    exchange = services.record_exchange(db, world.staff, exchange_data(former, world.lisbon))
    assert exchange.status is ExchangeStatus.CONFIRMED


@pytest.mark.parametrize("direction", ["given", "received"])
def test_focal_point_proposes_an_exchange_of_its_member(db, world, direction):
    source, target = (
        (world.lisbon, world.nairobi) if direction == "given" else (world.nairobi, world.lisbon)
    )
    exchange = services.record_exchange(db, world.lisbon_fp, exchange_data(source, target))
    assert exchange.status is ExchangeStatus.PROPOSED
    assert exchange.proposed_by_member_id == world.lisbon.id
    assert exchange.created_by_id == world.lisbon_fp.id
    assert exchange.decided_by_id is None and exchange.decided_at is None


def test_focal_point_cannot_propose_an_exchange_between_two_other_members(db, world):
    before = count(db)
    with pytest.raises(OutOfScope):
        services.record_exchange(db, world.porto_fp, exchange_data(world.lisbon, world.nairobi))
    assert count(db) == before


def test_focal_point_proposes_only_with_active_members(db, world):
    lapsed = MemberFactory(name="Lapsed City", status=MemberStatus.LAPSED)
    errors = refused(db, world.lisbon_fp, exchange_data(world.lisbon, lapsed))
    assert errors == {"to_member_id": "Choose an active member of the network."}


def test_funders_cannot_record_exchanges(db, world):
    funder = UserFactory(funder_user=True)
    with pytest.raises(OutOfScope):
        services.record_exchange(db, funder, exchange_data(world.lisbon, world.nairobi))
    assert count(db) == 0


# -- confirming and rejecting ----------------------------------------------------------------


@pytest.fixture
def proposal(db, world) -> PeerExchange:
    """Lisbon's focal point proposes: Lisbon advised Nairobi."""
    return services.record_exchange(db, world.lisbon_fp, exchange_data(world.lisbon, world.nairobi))


def test_the_other_side_confirms(db, world, proposal):
    services.confirm_exchange(db, world.nairobi_fp, proposal)
    assert proposal.status is ExchangeStatus.CONFIRMED
    assert proposal.decided_by_id == world.nairobi_fp.id
    assert proposal.decided_at <= utcnow()


def test_staff_confirms(db, world, proposal):
    services.confirm_exchange(db, world.staff, proposal)
    assert proposal.status is ExchangeStatus.CONFIRMED
    assert proposal.decided_by_id == world.staff.id


def test_the_proposing_side_cannot_confirm(db, world, proposal):
    with pytest.raises(ValidationFailed) as caught:
        services.confirm_exchange(db, world.lisbon_fp, proposal)
    assert "the other member or the secretariat confirms it" in caught.value.errors["status"]
    with pytest.raises(ValidationFailed):
        services.reject_exchange(db, world.lisbon_fp, proposal, "Changed my mind")
    assert proposal.status is ExchangeStatus.PROPOSED
    assert proposal.decided_by_id is None


def test_a_third_member_cannot_see_nor_decide(db, world, proposal):
    with pytest.raises(OutOfScope):
        services.confirm_exchange(db, world.porto_fp, proposal)
    with pytest.raises(OutOfScope):
        services.reject_exchange(db, world.porto_fp, proposal, "Not true")
    with pytest.raises(OutOfScope):
        services.update_exchange(
            db, world.porto_fp, proposal, exchange_data(world.lisbon, world.porto)
        )
    assert not services.can_view(world.porto_fp, proposal)
    assert proposal.status is ExchangeStatus.PROPOSED


def test_reject_needs_a_reason(db, world, proposal):
    with pytest.raises(ValidationFailed) as caught:
        services.reject_exchange(db, world.nairobi_fp, proposal, "  ")
    assert caught.value.errors == {"reason": "Say why; the proposing member will see it."}
    assert proposal.status is ExchangeStatus.PROPOSED
    services.reject_exchange(db, world.nairobi_fp, proposal, " We never met. ")
    assert proposal.status is ExchangeStatus.REJECTED
    assert proposal.rejection_reason == "We never met."
    assert proposal.decided_by_id == world.nairobi_fp.id


def test_a_decided_exchange_cannot_be_decided_again(db, world, proposal):
    services.confirm_exchange(db, world.nairobi_fp, proposal)
    for decide in (
        lambda: services.confirm_exchange(db, world.staff, proposal),
        lambda: services.reject_exchange(db, world.staff, proposal, "Wrong"),
    ):
        with pytest.raises(ValidationFailed) as caught:
            decide()
        assert caught.value.errors == {"status": "This exchange has already been decided."}
    assert proposal.status is ExchangeStatus.CONFIRMED


def test_permission_helpers(db, world, proposal):
    assert services.can_decide(world.nairobi_fp, proposal)
    assert services.can_decide(world.staff, proposal)
    assert not services.can_decide(world.lisbon_fp, proposal)
    assert services.can_edit(world.lisbon_fp, proposal)
    assert not services.can_edit(world.nairobi_fp, proposal)
    assert services.can_view(world.nairobi_fp, proposal)


# -- editing and deleting --------------------------------------------------------------------


def test_the_proposing_side_edits_while_proposed(db, world, proposal):
    data = exchange_data(
        world.lisbon, world.nairobi, exchange_type=ExchangeType.EXPERT_ADVICE, outcome="A plan"
    )
    services.update_exchange(db, world.lisbon_fp, proposal, data)
    assert proposal.exchange_type is ExchangeType.EXPERT_ADVICE
    assert proposal.outcome == "A plan"
    assert proposal.status is ExchangeStatus.PROPOSED

    services.confirm_exchange(db, world.nairobi_fp, proposal)
    with pytest.raises(ValidationFailed):
        services.update_exchange(
            db, world.lisbon_fp, proposal, exchange_data(world.lisbon, world.nairobi)
        )
    assert proposal.outcome == "A plan"


def test_the_proposing_side_cannot_move_the_exchange_off_its_member(db, world, proposal):
    with pytest.raises(OutOfScope):
        services.update_exchange(
            db, world.lisbon_fp, proposal, exchange_data(world.porto, world.nairobi)
        )
    assert proposal.from_member_id == world.lisbon.id


def test_the_other_side_cannot_edit(db, world, proposal):
    with pytest.raises(ValidationFailed):
        services.update_exchange(
            db, world.nairobi_fp, proposal, exchange_data(world.lisbon, world.nairobi, outcome="x")
        )
    assert proposal.outcome is None


def test_an_edited_proposal_keeps_a_side_that_has_since_lapsed(db, world, proposal):
    world.nairobi.status = MemberStatus.LAPSED
    db.flush()
    services.update_exchange(
        db, world.lisbon_fp, proposal, exchange_data(world.lisbon, world.nairobi, outcome="Kept")
    )
    assert proposal.outcome == "Kept"


def test_staff_edits_any_time_and_validation_applies(db, world, proposal):
    services.confirm_exchange(db, world.staff, proposal)
    services.update_exchange(
        db, world.staff, proposal, exchange_data(world.nairobi, world.lisbon, outcome="Swapped")
    )
    assert (proposal.from_member_id, proposal.outcome) == (world.nairobi.id, "Swapped")
    with pytest.raises(ValidationFailed) as caught:
        services.update_exchange(
            db, world.staff, proposal, exchange_data(world.nairobi, world.nairobi)
        )
    assert caught.value.errors == {"to_member_id": "A member cannot exchange with itself."}
    assert proposal.to_member_id == world.lisbon.id


def test_only_staff_delete(db, world, proposal):
    with pytest.raises(OutOfScope):
        services.delete_exchange(db, world.lisbon_fp, proposal)
    assert count(db) == 1
    services.delete_exchange(db, world.staff, proposal)
    assert count(db) == 0
