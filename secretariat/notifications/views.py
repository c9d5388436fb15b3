"""Pages of reminders: one's own delivery choices (signed in, or through a mailed link), and for
admins the rules, the outbox with retries, the dry run and the scheduler's state."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from secretariat.accounts.models import User
from secretariat.db import get_session, utcnow
from secretariat.forms import flash_errors, refuse_oversized_ids, row_id
from secretariat.notifications import queries, services
from secretariat.notifications.forms import labels, parse_int
from secretariat.notifications.models import (
    Category,
    DeliveryMode,
    Notification,
    NotificationStatus,
    ReminderRule,
    RuleKind,
)
from secretariat.notifications.render import email_from_token
from secretariat.notifications.rules import KINDS
from secretariat.permissions import Permission, public, requires

bp = Blueprint("notifications", __name__)
refuse_oversized_ids(bp)


# --- preferences ----------------------------------------------------------------------------


def _posted_choices(categories: tuple[Category, ...]) -> dict[Category, object]:
    choices: dict[Category, object] = {}
    for category in categories:
        raw = request.form.get(category.value, "")
        choices[category] = DeliveryMode(raw) if raw in DeliveryMode._value2member_map_ else raw
    return choices


def _preferences_page(email: str, categories: tuple[Category, ...], template_args: dict):  # type: ignore[no-untyped-def]
    db = get_session()
    errors: dict[str, str] = {}
    current = services.preferences(db, email)
    if request.method == "POST":
        choices = _posted_choices(categories)
        try:
            services.set_preferences(db, email, choices, categories)
        except services.RuleError as exc:
            errors = exc.errors
            current = {
                **current,
                **{c: m for c, m in choices.items() if isinstance(m, DeliveryMode)},
            }
        else:
            flash(_("Your choices are saved."), "success")
            return redirect(request.url)
    return (
        render_template(
            "notifications/preferences.html",
            email=email,
            categories=categories,
            current=current,
            errors=errors,
            always_on=services.ALWAYS_ON,
            not_in_digest=services.NOT_IN_DIGEST,
            **template_args,
            **labels(),
        ),
        422 if errors else 200,
    )


@bp.route("/notifications/preferences", methods=["GET", "POST"])
@requires(Permission.CHOOSE_NOTIFICATIONS)
def preferences():  # type: ignore[no-untyped-def]
    return _preferences_page(
        current_user.email, services.categories_for(current_user), {"signed_in": True}
    )


@bp.route("/notifications/preferences/<token>", methods=["GET", "POST"])
@public
def contact_preferences(token: str):  # type: ignore[no-untyped-def]
    email = email_from_token(token)
    if email is None:
        abort(404)
    user = get_session().scalar(select(User).where(User.email == email))
    categories = services.categories_for(user) if user is not None else services.CONTACT_CATEGORIES
    return _preferences_page(email, categories, {"signed_in": False})


# --- rules ----------------------------------------------------------------------------------


def _rule_or_404(rule_id: int) -> ReminderRule:
    rule = get_session().get(ReminderRule, rule_id)
    if rule is None:
        abort(404)
    return rule


def _render_rules(errors: dict[int | str, dict[str, str]] | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    db = get_session()
    return (
        render_template(
            "notifications/rules.html",
            rules=services.rules(db),
            kinds=list(RuleKind),
            ranges=KINDS,
            errors=errors or {},
            form=request.form if request.method == "POST" else {},
            config=current_app.config,
            **labels(),
        ),
        status,
    )


@bp.route("/admin/reminders")
@requires(Permission.MANAGE_NOTIFICATIONS)
def rules():  # type: ignore[no-untyped-def]
    return _render_rules()


@bp.route("/admin/reminders/<int:rule_id>", methods=["POST"])
@requires(Permission.MANAGE_NOTIFICATIONS)
def update_rule(rule_id: int):  # type: ignore[no-untyped-def]
    rule = _rule_or_404(rule_id)
    try:
        services.update_rule(
            get_session(),
            current_user,
            rule,
            parse_int(request.form.get("offset_days")),
            request.form.get("enabled") == "on",
        )
    except services.RuleError as exc:
        return _render_rules({rule.id: exc.errors}, 422)
    flash(_("The reminder rule is saved."), "success")
    return redirect(url_for(".rules"))


@bp.route("/admin/reminders/new", methods=["POST"])
@requires(Permission.MANAGE_NOTIFICATIONS)
def add_rule():  # type: ignore[no-untyped-def]
    raw_kind = request.form.get("kind", "")
    kind = RuleKind(raw_kind) if raw_kind in RuleKind._value2member_map_ else None
    try:
        services.add_rule(
            get_session(), current_user, kind, parse_int(request.form.get("offset_days"))
        )
    except services.RuleError as exc:
        return _render_rules({"new": exc.errors}, 422)
    flash(_("The reminder rule is added."), "success")
    return redirect(url_for(".rules"))


@bp.route("/admin/reminders/dry-run")
@requires(Permission.MANAGE_NOTIFICATIONS)
def dry_run():  # type: ignore[no-untyped-def]
    db = get_session()
    planned = services.plan(db)
    shown = [item for item in planned if item.action != services.Action.ALREADY]
    return render_template(
        "notifications/dry_run.html",
        planned=shown,
        already=len(planned) - len(shown),
        now=utcnow(),
        config=current_app.config,
        **labels(),
    )


# --- outbox ---------------------------------------------------------------------------------


def _filters() -> queries.OutboxFilters:
    status = request.args.get("status", "")
    category = request.args.get("category", "")
    return queries.OutboxFilters(
        status=NotificationStatus(status)
        if status in NotificationStatus._value2member_map_
        else None,
        category=Category(category) if category in Category._value2member_map_ else None,
        text=request.args.get("q", "").strip()[:200],
    )


@bp.route("/admin/outbox")
@requires(Permission.MANAGE_NOTIFICATIONS)
def outbox():  # type: ignore[no-untyped-def]
    db = get_session()
    filters = _filters()
    page = queries.outbox_page(
        db,
        filters,
        row_id(request.args.get("page")) or 1,
        current_app.config["MEMBERS_PER_PAGE"],
    )
    counts = queries.status_counts(db)
    return render_template(
        "notifications/outbox.html",
        page=page,
        filters=filters,
        counts=counts,
        failed_count=counts[NotificationStatus.FAILED],
        scheduler=queries.scheduler_state(
            db, utcnow(), current_app.config["SCHEDULER_HEARTBEAT_SECONDS"]
        ),
        smtp=bool(current_app.config.get("SMTP_URL")),
        **labels(),
    )


def _notification_or_404(notification_id: int) -> Notification:
    notification = get_session().get(Notification, notification_id)
    if notification is None:
        abort(404)
    return notification


@bp.route("/admin/outbox/<int:notification_id>")
@requires(Permission.MANAGE_NOTIFICATIONS)
def message(notification_id: int):  # type: ignore[no-untyped-def]
    notification = _notification_or_404(notification_id)
    carried = []
    if notification.subject_kind == "digest":
        carried = list(
            get_session().scalars(
                select(Notification)
                .where(Notification.digest_id == notification.id)
                .order_by(Notification.due_at, Notification.id)
            )
        )
    return render_template(
        "notifications/message.html", notification=notification, carried=carried, **labels()
    )


@bp.route("/admin/outbox/<int:notification_id>/html")
@requires(Permission.MANAGE_NOTIFICATIONS)
def message_html(notification_id: int):  # type: ignore[no-untyped-def]
    """The HTML part as the recipient sees it, sandboxed (no scripts, no same-origin)."""
    notification = _notification_or_404(notification_id)
    response = current_app.response_class(notification.body_html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; style-src 'unsafe-inline'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/admin/outbox/<int:notification_id>/retry", methods=["POST"])
@requires(Permission.MANAGE_NOTIFICATIONS)
def retry(notification_id: int):  # type: ignore[no-untyped-def]
    notification = _notification_or_404(notification_id)
    try:
        services.retry(get_session(), current_user, notification)
    except services.RuleError as exc:
        flash_errors(exc.errors)
    else:
        flash(_("The message is queued again; the next delivery pass sends it."), "success")
    back = request.form.get("back", "")
    if not _safe_back(back):
        back = url_for(".message", notification_id=notification_id)
    return redirect(back)


@bp.route("/admin/outbox/retry-failed", methods=["POST"])
@requires(Permission.MANAGE_NOTIFICATIONS)
def retry_failed():  # type: ignore[no-untyped-def]
    count = services.retry_all_failed(get_session(), current_user)
    if count:
        flash(_("%(num)d failed messages are queued again.", num=count), "success")
    else:
        flash(_("There is no failed message to send again."), "info")
    return redirect(url_for(".outbox", status="failed"))


def _safe_back(back: str) -> bool:
    """Only back to an outbox page of our own (the list with its filters)."""
    return back.startswith("/admin/outbox") and "//" not in back and "\\" not in back
