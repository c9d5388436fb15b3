"""The home page: what each role needs first."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, render_template
from flask_babel import format_percent
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from secretariat.accounts.models import Role, User
from secretariat.agreements import queries as agreement_queries
from secretariat.clock import network_today
from secretariat.commitments import queries as commitment_queries
from secretariat.db import get_session, utcnow
from secretariat.events.forms import template_labels as event_labels
from secretariat.events.queries import EventFilters, event_page, unmatched_count
from secretariat.exchanges import queries as exchange_queries
from secretariat.followups import queries as followup_queries
from secretariat.members import queries
from secretariat.members.forms import template_labels
from secretariat.members.models import Member
from secretariat.notifications import queries as notification_queries
from secretariat.participation import queries as participation_queries
from secretariat.participation.forms import LEVEL_LABELS, OUTCOME_LABELS
from secretariat.permissions import Permission, has_permission, requires
from secretariat.reporting import queries as reporting_queries
from secretariat.reporting import services as reporting_services
from secretariat.reporting.entry import submission_form_context
from secretariat.reporting.forms import SUBMISSION_STATUS_LABELS
from secretariat.reporting.models import CycleState
from secretariat.reporting.queries import MemberCycle
from secretariat.stories import queries as story_queries

bp = Blueprint("dashboard", __name__)


@bp.route("/")
@requires(Permission.SIGNED_IN)
def home():  # type: ignore[no-untyped-def]
    db = get_session()
    today = utcnow().date()
    labels = template_labels()
    upcoming = EventFilters(when="upcoming")
    network_day = network_today()
    follow_ups = followup_queries.pending_summary(db, current_user, network_day)
    if current_user.is_staff:
        return render_template(
            "dashboard/staff.html",
            open_cycles=[
                row
                for row in reporting_queries.cycle_list(db)
                if row.cycle.state is CycleState.OPEN
            ],
            updates_to_verify=commitment_queries.unverified_count(db),
            percent=format_percent,
            follow_ups=follow_ups,
            renewals=agreement_queries.renewals_due(db, network_day),
            network_day=network_day,
            data=queries.dashboard(db, today),
            events=event_page(db, current_user, upcoming, 1, 5),
            proposals=exchange_queries.proposal_count(db),
            unmatched=unmatched_count(db),
            participation=participation_queries.latest_year(db),
            reminder_alerts=notification_queries.alerts(
                db, utcnow(), current_app.config["SCHEDULER_HEARTBEAT_SECONDS"]
            )
            if has_permission(current_user, Permission.MANAGE_NOTIFICATIONS)
            else None,
            level_labels=LEVEL_LABELS,
            **labels,
            **event_labels(),
        )
    if current_user.role is Role.FOCAL_POINT:
        member = queries.member_detail(db, current_user.member.slug)
        current, _others = queries.split_contacts(member, today)
        # The nearest deadline first: that is the report to do now.
        open_cycles = sorted(
            reporting_queries.member_cycles(db, member.id, open_only=True),
            key=lambda row: (row.cycle.due_on, row.cycle.id),
        )
        return render_template(
            "dashboard/focal_point.html",
            open_cycles=open_cycles,
            report=_embedded_report(db, member, open_cycles, network_day),
            submission_status_labels=SUBMISSION_STATUS_LABELS,
            zone=current_app.config["TIMEZONE"],
            network_day=network_day,
            needing_update=commitment_queries.needing_update(db, member.id, network_day, utcnow()),
            follow_ups=follow_ups,
            member=member,
            current_contacts=current,
            has_primary=any(c.is_primary for c in current),
            events=event_page(db, current_user, upcoming, 1, 5),
            awaiting=exchange_queries.awaiting_answer(db, member.id),
            stories_awaiting=story_queries.awaiting_approval(db, member.id),
            standing=participation_queries.member_standing(db, member.id),
            level_labels=LEVEL_LABELS,
            outcome_labels=OUTCOME_LABELS,
            **labels,
            **event_labels(),
        )
    colleagues = db.scalars(
        select(User)
        .where(User.funder_id == current_user.funder_id, User.is_active.is_(True))
        .order_by(User.name)
    ).all()
    return render_template(
        "dashboard/funder.html",
        funder=current_user.funder,
        colleagues=colleagues,
        follow_ups=follow_ups,
    )


def _embedded_report(
    db: Session, member: Member, open_cycles: list[MemberCycle], today: date
) -> dict | None:
    """The submission form of the first open cycle the focal point can still fill in."""
    for row in open_cycles:
        if reporting_services.can_edit(current_user, row.cycle, row.submission, today):
            cycle = reporting_queries.cycle_detail(db, row.cycle.id)
            submission = reporting_services.find_submission(db, cycle, member.id)
            return submission_form_context(db, current_user, cycle, member, submission, today=today)
    return None
