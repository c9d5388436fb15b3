"""Import every feature's models so that Alembic and tooling see the whole schema."""

from secretariat.accounts.models import LoginToken, Role, TokenPurpose, User
from secretariat.db import Base
from secretariat.funding.models import Funder
from secretariat.members.models import (
    Contact,
    ContactRole,
    Member,
    MemberKind,
    MemberStatus,
    MemberStatusChange,
)
from secretariat.vocabularies.models import Term, Vocabulary

__all__ = [
    "Base",
    "Contact",
    "ContactRole",
    "Funder",
    "LoginToken",
    "Member",
    "MemberKind",
    "MemberStatus",
    "MemberStatusChange",
    "Role",
    "Term",
    "TokenPurpose",
    "User",
    "Vocabulary",
]
