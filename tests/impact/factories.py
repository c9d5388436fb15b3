"""Factories and the hand-built world of the impact report tests (bound like tests/factories.py).

``known_world`` builds a programme whose every figure for 2026 is worked out by hand in
``tests/impact/test_figures.py``: members A-D covered, E not, and records around the edges of
each rule (a cancelled event, a proposed exchange, a draft submission, last year's data...).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

import factory
from pypdf import PdfReader

from secretariat.accounts.models import User
from secretariat.agreements.models import Agreement, AgreementKind, AgreementStatus
from secretariat.commitments.models import Commitment, CommitmentStatus, CommitmentUpdate
from secretariat.db import utcnow
from secretariat.events.models import Attendance, AttendanceSource, Event, EventType
from secretariat.exchanges.models import ExchangeStatus, ExchangeType, PeerExchange
from secretariat.funding import services as funding
from secretariat.funding.models import Coverage, Frequency, Funder, Programme
from secretariat.indicators.models import Aggregation, Direction, Indicator, Level
from secretariat.members.models import Member, MemberKind
from secretariat.participation.models import (
    ConditionsOutcome,
    ParticipationScore,
    SchemeState,
    ScoringScheme,
)
from secretariat.participation.models import Level as ParticipationLevel
from secretariat.partners.models import Partner
from secretariat.reporting.models import Audience as CycleAudience
from secretariat.reporting.models import (
    CycleIndicator,
    CycleMember,
    CycleState,
    ReportingCycle,
    Submission,
    SubmissionStatus,
    SubmissionValue,
    ValueSource,
)
from secretariat.stories.models import Story, StoryStatus
from secretariat.vocabularies.models import Term, Vocabulary
from tests.agreements.factories import SECRETARIAT, AgreementFactory
from tests.factories import (
    Base,
    CommitmentFactory,
    ContactFactory,
    EventFactory,
    FunderFactory,
    IndicatorFactory,
    MemberFactory,
    PeerExchangeFactory,
    ReportingCycleFactory,
    TermFactory,
    UserFactory,
)
from tests.partners.factories import PartnerFactory
from tests.stories.factories import StoryFactory


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """An instant in UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- factories ------------------------------------------------------------------------------


class AttendanceFactory(Base):
    """A member's attendance of an event; ``contact`` names the person (None: the member)."""

    class Meta:
        model = Attendance

    #: Attendance has no relationship to its event: give ``event_id``.
    event_id = factory.LazyFunction(lambda: EventFactory().id)
    member = factory.SubFactory(MemberFactory)
    contact = None
    attended = True
    source = AttendanceSource.MANUAL


class CommitmentUpdateFactory(Base):
    class Meta:
        model = CommitmentUpdate

    commitment = factory.SubFactory(CommitmentFactory)
    status = CommitmentStatus.IN_PROGRESS
    narrative = factory.Sequence(lambda n: f"Progress note {n}")
    created_at = factory.LazyFunction(utcnow)


class CycleMemberFactory(Base):
    class Meta:
        model = CycleMember

    cycle = factory.SubFactory(ReportingCycleFactory)
    member = factory.SubFactory(MemberFactory)


class SubmissionFactory(Base):
    class Meta:
        model = Submission

    cycle = factory.SubFactory(ReportingCycleFactory)
    member = factory.SubFactory(MemberFactory)
    status = SubmissionStatus.SUBMITTED
    submitted_at = factory.LazyAttribute(
        lambda o: None if o.status is SubmissionStatus.DRAFT else at(2026, 10, 1)
    )
    first_submitted_at = factory.LazyAttribute(lambda o: o.submitted_at)
    is_late = factory.LazyAttribute(lambda o: None if o.submitted_at is None else False)


class SubmissionValueFactory(Base):
    class Meta:
        model = SubmissionValue

    submission = factory.SubFactory(SubmissionFactory)
    indicator = factory.SubFactory(IndicatorFactory)
    number_value = Decimal("1")
    source = ValueSource.ENTERED


