"""Helpers shared by the working-group tests."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from secretariat.db import utcnow
from secretariat.groups.models import GroupMembership, WorkingGroup
from tests.factories import UserFactory


def today() -> date:
    return utcnow().date()


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
    """The text of each body cell of the tables in the fragment, row by row."""
    found = []
    for row in re.findall(r"<tr>(.*?)</tr>", fragment, flags=re.DOTALL):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.DOTALL)
        if cells:
            found.append([" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in cells])
    return found


def field_error(page: str, field_id: str) -> str:
    """The error message shown next to a field; empty when there is none."""
    match = re.search(
        rf'<small id="{field_id}-error" class="field-error">(.*?)</small>', page, flags=re.DOTALL
    )
    return " ".join(match.group(1).split()) if match else ""


def table_counts(db) -> tuple[int, int]:
    """How many groups and memberships there are, to check that nothing was written."""
    return (
        db.scalar(select(func.count()).select_from(WorkingGroup)),
        db.scalar(select(func.count()).select_from(GroupMembership)),
    )


def memberships_of(db, group, member) -> list[GroupMembership]:
    """A member's memberships of a group, oldest first, read fresh from the database."""
    db.expire_all()
    return list(
        db.scalars(
            select(GroupMembership)
            .where(GroupMembership.group_id == group.id, GroupMembership.member_id == member.id)
            .order_by(GroupMembership.joined_on, GroupMembership.id)
        )
    )


@pytest.fixture
def staff(db):
    return UserFactory(name="Tomás Lindqvist")


@pytest.fixture
def signed_in_staff(staff, auth):
    auth.login(staff)
    return staff
