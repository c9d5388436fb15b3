"""factory_boy factories for the models; bound to the test's session by the ``db`` fixture."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import factory
from argon2 import PasswordHasher
from factory.alchemy import SQLAlchemyModelFactory

from secretariat.accounts.models import Role, User
from secretariat.commitments.models import Commitment, CommitmentStatus
from secretariat.events.models import Audience, Event, EventType, Invitation
from secretariat.exchanges.models import ExchangeStatus, ExchangeType, PeerExchange
from secretariat.funding.models import Funder
from secretariat.groups.models import GroupMembership, GroupRole, GroupStatus, WorkingGroup
from secretariat.indicators.models import Aggregation, Direction, Indicator, Level, ValueType
from secretariat.members.models import Contact, ContactRole, Member, MemberKind, MemberStatus
from secretariat.members.services import fold
from secretariat.reporting.models import Audience as CycleAudience
from secretariat.reporting.models import CycleState, ReportingCycle
from secretariat.vocabularies.models import Term, Vocabulary

PASSWORD = "correct horse battery staple"
_session = None
_hash_cache: dict[str, str] = {}


def bind(session) -> None:
    global _session
    _session = session


def _current_session():
    assert _session is not None, "use the `db` fixture before factories"
    return _session


def password_hash(password: str = PASSWORD) -> str:
    if password not in _hash_cache:
        hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        _hash_cache[password] = hasher.hash(password)
    return _hash_cache[password]


class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = _current_session
        sqlalchemy_session_persistence = "flush"


class TermFactory(Base):
    class Meta:
        model = Term

    vocabulary = Vocabulary.REGION
    label = factory.Sequence(lambda n: f"Region {n}")
    position = factory.Sequence(lambda n: n)
    is_active = True


class MemberFactory(Base):
    class Meta:
        model = Member

    name = factory.Sequence(lambda n: f"City {n}")
    slug = factory.Sequence(lambda n: f"city-{n}")
    search_name = factory.LazyAttribute(lambda o: fold(o.name))
    kind = MemberKind.CITY
    country = "PT"
    status = MemberStatus.ACTIVE
    population = 500_000
    joined_on = date(2020, 1, 15)
    region = factory.SubFactory(TermFactory)


class ContactFactory(Base):
    class Meta:
        model = Contact

    member = factory.SubFactory(MemberFactory)
    name = factory.Sequence(lambda n: f"Person {n}")
    email = factory.Sequence(lambda n: f"person{n}@city.example")
    role = ContactRole.FOCAL_POINT
    is_primary = False
    active_from = date(2021, 1, 1)


class FunderFactory(Base):
    class Meta:
        model = Funder

    name = factory.Sequence(lambda n: f"Foundation {n}")
    slug = factory.Sequence(lambda n: f"foundation-{n}")


class UserFactory(Base):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    name = factory.Sequence(lambda n: f"User {n}")
    role = Role.STAFF
    password_hash = factory.LazyFunction(password_hash)
    session_token = factory.Sequence(lambda n: f"token{n:08d}")
    is_active = True

    class Params:
        admin = factory.Trait(role=Role.ADMIN)
        focal_point = factory.Trait(role=Role.FOCAL_POINT, member=factory.SubFactory(MemberFactory))
        funder_user = factory.Trait(role=Role.FUNDER, funder=factory.SubFactory(FunderFactory))


class WorkingGroupFactory(Base):
    class Meta:
        model = WorkingGroup

    name = factory.Sequence(lambda n: f"Group {n}")
    slug = factory.Sequence(lambda n: f"group-{n}")
    status = GroupStatus.ACTIVE
    started_on = date(2022, 1, 1)
    theme = factory.SubFactory(TermFactory, vocabulary=Vocabulary.THEME)


class GroupMembershipFactory(Base):
    class Meta:
        model = GroupMembership

    group = factory.SubFactory(WorkingGroupFactory)
    member = factory.SubFactory(MemberFactory)
    role = GroupRole.MEMBER
    joined_on = date(2022, 1, 1)


class EventFactory(Base):
    class Meta:
        model = Event

    title = factory.Sequence(lambda n: f"Event {n}")
    event_type = EventType.WEBINAR
    starts_at = factory.LazyFunction(
        lambda: datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=14)
    )
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=2))
    is_online = True


class InvitationFactory(Base):
    class Meta:
        model = Invitation

    event = factory.SubFactory(EventFactory)
    member = factory.SubFactory(MemberFactory)
    audience = Audience.CHOSEN


class PeerExchangeFactory(Base):
    class Meta:
        model = PeerExchange

    from_member = factory.SubFactory(MemberFactory)
    to_member = factory.SubFactory(MemberFactory)
    exchange_type = ExchangeType.STUDY_VISIT
    occurred_on = date(2026, 5, 12)
    description = factory.Sequence(lambda n: f"Exchange {n}")
    status = ExchangeStatus.CONFIRMED


class IndicatorFactory(Base):
    class Meta:
        model = Indicator

    code = factory.Sequence(lambda n: f"IND-{n}")
    name = factory.Sequence(lambda n: f"Indicator {n}")
    unit = "t CO2e"
    value_type = ValueType.NUMBER
    direction = Direction.LOWER_IS_BETTER
    level = Level.MEMBER
    aggregation = Aggregation.SUM
    is_active = True


class ReportingCycleFactory(Base):
    """A draft cycle; tests open it with ``reporting.services.open_cycle``."""

    class Meta:
        model = ReportingCycle

    name = factory.Sequence(lambda n: f"Annual report {n}")
    period = "2025"
    opens_on = date(2026, 3, 1)
    due_on = date(2026, 5, 31)
    state = CycleState.DRAFT
    audience = CycleAudience.ALL_ACTIVE


class CommitmentFactory(Base):
    class Meta:
        model = Commitment

    member = factory.SubFactory(MemberFactory)
    title = factory.Sequence(lambda n: f"Commitment {n}")
    category = factory.SubFactory(TermFactory, vocabulary=Vocabulary.COMMITMENT_CATEGORY)
    status = CommitmentStatus.PLANNED
