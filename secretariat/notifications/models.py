"""Reminder rules, the notification outbox, delivery preferences and the scheduler's state."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from secretariat.accounts.models import User
from secretariat.db import Base, enum_type, utcnow


class Category(enum.StrEnum):
    """What a message is about; people choose how they get each category."""

    FOLLOW_UPS = "follow_ups"
    AGREEMENTS = "agreements"
    REPORTING = "reporting"
    #: Staff escalations (late members after a cycle's grace period): never turned off.
    ESCALATIONS = "escalations"
    COMMITMENTS = "commitments"
    EVENTS = "events"
    FEES = "fees"
    #: The weekly digest itself.
    DIGEST = "digest"


class RuleKind(enum.StrEnum):
    """What a rule watches. The offset is in days from the kind's anchor date."""

    #: Anchor: the follow-up's due day. Negative offsets remind before it.
    FOLLOW_UP_DUE = "follow_up_due"
    #: Anchor: the agreement's last day.
    AGREEMENT_EXPIRING = "agreement_expiring"
    #: Anchor: the first day of the agreement's renewal notice period.
    AGREEMENT_RENEWAL_NOTICE = "agreement_renewal_notice"
    #: Anchor: the cycle's opening day (or the moment staff opened it, if later).
    CYCLE_OPENED = "cycle_opened"
    #: Anchor: the cycle's due day.
    CYCLE_DUE = "cycle_due"
    #: Anchor: the cycle's due day; positive offsets.
    CYCLE_OVERDUE = "cycle_overdue"
    #: Anchor: the last day of the cycle's grace period (its due day without one).
    CYCLE_ESCALATION = "cycle_escalation"
    #: Anchor: the commitment's last update (or its creation); the offset is the silence.
    COMMITMENT_STALE = "commitment_stale"
    #: Anchor: the event's first day.
    EVENT_START = "event_start"
    #: Anchor: the anniversary of the member's joining day.
    FEE_RENEWAL = "fee_renewal"


class NotificationStatus(enum.StrEnum):
    #: Waiting for delivery (or for its next attempt after a failure).
    QUEUED = "queued"
    #: Claimed by a delivery pass; released again if the lease runs out.
    SENDING = "sending"
    SENT = "sent"
    #: Gave up after the retry period, or the server refused the address for good.
    FAILED = "failed"
    #: Kept for the recipient's weekly digest.
    HELD = "held"
    #: Sent as part of a digest.
    DIGESTED = "digested"
    #: Not sent: too late to be useful (past the maximum lateness).
    SKIPPED = "skipped"
    #: Not sent: the reason for it went away before delivery (submitted, done...).
    CANCELLED = "cancelled"


class DeliveryMode(enum.StrEnum):
    IMMEDIATELY = "immediately"
    DIGEST = "digest"
    OFF = "off"


class ReminderRule(Base):
    """A reminder sent ``offset_days`` from a kind's anchor date; admins enable and tune it."""

    __tablename__ = "reminder_rules"
    __table_args__ = (
        UniqueConstraint("kind", "offset_days"),
        CheckConstraint("offset_days BETWEEN -366 AND 366", name="offset_within_a_year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[RuleKind] = mapped_column(enum_type(RuleKind))
    offset_days: Mapped[int] = mapped_column()
    enabled: Mapped[bool] = mapped_column(default=True)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    updated_by: Mapped[User | None] = relationship()


class Notification(Base):
    """One message to one recipient: the outbox row that delivery claims, sends and marks."""

    __tablename__ = "notifications"
    __table_args__ = (
        # Delivery looks for due rows among the few queued or sending ones.
        Index(
            "ix_notifications_deliverable",
            "next_attempt_at",
            sqlite_where=text("status IN ('queued', 'sending')"),
            postgresql_where=text("status IN ('queued', 'sending')"),
        ),
        Index(
            "ix_notifications_held",
            "recipient_email",
            sqlite_where=text("status = 'held'"),
            postgresql_where=text("status = 'held'"),
        ),
        Index("ix_notifications_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: rule, subject, occurrence and recipient: the same reminder is never queued twice.
    dedup_key: Mapped[str] = mapped_column(String(700), unique=True)
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("reminder_rules.id", ondelete="SET NULL"), index=True
    )
    category: Mapped[Category] = mapped_column(enum_type(Category), index=True)
    #: What the message is about ("follow_up", "agreement", "cycle", ...) and its id.
    subject_kind: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int | None] = mapped_column()
    #: The anchor date (or instant) the reminder was computed from, ISO formatted.
    occurrence: Mapped[str] = mapped_column(String(40))
    recipient_email: Mapped[str] = mapped_column(String(320), index=True)
    recipient_name: Mapped[str | None] = mapped_column()
    recipient_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    recipient_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    language: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(500))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    #: The direct link to the item, listed again in digests.
    link: Mapped[str | None] = mapped_column(String(1000))
    #: When the reminder fell due.
    due_at: Mapped[datetime] = mapped_column()
    status: Mapped[NotificationStatus] = mapped_column(enum_type(NotificationStatus))
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    #: A claim by a delivery pass ends at this instant; after it another pass may take over.
    lease_until: Mapped[datetime | None] = mapped_column()
    claim_token: Mapped[str | None] = mapped_column(String(32))
    first_attempt_at: Mapped[datetime | None] = mapped_column()
    last_attempt_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column()
    message_id: Mapped[str | None] = mapped_column(String(255))
    #: Why it was skipped, cancelled or failed, in words for the outbox page.
    reason: Mapped[str | None] = mapped_column(Text)
    #: The digest that carried this held reminder.
    digest_id: Mapped[int | None] = mapped_column(
        ForeignKey("notifications.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: An admin who asked for another attempt after a failure.
    retried_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    rule: Mapped[ReminderRule | None] = relationship()


class NotificationPreference(Base):
    """How one address wants one category: immediately (the default), weekly, or not at all.

    Keyed by the lower-cased address, so a person who is both a user and a member's contact
    has one set of choices, and contacts without an account can choose through their link.
    """

    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("email", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    category: Mapped[Category] = mapped_column(enum_type(Category))
    mode: Mapped[DeliveryMode] = mapped_column(enum_type(DeliveryMode))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class JobRun(Base):
    """The last run of each scheduled job: for catching up after downtime and for admins."""

    __tablename__ = "scheduler_job_runs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_started_at: Mapped[datetime | None] = mapped_column()
    last_finished_at: Mapped[datetime | None] = mapped_column()
    last_ok: Mapped[bool | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    #: host:pid of the scheduler process that ran it.
    last_runner: Mapped[str | None] = mapped_column(String(300))
    #: What the run did, in a few words ("3 queued, 1 skipped").
    last_result: Mapped[str | None] = mapped_column(String(500))


class SchedulerHeartbeat(Base):
    """The scheduler process holding the lock, and when it last showed signs of life."""

    __tablename__ = "scheduler_heartbeat"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    runner: Mapped[str] = mapped_column(String(300))
    started_at: Mapped[datetime] = mapped_column()
    beat_at: Mapped[datetime] = mapped_column()
