"""Story read models: the lists, evidence choices and the published stories of members."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from secretariat.events.models import Attendance, AttendanceSource
from secretariat.stories import queries
from secretariat.stories.models import EvidenceKind, StoryEvidence
from tests.agreements.factories import SECRETARIAT, AgreementFactory
from tests.factories import CommitmentFactory, EventFactory, MemberFactory, PeerExchangeFactory
from tests.stories.factories import StoryFactory, approve_all, make_world


@pytest.fixture
def world(db):
    return make_world(db)


def attendance(event, member, attended=True) -> Attendance:
    return Attendance(
        event_id=event.id, member_id=member.id, attended=attended, source=AttendanceSource.MANUAL
    )


def test_published_stories_of_members_with_their_members_loaded(db, world):
    lisbon_story = approve_all(StoryFactory(members=[world.lisbon, world.nairobi]), publish=True)
    porto_story = approve_all(StoryFactory(members=[world.porto]), publish=True)
    approve_all(StoryFactory(members=[world.lisbon]))  # approved, not published
    StoryFactory(members=[world.nairobi])  # draft
    db.flush()
    db.expire_all()
    found = queries.published_stories(db, [world.nairobi.id, world.porto.id])
    assert {s.id for s in found} == {lisbon_story.id, porto_story.id}
    for story in found:
        assert "members" not in inspect(story).unloaded
        assert all("member" not in inspect(row).unloaded for row in story.members)
    assert queries.published_stories(db, []) == []
    assert queries.published_stories(db, [MemberFactory().id]) == []


def test_evidence_choices_are_the_members_records(db, world):
    mine = PeerExchangeFactory(from_member=world.lisbon, to_member=world.porto)
    PeerExchangeFactory(from_member=world.porto, to_member=world.nairobi)
    commitment = CommitmentFactory(member=world.lisbon)
    CommitmentFactory(member=world.porto)
    agreement = AgreementFactory(parties=[SECRETARIAT, world.lisbon])
    AgreementFactory(parties=[SECRETARIAT, world.porto])
    hosted = EventFactory(host_member_id=world.lisbon.id)
    attended = EventFactory()
    missed = EventFactory()
    db.add_all([attendance(attended, world.lisbon), attendance(missed, world.lisbon, False)])
    db.flush()
    choices = queries.evidence_choices(db, [world.lisbon.id])
    assert [e.id for e in choices.exchanges] == [mine.id]
    assert [c.id for c in choices.commitments] == [commitment.id]
    assert [a.id for a in choices.agreements] == [agreement.id]
    assert {e.id for e in choices.events} == {hosted.id, attended.id}


def test_published_stories_take_two_statements_however_many(db, world, count_queries):
    for _ in range(30):
        approve_all(StoryFactory(members=[world.lisbon, MemberFactory()]), publish=True)
    db.flush()
    lisbon_id = world.lisbon.id
    db.expire_all()
    with count_queries() as counter:
        found = queries.published_stories(db, [lisbon_id])
        names = {row.member.name for story in found for row in story.members}
    assert len(found) == 30 and "Lisbon" in names
    assert counter.count == 2, "\n\n".join(counter.statements)


def test_records_already_linked_stay_among_the_choices(db, world):
    other = CommitmentFactory(member=world.porto)
    story = StoryFactory(members=[world.lisbon])
    db.flush()
    story.evidence.append(StoryEvidence(kind=EvidenceKind.COMMITMENT, commitment_id=other.id))
    db.flush()
    choices = queries.evidence_choices(db, [world.lisbon.id], keep=story.evidence)
    assert [c.id for c in choices.commitments] == [other.id]
    assert queries.evidence_choices(db, []).commitments == []
