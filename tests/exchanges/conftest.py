"""Shared data of the exchange tests: three members, staff, and a focal point of each side."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from secretariat.accounts.models import User
from secretariat.exchanges.models import ExchangeType
from secretariat.exchanges.services import ExchangeData
from secretariat.members.models import Member
from secretariat.vocabularies.models import Term
from tests.factories import MemberFactory, TermFactory, UserFactory


@dataclass
class World:
    europe: Term
    africa: Term
    lisbon: Member
    nairobi: Member
    porto: Member
    staff: User
    #: Focal point of Lisbon.
    lisbon_fp: User
    #: Focal point of Nairobi.
    nairobi_fp: User
    #: Focal point of Porto (a member outside the exchanges below).
    porto_fp: User


@pytest.fixture
def world(db) -> World:
    europe = TermFactory(label="Europe")
    africa = TermFactory(label="Africa")
    lisbon = MemberFactory(name="Lisbon", slug="lisbon", region=europe)
    nairobi = MemberFactory(name="Nairobi", slug="nairobi", region=africa, country="KE")
    porto = MemberFactory(name="Porto", slug="porto", region=europe)
    world = World(
        europe=europe,
        africa=africa,
        lisbon=lisbon,
        nairobi=nairobi,
        porto=porto,
        staff=UserFactory(name="Sam Staff"),
        lisbon_fp=UserFactory(focal_point=True, member=lisbon, name="Lia Lisbon"),
        nairobi_fp=UserFactory(focal_point=True, member=nairobi, name="Nia Nairobi"),
        porto_fp=UserFactory(focal_point=True, member=porto, name="Pia Porto"),
    )
    db.flush()
    return world


def exchange_data(source: Member, target: Member, **overrides) -> ExchangeData:
    values = {
        "from_member_id": source.id,
        "to_member_id": target.id,
        "exchange_type": ExchangeType.STUDY_VISIT,
        "occurred_on": date(2025, 3, 14),
        "description": "Nairobi's transport team visited Lisbon's tram depot.",
    }
    values.update(overrides)
    return ExchangeData(**values)
