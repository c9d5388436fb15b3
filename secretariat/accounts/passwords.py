"""Password hashing with Argon2id (argon2-cffi)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256


def _hasher() -> PasswordHasher:
    hasher = current_app.extensions.get("secretariat.password_hasher")
    if hasher is None:
        config = current_app.config
        hasher = PasswordHasher(
            time_cost=config["PASSWORD_HASH_TIME_COST"],
            memory_cost=config["PASSWORD_HASH_MEMORY_COST"],
            parallelism=config["PASSWORD_HASH_PARALLELISM"],
        )
        current_app.extensions["secretariat.password_hasher"] = hasher
    return hasher


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; without a stored hash, spend the same time and refuse."""
    hasher = _hasher()
    if password_hash is None:
        hasher.hash(password)
        return False
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


def password_problem(password: str) -> str | None:
    """Return why a new password is unacceptable, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        return _("Use at most %(n)d characters.", n=MAX_PASSWORD_LENGTH)
    if password.strip() == "":
        return _("The password cannot be only spaces.")
    return None
