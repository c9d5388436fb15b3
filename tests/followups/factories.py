"""Factories and helpers of the follow-up tests; the shared factories are in tests/factories.py."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import factory
from sqlalchemy import func, select

from secretariat.accounts.models import Role
from secretariat.agreements.models import Agreement, AgreementKind, AgreementStatus
from secretariat.clock import network_today
from secretariat.followups.models import FollowUp, FollowUpStatus, Priority, Recurrence
from tests.factories import Base, UserFactory


class FollowUpFactory(Base):
    class Meta:
        model = FollowUp

    title = factory.Sequence(lambda n: f"Follow-up {n}")
    owner = factory.SubFactory(UserFactory)
    due_on = factory.LazyFunction(lambda: network_today() + timedelta(days=30))
    priority = Priority.NORMAL
    status = FollowUpStatus.OPEN
    recurrence = Recurrence.NONE
    series_start = factory.LazyAttribute(lambda o: o.due_on)
    occurrence = 1


class AgreementFactory(Base):
    """A bare agreement, enough to be the source of a follow-up."""

    class Meta:
        model = Agreement

    kind = AgreementKind.MOU
    title = factory.Sequence(lambda n: f"Agreement {n}")
    status = AgreementStatus.ACTIVE
    owner = factory.SubFactory(UserFactory)


def today() -> date:
    return network_today()


def days(n: int) -> date:
    """The day ``n`` days from the network's today (negative: in the past)."""
    return network_today() + timedelta(days=n)


def focal_point(member=None):
    """A focal point user; of the given member, or of a new one."""
    if member is None:
        return UserFactory(focal_point=True)
    return UserFactory(role=Role.FOCAL_POINT, member=member)


def follow_up_count(db) -> int:
    return db.scalar(select(func.count()).select_from(FollowUp))


def fresh(db, row):
    """The row read again from the database."""
    db.expire_all()
    return db.get(type(row), row.id)


def text(response) -> str:
    """The page's HTML with entities decoded, for assertions on visible text."""
    return html.unescape(response.get_data(as_text=True))


def section(page: str, title_id: str) -> str:
    """The HTML of the page's section labelled by the heading with this id."""
    match = re.search(
        rf'<section aria-labelledby="{title_id}">(.*?)</section>', page, flags=re.DOTALL
    )
    assert match, f"no section {title_id}"
    return match.group(1)


def rows(fragment: str) -> list[list[str]]:
    """The text of each row's cells (header cells included) of the tables in the fragment."""
    found = []
    for row in re.findall(r"<tr>(.*?)</tr>", fragment, flags=re.DOTALL):
        cells = re.findall(r"<t([dh])[^>]*>(.*?)</t[dh]>", row, flags=re.DOTALL)
        if cells and any(kind == "d" for kind, _cell in cells):
            found.append([" ".join(re.sub(r"<[^>]+>", " ", c).split()) for _k, c in cells])
    return found


def titles(fragment: str) -> list[str]:
    """The first cell of each body row: the follow-ups' titles in a follow-up table."""
    return [row[0].removesuffix(" High priority") for row in rows(fragment)]


def field_error(page: str, field_id: str) -> str:
    """The error message shown next to a field; empty when there is none."""
    match = re.search(
        rf'<small id="{field_id}-error" class="field-error">(.*?)</small>', page, flags=re.DOTALL
    )
    return " ".join(match.group(1).split()) if match else ""
