"""factory_boy factories for agreements (bound like tests/factories.py)."""

from __future__ import annotations

from datetime import date

import factory

from secretariat.agreements.models import (
    Agreement,
    AgreementChange,
    AgreementDocument,
    AgreementKind,
    AgreementParty,
    AgreementStatus,
    ChangeKind,
    DocumentType,
    Obligation,
)
from secretariat.members.models import Member
from secretariat.partners.models import Partner
from tests.factories import Base, MemberFactory, UserFactory

#: Stands for the secretariat in ``AgreementFactory(parties=[...])``.
SECRETARIAT = "secretariat"


class AgreementFactory(Base):
    """A draft between the secretariat and one member, unless told otherwise.

    ``parties=[SECRETARIAT, member, partner, ...]`` chooses the parties, in order.
    Traits ``signed`` and ``active`` fill in the dates those statuses need.
    """

    class Meta:
        model = Agreement

    kind = AgreementKind.MOU
    title = factory.Sequence(lambda n: f"Agreement {n}")
    status = AgreementStatus.DRAFT
    owner = factory.SubFactory(UserFactory)

    class Params:
        signed = factory.Trait(status=AgreementStatus.SIGNED, signed_on=date(2025, 3, 10))
        active = factory.Trait(
            status=AgreementStatus.ACTIVE,
            signed_on=date(2025, 3, 10),
            effective_from=date(2025, 4, 1),
        )

    @factory.post_generation
    def parties(self, create, extracted, **kwargs):
        chosen = [SECRETARIAT, MemberFactory()] if extracted is None else extracted
        for position, party in enumerate(chosen):
            AgreementPartyFactory(agreement=self, position=position, **party_fields(party))


def party_fields(party) -> dict:
    if party == SECRETARIAT:
        return {"member": None, "is_secretariat": True}
    if isinstance(party, Member):
        return {"member": party}
    if isinstance(party, Partner):
        return {"member": None, "partner": party}
    raise TypeError(f"not a party: {party!r}")


class AgreementPartyFactory(Base):
    class Meta:
        model = AgreementParty

    agreement = factory.SubFactory(AgreementFactory, parties=[SECRETARIAT])
    member = factory.SubFactory(MemberFactory)
    is_secretariat = False
    position = factory.Sequence(lambda n: n + 1)


class ObligationFactory(Base):
    """An obligation without a follow-up (services create both; this is for read tests)."""

    class Meta:
        model = Obligation

    agreement = factory.SubFactory(AgreementFactory)
    party = factory.LazyAttribute(lambda o: o.agreement.parties[0])
    description = factory.Sequence(lambda n: f"Report on action {n}")
    due_on = date(2026, 6, 30)


class AgreementDocumentFactory(Base):
    """A document record without a stored file (for read tests)."""

    class Meta:
        model = AgreementDocument

    agreement = factory.SubFactory(AgreementFactory)
    filename = factory.Sequence(lambda n: f"annex-{n}.pdf")
    file_type = DocumentType.PDF
    size = 1234
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    uploaded_by = factory.SubFactory(UserFactory)


class AgreementChangeFactory(Base):
    class Meta:
        model = AgreementChange

    agreement = factory.SubFactory(AgreementFactory)
    kind = ChangeKind.EDITED