class ScoringSchemeFactory(Base):
    class Meta:
        model = ScoringScheme

    year = 2026
    state = SchemeState.PROVISIONAL


class ParticipationScoreFactory(Base):
    class Meta:
        model = ParticipationScore

    #: ParticipationScore has no relationship to its scheme: give ``scheme_id``.
    scheme_id = factory.LazyFunction(lambda: ScoringSchemeFactory().id)
    member = factory.SubFactory(MemberFactory)
    total = Decimal("50")
    level = ParticipationLevel.ENGAGED
    conditions_outcome = ConditionsOutcome.MEETS


class PublishedStoryFactory(StoryFactory):
    """A published story (``members=[...]`` says whom it is about)."""

    status = StoryStatus.PUBLISHED
    published_at = factory.LazyFunction(utcnow)


# --- helpers --------------------------------------------------------------------------------


def region(label: str, position: int) -> Term:
    return TermFactory(vocabulary=Vocabulary.REGION, label=label, position=position)


def attend(event: Event, member: Member, *, people: int = 1, attended: bool = True) -> None:
    """Record ``people`` contacts of the member at the event (0: the member, nobody named)."""
    if people == 0:
        AttendanceFactory(event_id=event.id, member=member, attended=attended)
    for _n in range(people):
        AttendanceFactory(
            event_id=event.id,
            member=member,
            contact=ContactFactory(member=member),
            attended=attended,
        )


def event_at(starts_at: datetime, title: str | None = None, **fields) -> Event:
    kwargs = {"starts_at": starts_at, **fields}
    if title is not None:
        kwargs["title"] = title
    return EventFactory(**kwargs)


def programme(
    session,
    *,
    name: str = "Clean Air Cities",
    coverage: Coverage = Coverage.CHOSEN,
    members: list[Member] = (),
    group_id: int | None = None,
    indicators: list[tuple[Indicator, str]] = (),
) -> Programme:
    """A programme made by the funding service (2025-2027)."""
    return funding.create_programme(
        session,
        None,
        funding.ProgrammeData(
            name=name,
            starts_on=date(2025, 1, 1),
            ends_on=date(2027, 12, 31),
            coverage=coverage,
            description="Cleaner air in member cities.",
            group_id=group_id,
            member_ids=[m.id for m in members],
            indicators=[(indicator.id, target) for indicator, target in indicators],
        ),
    )


def grant(session, programme: Programme, funder: Funder) -> None:
    funding.create_grant(
        session,
        None,
        funding.GrantData(
            funder_id=funder.id,
            programme_id=programme.id,
            amount="250000",
            currency="EUR",
            starts_on=date(2025, 1, 1),
            ends_on=date(2027, 12, 31),
            frequency=Frequency.ANNUAL,
        ),
    )


def submit(cycle: ReportingCycle, member: Member, indicator: Indicator, value, status) -> None:
    """The member's submission in the cycle with one value (None: no value at all)."""
    submission = SubmissionFactory(cycle=cycle, member=member, status=status)
    if value is not None:
        SubmissionValueFactory(
            submission=submission, indicator=indicator, number_value=Decimal(value)
        )


def pdf_text(content: bytes) -> str:
    """The text of every page of a PDF, whitespace collapsed."""
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def squeeze(text: str) -> str:
    """Text without any whitespace (PDF extraction splits words and numbers unpredictably)."""
    return re.sub(r"\s+", "", text)


# --- the hand-built world -------------------------------------------------------------------


@dataclass
class KnownWorld:
    europe: Term
    africa: Term
    #: Covered: A (large city, Europe), B (medium, Europe), C (small, Africa), D (region,
    #: Africa). E (large city, Africa) is not covered.
    a: Member
    b: Member
    c: Member
    d: Member
    e: Member
    indicator: Indicator
    funder: Funder
    programme: Programme
    staff: User
    events: dict[str, Event] = field(default_factory=dict)
    exchanges: dict[str, PeerExchange] = field(default_factory=dict)
    partners: dict[str, Partner] = field(default_factory=dict)
    agreements: dict[str, Agreement] = field(default_factory=dict)
    commitments: dict[str, Commitment] = field(default_factory=dict)
    cycle: ReportingCycle | None = None
    #: The covered (and not covered) members asked in the 2026 cycle, by letter.
    asked: dict[str, CycleMember] = field(default_factory=dict)
    scheme: ScoringScheme | None = None
    scores: dict[str, ParticipationScore] = field(default_factory=dict)

    @property
    def covered(self) -> list[Member]:
        return [self.a, self.b, self.c, self.d]


