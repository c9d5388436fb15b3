"""User accounts, roles and the single-use tokens of e-mailed links."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from secretariat.db import Base, enum_type, utcnow
from secretariat.funding.models import Funder
from secretariat.members.models import Contact, Member


class Role(enum.StrEnum):
    ADMIN = "admin"
    STAFF = "staff"
    FOCAL_POINT = "focal_point"
    FUNDER = "funder"


class TokenPurpose(enum.StrEnum):
    MAGIC_LINK = "magic_link"
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a purpose, not a secret


class User(Base):
    """Someone who signs in: secretariat staff, a member's focal point or a funder."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "(role = 'focal_point') = (member_id IS NOT NULL)", name="focal_point_has_member"
        ),
        CheckConstraint("(role = 'funder') = (funder_id IS NOT NULL)", name="funder_has_funder"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-cased; sign-in compares lower-cased input.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column()
    role: Mapped[Role] = mapped_column(enum_type(Role))
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="RESTRICT"), index=True
    )
    funder_id: Mapped[int | None] = mapped_column(
        ForeignKey("funders.id", ondelete="RESTRICT"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())
    #: Part of the Flask-Login session identifier; rotating it ends every session at once.
    session_token: Mapped[str] = mapped_column(String(64))
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Password sign-in is refused until then (growing delay after repeated failures).
    login_blocked_until: Mapped[datetime | None] = mapped_column()
    last_login_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    member: Mapped[Member | None] = relationship()
    funder: Mapped[Funder | None] = relationship()
    contact: Mapped[Contact | None] = relationship()

    # Flask-Login interface.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.ADMIN, Role.STAFF)

    def __str__(self) -> str:
        return self.name or self.email


class LoginToken(Base):
    """A single-use token sent by e-mail (magic link, invitation, password reset)."""

    __tablename__ = "login_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[TokenPurpose] = mapped_column(enum_type(TokenPurpose))
    #: SHA-256 of the token: a database leak does not leak usable links.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship()
