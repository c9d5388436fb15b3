"""Account operations: sign-in, e-mailed links, invitations, user administration."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, render_template
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from secretariat.accounts import passwords
from secretariat.accounts.models import LoginToken, Role, TokenPurpose, User
from secretariat.db import utcnow
from secretariat.funding.models import Funder
from secretariat.mail import send_mail
from secretariat.members.models import Contact, Member


class AccountError(Exception):
    """An account operation was refused; the message is shown to the user."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class SignInThrottled(AccountError):
    """Too many failed password attempts; try again later or use an e-mailed link."""


def normalize_email(email: str) -> str:
    return email.strip().lower()


def new_session_token() -> str:
    return secrets.token_hex(16)


def rotate_session(user: User) -> None:
    """End every session and remember-me cookie of the user."""
    user.session_token = new_session_token()


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalize_email(email)))


def load_session_user(session: Session, session_id: str) -> User | None:
    """Return the active user whose Flask-Login id ("<id>:<token>") is still valid."""
    user_id, _sep, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = session.get(User, int(user_id))
    if user is None or not user.is_active:
        return None
    if not secrets.compare_digest(user.session_token, token):
        return None
    return user


# -- passwords and sign-in ---------------------------------------------------------------


def set_password(user: User, password: str) -> None:
    problem = passwords.password_problem(password)
    if problem:
        raise AccountError(problem, field="password")
    user.password_hash = passwords.hash_password(password)
    rotate_session(user)


def _throttle_delay(failures: int) -> timedelta | None:
    free = current_app.config["LOGIN_FREE_ATTEMPTS"]
    if failures < free:
        return None
    seconds = min(30 * 2 ** (failures - free), current_app.config["LOGIN_MAX_DELAY_SECONDS"])
    return timedelta(seconds=seconds)


