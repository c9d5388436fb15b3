"""Fixtures and helpers shared by the commitment tests."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from secretariat.clock import network_today
from secretariat.commitments.models import Commitment, CommitmentUpdate, EvidenceDocument
from secretariat.db import utcnow
from secretariat.vocabularies.models import Term, Vocabulary
from tests.factories import MemberFactory, TermFactory, UserFactory


@pytest.fixture
def staff(db):
    return UserFactory(name="Sofia Staff")


@pytest.fixture
def lisbon(db):
    return MemberFactory(name="Lisbon", slug="lisbon", region=TermFactory(label="Europe"))


@pytest.fixture
def porto(db):
    return MemberFactory(name="Porto", slug="porto")


@pytest.fixture
def focal(db, lisbon):
    """A focal point of Lisbon."""
    return UserFactory(focal_point=True, member=lisbon, name="Lena Focal")


@pytest.fixture
def other_focal(db, porto):
    """A focal point of Porto, who must never reach Lisbon's commitments."""
    return UserFactory(focal_point=True, member=porto, name="Pedro Focal")


def category(db, label: str) -> Term:
    """One of the categories every network starts with (seeded by the migration)."""
    term = db.scalar(
        select(Term).where(Term.vocabulary == Vocabulary.COMMITMENT_CATEGORY, Term.label == label)
    )
    assert term is not None, label
    return term


@pytest.fixture
def mitigation(db) -> Term:
    return category(db, "Mitigation")


@pytest.fixture
def health(db) -> Term:
    return category(db, "Health")


def today() -> date:
    return network_today()


def days(n: int) -> date:
    """The network's day ``n`` days from today (negative: in the past)."""
    return today() + timedelta(days=n)


def ago(n: int) -> datetime:
    """The instant ``n`` days ago."""
    return utcnow() - timedelta(days=n)


def fresh(db, row):
    """The row read again from the database."""
    db.expire_all()
    return db.get(type(row), row.id)


def table_counts(db) -> dict[str, int]:
    """How many rows each commitment table holds, to check that nothing was written."""
    return {
        model.__tablename__: db.scalar(select(func.count()).select_from(model))
        for model in (Commitment, CommitmentUpdate, EvidenceDocument)
    }


def file_part(content: bytes, name: str):
    """A file as a multipart form field value of the test client."""
    return (io.BytesIO(content), name)


@pytest.fixture
def login(auth, client):
    """Sign in, and show the first page so that the welcome message is out of the way."""

    def sign_in(user):
        auth.login(user)
        client.get("/")
        return user

    return sign_in