def known_world(session) -> KnownWorld:
    europe, africa = region("Europe", 1), region("Africa", 2)
    a = MemberFactory(name="Aveiro", slug="aveiro", country="PT", region=europe, population=600_000)
    b = MemberFactory(name="Braga", slug="braga", country="PT", region=europe, population=150_000)
    c = MemberFactory(
        name="Cotonou", slug="cotonou", country="BJ", region=africa, population=50_000
    )
    d = MemberFactory(
        name="Dakar Region",
        slug="dakar-region",
        country="SN",
        region=africa,
        kind=MemberKind.REGION_OR_STATE,
        population=3_900_000,
    )
    e = MemberFactory(name="Enugu", slug="enugu", country="NG", region=africa, population=800_000)
    indicator = IndicatorFactory(
        code="PM-CUT",
        name="Particulate emissions avoided",
        unit="t",
        level=Level.MEMBER,
        aggregation=Aggregation.SUM,
        direction=Direction.HIGHER_IS_BETTER,
    )
    prog = programme(session, members=[a, b, c, d], indicators=[(indicator, "1000")])
    funder = FunderFactory(name="Blue Sky Foundation")
    grant(session, prog, funder)
    world = KnownWorld(
        europe=europe,
        africa=africa,
        a=a,
        b=b,
        c=c,
        d=d,
        e=e,
        indicator=indicator,
        funder=funder,
        programme=prog,
        staff=UserFactory(name="Sam Staff"),
    )

    # Events: one counted (A with two people, C with one; B registered but did not come).
    forum = event_at(at(2026, 3, 10, 9), "Clean air forum", event_type=EventType.ANNUAL_FORUM)
    attend(forum, a, people=2)
    attend(forum, c, people=0)
    attend(forum, b, attended=False)
    cancelled = event_at(at(2026, 4, 1), "Cancelled webinar", cancelled_at=at(2026, 3, 20))
    attend(cancelled, a)
    last_year = event_at(at(2025, 11, 5), "Webinar of 2025")
    attend(last_year, a)
    others = event_at(at(2026, 5, 5), "Enugu only")
    attend(others, e)
    world.events = {"forum": forum, "cancelled": cancelled, "last_year": last_year, "e": others}

    # Exchanges: three confirmed in 2026 touch covered members, one across regions.
    def exchange(source, target, day, status=ExchangeStatus.CONFIRMED):
        return PeerExchangeFactory(
            from_member=source,
            to_member=target,
            occurred_on=day,
            status=status,
            exchange_type=ExchangeType.STUDY_VISIT,
        )

    world.exchanges = {
        "a_c": exchange(a, c, date(2026, 2, 1)),
        "a_b": exchange(a, b, date(2026, 6, 15)),
        "e_d": exchange(e, d, date(2026, 9, 9)),
        "proposed": exchange(b, c, date(2026, 4, 4), ExchangeStatus.PROPOSED),
        "last_year": exchange(a, c, date(2025, 12, 31)),
    }

    # Agreements: two signed in 2026 with covered members, with partners P1 and P2.
    p1 = PartnerFactory(name="Air Lab", country="DE")
    p2 = PartnerFactory(name="Green Fund", country=None)
    p3 = PartnerFactory(name="Old Partner")
    p4 = PartnerFactory(name="Enugu Partner")
    world.partners = {"p1": p1, "p2": p2, "p3": p3, "p4": p4}

    def signed(title, parties, day, kind=AgreementKind.MOU, status=AgreementStatus.SIGNED):
        return AgreementFactory(
            title=title, parties=parties, signed_on=day, kind=kind, status=status
        )

    world.agreements = {
        "a": signed("Aveiro clean air MoU", [a, p1, SECRETARIAT], date(2026, 3, 1)),
        "bc": signed(
            "Four-party cooperation",
            [b, c, p1, p2],
            date(2026, 10, 20),
            AgreementKind.COOPERATION,
            AgreementStatus.ACTIVE,
        ),
        "last_year": signed("Old MoU", [a, p3], date(2025, 6, 1)),
        "e": signed("Enugu MoU", [e, p4], date(2026, 4, 4)),
        "draft": AgreementFactory(title="Unsigned", parties=[a, p2]),
    }

    # Commitments.
    def commitment(member, title, status, target_on=None):
        return CommitmentFactory(member=member, title=title, status=status, target_on=target_on)

    achieved = CommitmentStatus.ACHIEVED
    world.commitments = {
        "a": commitment(a, "Low emission zone", achieved, date(2026, 12, 31)),
        "b": commitment(b, "Bike lanes", achieved),
        "c": commitment(c, "Bus corridors", CommitmentStatus.IN_PROGRESS),
        "d_off": commitment(d, "Regional heat plan", CommitmentStatus.OFF_TRACK, date(2027, 6, 30)),
        "d_planned": commitment(d, "Tree planting", CommitmentStatus.PLANNED),
        "e": commitment(e, "Enugu plan", CommitmentStatus.IN_PROGRESS),
    }
    CommitmentUpdateFactory(
        commitment=world.commitments["a"],
        status=CommitmentStatus.IN_PROGRESS,
        created_at=at(2025, 9, 1),
    )
    CommitmentUpdateFactory(
        commitment=world.commitments["a"], status=achieved, created_at=at(2026, 5, 1)
    )
    CommitmentUpdateFactory(
        commitment=world.commitments["b"], status=achieved, created_at=at(2025, 11, 11)
    )

    # Reporting: the 2026 cycle asks A-E; A submitted, B verified, C a draft, D nothing.
    cycle = ReportingCycleFactory(
        name="Annual report 2026",
        period="2026",
        opens_on=date(2026, 9, 1),
        due_on=date(2026, 11, 30),
        state=CycleState.OPEN,
        audience=CycleAudience.CHOSEN,
    )
    session.add(CycleIndicator(cycle=cycle, indicator=indicator, position=1))
    world.cycle = cycle
    for letter, member in zip("abcde", [a, b, c, d, e], strict=True):
        world.asked[letter] = CycleMemberFactory(cycle=cycle, member=member)
    submit(cycle, a, indicator, "300", SubmissionStatus.SUBMITTED)
    submit(cycle, b, indicator, "200", SubmissionStatus.VERIFIED)
    submit(cycle, c, indicator, "999", SubmissionStatus.DRAFT)
    submit(cycle, e, indicator, "5000", SubmissionStatus.SUBMITTED)
    # Last year's cycle: neither its value nor its request count for 2026.
    old = ReportingCycleFactory(name="Annual report 2025", period="2025", state=CycleState.CLOSED)
    CycleMemberFactory(cycle=old, member=a)
    submit(old, a, indicator, "7777", SubmissionStatus.VERIFIED)

    # Participation 2026: A leading, B active, C at risk, D computed without a level.
    scheme = ScoringSchemeFactory(year=2026)
    world.scheme = scheme
    for letter, member, level, total in (
        ("a", a, ParticipationLevel.LEADING, "87.5"),
        ("b", b, ParticipationLevel.ACTIVE, "65"),
        ("c", c, ParticipationLevel.AT_RISK, "35"),
        ("d", d, None, None),
        ("e", e, ParticipationLevel.LEADING, "95"),
    ):
        world.scores[letter] = ParticipationScoreFactory(
            scheme_id=scheme.id,
            member=member,
            level=level,
            total=None if total is None else Decimal(total),
        )
    session.flush()
    return world


def story(members: list[Member], title: str, **fields) -> Story:
    """A published story about the members."""
    return PublishedStoryFactory(members=members, title=title, **fields)