def authenticate(session: Session, email: str, password: str, now: datetime | None = None) -> User:
    """Check an e-mail and password; count failures and slow down repeated ones."""
    now = now or utcnow()
    invalid = AccountError(_("The e-mail address or password is not right."))
    user = get_user_by_email(session, email)
    if user is None:
        passwords.verify_password(None, password)  # same cost as a real check
        raise invalid
    if user.login_blocked_until is not None and user.login_blocked_until > now:
        minutes = max(1, int((user.login_blocked_until - now).total_seconds() + 59) // 60)
        raise SignInThrottled(
            _(
                "Too many failed attempts. Try again in %(minutes)d minute(s), "
                "or sign in with a link sent by e-mail.",
                minutes=minutes,
            )
        )
    if not passwords.verify_password(user.password_hash, password):
        user.failed_logins += 1
        delay = _throttle_delay(user.failed_logins)
        user.login_blocked_until = now + delay if delay else None
        session.flush()
        raise invalid
    if not user.is_active:
        raise AccountError(_("This account has been deactivated. Ask the secretariat."))
    if user.password_hash and passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    record_sign_in(session, user, now)
    return user


def record_sign_in(session: Session, user: User, now: datetime | None = None) -> None:
    """Reset failure counters and invalidate outstanding magic links after a sign-in."""
    now = now or utcnow()
    user.failed_logins = 0
    user.login_blocked_until = None
    user.last_login_at = now
    _invalidate_tokens(session, user, TokenPurpose.MAGIC_LINK, now)
    session.flush()


# -- e-mailed links -------------------------------------------------------------------------


def _lifetime(purpose: TokenPurpose) -> timedelta:
    config = current_app.config
    if purpose is TokenPurpose.MAGIC_LINK:
        return timedelta(minutes=config["MAGIC_LINK_MINUTES"])
    if purpose is TokenPurpose.PASSWORD_RESET:
        return timedelta(minutes=config["PASSWORD_RESET_MINUTES"])
    return timedelta(days=config["INVITATION_DAYS"])


def _invalidate_tokens(session: Session, user: User, purpose: TokenPurpose, now: datetime) -> None:
    session.execute(
        update(LoginToken)
        .where(
            LoginToken.user_id == user.id,
            LoginToken.purpose == purpose,
            LoginToken.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )


def issue_token(
    session: Session, user: User, purpose: TokenPurpose, now: datetime | None = None
) -> str:
    """Create a single-use token, invalidating the user's older ones of the same purpose."""
    now = now or utcnow()
    _invalidate_tokens(session, user, purpose, now)
    raw = secrets.token_urlsafe(32)
    session.add(
        LoginToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=_hash_token(raw),
            created_at=now,
            expires_at=now + _lifetime(purpose),
        )
    )
    session.flush()
    return raw


def find_token(
    session: Session, raw: str, purpose: TokenPurpose, now: datetime | None = None
) -> LoginToken | None:
    """Return the token if it is unused, unexpired and its user is active; else None."""
    now = now or utcnow()
    token = session.scalar(
        select(LoginToken).where(
            LoginToken.token_hash == _hash_token(raw), LoginToken.purpose == purpose
        )
    )
    if token is None or token.used_at is not None or token.expires_at <= now:
        return None
    if not token.user.is_active:
        return None
    return token


def consume_token(
    session: Session, raw: str, purpose: TokenPurpose, now: datetime | None = None
) -> User:
    """Use a token once; refuse an unknown, used or expired one."""
    now = now or utcnow()
    token = find_token(session, raw, purpose, now)
    if token is None:
        raise AccountError(_("This link has expired or has already been used."))
    # Guarded update: of two concurrent requests with the same token only one wins.
    result = session.execute(
        update(LoginToken)
        .where(LoginToken.id == token.id, LoginToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise AccountError(_("This link has expired or has already been used."))
    session.refresh(token)
    return token.user


def _link(endpoint_path: str, raw: str) -> str:
    return f"{current_app.config['BASE_URL']}{endpoint_path}/{raw}"


def _mail_link_to_active_user(
    session: Session,
    email: str,
    purpose: TokenPurpose,
    subject: str,
    template: str,
    path: str,
    minutes_setting: str,
) -> None:
    user = get_user_by_email(session, email)
    if user is None or not user.is_active:
        return  # same answer whether or not the address has an account
    raw = issue_token(session, user, purpose)
    body = render_template(
        template, user=user, link=_link(path, raw), minutes=current_app.config[minutes_setting]
    )
    send_mail(user.email, subject, body)


def send_magic_link(session: Session, email: str) -> None:
    """Mail a sign-in link if the address belongs to an active user; silent otherwise."""
    _mail_link_to_active_user(
        session,
        email,
        TokenPurpose.MAGIC_LINK,
        _("Your sign-in link"),
        "mail/magic_link.txt",
        "/sign-in/link",
        "MAGIC_LINK_MINUTES",
    )


def send_password_reset(session: Session, email: str) -> None:
    """Mail a password-reset link if the address belongs to an active user; silent otherwise."""
    _mail_link_to_active_user(
        session,
        email,
        TokenPurpose.PASSWORD_RESET,
        _("Reset your password"),
        "mail/password_reset.txt",
        "/password/reset",
        "PASSWORD_RESET_MINUTES",
    )


def send_invitation(session: Session, user: User, invited_by: User | None) -> None:
    raw = issue_token(session, user, TokenPurpose.INVITATION)
    send_mail(
        user.email,
        _("You are invited to %(network)s", network=current_app.config["NETWORK_NAME"]),
        render_template(
            "mail/invitation.txt",
            user=user,
            invited_by=invited_by,
            link=_link("/invitation", raw),
            days=current_app.config["INVITATION_DAYS"],
        ),
    )


# -- user administration --------------------------------------------------------------------


@dataclass
class UserData:
    email: str
    name: str
    role: Role
    member: Member | None = None
    funder: Funder | None = None
    contact: Contact | None = None


def _check_binding(data: UserData) -> None:
    if data.role is Role.FOCAL_POINT and data.member is None:
        raise AccountError(_("A focal point must belong to a member."), field="member")
    if data.role is Role.FUNDER and data.funder is None:
        raise AccountError(_("A funder user must belong to a funder."), field="funder")
    if data.contact is not None and (
        data.member is None or data.contact.member_id != data.member.id
    ):
        raise AccountError(_("The contact does not belong to that member."), field="contact")


def _apply(user: User, data: UserData) -> None:
    user.email = normalize_email(data.email)
    user.name = data.name.strip()
    user.role = data.role
    user.member_id = data.member.id if data.role is Role.FOCAL_POINT and data.member else None
    user.funder_id = data.funder.id if data.role is Role.FUNDER and data.funder else None
    user.contact_id = data.contact.id if user.member_id and data.contact else None


def create_user(session: Session, data: UserData, password: str | None = None) -> User:
    """Create a user (validating everything first); without a password they need an invite."""
    email = normalize_email(data.email)
    if get_user_by_email(session, email) is not None:
        raise AccountError(_("A user with this e-mail address already exists."), field="email")
    _check_binding(data)
    if password is not None:
        problem = passwords.password_problem(password)
        if problem:
            raise AccountError(problem, field="password")
    user = User(session_token=new_session_token(), email=email, name="", role=data.role)
    _apply(user, data)
    if password is not None:
        user.password_hash = passwords.hash_password(password)
    session.add(user)
    session.flush()
    return user


def invite_user(session: Session, data: UserData, invited_by: User | None) -> User:
    user = create_user(session, data)
    send_invitation(session, user, invited_by)
    return user


def update_user(session: Session, actor: User, user: User, data: UserData) -> None:
    email = normalize_email(data.email)
    other = get_user_by_email(session, email)
    if other is not None and other.id != user.id:
        raise AccountError(_("A user with this e-mail address already exists."), field="email")
    _check_binding(data)
    if user.id == actor.id and data.role is not Role.ADMIN:
        raise AccountError(_("You cannot remove your own administrator role."), field="role")
    if user.role is Role.ADMIN and data.role is not Role.ADMIN:
        _ensure_other_admin(session, user)
    if data.contact is None and data.member is not None and data.member.id == user.member_id:
        data.contact = user.contact  # editing a focal point keeps the link to its contact
    changed_scope = (user.role, user.member_id, user.funder_id) != (
        data.role,
        data.member.id if data.member else None,
        data.funder.id if data.funder else None,
    )
    _apply(user, data)
    if changed_scope:
        rotate_session(user)  # new rights take effect at the next sign-in
    session.flush()


def _ensure_other_admin(session: Session, user: User) -> None:
    others = session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.ADMIN, User.is_active.is_(True), User.id != user.id)
    )
    if not others:
        raise AccountError(_("The network needs at least one active administrator."))


def deactivate_user(session: Session, actor: User, user: User) -> None:
    if user.id == actor.id:
        raise AccountError(_("You cannot deactivate your own account."))
    if user.role is Role.ADMIN:
        _ensure_other_admin(session, user)
    user.is_active = False
    rotate_session(user)
    session.flush()


def reactivate_user(session: Session, user: User) -> None:
    user.is_active = True
    user.failed_logins = 0
    user.login_blocked_until = None
    session.flush()


def invalidate_password_links(session: Session, user: User) -> None:
    """After a new password, outstanding invitation and reset links must not replace it."""
    now = utcnow()
    for purpose in (TokenPurpose.PASSWORD_RESET, TokenPurpose.INVITATION):
        _invalidate_tokens(session, user, purpose, now)


def change_password(session: Session, user: User, current: str, new: str) -> None:
    if not passwords.verify_password(user.password_hash, current):
        raise AccountError(_("The current password is not right."), field="current_password")
    set_password(user, new)
    invalidate_password_links(session, user)
    session.flush()
