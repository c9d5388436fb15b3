"""Labels of the reminder pages and the parsing of their posted fields."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from secretariat.notifications.models import Category, DeliveryMode, NotificationStatus, RuleKind
from secretariat.notifications.services import Action

CATEGORY_LABELS = {
    Category.FOLLOW_UPS: _l("Follow-ups assigned to you"),
    Category.AGREEMENTS: _l("Agreements you own: expiry and renewal"),
    Category.REPORTING: _l("Reporting cycles: opening, deadlines, overdue reports"),
    Category.ESCALATIONS: _l("Escalations: members late after a cycle's grace period"),
    Category.COMMITMENTS: _l("Commitments without a progress update"),
    Category.EVENTS: _l("Events you are registered for"),
    Category.FEES: _l("Membership fee renewals"),
    Category.DIGEST: _l("Weekly digest"),
}

MODE_LABELS = {
    DeliveryMode.IMMEDIATELY: _l("Right away"),
    DeliveryMode.DIGEST: _l("In the weekly digest (Monday morning)"),
    DeliveryMode.OFF: _l("Not at all"),
}

KIND_LABELS = {
    RuleKind.FOLLOW_UP_DUE: _l("Follow-up due (to its owner)"),
    RuleKind.AGREEMENT_EXPIRING: _l("Agreement expiring (to its owner)"),
    RuleKind.AGREEMENT_RENEWAL_NOTICE: _l("Agreement renewal notice period begins (to its owner)"),
    RuleKind.CYCLE_OPENED: _l("Reporting cycle opened (to members who have not reported)"),
    RuleKind.CYCLE_DUE: _l("Report due (to members who have not reported)"),
    RuleKind.CYCLE_OVERDUE: _l("Report overdue (to members who have not reported)"),
    RuleKind.CYCLE_ESCALATION: _l("Late members after the grace period (to staff)"),
    RuleKind.COMMITMENT_STALE: _l("Commitment not updated (to the member's focal points)"),
    RuleKind.EVENT_START: _l("Event coming up (to registered contacts)"),
    RuleKind.FEE_RENEWAL: _l("Membership fee renewal (to members paying a fee)"),
}

#: What the offset counts from, per kind.
ANCHOR_LABELS = {
    RuleKind.FOLLOW_UP_DUE: _l("the due day"),
    RuleKind.AGREEMENT_EXPIRING: _l("the last day"),
    RuleKind.AGREEMENT_RENEWAL_NOTICE: _l("the start of the notice period"),
    RuleKind.CYCLE_OPENED: _l("the opening day"),
    RuleKind.CYCLE_DUE: _l("the due day"),
    RuleKind.CYCLE_OVERDUE: _l("the due day"),
    RuleKind.CYCLE_ESCALATION: _l("the end of the grace period"),
    RuleKind.COMMITMENT_STALE: _l("the last update"),
    RuleKind.EVENT_START: _l("the first day"),
    RuleKind.FEE_RENEWAL: _l("the joining anniversary"),
}

STATUS_LABELS = {
    NotificationStatus.QUEUED: _l("Queued"),
    NotificationStatus.SENDING: _l("Sending"),
    NotificationStatus.SENT: _l("Sent"),
    NotificationStatus.FAILED: _l("Failed"),
    NotificationStatus.HELD: _l("Held for the digest"),
    NotificationStatus.DIGESTED: _l("Sent in a digest"),
    NotificationStatus.SKIPPED: _l("Skipped (too late)"),
    NotificationStatus.CANCELLED: _l("Cancelled (no longer needed)"),
}

ACTION_LABELS = {
    Action.SEND: _l("Would be sent"),
    Action.HOLD: _l("Would be held for the weekly digest"),
    Action.LATE: _l("Would be skipped and logged: past the maximum lateness"),
    Action.OFF: _l("Not sent: the recipient turned these off"),
    Action.NOBODY: _l("Nobody to send it to (no current contact with an e-mail address)"),
    Action.ALREADY: _l("Already queued or sent"),
}


def parse_int(raw: str | None) -> int | str | None:
    """A whole number from a form field, or the raw text when it is not one (for the message)."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return text


def labels() -> dict:
    return {
        "category_labels": CATEGORY_LABELS,
        "mode_labels": MODE_LABELS,
        "kind_labels": KIND_LABELS,
        "anchor_labels": ANCHOR_LABELS,
        "status_labels": STATUS_LABELS,
        "action_labels": ACTION_LABELS,
    }
