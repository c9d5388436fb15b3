"""factory_boy factories for programmes, grants and their reports (bound like tests/factories.py).

Grants made here owe no reports unless given some: tests that need the schedule use the service.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import factory

from secretariat.funding.models import (
    Coverage,
    Frequency,
    Grant,
    GrantReport,
    Programme,
    ProgrammeIndicator,
    ProgrammeMember,
)
from tests.factories import Base, FunderFactory, IndicatorFactory, MemberFactory


class ProgrammeFactory(Base):
    class Meta:
        model = Programme

    name = factory.Sequence(lambda n: f"Programme {n}")
    slug = factory.Sequence(lambda n: f"programme-{n}")
    starts_on = date(2025, 1, 1)
    ends_on = date(2027, 12, 31)
    coverage = Coverage.ALL


class ProgrammeMemberFactory(Base):
    class Meta:
        model = ProgrammeMember

    programme = factory.SubFactory(ProgrammeFactory, coverage=Coverage.CHOSEN)
    member = factory.SubFactory(MemberFactory)


class ProgrammeIndicatorFactory(Base):
    class Meta:
        model = ProgrammeIndicator

    programme = factory.SubFactory(ProgrammeFactory)
    indicator = factory.SubFactory(IndicatorFactory)
    target = Decimal("100")
    position = factory.Sequence(lambda n: n)


class GrantFactory(Base):
    class Meta:
        model = Grant

    funder = factory.SubFactory(FunderFactory)
    programme = factory.SubFactory(ProgrammeFactory)
    amount = Decimal("100000.00")
    currency = "EUR"
    starts_on = date(2025, 1, 1)
    ends_on = date(2026, 12, 31)
    frequency = Frequency.ANNUAL


class GrantReportFactory(Base):
    class Meta:
        model = GrantReport

    grant = factory.SubFactory(GrantFactory)
    period_start = date(2025, 1, 1)
    period_end = date(2025, 12, 31)
    due_on = date(2026, 3, 1)
