"""Settings read from SECRETARIAT_* environment variables; tests pass overrides."""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_SECRET_KEY = "dev-only-secret-key-change-me"  # noqa: S105 - refused in production


class ConfigError(RuntimeError):
    """The configuration is unusable; the message says what to fix."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(env: os._Environ[str] | dict, name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not a whole number.") from exc


def default_instance_path() -> Path:
    return Path(os.environ.get("SECRETARIAT_INSTANCE_PATH", Path.cwd() / "instance")).resolve()


def load_config(overrides: dict | None = None) -> dict:
    """Build the configuration mapping from the environment, then apply overrides."""
    env = os.environ
    instance_path = default_instance_path()
    config: dict = {
        "ENV": env.get("SECRETARIAT_ENV", "development"),
        "SECRET_KEY": env.get("SECRETARIAT_SECRET_KEY", DEFAULT_SECRET_KEY),
        "DATABASE_URL": env.get(
            "SECRETARIAT_DATABASE_URL", f"sqlite:///{instance_path / 'secretariat.db'}"
        ),
        "BASE_URL": env.get("SECRETARIAT_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "SMTP_URL": env.get("SECRETARIAT_SMTP_URL") or None,
        "MAIL_FROM": env.get("SECRETARIAT_MAIL_FROM", "Secretariat <no-reply@secretariat.local>"),
        "OUTBOX_PATH": env.get("SECRETARIAT_OUTBOX_PATH", str(instance_path / "outbox")),
        "UPLOAD_PATH": env.get("SECRETARIAT_UPLOAD_PATH", str(instance_path / "uploads")),
        "TIMEZONE": env.get("SECRETARIAT_TIMEZONE", "UTC"),
        "NETWORK_NAME": env.get("SECRETARIAT_NETWORK_NAME", "Secretariat"),
        "DEFAULT_LOCALE": env.get("SECRETARIAT_LOCALE", "en"),
        "INSTANCE_PATH": str(instance_path),
        "TESTING": False,
        # Cookies: secure unless explicitly served over plain HTTP in development.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DURATION": 30 * 24 * 3600,
        # A 20 MB document plus the form around it.
        "MAX_CONTENT_LENGTH": 21 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
        # Argon2id parameters (RFC 9106 second recommended option); tests lower them.
        "PASSWORD_HASH_TIME_COST": 3,
        "PASSWORD_HASH_MEMORY_COST": 65536,
        "PASSWORD_HASH_PARALLELISM": 4,
        "MAGIC_LINK_MINUTES": 15,
        "PASSWORD_RESET_MINUTES": 60,
        "INVITATION_DAYS": 7,
        "LOGIN_FREE_ATTEMPTS": 5,
        "LOGIN_MAX_DELAY_SECONDS": 15 * 60,
        "MEMBERS_PER_PAGE": 25,
        # Reminders: sent at this hour of the network's day; a scan looks this far back, and
        # skips (and logs) reminders that fell due longer ago than the maximum lateness.
        "REMINDER_HOUR": _int(env, "SECRETARIAT_REMINDER_HOUR", 8),
        "REMINDER_LOOKBACK_DAYS": _int(env, "SECRETARIAT_REMINDER_LOOKBACK_DAYS", 14),
        "REMINDER_MAX_LATENESS_HOURS": _int(env, "SECRETARIAT_REMINDER_MAX_LATENESS_HOURS", 36),
        # Outbox delivery: a claim lasts this long; failures are retried for this many hours.
        "OUTBOX_LEASE_SECONDS": _int(env, "SECRETARIAT_OUTBOX_LEASE_SECONDS", 300),
        "OUTBOX_RETRY_HOURS": _int(env, "SECRETARIAT_OUTBOX_RETRY_HOURS", 24),
        "OUTBOX_BATCH_SIZE": _int(env, "SECRETARIAT_OUTBOX_BATCH_SIZE", 100),
        # The scheduler process: how often a standby checks whether it may take over.
        "SCHEDULER_STANDBY_POLL_SECONDS": _int(
            env, "SECRETARIAT_SCHEDULER_STANDBY_POLL_SECONDS", 15
        ),
        "SCHEDULER_HEARTBEAT_SECONDS": _int(env, "SECRETARIAT_SCHEDULER_HEARTBEAT_SECONDS", 30),
    }
    secure_default = config["BASE_URL"].startswith("https://")
    secure = _bool(env.get("SECRETARIAT_SECURE_COOKIES"), secure_default)
    config["SESSION_COOKIE_SECURE"] = secure
    config["REMEMBER_COOKIE_SECURE"] = secure
    if overrides:
        config.update(overrides)
    validate(config)
    return config


def validate(config: dict) -> None:
    """Refuse configurations that would be unsafe or unusable."""
    if config["ENV"] == "production" and config["SECRET_KEY"] == DEFAULT_SECRET_KEY:
        raise ConfigError(
            "SECRETARIAT_SECRET_KEY must be set to a long random value in production "
            "(SECRETARIAT_ENV=production)."
        )
    if not 0 <= config["REMINDER_HOUR"] <= 23:
        raise ConfigError("SECRETARIAT_REMINDER_HOUR must be an hour from 0 to 23.")
    for name in (
        "REMINDER_LOOKBACK_DAYS",
        "REMINDER_MAX_LATENESS_HOURS",
        "OUTBOX_LEASE_SECONDS",
        "OUTBOX_RETRY_HOURS",
        "OUTBOX_BATCH_SIZE",
        "SCHEDULER_STANDBY_POLL_SECONDS",
        "SCHEDULER_HEARTBEAT_SECONDS",
    ):
        if config[name] < 1:
            raise ConfigError(f"SECRETARIAT_{name} must be at least 1.")
    try:
        ZoneInfo(config["TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"SECRETARIAT_TIMEZONE={config['TIMEZONE']!r} is not a known IANA time zone."
        ) from exc
