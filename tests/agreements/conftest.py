"""Fixtures and helpers shared by the agreement tests."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from babel.dates import format_date
from sqlalchemy import func, select

from secretariat.agreements.models import (
    Agreement,
    AgreementChange,
    AgreementDocument,
    AgreementParty,
    Obligation,
)
from secretariat.clock import network_today
from secretariat.followups.models import FollowUp
from tests.factories import ContactFactory, MemberFactory, UserFactory


@pytest.fixture
def staff(db):
    return UserFactory(name="Sofia Staff")


@pytest.fixture
def colleague(db):
    return UserFactory(name="Carlos Colleague")


@pytest.fixture
def focal(db):
    """A focal point of Lisbon, with a current contact under the user's own address."""
    user = UserFactory(focal_point=True, member=MemberFactory(name="Lisbon", slug="lisbon"))
    ContactFactory(member=user.member, name="Own Focal", email=user.email, is_primary=True)
    return user


def today() -> date:
    """The network's calendar day now."""
    return network_today()


def days(n: int) -> date:
    """The network's day ``n`` days from today (negative: in the past)."""
    return today() + timedelta(days=n)


def shown(day: date) -> str:
    """A date as the pages and messages show it (Babel's medium format, English)."""
    return format_date(day, "medium", locale="en")


def fresh(db, row):
    """The row read again from the database."""
    db.expire_all()
    return db.get(type(row), row.id)


def table_counts(db) -> dict[str, int]:
    """How many rows each agreement table holds, to check that nothing was written."""
    return {
        model.__tablename__: db.scalar(select(func.count()).select_from(model))
        for model in (
            Agreement,
            AgreementParty,
            AgreementChange,
            AgreementDocument,
            Obligation,
            FollowUp,
        )
    }
