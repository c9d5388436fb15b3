"""factory_boy factories for partners and their contacts (bound like tests/factories.py)."""

from __future__ import annotations

import factory

from secretariat.members.services import fold
from secretariat.partners.models import Partner, PartnerContact, PartnerKind
from tests.factories import Base


class PartnerFactory(Base):
    class Meta:
        model = Partner

    name = factory.Sequence(lambda n: f"Partner {n}")
    search_name = factory.LazyAttribute(lambda o: fold(o.name))
    kind = PartnerKind.NGO
    country = "DE"


class PartnerContactFactory(Base):
    class Meta:
        model = PartnerContact

    partner = factory.SubFactory(PartnerFactory)
    name = factory.Sequence(lambda n: f"Partner person {n}")
    email = factory.Sequence(lambda n: f"contact{n}@partner.example")
    role = "Programme officer"
